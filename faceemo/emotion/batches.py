"""keras.utils.PyDataset over in-memory uint8 faces: backend-agnostic input for model.fit."""

from __future__ import annotations

import math

import keras
import numpy as np

from faceemo.emotion.augment import Augmentation, augment_faces
from faceemo.labels import NUM_CLASSES


class FaceBatches(keras.utils.PyDataset):
    """Batches of (float32 (B, 48, 48, 1) in 0..255, one-hot labels[, sample weights]), augmented
    when `augmentation` is given; with `targets` ((N, 7), e.g. labels mixed with a teacher's
    probabilities) those rows replace the one-hot labels (sample weights still follow the labels).

    Training batches are reshuffled every epoch and only full batches are served (so a data-parallel
    batch always splits evenly over the devices); evaluation batches keep every face in order, and with
    `multiple_of` > 1 the last one is padded to a multiple of it with blank faces of sample weight 0
    (so it splits over the replicas too, and the padding counts in no metric).
    """

    def __init__(
        self,
        pixels: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        sample_weights: np.ndarray | None = None,
        multiple_of: int = 1,
        augmentation: Augmentation | None = None,
        first_epoch: int = 0,
        targets: np.ndarray | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if len(pixels) == 0:
            raise ValueError("no faces to batch")
        if targets is not None and targets.shape != (len(labels), NUM_CLASSES):
            raise ValueError(f"targets of shape {targets.shape} for {len(labels)} faces")
        self.pixels, self.labels, self.targets = pixels, labels, targets
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.sample_weights = sample_weights
        self.multiple_of = max(1, int(multiple_of))
        self.augmentation = augmentation
        # Order and augmentation are functions of (seed, epoch): a run resumed at `first_epoch` serves
        # exactly the batches an uninterrupted one would have.
        self.seed, self._epoch = int(seed), int(first_epoch)
        self._order = self._epoch_order()

    def __len__(self) -> int:
        if self.shuffle:
            return max(1, len(self.pixels) // self.batch_size)  # full batches only
        return math.ceil(len(self.pixels) / self.batch_size)

    def __getitem__(self, index: int):
        idx = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        faces = self.pixels[idx]
        if self.augmentation is not None:
            # one generator per (seed, epoch, batch): the same faces whatever order batches are served in
            faces = augment_faces(
                faces, np.random.default_rng([self.seed, self._epoch, index]), self.augmentation
            )
        x = faces.astype(np.float32)[..., None]
        if self.targets is not None:
            y = self.targets[idx].astype(np.float32)
        else:
            y = np.eye(NUM_CLASSES, dtype=np.float32)[self.labels[idx]]
        weights = None if self.sample_weights is None else self.sample_weights[self.labels[idx]]
        pad = -len(idx) % self.multiple_of
        if pad:
            x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), np.float32)])
            y = np.concatenate([y, np.zeros((pad, NUM_CLASSES), np.float32)])
            weights = np.concatenate(
                [np.ones(len(idx), np.float32) if weights is None else weights, np.zeros(pad, np.float32)]
            )
        elif self.multiple_of > 1 and weights is None:
            weights = np.ones(len(idx), np.float32)  # every batch has the same structure
        return (x, y) if weights is None else (x, y, weights)

    def _epoch_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.pixels))
        return np.random.default_rng([self.seed, self._epoch]).permutation(len(self.pixels))

    def on_epoch_end(self) -> None:
        self._epoch += 1
        self._order = self._epoch_order()
