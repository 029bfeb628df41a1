"""Load a FER-2013 source into the warehouse's `images` and `ingests` tables.

* Idempotent: when the data set's last ingest came from a source with the same sha256 (and the same
  reader version) and its rows are all there, nothing is written and the warehouse file is not even
  republished.
* Atomic: the data set's rows are replaced inside one `warehouse.writing()` block (a private copy of
  the file, published by rename only at the end), so a failure or a kill midway leaves the previous
  warehouse as it was.
* Stable ids: a face that is unchanged (same split, emotion, file name and bytes) keeps its image_id,
  so predictions and landmarks of unchanged faces stay valid; rows of other tables that point at
  faces which are gone or changed are deleted in the same transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from faceemo import quality, store, warehouse
from faceemo.errors import DataError
from faceemo.labels import EMOTIONS, USAGES
from faceemo.paths import resolve_db
from faceemo.readers import READER_VERSION, FaceRecord, Skipped, Source, open_source

DEFAULT_DATASET = "fer2013"
BATCH_SIZE = 2048


@dataclass
class IngestResult:
    """What an ingest did: 'ingested' or 'up-to-date', with the counts for the summary."""

    status: str
    dataset: str
    source: Path
    sha256: str
    layout: str
    kind: str
    n_images: int
    counts: pd.DataFrame  # usage x emotion
    skipped: list[Skipped] = field(default_factory=list)
    n_converted: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # dependent rows deleted, per table
    seconds: float = 0.0
    ingest_id: int | None = None
    db: Path | None = None


def _current_ingest(db: Path, dataset: str) -> dict | None:
    """The data set's latest ingest row (plus its live image count), or None."""
    if warehouse.file_identity(db) is None:
        return None
    con = warehouse.connect_readonly(db)
    try:
        df = store.latest_ingest(con, dataset)
    finally:
        con.close()
    if df.empty:
        return None
    row = df.iloc[0].to_dict()
    for column in ("reader_version", "n_converted", "n_images", "rows_now", "ingest_id"):
        row[column] = None if pd.isna(row[column]) else int(row[column])  # NULL in older rows
    return row


def _counts(con: duckdb.DuckDBPyConnection, dataset: str) -> pd.DataFrame:
    df = store.image_counts(con, dataset)
    table = df.pivot_table(index="usage", columns="emotion", values="images", aggfunc="sum", fill_value=0)
    table = table.reindex(index=[u for u in USAGES if u in table.index] + [u for u in table.index
                                                                          if u not in USAGES],
                          columns=[e for e in EMOTIONS if e in table.columns])
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    return table.astype(int)


def _batch_table(faces: list[FaceRecord], ids: list[int], dataset: str, ingest_id: int) -> pa.Table:
    stack = np.stack([f.pixels for f in faces])
    mean, std, blank = quality.image_stats(stack)
    return pa.table({
        "image_id": pa.array(ids, pa.int32()),
        "dataset": pa.array([dataset] * len(faces)),
        "split": pa.array([f.split for f in faces]),
        "usage": pa.array([f.usage for f in faces]),
        "emotion": pa.array([f.emotion for f in faces]),
        "label": pa.array([f.label for f in faces], pa.int8()),
        "file_name": pa.array([f.file_name for f in faces]),
        "source_file": pa.array([f.source_file for f in faces]),
        "sha256": pa.array([f.sha256 for f in faces]),
        "width": pa.array([f.source_width for f in faces], pa.int16()),
        "height": pa.array([f.source_height for f in faces], pa.int16()),
        "pixels": pa.array([p.tobytes() for p in stack], pa.binary()),
        "mean": pa.array(mean, pa.float32()),
        "std": pa.array(std, pa.float32()),
        "is_blank": pa.array(blank, pa.bool_()),
        "ingest_id": pa.array([ingest_id] * len(faces), pa.int32()),
    })


def ingest(
    path: str | Path,
    db: str | Path | None = None,
    dataset: str = DEFAULT_DATASET,
    force: bool = False,
    progress: Callable[[Iterable, int | None], Iterable] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestResult:
    """Read `path` (zip, folder or CSV) into the warehouse `db` as data set `dataset`.

    `progress` wraps the item iterator (e.g. a tqdm factory); it receives (iterable, total).
    Raises DataError on bad input; the warehouse then keeps its previous state.
    """
    db = resolve_db(db)
    started, started_at = time.perf_counter(), datetime.now()
    with open_source(path) as source:
        sha = source.fingerprint()
        current = _current_ingest(db, dataset)
        if (
            not force and current is not None and current["source_sha256"] == sha
            and current["reader_version"] == READER_VERSION and current["rows_now"] == current["n_images"]
        ):
            warehouse.migrate(db)  # a warehouse made by an older version gets the newer views
            con = warehouse.connect_readonly(db)
            try:
                counts = _counts(con, dataset)
            finally:
                con.close()
            return IngestResult(
                "up-to-date", dataset, source.path, sha, source.layout, source.kind,
                current["n_images"], counts, skipped=json_skipped(current["skipped"]),
                n_converted=current["n_converted"] or 0, seconds=time.perf_counter() - started,
                ingest_id=current["ingest_id"], db=db,
            )
        return _write(source, sha, db, dataset, progress, batch_size, started, started_at)


def _write(
    source: Source, sha: str, db: Path, dataset: str,
    progress: Callable[[Iterable, int | None], Iterable] | None, batch_size: int,
    started: float, started_at: datetime,
) -> IngestResult:
    with warehouse.writing(db) as con:
        ingest_id = store.next_ingest_id(con)
        # Unchanged faces keep their id; new ones get ids above every id ever used in this warehouse.
        old_ids = store.image_ids_by_key(con, dataset)
        next_id = store.next_image_id(con)
        with store.replacing_images(con, dataset):
            n_images, n_converted, skipped, dropped = _append_faces(
                con, source, dataset, ingest_id, old_ids, next_id, progress, batch_size
            )
            store.write_ingest(con, {
                "ingest_id": ingest_id, "dataset": dataset, "source_path": str(source.path),
                "source_sha256": sha, "source_bytes": source.size_bytes(), "layout": source.layout,
                "started_at": started_at,
                "finished_at": datetime.now(),  # not SQL now(): that is the transaction's start
                "n_images": n_images, "n_skipped": len(skipped),
                "skipped": json.dumps([{"file": s.file, "reason": s.reason} for s in skipped]),
                "source_kind": source.kind, "reader_version": READER_VERSION, "n_converted": n_converted,
            })
        counts = _counts(con, dataset)
    return IngestResult(
        "ingested", dataset, source.path, sha, source.layout, source.kind, n_images, counts,
        skipped=skipped, n_converted=n_converted, dropped=dropped,
        seconds=time.perf_counter() - started, ingest_id=ingest_id, db=db,
    )


def _append_faces(
    con: duckdb.DuckDBPyConnection, source: Source, dataset: str, ingest_id: int,
    old_ids: dict, next_id: int, progress: Callable[[Iterable, int | None], Iterable] | None,
    batch_size: int,
) -> tuple[int, int, list[Skipped], dict[str, int]]:
    """Append the source's faces in batches; (faces, converted, skipped, dependent rows dropped)."""
    items: Iterable = iter(source)
    if progress is not None:
        items = progress(items, source.expected())
    skipped: list[Skipped] = []
    batch: list[FaceRecord] = []
    ids: list[int] = []
    n_images = n_converted = 0

    def flush() -> None:
        if batch:
            store.append_images(con, _batch_table(batch, ids, dataset, ingest_id))
            batch.clear()
            ids.clear()

    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        key = (item.split, item.emotion, item.file_name, item.sha256)
        if key in old_ids:
            ids.append(old_ids.pop(key))
        else:
            ids.append(next_id)
            next_id += 1
        batch.append(item)
        n_images += 1
        n_converted += item.converted
        if len(batch) >= batch_size:
            flush()
    flush()
    if n_images == 0:  # readers raise first; this guards a reader that yields nothing at all
        raise DataError(f"no readable image in {source.path}")
    return n_images, n_converted, skipped, store.drop_dangling(con)


def json_skipped(text: str | None) -> list[Skipped]:
    """The `ingests.skipped` JSON as Skipped items."""
    return [Skipped(d["file"], d["reason"]) for d in json.loads(text or "[]")]
