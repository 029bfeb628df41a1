"""The warehouse's face pixels: one 48x48 uint8 grayscale face per `images.pixels` BLOB (row-major).

The one decoder of those BLOBs; every reader of `images.pixels` (pipelines, analytics, pages) uses it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FACE_SIZE = 48  # FER-2013's side; the ingest resizes every other source to it


def face_from_blob(blob: bytes | bytearray | memoryview) -> np.ndarray:
    """A `pixels` BLOB as a (48, 48) uint8 array."""
    return np.frombuffer(bytes(blob), dtype=np.uint8).reshape(FACE_SIZE, FACE_SIZE)


def faces_from_blobs(blobs: Iterable[bytes | bytearray | memoryview]) -> np.ndarray:
    """Many `pixels` BLOBs as an (n, 48, 48) uint8 stack (n may be 0)."""
    joined = b"".join(bytes(blob) for blob in blobs)
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, FACE_SIZE, FACE_SIZE)
