"""Loss and metric that ignore missing keypoints (NaN targets), never treating them as zeros.

Written with keras.ops only, so they run on any Keras 3 backend.
"""

from __future__ import annotations

import keras
from keras import ops


def _masked_square(y_true, y_pred):
    y_true = ops.cast(y_true, y_pred.dtype)
    present = ops.logical_not(ops.isnan(y_true))
    # where() before subtracting: NaN * 0 is NaN, so a mask product alone would poison the gradient.
    diff = ops.where(present, y_pred - ops.where(present, y_true, ops.zeros_like(y_true)), 0.0)
    return ops.square(diff), ops.cast(present, y_pred.dtype)


@keras.saving.register_keras_serializable(package="faceemo")
def masked_mse(y_true, y_pred):
    """Per-face mean squared error over the coordinates that are present (0 for a face with none)."""
    square, present = _masked_square(y_true, y_pred)
    return ops.sum(square, axis=-1) / ops.maximum(ops.sum(present, axis=-1), 1.0)


@keras.saving.register_keras_serializable(package="faceemo")
class MaskedRMSE(keras.metrics.Metric):
    """Root mean squared error over every present coordinate seen in the epoch (pixels)."""

    def __init__(self, name: str = "rmse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        square, present = _masked_square(y_true, y_pred)
        self.total.assign_add(ops.cast(ops.sum(square), self.dtype))
        self.count.assign_add(ops.cast(ops.sum(present), self.dtype))

    def result(self):
        return ops.sqrt(self.total / ops.maximum(self.count, 1.0))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)
