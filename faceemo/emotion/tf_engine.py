"""TensorFlow-only pieces: the data-parallel engine (tf.distribute.MirroredStrategy) and GPU names.

The one module of faceemo.emotion that imports TensorFlow (only on the TensorFlow backend). Replicas:
every GPU, else every logical CPU device (a CPU can be split into logical devices with
tf.config.set_logical_device_configuration before TensorFlow initialises its devices; the tests do).
"""

from __future__ import annotations

import tensorflow as tf


def replica_devices() -> list[str]:
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


def strategy() -> tf.distribute.MirroredStrategy:
    devices = replica_devices()
    # With CPU replicas there is no NCCL: reduce with the plain cross-device ops.
    ops = None if tf.config.list_logical_devices("GPU") else tf.distribute.ReductionToOneDevice()
    return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=ops)


def split_cpu(n: int) -> None:
    """Split the CPU into `n` logical devices; must run before TensorFlow touches its devices."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)


def gpu_names() -> list[str]:
    """Names of the visible GPUs (empty on a CPU-only machine)."""
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        names.append(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name))
    return names
