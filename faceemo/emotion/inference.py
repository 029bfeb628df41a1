"""Emotion probabilities for batches of faces, optionally with test-time augmentation (TTA)."""

from __future__ import annotations

import keras
import numpy as np

TTA_SHIFT = 4  # px: the shift range the models are trained with


def _shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The batch moved by (dy, dx) px, edges repeated: for a model that sees the centre 40 px of the
    face, a shift of (4, 4) is exactly its top-left 40-px crop."""
    if dy == dx == 0:
        return x
    s = TTA_SHIFT
    padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")
    h, w = x.shape[1], x.shape[2]
    return padded[:, s - dy : s - dy + h, s - dx : s - dx + w, :]


def _tta_views(x: np.ndarray) -> list[np.ndarray]:
    """10 views of a float32 (B, 48, 48, 1) batch - the classic 10-crop: the face and the four
    corner crops (as 4-px shifts, the augmentation the models were trained with), each also mirrored."""
    s = TTA_SHIFT
    views = [_shifted(x, dy, dx) for dy, dx in ((0, 0), (s, s), (s, -s), (-s, s), (-s, -s))]
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
