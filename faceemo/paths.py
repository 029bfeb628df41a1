"""Where things live: the warehouse file, the data folder, the committed models.

Precedence everywhere: an explicit argument (a `--db`/`--data` flag), then the environment variable,
then the default.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_DIR = REPO_ROOT / "warehouse"
SCHEMA_DIR = WAREHOUSE_DIR / "schema"
QUERIES_DIR = WAREHOUSE_DIR / "queries"
MODELS_DIR = REPO_ROOT / "models"

DEFAULT_DB = WAREHOUSE_DIR / "faceemo.duckdb"
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
FER2013_ARCHIVE = "fer2013.zip"
KEYPOINTS_ARCHIVE = "face_keypoints_68.zip"


def resolve_db(path: str | os.PathLike | None = None) -> Path:
    """The warehouse path: `path`, else $FACEEMO_DB, else warehouse/faceemo.duckdb."""
    chosen = path or os.environ.get("FACEEMO_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def resolve_data(path: str | os.PathLike | None = None) -> Path:
    """The data folder (or a single archive): `path`, else $FACEEMO_DATA, else ../shared/data."""
    chosen = path or os.environ.get("FACEEMO_DATA") or DEFAULT_DATA
    return Path(chosen).expanduser().resolve()


def models_dir() -> Path:
    """Committed models: $FACEEMO_MODELS (tests point it at a temp folder), else models/ in the repo."""
    chosen = os.environ.get("FACEEMO_MODELS")
    return Path(chosen).expanduser().resolve() if chosen else MODELS_DIR


def runs_dir() -> Path:
    """Training checkpoints, outside the work tree: $FACEEMO_RUNS, else ~/.cache/faceemo/runs."""
    chosen = os.environ.get("FACEEMO_RUNS") or Path.home() / ".cache" / "faceemo" / "runs"
    return Path(chosen).expanduser().resolve()


def resolve_archive(path: str | os.PathLike | None, default_name: str) -> Path:
    """A data set's archive: a file path as given, or `default_name` inside the data folder."""
    resolved = resolve_data(path)
    return resolved / default_name if resolved.is_dir() and (resolved / default_name).exists() else resolved
