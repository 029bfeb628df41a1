"""keras.utils.PyDataset over in-memory uint8 faces: backend-agnostic input for model.fit."""

from __future__ import annotations

import math

import keras
import numpy as np

from faceemo.labels import NUM_CLASSES


class FaceBatches(keras.utils.PyDataset):
    """Batches of (float32 (B, 48, 48, 1) in 0..255, one-hot labels[, sample weights]).

    Training batches are reshuffled every epoch and only full batches are served (so a data-parallel
    batch always splits evenly over the devices); evaluation batches keep every face in order.
    """

    def __init__(
        self,
        pixels: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        sample_weights: np.ndarray | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if len(pixels) == 0:
            raise ValueError("no faces to batch")
        self.pixels, self.labels = pixels, labels
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.sample_weights = sample_weights
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(pixels)) if shuffle else np.arange(len(pixels))

    def __len__(self) -> int:
        if self.shuffle:
            return max(1, len(self.pixels) // self.batch_size)  # full batches only
        return math.ceil(len(self.pixels) / self.batch_size)

    def __getitem__(self, index: int):
        idx = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.pixels[idx].astype(np.float32)[..., None]
        y = np.eye(NUM_CLASSES, dtype=np.float32)[self.labels[idx]]
        if self.sample_weights is None:
            return x, y
        return x, y, self.sample_weights[self.labels[idx]]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.pixels))
