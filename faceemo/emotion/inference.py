"""Emotion probabilities for batches of faces, optionally with test-time augmentation (TTA)."""

from __future__ import annotations

import keras
import numpy as np

TTA_CROP = 44  # px of the 48x48 face kept by each of the five crops, resized back to 48


def _tta_views(x: np.ndarray) -> list[np.ndarray]:
    """12 views of a float32 (B, 48, 48, 1) batch: the face and 5 crops (4 corners + centre, resized
    back to 48 px), each also mirrored."""
    size, c = x.shape[1], TTA_CROP
    offsets = [(0, 0), (0, size - c), (size - c, 0), (size - c, size - c), ((size - c) // 2, (size - c) // 2)]
    views = [x]
    for top, left in offsets:
        crop = x[:, top : top + c, left : left + c, :]
        views.append(np.asarray(keras.ops.image.resize(crop, (size, size), interpolation="bilinear")))
    return views + [v[:, :, ::-1, :] for v in views]


def predict_proba(
    model: keras.Model, pixels: np.ndarray, batch_size: int = 256, tta: bool = False
) -> np.ndarray:
    """(N, 7) probabilities for uint8 or float (N, 48, 48[, 1]) faces in 0..255."""
    x = np.asarray(pixels, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    out = np.empty((len(x), 7), dtype=np.float32)
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        views = _tta_views(batch) if tta else [batch]
        probs = [np.asarray(model(v, training=False), dtype=np.float32) for v in views]
        out[start : start + batch_size] = np.mean(probs, axis=0)
    return out
