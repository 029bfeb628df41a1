"""Files written whole or not at all, and content hashes: the one home of both.

Every write goes to a temporary file beside the target and replaces it with `os.replace` only once
complete, so a killed run never leaves a half-written model, card, cache or sidecar behind. (The
warehouse has its own copy-on-write in `faceemo.warehouse.writing`: it also locks and migrates.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def temp_path_for(path: Path) -> Path:
    """A hidden temporary name beside `path`, with the same suffix (Keras and numpy check it)."""
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def atomic_save(path: Path, save: Callable[[Path], object]) -> Path:
    """`save(temp)` writes the file (a Keras model's .save, np.savez, ...); it then replaces `path`."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_save(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_save(path, lambda tmp: tmp.write_text(text))


def atomic_write_json(path: Path, data: Any, indent: int = 1) -> Path:
    """JSON with a final newline; numpy scalars and other numbers are written as floats."""
    return atomic_write_text(path, json.dumps(data, indent=indent, default=float) + "\n")


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The sha256 of a file's bytes, read in chunks (model files and archives are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
