"""The registry of emotion models: a name, a factory, its input size and its preprocessing.

Every model honours the project's model I/O contract: float32 (N, 48, 48, 1) pixel values in 0..255 in,
(N, 7) softmax probabilities in FER-2013 label order out. Scaling, resizing and gray->RGB happen inside
the model as Keras layers, so a caller only crops and resizes a face to 48x48.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
from keras import layers, regularizers

from faceemo.errors import ModelError
from faceemo.labels import NUM_CLASSES

INPUT_SIZE = 48  # every emotion model takes 48x48x1 faces


@dataclass(frozen=True)
class ModelSpec:
    """One registered architecture and the training defaults that go with it."""

    name: str
    factory: Callable[..., keras.Model]
    description: str
    preprocessing: str  # what the model does to its 0..255 input, for the model card
    optimizer: str  # default optimizer name ('adamw' | 'adam' | 'sgd')
    learning_rate: float
    input_size: int = INPUT_SIZE


def _input() -> keras.KerasTensor:
    return keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 1), dtype="float32", name="face")


def _head(x: keras.KerasTensor) -> keras.KerasTensor:
    # float32 softmax even under a mixed-precision policy: probabilities must sum to 1 exactly enough
    return layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="probabilities")(x)


def study_cnn(**_: Any) -> keras.Model:
    """The study's custom CNN, layer for layer (its baseline row; Adam lr 1e-4)."""
    inputs = _input()
    x = layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", kernel_regularizer=regularizers.L2(0.01))(x)
    x = layers.Conv2D(256, 3, padding="valid", activation="relu", kernel_regularizer=regularizers.L2(0.01))(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, _head(x), name="study_cnn")


def vgg_fer(width: int = 64, head_units: int | None = None, dropout: float = 0.5, **_: Any) -> keras.Model:
    """VGG-style net after Khaireddin & Chen 2021: 4 blocks of two 3x3 conv + BN + ReLU, widths
    width, 2w, 4w, 8w (64 -> 512 at full width), max-pool after each block, then two dense layers.

    `width` scales every layer so a narrower variant can be trained on a CPU; `head_units` defaults
    to 16 x width capped at 512 (full width: ~7.3M parameters, ~14 MiB as float16 - under the 16 MiB
    a file may have to come back from the GPU machine, and the 30 MB the repo ships).
    """
    if width < 4:
        raise ModelError(f"vgg_fer width must be at least 4, got {width}")
    head_units = head_units or min(16 * width, 512)
    inputs = _input()
    x = layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    for block, filters in enumerate((width, 2 * width, 4 * width, 8 * width), start=1):
        for conv in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"b{block}_conv{conv}")(x)
            x = layers.BatchNormalization(name=f"b{block}_bn{conv}")(x)
            x = layers.Activation("relu", name=f"b{block}_relu{conv}")(x)
        x = layers.MaxPooling2D(2, name=f"b{block}_pool")(x)
    x = layers.Flatten()(x)
    for i in (1, 2):
        x = layers.Dense(head_units, activation="relu", name=f"fc{i}")(x)
        x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return keras.Model(inputs, _head(x), name="vgg_fer" if width == 64 else f"vgg_fer_w{width}")


# Keras' default batch-norm momentum (0.99) keeps ~11 % of the initial moving variance after a
# 218-step FER-2013 epoch: at inference every face then collapsed to one class ('always sad', 18 % on
# PublicTest) for the first epochs, which is what stalled selection. 0.9 tracks within ~50 steps.
BN_MOMENTUM = 0.9


def _conv_bn_relu(x: keras.KerasTensor, filters: int, name: str, strides: int = 1) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _rescale_and_crop(inputs: keras.KerasTensor, crop: int) -> keras.KerasTensor:
    if not 16 <= crop <= INPUT_SIZE:
        raise ModelError(f"crop must be between 16 and {INPUT_SIZE} px, got {crop}")
    x = layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    return layers.CenterCrop(crop, crop, name="centre_crop")(x) if crop < INPUT_SIZE else x


def vgg_gap(width: int = 32, dropout: float = 0.3, crop: int = 40, **_: Any) -> keras.Model:
    """The CPU production net: 4 blocks of two 3x3 conv + BN + ReLU (widths w, 2w, 4w, 8w), max-pool
    after each, then global average pooling, dropout and the softmax layer.

    Global pooling instead of flatten -> two dropout-ed dense layers: far fewer head weights, nothing
    to overfit in the head, and it learns from the first epoch. width 32: ~1.2M parameters.

    The net sees the centre `crop` x `crop` px of the 48x48 face (Khaireddin & Chen's 40-px crops):
    training shifts faces by up to 4 px, which makes that a random crop, test-time augmentation shifts
    to the four corners, and it costs 30 % less compute than the whole face.
    """
    if width < 4:
        raise ModelError(f"vgg_gap width must be at least 4, got {width}")
    inputs = _input()
    x = _rescale_and_crop(inputs, crop)
    for block, filters in enumerate((width, 2 * width, 4 * width, 8 * width), start=1):
        x = _conv_bn_relu(x, filters, f"b{block}_1")
        x = _conv_bn_relu(x, filters, f"b{block}_2")
        x = layers.MaxPooling2D(2, name=f"b{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="gap_dropout")(x)
    name = "vgg_gap" if width == 32 else f"vgg_gap_w{width}"
    return keras.Model(inputs, _head(x), name=name)


def resnet_fer(width: int = 32, dropout: float = 0.3, crop: int = 40, **_: Any) -> keras.Model:
    """The residual variant of `vgg_gap`: the same four stages (w, 2w, 4w, 8w), each a pre-activation
    style basic block (two 3x3 conv + BN with an identity or 1x1 projection shortcut) after a 3x3 stem,
    stride-2 convs between stages, global average pooling, dropout, softmax."""
    if width < 4:
        raise ModelError(f"resnet_fer width must be at least 4, got {width}")
    inputs = _input()
    x = _rescale_and_crop(inputs, crop)
    x = _conv_bn_relu(x, width, "stem")
    for stage, filters in enumerate((width, 2 * width, 4 * width, 8 * width), start=1):
        strides = 1 if stage == 1 else 2
        shortcut = x
        if strides != 1 or shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"s{stage}_proj")(x)
            shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"s{stage}_proj_bn")(shortcut)
        y = _conv_bn_relu(x, filters, f"s{stage}_1", strides=strides)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"s{stage}_2_conv")(y)
        y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"s{stage}_2_bn")(y)
        x = layers.Activation("relu", name=f"s{stage}_out")(layers.Add(name=f"s{stage}_add")([shortcut, y]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="gap_dropout")(x)
    name = "resnet_fer" if width == 32 else f"resnet_fer_w{width}"
    return keras.Model(inputs, _head(x), name=name)


def xception(image_size: int = 71, weights: str | None = None, **_: Any) -> keras.Model:
    """keras.applications.Xception on faces upscaled to RGB image_size px (>= 71), from scratch, or
    from a local ImageNet 'notop' weights file (never downloaded)."""
    if image_size < 71:
        raise ModelError(f"Xception needs faces of at least 71 px, got image_size={image_size}")
    if weights is not None and not Path(weights).is_file():
        raise ModelError(
            f"no Xception weights file at {weights}: pass --weights with a local copy of "
            "xception_weights_tf_dim_ordering_tf_kernels_notop.h5 (nothing is downloaded), or leave it "
            "out to train from scratch"
        )
    inputs = _input()
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)  # Xception's [-1, 1] range
    x = layers.Resizing(image_size, image_size, interpolation="bilinear", name="upscale")(x)
    x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    backbone = keras.applications.Xception(
        include_top=False, weights=weights, input_shape=(image_size, image_size, 3), pooling="avg"
    )
    x = backbone(x)
    x = layers.Dropout(0.3)(x)
    return keras.Model(inputs, _head(x), name="xception")


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "study_cnn",
            study_cnn,
            "the study's custom CNN (baseline row)",
            "x / 255",
            optimizer="adam",
            learning_rate=1e-4,
        ),
        ModelSpec(
            "vgg_fer",
            vgg_fer,
            "VGG-style 4x double-conv net with BN (Khaireddin & Chen 2021); width scales",
            "x / 255",
            optimizer="sgd",
            learning_rate=0.01,
        ),
        ModelSpec(
            "vgg_gap",
            vgg_gap,
            "VGG-style 4x double-conv net with BN, global average pooling and one dense layer",
            "x / 255",
            optimizer="adamw",
            learning_rate=1e-3,
        ),
        ModelSpec(
            "resnet_fer",
            resnet_fer,
            "residual variant of vgg_gap (basic blocks, stride-2 stages, global average pooling)",
            "x / 255",
            optimizer="adamw",
            learning_rate=1e-3,
        ),
        ModelSpec(
            "xception",
            xception,
            "keras.applications.Xception on upscaled RGB faces",
            "x / 127.5 - 1, bilinear resize to image_size (>= 71), gray copied to 3 channels",
            optimizer="adam",
            learning_rate=1e-3,
        ),
    )
}


ARCHITECTURES = tuple(REGISTRY)  # the names model_store.architectures("emotion") lists


def spec_of(name: str) -> ModelSpec:
    """The registered spec called `name`; a clear ModelError for an unknown name."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model architecture {name!r}; known: {', '.join(REGISTRY)}") from None


def build(name: str, **options: Any) -> keras.Model:
    """A fresh, uncompiled model of the registered architecture `name` (options go to its factory)."""
    return spec_of(name).factory(**options)


if ARCHITECTURES != __import__("faceemo.emotion", fromlist=["ARCHITECTURES"]).ARCHITECTURES:
    raise RuntimeError("faceemo.emotion.ARCHITECTURES is out of step with the model registry")
