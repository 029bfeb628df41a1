"""Landmark model factory: CNN regressors for the 15 keypoints, built from Keras layers only.

I/O contract (faceemo.model_store): input float32 (N, 96, 96, 1) grey levels 0..255, output (N, 30) =
x, y per faceemo.keypoints.KEYPOINTS in 96x96 pixel coordinates. Scaling happens inside the model, and
the head starts from the mean face shape, so an untrained model already predicts an average face.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import layers

from faceemo.errors import ModelError
from faceemo.keypoints import FRAME_SIZE, NUM_KEYPOINTS

CENTRE = (FRAME_SIZE - 1) / 2  # pixel-centre coordinates: the frame spans -0.5 .. 95.5
HALF = FRAME_SIZE / 2


def _conv(x, filters: int, kernel: int = 3):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def _head(x, mean_shape: np.ndarray | None, hidden: int, dropout: float):
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(hidden, activation="relu")(x)
    bias = (
        "zeros"
        if mean_shape is None
        else keras.initializers.Constant(
            ((np.asarray(mean_shape, np.float64).reshape(-1) - CENTRE) / HALF).tolist()
        )
    )
    x = layers.Dense(NUM_KEYPOINTS * 2, kernel_initializer="zeros", bias_initializer=bias)(x)
    # Normalized offsets from the frame's centre → 96x96 pixel coordinates.
    return layers.Rescaling(HALF, offset=CENTRE, name="keypoints")(x)


def build_lmk_cnn(mean_shape: np.ndarray | None = None, width: int = 32) -> keras.Model:
    """VGG-like: a strided stem, four conv stages (96→6), a narrow 1x1 bottleneck, a dense head."""
    inputs = keras.Input((FRAME_SIZE, FRAME_SIZE, 1), name="face")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = _conv(x, width * 3 // 4)
    x = layers.MaxPooling2D()(x)  # 48
    for filters in (width, width * 2, width * 4):
        x = _conv(x, filters)
        x = _conv(x, filters)
        x = layers.MaxPooling2D()(x)  # 24, 12, 6
    x = _conv(x, width * 6)
    x = _conv(x, width * 2, kernel=1)
    outputs = _head(x, mean_shape, hidden=256, dropout=0.2)
    return keras.Model(inputs, outputs, name="lmk_cnn")


def build_tiny(mean_shape: np.ndarray | None = None) -> keras.Model:
    """A few thousand parameters: for tests and smoke runs only."""
    inputs = keras.Input((FRAME_SIZE, FRAME_SIZE, 1), name="face")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = layers.AveragePooling2D(4)(x)  # 24
    x = _conv(x, 8)
    x = layers.MaxPooling2D(4)(x)  # 6
    outputs = _head(x, mean_shape, hidden=16, dropout=0.0)
    return keras.Model(inputs, outputs, name="lmk_tiny")


def with_flip_tta(model: keras.Model) -> keras.Model:
    """`model` averaged with itself on the mirrored face (test-time augmentation inside the model).

    Built from stock layers so the saved file loads anywhere: the mirror is a fixed Dense over the
    width axis (an anti-identity matrix), and the mirrored prediction is mapped back by a fixed Dense
    that swaps left/right keypoints (FLIP_PERMUTATION) and reflects x (x → 95 − x).
    """
    from faceemo.keypoints import FLIP_PERMUTATION

    inputs = keras.Input((FRAME_SIZE, FRAME_SIZE, 1), name="face")
    rows = layers.Reshape((FRAME_SIZE, FRAME_SIZE))(inputs)
    mirror = np.eye(FRAME_SIZE, dtype="float32")[::-1]
    mirrored = layers.Dense(
        FRAME_SIZE,
        use_bias=False,
        trainable=False,
        name="mirror",
        kernel_initializer=keras.initializers.Constant(mirror.tolist()),
    )(rows)
    mirrored = layers.Reshape((FRAME_SIZE, FRAME_SIZE, 1))(mirrored)
    unflip = np.zeros((NUM_KEYPOINTS * 2, NUM_KEYPOINTS * 2), "float32")
    shift = np.zeros(NUM_KEYPOINTS * 2, "float32")
    for k, source in enumerate(FLIP_PERMUTATION):
        unflip[2 * source, 2 * k] = -1.0  # x of keypoint k = 95 - x of its mirror twin
        unflip[2 * source + 1, 2 * k + 1] = 1.0
        shift[2 * k] = FRAME_SIZE - 1
    back = layers.Dense(
        NUM_KEYPOINTS * 2,
        trainable=False,
        name="unmirror",
        kernel_initializer=keras.initializers.Constant(unflip.tolist()),
        bias_initializer=keras.initializers.Constant(shift.tolist()),
    )(model(mirrored))
    outputs = layers.Average(name="keypoints_tta")([model(inputs), back])
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_tta")


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "lmk_cnn": build_lmk_cnn,
    "lmk_tiny": build_tiny,
}


def build(name: str, **options: Any) -> keras.Model:
    """A fresh, uncompiled landmark model of the registered architecture `name` (model_store's one
    interface to every task's factories); a ModelError for an unknown name."""
    if name not in ARCHITECTURES:
        raise ModelError(f"unknown landmark architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name](**options)
