"""Faces for training and evaluation: from the warehouse or from a compact uint8 pack, as numpy arrays.

A pack (`python -m pipelines export-pack`) is an .npz for machines that cannot see the warehouse (the
GPU machine): `pixels` (the uint8 (N, 48, 48) faces, coded losslessly as below), `labels` uint8,
`usage` uint8 (index into USAGES), `image_id` int32, `flags` uint8 (bit 0 blank frame, bit 1 Training
face duplicated in a test split) and `meta` (JSON: codec, source warehouse, counts, date). Reading one
needs numpy and the standard library only.

Pixel codec 'd2-lzma': noisy faces barely compress (zlib keeps 95% of the bytes), so each face is
replaced by its 2-D difference (pixel - left - up + up-left, mod 256) and the residuals are
LZMA-compressed: ~77% of the raw size, which puts Training + PublicTest under the 64 MiB that one GPU
call carries. Decoding is two cumulative sums (mod 256), exact.
"""

from __future__ import annotations

import json
import lzma
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceemo.errors import DataError, WarehouseError
from faceemo.files import atomic_save
from faceemo.labels import NUM_CLASSES, USAGES
from faceemo.pixels import faces_from_blobs

FLAG_BLANK = 1
FLAG_TEST_DUPLICATE = 2
PACK_FORMAT = "faceemo-pack-1"
PIXEL_CODEC = "d2-lzma"
GPU_CALL_LIMIT_BYTES = 64 * 2**20  # what travels with one device call


@dataclass
class Faces:
    """Faces of one or more usages, aligned arrays."""

    pixels: np.ndarray  # uint8 (N, 48, 48)
    labels: np.ndarray  # uint8 (N,)
    usage: np.ndarray  # uint8 (N,) index into USAGES
    image_id: np.ndarray  # int32 (N,)
    flags: np.ndarray  # uint8 (N,)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, mask_or_index: np.ndarray) -> Faces:
        return Faces(
            *(a[mask_or_index] for a in (self.pixels, self.labels, self.usage, self.image_id, self.flags))
        )

    def of_usage(self, usage: str) -> Faces:
        return self.subset(self.usage == USAGES.index(usage))

    def counts(self) -> dict[str, int]:
        return {u: int((self.usage == i).sum()) for i, u in enumerate(USAGES) if (self.usage == i).any()}

    def x(self) -> np.ndarray:
        """float32 (N, 48, 48, 1) in 0..255: the model input."""
        return self.pixels.astype(np.float32)[..., None]


def _check_usages(usages: tuple[str, ...]) -> None:
    unknown = [u for u in usages if u not in USAGES]
    if unknown:
        raise DataError(f"unknown usage {unknown[0]!r}; expected some of {', '.join(USAGES)}")


def from_warehouse(db: str | os.PathLike | None, usages: tuple[str, ...] = USAGES) -> Faces:
    """Faces of `usages` from the warehouse `images` table; a clear error when it is missing or empty."""
    from faceemo import store, warehouse  # duckdb: not needed (nor installed) on a pack-only machine

    _check_usages(usages)
    con = warehouse.connect_readonly(db)
    try:
        if warehouse.row_count(con, "images") == 0:
            where = warehouse.resolve_db(db)
            raise WarehouseError(f"{where} has no faces; fill it with `{warehouse.FILL_COMMAND}`")
        frame = store.training_faces(con, usages)
    finally:
        con.close()
    if frame.empty:
        raise WarehouseError(f"the warehouse has no faces of {', '.join(usages)}")
    if sum(len(blob) for blob in frame["pixels"]) != len(frame) * 48 * 48:
        raise WarehouseError("the warehouse holds faces that are not 48x48 uint8; re-run the ingest step")
    pixels = faces_from_blobs(frame["pixels"])
    flags = (
        frame["is_blank"].to_numpy(bool) * FLAG_BLANK
        + frame["test_duplicate"].to_numpy(bool) * FLAG_TEST_DUPLICATE
    )
    return Faces(
        pixels=pixels.reshape(-1, 48, 48).copy(),
        labels=frame["label"].to_numpy(np.uint8),
        usage=np.array([USAGES.index(u) for u in frame["usage"]], dtype=np.uint8),
        image_id=frame["image_id"].to_numpy(np.int32),
        flags=flags.astype(np.uint8),
    )


def compress_faces(pixels: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) faces -> LZMA-compressed 2-D difference residuals (a uint8 byte array)."""
    p = pixels.astype(np.int16)
    residual = np.diff(np.diff(p, axis=2, prepend=0), axis=1, prepend=0)
    return np.frombuffer(lzma.compress((residual % 256).astype(np.uint8).tobytes(), preset=6), np.uint8)


def decompress_faces(blob: np.ndarray, n: int, size: int = 48) -> np.ndarray:
    """The exact inverse of compress_faces."""
    residual = np.frombuffer(lzma.decompress(blob.tobytes()), np.uint8).reshape(n, size, size)
    return np.cumsum(np.cumsum(residual, axis=1, dtype=np.uint8), axis=2, dtype=np.uint8)


def write_pack(faces: Faces, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write `faces` as a pack (atomically: a temp file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": PACK_FORMAT,
        "codec": PIXEL_CODEC,
        "n": len(faces),
        "counts": faces.counts(),
        **(meta or {}),
    }
    arrays = {
        "pixels": compress_faces(faces.pixels), "labels": faces.labels, "usage": faces.usage,
        "image_id": faces.image_id, "flags": faces.flags, "meta": np.array(json.dumps(meta)),
    }
    return atomic_save(path, lambda tmp: np.savez(tmp, **arrays))


def read_pack(path: str | os.PathLike, usages: tuple[str, ...] = USAGES) -> tuple[Faces, dict]:
    """Faces of `usages` from a pack, and its metadata; clear errors for a missing or foreign file."""
    _check_usages(usages)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no pack at {path}: make one with `python -m pipelines export-pack --out {path}`")
    try:
        with np.load(path, allow_pickle=False) as pack:
            meta = json.loads(str(pack["meta"]))
            if meta.get("format") != PACK_FORMAT:
                raise DataError(f"{path} is not a faceemo pack (format {meta.get('format')!r})")
            if meta.get("codec") != PIXEL_CODEC:
                raise DataError(
                    f"{path} uses the pixel codec {meta.get('codec')!r}, expected {PIXEL_CODEC!r}"
                )
            pixels = decompress_faces(pack["pixels"], int(meta["n"]))
            faces = Faces(pixels, *(pack[k] for k in ("labels", "usage", "image_id", "flags")))
    except (OSError, ValueError, KeyError, lzma.LZMAError) as exc:
        raise DataError(f"cannot read the pack {path}: {exc}") from exc
    if faces.pixels.shape[1:] != (48, 48) or faces.pixels.dtype != np.uint8:
        raise DataError(f"{path} holds faces of shape {faces.pixels.shape[1:]}, expected 48x48 uint8")
    if faces.labels.size and int(faces.labels.max()) >= NUM_CLASSES:
        raise DataError(f"{path} holds labels outside 0..{NUM_CLASSES - 1}")
    keep = np.isin(faces.usage, [USAGES.index(u) for u in usages])
    return faces.subset(keep), meta


def training_filter(faces: Faces, keep_blank: bool = False, keep_test_duplicates: bool = False) -> Faces:
    """Training faces minus blank frames and minus faces that also sit in a test split (a leak)."""
    drop = np.zeros(len(faces), bool)
    if not keep_blank:
        drop |= (faces.flags & FLAG_BLANK) > 0
    if not keep_test_duplicates:
        drop |= (faces.flags & FLAG_TEST_DUPLICATE) > 0
    return faces.subset(~drop)


def stratified_limit(faces: Faces, limit: int, seed: int = 0) -> Faces:
    """At most `limit` faces, each class kept in proportion (at least one of each present class)."""
    if limit <= 0 or limit >= len(faces):
        return faces
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(faces.labels):
        idx = np.flatnonzero(faces.labels == label)
        take = max(1, round(limit * idx.size / len(faces)))
        chosen.append(rng.choice(idx, size=min(take, idx.size), replace=False))
    return faces.subset(np.sort(np.concatenate(chosen)))


def class_weights(labels: np.ndarray, power: float = 0.5) -> np.ndarray:
    """Per-class weights (n_max / n_c) ** power, mean 1 over the samples: lifts the rare `disgust`
    without letting 436 faces dominate (power 0.5 is the square-root balancing)."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    weights = np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** power, 0.0)
    weights /= (weights[labels]).mean()
    return weights.astype(np.float32)


