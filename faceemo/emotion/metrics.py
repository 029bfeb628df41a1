"""Classification metrics in plain numpy: confusion matrix, accuracy, per-class precision/recall/F1,
macro-F1. A class with no true faces (or no predictions) scores 0 where its ratio is undefined, and
macro-F1 averages over the classes present in the truth or the predictions.

Kept rather than a dependency: scikit-learn is not among ours and would add ~40 MB for these few lines;
tests/test_emotion_metrics.py checks the confusion matrix against scipy.stats.contingency.crosstab and
the figures against sklearn's definitions (zero_division=0, macro over the labels present)."""

from __future__ import annotations

import numpy as np

from faceemo.labels import EMOTIONS, NUM_CLASSES


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = NUM_CLASSES) -> np.ndarray:
    """counts[true, predicted]."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.shape[0]} true labels but {y_pred.shape[0]} predictions")
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(num.shape, float), where=den > 0)


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, f1 and support per class from a confusion matrix."""
    tp = np.diag(cm).astype(float)
    precision = _ratio(tp, cm.sum(axis=0))
    recall = _ratio(tp, cm.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": cm.sum(axis=1)}


def summarize(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """accuracy, macro_f1 and precision_/recall_/f1_<emotion> of one split."""
    cm = confusion(y_true, y_pred)
    stats = per_class(cm)
    present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    out = {
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else 0.0,
        "macro_f1": float(stats["f1"][present].mean()) if present.any() else 0.0,
        "n": float(cm.sum()),
    }
    for i, emotion in enumerate(EMOTIONS):
        for name in ("precision", "recall", "f1"):
            out[f"{name}_{emotion}"] = float(stats[name][i])
    return out
