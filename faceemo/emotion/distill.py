"""Distillation targets: a trained teacher's probabilities on the training faces.

A student trained on a mix of the one-hot labels and a teacher's probabilities (Hinton et al., 2015)
can learn what an ensemble knows at a single model's inference cost. The teacher is scored once on the
un-augmented Training faces; the probabilities are cached (float16) as `teacher.npz` beside the run's
checkpoints (with the teacher's id and the faces' image ids), so a resumed run reuses exactly the same
targets and a machine without the teacher (the GPU box) can be handed the file instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceemo.emotion.data import Faces
from faceemo.errors import ModelError
from faceemo.files import atomic_save
from faceemo.labels import NUM_CLASSES

TEACHER_FILE = "teacher.npz"


def mixed_targets(labels: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """(N, 7) float32 targets: (1 - weight) x one-hot + weight x the teacher's probabilities."""
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    return (1.0 - weight) * onehot + weight * teacher.astype(np.float32)


def _read_cache(path: Path, teacher: str, faces: Faces) -> np.ndarray | None:
    """The cached probabilities when they are `teacher`'s on exactly these faces, else None."""
    try:
        with np.load(path) as cache:
            if str(cache["teacher"]) != teacher:
                return None
            ids, probs = cache["image_id"], cache["probs"].astype(np.float32)
    except (OSError, KeyError, ValueError):  # unreadable or foreign: score the teacher again
        return None
    # the same faces, perhaps in another order (a pack and the warehouse list them differently)
    order = np.argsort(ids, kind="stable")
    where = np.searchsorted(ids, faces.image_id, sorter=order).clip(0, len(ids) - 1)
    rows = order[where]
    return probs[rows] if len(ids) == len(faces) and np.array_equal(ids[rows], faces.image_id) else None


def teacher_probabilities(teacher: str, faces: Faces, cache_dir: Path | None = None) -> np.ndarray:
    """(N, 7) probabilities of the emotion model `teacher` (an id in models/ or a .keras file) on
    `faces`, read from `cache_dir/teacher.npz` when it holds them, else computed and cached there."""
    cache = Path(cache_dir) / TEACHER_FILE if cache_dir else None
    if cache is not None and cache.exists():
        probs = _read_cache(cache, teacher, faces)
        if probs is not None:
            return probs
    from faceemo import model_store
    from faceemo.emotion.inference import predict_proba

    info = model_store.resolve_model(teacher, "emotion")
    model = model_store.load_keras_model(info)
    if model.output_shape[-1] != NUM_CLASSES:
        raise ModelError(f"--teacher {teacher}: not a 7-emotion model")
    # float16, as cached: a resumed run then learns exactly the targets the first epochs learnt
    probs = predict_proba(model, faces.pixels).astype(np.float16)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_save(
            cache,
            lambda tmp: np.savez_compressed(
                tmp, probs=probs, image_id=faces.image_id, teacher=np.array(teacher)
            ),
        )
    return probs.astype(np.float32)
