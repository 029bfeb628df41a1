"""Grad-CAM (Selvaraju et al., 2017): where in the face the emotion model found its predicted class.

The gradient of the class score with respect to the last convolution layer's output, averaged over the
map, weights that output's channels; their weighted sum, through a ReLU and scaled to 0..1, is the map.
It runs on TensorFlow (tf.GradientTape) on whichever emotion model the registry gives. The model crops
the centre of its 48x48 input itself (a CenterCrop layer), so the map covers that centre: it is placed
back there, the border left at 0.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from faceemo.errors import ModelError
from faceemo.labels import EMOTIONS
from faceemo.model_store import ModelInfo, load_keras_model


def _last_conv(model: Any):
    import keras

    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise ModelError(f"model {model.name!r} has no Conv2D layer: Grad-CAM needs one")
    return convs[-1]


def _centre_crop(model: Any) -> int | None:
    import keras

    crops = [layer for layer in model.layers if isinstance(layer, keras.layers.CenterCrop)]
    return int(crops[0].height) if crops else None


def _probe(model: Any):
    """(a model giving the last conv block's activation and the probabilities, the centre crop size)."""
    import keras

    conv = _last_conv(model)
    # the last conv layer is usually followed by BatchNorm + ReLU: take the activation after them when it
    # is a layer of its own (named <conv>_relu in faceemo's nets), else the conv output
    source = conv
    names = [layer.name for layer in model.layers]
    after = names.index(conv.name)
    for layer in model.layers[after + 1 : after + 3]:
        if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU)):
            source = layer
        else:
            break
    return keras.Model(model.inputs, [source.output, model.output]), _centre_crop(model)


@functools.lru_cache(maxsize=4)
def _explainer(info: ModelInfo):
    """The model and (probe, centre crop, weight) per member: an ensemble (faceemo.emotion.ensemble)
    holds its members as nested models, whose maps are averaged with the weights their probabilities
    have (an ensemble of ensembles too); any other model is its own single member."""
    from faceemo.emotion import ensemble

    def weighted(model: Any, weight: float) -> list[tuple[Any, float]]:
        inner = ensemble.members(model)
        if not inner:
            return [(model, weight)]
        return [pair for member in inner for pair in weighted(member, weight / len(inner))]

    model = load_keras_model(info)
    return model, [(*_probe(member), weight) for member, weight in weighted(model, 1.0)]


def heatmaps(crops48: np.ndarray, info: ModelInfo, classes: list[int] | None = None) -> np.ndarray:
    """(N, 48, 48) float maps in 0..1 for (N, 48, 48) uint8 crops; `classes` default: each predicted one."""
    import tensorflow as tf

    model, probes = _explainer(info)
    x = tf.convert_to_tensor(np.asarray(crops48, dtype=np.float32)[..., None])
    if classes is None:
        classes = np.asarray(model(x, training=False)).argmax(axis=1)
    chosen = np.asarray(classes)
    mean = np.zeros((len(x), 48, 48), np.float32)
    for probe, crop, weight in probes:
        with tf.GradientTape() as tape:
            features, probabilities = probe(x, training=False)
            tape.watch(features)
            score = tf.reduce_sum(tf.gather(probabilities, chosen, axis=1, batch_dims=1))
        grads = tape.gradient(score, features)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cams = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1)).numpy()
        mean += weight * np.stack([_place(cam, crop) for cam in cams])
    top = mean.max(axis=(1, 2), keepdims=True)
    return np.divide(mean, top, out=np.zeros_like(mean), where=top > 0)


def _place(cam: np.ndarray, crop: int | None) -> np.ndarray:
    import cv2

    top = cam.max()
    cam = cam / top if top > 0 else np.zeros_like(cam)
    side = crop or 48
    resized = cv2.resize(cam.astype(np.float32), (side, side), interpolation=cv2.INTER_CUBIC)
    full = np.zeros((48, 48), np.float32)
    start = (48 - side) // 2
    full[start : start + side, start : start + side] = np.clip(resized, 0, 1)
    return full


def overlay(crop: np.ndarray, heat: np.ndarray, size: int = 240, alpha: float = 0.45):
    """The gray crop enlarged to `size` with the heatmap on it (JET colours), as a PIL image."""
    import cv2
    from PIL import Image

    base = cv2.resize(crop, (size, size), interpolation=cv2.INTER_CUBIC)
    colour = cv2.applyColorMap((cv2.resize(heat, (size, size)) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    mixed = cv2.addWeighted(cv2.cvtColor(base, cv2.COLOR_GRAY2BGR), 1 - alpha, colour, alpha, 0)
    return Image.fromarray(cv2.cvtColor(mixed, cv2.COLOR_BGR2RGB))


def overlay_for(result: Any, info: ModelInfo | None = None, size: int = 240):
    """The Grad-CAM overlay of one FaceResult's predicted emotion (its emotion model unless `info`)."""
    from faceemo.model_store import resolve_model

    info = info or resolve_model(result.emotion_model, "emotion")
    heat = heatmaps(result.crop48[None], info, [EMOTIONS.index(result.emotion)])[0]
    return overlay(result.crop48, heat, size)
