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


@pytest.fixture(scope="session")
def fer_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real FER-2013 archive ingested ONCE per test session into a temp warehouse (~10 s).

    Shared by every test that needs the full data: treat it as read-only (open it with
    warehouse.connect_readonly, or point $FACEEMO_DB at it with monkeypatch for page tests).
    Skipped when ../shared/data/fer2013.zip is not there.
    """
    from faceemo.ingest import ingest

    require_file(FER_ARCHIVE)
    db = tmp_path_factory.mktemp("fer2013") / "faceemo.duckdb"
    ingest(FER_ARCHIVE, db=db)
    return db


@pytest.fixture
def models_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """`use(kind)` points $FACEEMO_MODELS at a folder of tiny stand-in models ('both', 'emotion', ...)."""
    from tests.predict_helpers import tiny_models_folder

    def use(kind: str = "both"):
        folder = tiny_models_folder(tmp_path_factory.getbasetemp(), kind)
        monkeypatch.setenv("FACEEMO_MODELS", str(folder))
        return folder

    return use
