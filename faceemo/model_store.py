"""The model registry of every task: `models/<model_id>.keras` + `<model_id>.json` (metadata, the
"sidecar") + `<model_id>.md` (card), written together by `write_model_files`, found by `list_models` /
`resolve_model`, loaded by `load_keras_model`, registered in the warehouse by `register_model`. Each
task's architecture factories sit behind one interface: `architectures(task)` and
`build_architecture(task, name, **options)` (the task module's `ARCHITECTURES` and `build`).

`models/production.json` names the production model of each task ({"emotion": id, "landmarks": id});
`production_choice` is its one reader and `set_production` its one writer. Steps that need a model take
`--model NAME` and otherwise use the production one; they register a committed model in the warehouse
when it is missing there. Importable without DuckDB or pandas (the GPU machine's training step uses it).
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faceemo.errors import ModelError
from faceemo.files import atomic_save, atomic_write_json, atomic_write_text
from faceemo.files import file_sha256 as sha256_of  # the name pipelines and other branches call
from faceemo.paths import REPO_ROOT
from faceemo.paths import models_dir as default_models_dir

if TYPE_CHECKING:
    import duckdb

TASKS = ("emotion", "landmarks")
# the module of each task that registers its architecture factories: ARCHITECTURES (names) and
# build(name, **options) -> an uncompiled Keras model; imported (with Keras) only when asked for
FACTORY_MODULES = {"emotion": "faceemo.emotion.models", "landmarks": "faceemo.landmarks.model"}


def _factories(task: str):
    if task not in FACTORY_MODULES:
        raise ModelError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return importlib.import_module(FACTORY_MODULES[task])


def architectures(task: str) -> tuple[str, ...]:
    """The architecture names registered for `task`."""
    return tuple(_factories(task).ARCHITECTURES)


def build_architecture(task: str, name: str, **options: Any):
    """A fresh, uncompiled model of `task`'s registered architecture `name` (options go to its factory);
    a ModelError for an unknown task or name."""
    return _factories(task).build(name, **options)


@dataclass(frozen=True)
class ModelInfo:
    """What a model's JSON sidecar says about it."""

    model_id: str
    task: str
    architecture: str
    params: int
    input_size: int
    path: Path
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def card_path(self) -> Path:
        return self.path.with_suffix(".md")

    @property
    def file_bytes(self) -> int:
        return self.path.stat().st_size


def _read_meta(json_path: Path) -> ModelInfo:
    meta = json.loads(json_path.read_text())
    try:
        return ModelInfo(
            model_id=meta["model_id"],
            task=meta["task"],
            architecture=meta["architecture"],
            params=int(meta["params"]),
            input_size=int(meta["input_size"]),
            path=json_path.with_suffix(".keras"),
            meta=meta,
        )
    except KeyError as exc:
        raise ModelError(f"{json_path} lacks the field {exc}") from None


def list_models(task: str | None = None, models_dir: Path | None = None) -> list[ModelInfo]:
    """Every committed model (with a sidecar and a weights file), optionally of one task."""
    models_dir = models_dir or default_models_dir()
    found = []
    for json_path in sorted(models_dir.glob("*.json")):
        if json_path.name == "production.json":
            continue
        info = _read_meta(json_path)
        if info.path.exists() and (task is None or info.task == task):
            found.append(info)
    return found


def resolve_model(name: str | None, task: str, models_dir: Path | None = None) -> ModelInfo:
    """The model called `name` (a model id or a path to a .keras file), else the task's production model."""
    models_dir = models_dir or default_models_dir()
    if task not in TASKS:
        raise ModelError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if name is None:
        chosen = production_choice(task, models_dir)
        if chosen is None:
            raise ModelError(
                f"no production {task} model in {models_dir}: train one with "
                f"`python -m pipelines train-{'emotion' if task == 'emotion' else 'landmarks'}`"
            )
        name = chosen
    candidate = Path(name)
    json_path = (
        candidate.with_suffix(".json") if candidate.suffix == ".keras" else models_dir / f"{name}.json"
    )
    if not json_path.exists():
        known = ", ".join(m.model_id for m in list_models(task, models_dir)) or "none"
        raise ModelError(f"no {task} model {name!r} (known: {known})")
    info = _read_meta(json_path)
    if info.task != task:
        raise ModelError(f"model {info.model_id!r} is a {info.task} model, not a {task} model")
    if not info.path.exists():
        raise ModelError(f"model {info.model_id!r} has no weights file {info.path}")
    return info


def named_or_all(name: str | None, task: str) -> list[ModelInfo]:
    """`[the model called name]`, or every committed model of `task` when no name is given."""
    return [resolve_model(name, task)] if name else list_models(task)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int):
    import keras  # heavy: imported on first use only

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # corrupt or foreign file: say which one
        raise ModelError(f"cannot load model file {path}: {exc}") from exc
    if any(str(w.dtype) == "float16" for w in model.weights):
        # Stored as float16 to halve the file; computed in float32 (fast and exact enough on any CPU).
        from faceemo.emotion.storage import with_dtype

        model = with_dtype(model, "float32")
    return model


def load_keras_model(info: ModelInfo):
    """The Keras model of `info`, loaded once per process (re-loaded if the file changes)."""
    return _load(str(info.path), info.path.stat().st_mtime_ns)


def production_choice(task: str, models_dir: Path | None = None) -> str | None:
    """The model id production.json names for `task`, or None."""
    pointer = (models_dir or default_models_dir()) / "production.json"
    return json.loads(pointer.read_text()).get(task) if pointer.exists() else None


def set_production(task: str, model_id: str, models_dir: Path | None = None) -> None:
    """Point production.json's `task` at `model_id`, keeping the other tasks' entries."""
    pointer = (models_dir or default_models_dir()) / "production.json"
    current = json.loads(pointer.read_text()) if pointer.exists() else {}
    current[task] = model_id
    atomic_write_text(pointer, json.dumps(current, indent=2, sort_keys=True) + "\n")


def write_model_files(
    out_dir: Path, model_id: str, model: Any, meta: dict[str, Any], card: Callable[[dict[str, Any]], str],
    indent: int = 1,
) -> Path:
    """Save `model` as <out_dir>/<model_id>.keras, then its sidecar (`meta` plus file_bytes) and its card
    (`card(meta)`); each file replaces the old one only once complete. Returns the .keras path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    keras_path = atomic_save(out_dir / f"{model_id}.keras", model.save)
    meta["file_bytes"] = keras_path.stat().st_size
    atomic_write_json(out_dir / f"{model_id}.json", meta, indent=indent)
    atomic_write_text(out_dir / f"{model_id}.md", card(meta))
    return keras_path


def registered_path(file: str) -> Path:
    """The weights file a `models` row names: register_model stores it relative to the repository when
    it lies inside it, else as given."""
    path = Path(file)
    return path if path.is_absolute() else REPO_ROOT / path


def register_model(con: duckdb.DuckDBPyConnection, info: ModelInfo) -> None:
    """Insert or refresh the `models` row of a committed model."""
    from faceemo import store  # DuckDB only where a warehouse is written
    meta = info.meta
    card = info.card_path.read_text() if info.card_path.exists() else None
    try:
        rel_file = str(info.path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        rel_file = str(info.path)
    store.write_model(con, {
        "model_id": info.model_id, "task": info.task, "architecture": info.architecture,
        "params": info.params, "file": rel_file, "file_bytes": info.file_bytes,
        "sha256": sha256_of(info.path), "input_size": info.input_size, "card": card,
        **{key: meta.get(key) for key in (
            "backend", "device", "trained_on", "selected_on", "epochs", "train_seconds", "created_at"
        )},
    })


def ensure_registered(con: duckdb.DuckDBPyConnection, info: ModelInfo) -> None:
    """Register `info` unless the warehouse already has this exact file."""
    from faceemo import store
    if store.model_sha256(con, info.model_id) != sha256_of(info.path):
        register_model(con, info)
