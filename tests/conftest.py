"""Shared fixtures. Every test gets its own warehouse path through $FACEEMO_DB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from faceemo.paths import DEFAULT_DATA

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FER_ARCHIVE = DEFAULT_DATA / "fer2013.zip"
KEYPOINTS_ARCHIVE = DEFAULT_DATA / "face_keypoints_68.zip"


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh warehouse path (not created yet), exported as $FACEEMO_DB."""
    path = tmp_path / "faceemo.duckdb"
    monkeypatch.setenv("FACEEMO_DB", str(path))
    return path


@pytest.fixture
def images_db(db_path: Path) -> Path:
    """A small generated warehouse with faces of every emotion and usage."""
    from tests.factories import make_images_warehouse

    return make_images_warehouse(db_path)


def require_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared data folder sits beside the repo)")
    return path
