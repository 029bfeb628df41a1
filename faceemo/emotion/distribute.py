"""Data-parallel training over several devices with the backend's own engine, chosen by a flag.

* JAX: keras.distribution.DataParallel (batch split over the devices, variables replicated).
* TensorFlow: tf.distribute.MirroredStrategy (in faceemo.emotion.tf_engine, the one tf.* module).
* 'none': the default single device.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from faceemo.errors import ModelError

MODES = ("none", "data-parallel")


def device_count(mode: str) -> int:
    """How many replicas `mode` would train on (1 for 'none')."""
    if mode == "none":
        return 1
    backend = keras.backend.backend()
    if backend == "jax":
        return len(_jax_devices())
    if backend == "tensorflow":
        from faceemo.emotion import tf_engine

        return len(tf_engine.replica_devices())
    raise ModelError(
        f"--distribute data-parallel is not supported on the {backend} backend (use jax or tensorflow)"
    )


def _jax_devices() -> list[str]:
    # the default platform's devices: every GPU when there is one, else the (possibly split) CPU
    return keras.distribution.list_devices()


@contextlib.contextmanager
def scope(mode: str) -> Iterator[int]:
    """Build, compile and fit the model inside this; yields the replica count."""
    if mode not in MODES:
        raise ModelError(f"unknown --distribute {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "none":
        yield 1
        return
    backend = keras.backend.backend()
    if backend == "jax":
        devices = _jax_devices()
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        try:
            yield len(devices)
        finally:
            keras.distribution.set_distribution(previous)
    elif backend == "tensorflow":
        from faceemo.emotion import tf_engine

        strategy = tf_engine.strategy()
        with strategy.scope():
            yield strategy.num_replicas_in_sync
    else:
        raise ModelError(
            f"--distribute data-parallel is not supported on the {backend} backend (use jax or tensorflow)"
        )
