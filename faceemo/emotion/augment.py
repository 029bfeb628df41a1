"""Training-time augmentation as Keras layers (active only when training; identity at inference).

Flip, shift, rotation +-10 deg, zoom (a random-resized-crop in effect) and random erasing, as in the
published FER-2013 recipes. Runs inside the training graph, so it is fast on a GPU and backend-agnostic.
"""

from __future__ import annotations

import keras
from keras import layers


def augmenter(seed: int = 0, strength: float = 1.0) -> keras.Sequential:
    """The augmentation block; `strength` 0 gives an identity block (used by tests and probes)."""
    if strength <= 0:
        return keras.Sequential([layers.Identity()], name="augment")
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomTranslation(0.1 * strength, 0.1 * strength, fill_mode="nearest", seed=seed + 1),
            layers.RandomRotation(10 / 360 * strength, fill_mode="nearest", seed=seed + 2),
            layers.RandomZoom((-0.2 * strength, 0.2 * strength), fill_mode="nearest", seed=seed + 3),
            layers.RandomErasing(factor=0.5, scale=(0.02, 0.25), value_range=(0, 255), seed=seed + 4),
        ],
        name="augment",
    )
