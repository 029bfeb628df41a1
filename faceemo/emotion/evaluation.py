"""Evaluation of an emotion model into warehouse rows: per-image probabilities and per-split metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceemo.emotion import metrics
from faceemo.emotion.data import Faces
from faceemo.labels import EMOTIONS, USAGES


def prediction_rows(model_id: str, faces: Faces, probs: np.ndarray, tta: bool) -> pd.DataFrame:
    """The `predictions` rows: model, image, mode, predicted label and the 7 probabilities."""
    frame = pd.DataFrame(probs.astype(np.float32), columns=list(EMOTIONS))
    frame.insert(0, "label", probs.argmax(axis=1).astype(np.int8))
    frame.insert(0, "tta", tta)
    frame.insert(0, "image_id", faces.image_id.astype(np.int32))
    frame.insert(0, "model_id", model_id)
    return frame


def metric_rows(model_id: str, faces: Faces, probs: np.ndarray, tta: bool) -> pd.DataFrame:
    """The `metrics` rows: accuracy, macro_f1, n and precision_/recall_/f1_<emotion> per usage."""
    rows = []
    predicted = probs.argmax(axis=1)
    for index, usage in enumerate(USAGES):
        mask = faces.usage == index
        if not mask.any():
            continue
        for metric, value in metrics.summarize(faces.labels[mask], predicted[mask]).items():
            rows.append((model_id, usage, tta, metric, float(value)))
    return pd.DataFrame(rows, columns=["model_id", "usage", "tta", "metric", "value"])
