"""Test helpers for the emotion part: tiny models, drawn faces as `Faces`, and a warehouse holding a
trained, evaluated tiny model (for the Models page)."""

from __future__ import annotations

import argparse
import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from faceemo.emotion.data import Faces
from faceemo.labels import EMOTIONS, USAGES
from tests.factories import drawn_face, make_images_warehouse


def drawn_faces(per_class: int, usage: str = "Training", seed: int = 0) -> Faces:
    """`per_class` drawn faces of every emotion (learnable: the mouth's curve encodes the label)."""
    pixels, labels = [], []
    for label, emotion in enumerate(EMOTIONS):
        for i in range(per_class):
            pixels.append(drawn_face(emotion, seed=seed + 1000 * label + i))
            labels.append(label)
    n = len(labels)
    return Faces(
        pixels=np.stack(pixels),
        labels=np.array(labels, np.uint8),
        usage=np.full(n, USAGES.index(usage), np.uint8),
        image_id=np.arange(seed, seed + n, dtype=np.int32),
        flags=np.zeros(n, np.uint8),
    )


def train_args(**overrides) -> argparse.Namespace:
    """The train-emotion namespace with its defaults, for in-process runs of pipelines.train_emotion."""
    from pipelines import train_emotion

    parser = argparse.ArgumentParser()
    train_emotion.add_arguments(parser)
    args = parser.parse_args(["--model-arch", overrides.pop("model_arch", "vgg_fer")])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


@functools.cache
def _trained_template() -> Path:
    """Once per test process: a generated warehouse with a tiny vgg_fer trained on it (2 epochs), saved
    with its card, registered with its history, and evaluated with and without TTA."""
    import os

    from pipelines import evaluate, train_emotion

    root = Path(tempfile.mkdtemp(prefix="faceemo-emotion-template-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    db, models = root / "faceemo.duckdb", root / "models"
    models.mkdir()
    make_images_warehouse(db, per_class=6)
    args = train_args(
        width=4, epochs=2, batch_size=16, db=str(db), out=str(models), name="emotion_tiny",
        checkpoint_dir=str(root / "ckpt"), float16="no",
    )
    assert train_emotion.run(args) == 0
    (models / "production.json").write_text('{"emotion": "emotion_tiny"}\n')
    previous = os.environ.get("FACEEMO_MODELS")
    os.environ["FACEEMO_MODELS"] = str(models)
    try:
        eval_args = argparse.Namespace(model=None, tta=True, force=False, batch_size=64, db=str(db))
        assert evaluate.run(eval_args) == 0
    finally:
        if previous is None:
            os.environ.pop("FACEEMO_MODELS")
        else:
            os.environ["FACEEMO_MODELS"] = previous
    return root


def make_models_warehouse(db: Path, models: Path) -> str:
    """Copy the trained template into `db` and the folder `models`: a warehouse with one tiny trained
    model (its row, run, 2-epoch history, plain and TTA predictions and metrics). Returns the model id."""
    template = _trained_template()
    shutil.copy2(template / "faceemo.duckdb", db)
    models.mkdir(parents=True, exist_ok=True)
    for path in (template / "models").iterdir():
        shutil.copy2(path, models / path.name)
    return "emotion_tiny"
