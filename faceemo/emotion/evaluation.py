"""Evaluation of an emotion model: scores per split (plain and TTA), the float16 storage check, and the
warehouse rows (per-image probabilities and per-split metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from faceemo.emotion import metrics
from faceemo.emotion.data import Faces
from faceemo.labels import EMOTIONS, USAGES

if TYPE_CHECKING:  # pandas is not on the GPU machine, where train-emotion runs on a pack
    import pandas as pd


def prediction_rows(model_id: str, faces: Faces, probs: np.ndarray, tta: bool) -> pd.DataFrame:
    """The `predictions` rows: model, image, mode, predicted label and the 7 probabilities."""
    import pandas as pd

    frame = pd.DataFrame(probs.astype(np.float32), columns=list(EMOTIONS))
    frame.insert(0, "label", probs.argmax(axis=1).astype(np.int8))
    frame.insert(0, "tta", tta)
    frame.insert(0, "image_id", faces.image_id.astype(np.int32))
    frame.insert(0, "model_id", model_id)
    return frame


def metric_rows(model_id: str, faces: Faces, probs: np.ndarray, tta: bool) -> pd.DataFrame:
    """The `metrics` rows: accuracy, macro_f1, n and precision_/recall_/f1_<emotion> per usage."""
    import pandas as pd

    rows = []
    predicted = probs.argmax(axis=1)
    for index, usage in enumerate(USAGES):
        mask = faces.usage == index
        if not mask.any():
            continue
        for metric, value in metrics.summarize(faces.labels[mask], predicted[mask]).items():
            rows.append((model_id, usage, tta, metric, float(value)))
    return pd.DataFrame(rows, columns=["model_id", "usage", "tta", "metric", "value"])


def score_splits(model, splits: dict[str, Faces]) -> tuple[dict, dict]:
    """Accuracy, macro-F1 and per-class figures of `model` on each non-empty split, without and with
    test-time augmentation (PrivateTest is reported, never selected on)."""
    from faceemo.emotion.inference import predict_proba

    plain, tta = {}, {}
    for usage, split in splits.items():
        if len(split):
            plain[usage] = metrics.summarize(split.labels, predict_proba(model, split.pixels).argmax(1))
            tta[usage] = metrics.summarize(
                split.labels, predict_proba(model, split.pixels, tta=True).argmax(1)
            )
    return plain, tta


def storage_choice(model, public: Faces, mode: str = "auto"):
    """(the model to save, its weights dtype, the float16 check on PublicTest).

    mode 'auto' stores float16 (half the file) only when that costs no PublicTest accuracy; 'yes'
    always, 'no' never."""
    from faceemo.emotion.inference import predict_proba
    from faceemo.emotion.storage import with_dtype

    if mode == "no":
        return model, "float32", None
    full = predict_proba(model, public.pixels).argmax(1)
    half = with_dtype(model, "float16")
    half_pred = predict_proba(with_dtype(half, "float32"), public.pixels).argmax(1)
    check = {
        "float32": metrics.summarize(public.labels, full)["accuracy"],
        "float16": metrics.summarize(public.labels, half_pred)["accuracy"],
        "changed": int((half_pred != full).sum()),
        "n": len(public),
    }
    if mode == "yes" or check["float16"] >= check["float32"]:
        return half, "float16", check
    return model, "float32", check
