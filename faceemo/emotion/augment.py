"""Training-time augmentation as Keras layers (active only when training; identity at inference).

Mirror, then one random affine warp (rotation +-10 deg, zoom +-20 % - a random-resized-crop in effect -,
shift +-10 %) resampled ONCE, then random erasing. Chaining Keras' RandomTranslation, RandomRotation and
RandomZoom resamples a 48x48 face three times and blurs it visibly, so train and test faces would no
longer look alike; RandomAffine below does the geometry in a single bilinear pass. Runs inside the
training graph (fast on a GPU) and uses keras.ops / keras.random only (backend-agnostic).
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="faceemo")
class RandomAffine(layers.Layer):
    """Per-face random rotation, zoom and shift about the centre, one bilinear resample."""

    def __init__(
        self,
        rotation_deg: float = 10.0,
        zoom: float = 0.2,
        shift: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.rotation_deg, self.zoom, self.shift, self.seed = rotation_deg, zoom, shift, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training: bool = False):
        if not training:
            return images
        n = ops.shape(images)[0]
        height, width = images.shape[1], images.shape[2]

        def uniform(limit: float):
            return keras.random.uniform((n,), -limit, limit, seed=self.seed_generator)

        theta = uniform(math.radians(self.rotation_deg))
        scale = 1.0 + uniform(self.zoom)  # > 1 zooms in
        tx, ty = uniform(self.shift) * width, uniform(self.shift) * height
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        # output pixel (x, y) samples the input at A @ (x - c) + c - t
        a0, a1 = ops.cos(theta) / scale, -ops.sin(theta) / scale
        b0, b1 = ops.sin(theta) / scale, ops.cos(theta) / scale
        a2 = cx - a0 * cx - a1 * cy - tx
        b2 = cy - b0 * cx - b1 * cy - ty
        zeros = ops.zeros_like(theta)
        transform = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
        return ops.image.affine_transform(
            images, ops.cast(transform, images.dtype), interpolation="bilinear", fill_mode="nearest"
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rotation_deg": self.rotation_deg,
            "zoom": self.zoom,
            "shift": self.shift,
            "seed": self.seed,
        }


def augmenter(seed: int = 0, strength: float = 1.0) -> keras.Sequential:
    """The augmentation block; `strength` scales every range (0 gives an identity block)."""
    if strength <= 0:
        return keras.Sequential([layers.Identity()], name="augment")
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            RandomAffine(10.0 * strength, 0.2 * strength, 0.1 * strength, seed=seed + 1),
            layers.RandomErasing(
                factor=min(0.5, 0.5 * strength), scale=(0.02, 0.25), value_range=(0, 255), seed=seed + 2
            ),
        ],
        name="augment",
    )
