"""An ensemble of emotion models as one Keras model: the mean of its members' probabilities.

It takes the same (N, 48, 48, 1) faces in 0..255 and gives the same (N, 7) softmax as any member, so
it is saved, loaded, registered and evaluated like every other model (one file, one model id).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from faceemo.errors import ModelError

ARCHITECTURE = "ensemble"


def _renamed(model: keras.Model, name: str) -> keras.Model:
    """A copy of `model` under another name: the members of one functional model need distinct names
    (two runs of one architecture are both called e.g. 'vgg_gap')."""
    copy = type(model).from_config({**model.get_config(), "name": name})
    copy.set_weights(model.get_weights())
    return copy


def average(members: Sequence[keras.Model], name: str) -> keras.Model:
    """One model whose output is the mean of `members`' probabilities."""
    if len(members) < 2:
        raise ModelError("an ensemble needs at least two models")
    shapes = {(tuple(m.input_shape[1:]), tuple(m.output_shape[1:])) for m in members}
    if len(shapes) != 1:
        raise ModelError(f"the models take or give different shapes: {sorted(shapes)}")
    inputs = keras.Input(shape=members[0].input_shape[1:], dtype="float32", name="face")
    outputs = [_renamed(m, f"member{i}_{m.name}")(inputs) for i, m in enumerate(members, start=1)]
    probabilities = keras.layers.Average(name="probabilities")(outputs)
    return keras.Model(inputs, probabilities, name=name)


def members(model: keras.Model) -> list[keras.Model]:
    """The models that an ensemble made by average() averages (in order); [] for any other model."""
    if not model.layers or not isinstance(model.layers[-1], keras.layers.Average):
        return []
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def holds(model: keras.Model, parts: Sequence[keras.Model]) -> bool:
    """Whether `model` is the average of exactly `parts`: its members, in order, have their weights.
    Then its probabilities are the mean of theirs (also with TTA, which averages probabilities), so a
    caller that already has the parts' probabilities need not run it."""
    inner = members(model)
    if len(inner) != len(parts):
        return False
    for mine, theirs in zip(inner, parts, strict=True):
        a, b = mine.get_weights(), theirs.get_weights()
        if len(a) != len(b) or not all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)):
            return False
    return True


def select(
    probabilities: Mapping[str, np.ndarray], labels: np.ndarray, max_members: int = 3
) -> list[tuple[tuple[str, ...], float]]:
    """Every mean of two to `max_members` of the models (id -> their (N, 7) probabilities on the same
    faces) with its accuracy on `labels`, the best first; on a tie the one with fewer members (less
    inference), then the earlier in the order given. The first is the choice."""
    ids = list(probabilities)
    if len(ids) < 2:
        raise ModelError("an ensemble needs at least two models")
    if max_members < 2:
        raise ModelError("an ensemble has at least two members: --max-members must be 2 or more")
    ranked = []
    for size in range(2, min(max_members, len(ids)) + 1):
        for combo in itertools.combinations(ids, size):
            mean = np.mean([probabilities[i] for i in combo], axis=0)
            ranked.append((combo, float(np.mean(mean.argmax(1) == labels))))
    order = {combo: n for n, (combo, _) in enumerate(ranked)}  # fewer members first, then given order
    return sorted(ranked, key=lambda item: (-item[1], order[item[0]]))
