"""The warehouse store: every write to the warehouse and every named read a pipeline makes.

Pipelines and library code call these functions with a connection from `warehouse.writing()` (writes)
or `warehouse.connect_readonly()` (reads); SQL text lives only here, in `faceemo/warehouse.py` (the
connection, migrations and the named-query runner) and in `warehouse/*.sql`. The dashboard reads
through `warehouse.Reader` (named queries only).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from faceemo import warehouse
from faceemo.errors import WarehouseError
from faceemo.keypoints import COLUMNS as KEYPOINT_COLUMNS
from faceemo.labels import EMOTIONS
from faceemo.pixels import faces_from_blobs

Connection = duckdb.DuckDBPyConnection

# --- models -----------------------------------------------------------------------------------------

MODEL_COLUMNS = (
    "model_id", "task", "architecture", "params", "file", "file_bytes", "sha256", "input_size",
    "backend", "device", "trained_on", "selected_on", "epochs", "train_seconds", "card", "created_at",
)


def write_model(con: Connection, row: Mapping[str, Any]) -> None:
    """Insert or replace one `models` row (`row` has MODEL_COLUMNS; created_at None means now)."""
    con.execute("DELETE FROM models WHERE model_id = ?", [row["model_id"]])
    placeholders = ", ".join(["?"] * (len(MODEL_COLUMNS) - 1)) + ", coalesce(?::TIMESTAMP, now())"
    con.execute(
        f"INSERT INTO models ({', '.join(MODEL_COLUMNS)}) VALUES ({placeholders})",
        [row.get(column) for column in MODEL_COLUMNS],
    )


def model_sha256(con: Connection, model_id: str) -> str | None:
    """The sha256 of the file registered as `model_id`, or None (not registered, or no models table)."""
    if not warehouse.has_table(con, "models"):
        return None
    row = con.execute("SELECT sha256 FROM models WHERE model_id = ?", [model_id]).fetchone()
    return row[0] if row else None


def model_sha256s(con: Connection) -> dict[str, str]:
    """{model_id: sha256} of every registered model."""
    if not warehouse.has_table(con, "models"):
        return {}
    return dict(con.execute("SELECT model_id, sha256 FROM models").fetchall())


def _tables_with_column(con: Connection, column: str) -> list[str]:
    """The warehouse's base tables (not views) that have `column`."""
    return [row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = ? AND table_schema = 'main' "
        "AND table_name IN "
        "(SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')",
        [column],
    ).fetchall()]


def model_files(con: Connection, task: str) -> dict[str, str]:
    """{model_id: file} of the registered `task` models, the file as registered
    (model_store.registered_path reads it)."""
    if not warehouse.has_table(con, "models"):
        return {}
    return dict(con.execute("SELECT model_id, file FROM models WHERE task = ?", [task]).fetchall())


def drop_model(con: Connection, model_id: str) -> dict[str, int]:
    """Delete every row of `model_id` (its runs' history too); {table: rows deleted} where any."""
    dropped = {}
    if warehouse.has_table(con, "history") and warehouse.has_table(con, "runs"):
        n = con.execute(
            "DELETE FROM history WHERE run_id IN (SELECT run_id FROM runs WHERE model_id = ?)", [model_id]
        ).fetchone()[0]
        if n:
            dropped["history"] = int(n)
    for table in sorted(_tables_with_column(con, "model_id"), key=lambda t: t == "models"):  # model row last
        n = con.execute(f'DELETE FROM "{table}" WHERE model_id = ?', [model_id]).fetchone()[0]
        if n:
            dropped[table] = int(n)
    return dropped


# --- training runs ----------------------------------------------------------------------------------


def write_run(
    con: Connection, run_id: str, model_id: str, started: str | None, finished: object,
    config_json: str, history: Sequence[tuple[int, str, float]],
) -> None:
    """Insert or replace a training run and its (epoch, metric, value) history rows."""
    con.execute("DELETE FROM history WHERE run_id = ?", [run_id])
    con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
    con.execute(
        "INSERT INTO runs VALUES (?, ?, coalesce(?::TIMESTAMP, now()), ?::TIMESTAMP, ?)",
        [run_id, model_id, started, finished, config_json],
    )
    if history:
        con.executemany("INSERT INTO history VALUES (?, ?, ?, ?)", [(run_id, *row) for row in history])


def has_run(con: Connection, run_id: str) -> bool:
    return con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] > 0


# --- images and ingests -----------------------------------------------------------------------------


def latest_ingest(con: Connection, dataset: str) -> pd.DataFrame:
    """The data set's latest ingest row with its live image count (empty when none)."""
    if not warehouse.has_table(con, "ingests"):
        return pd.DataFrame()
    return warehouse.query(con, "overview_latest_ingest", dataset=dataset)


def image_counts(con: Connection, dataset: str) -> pd.DataFrame:
    """Faces per usage and emotion of a data set (long form: usage, emotion, images)."""
    return warehouse.query(con, "overview_counts", dataset=dataset)


def next_ingest_id(con: Connection) -> int:
    return int(con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchone()[0])


def next_image_id(con: Connection) -> int:
    """An id above every image id in the warehouse."""
    return int(con.execute("SELECT coalesce(max(image_id), -1) + 1 FROM images").fetchone()[0])


def image_ids_by_key(con: Connection, dataset: str) -> dict[tuple[str, str, str, str], int]:
    """{(split, emotion, file_name, sha256): image_id} of a data set's faces."""
    rows = con.execute(
        "SELECT image_id, split, emotion, file_name, sha256 FROM images WHERE dataset = ?", [dataset]
    ).fetchall()
    return {(s, e, f, h): i for i, s, e, f, h in rows}


@contextlib.contextmanager
def replacing_images(con: Connection, dataset: str) -> Iterator[None]:
    """Delete a data set's faces, then let the caller append the new ones in one transaction.

    Delete and checkpoint first so the old rows' blocks are free for the new ones (a forced re-ingest
    otherwise doubles the file), then append in one transaction (many small autocommitted appends left
    the file ~65% larger). Atomicity comes from `warehouse.writing()`'s private copy.
    """
    con.execute("DELETE FROM images WHERE dataset = ?", [dataset])
    con.execute("CHECKPOINT")
    con.execute("BEGIN TRANSACTION")
    yield
    con.execute("COMMIT")


def append_images(con: Connection, table: pa.Table) -> None:
    """Append rows to `images` (`table` has its columns, in order)."""
    con.register("_ingest_batch", table)
    try:
        con.execute("INSERT INTO images SELECT * FROM _ingest_batch")
    finally:
        con.unregister("_ingest_batch")


def drop_dangling(con: Connection) -> dict[str, int]:
    """Delete rows of other tables whose image_id no longer exists; {table: rows deleted} where any."""
    dropped = {}
    for table in [t for t in _tables_with_column(con, "image_id") if t != "images"]:
        n = con.execute(
            f'DELETE FROM "{table}" WHERE image_id NOT IN (SELECT image_id FROM images)'
        ).fetchone()[0]
        if n:
            dropped[table] = int(n)
    return dropped


INGEST_COLUMNS = (
    "ingest_id", "dataset", "source_path", "source_sha256", "source_bytes", "layout", "started_at",
    "finished_at", "n_images", "n_skipped", "skipped", "source_kind", "reader_version", "n_converted",
)


def write_ingest(con: Connection, row: Mapping[str, Any]) -> None:
    """Insert one `ingests` row (`row` has INGEST_COLUMNS)."""
    placeholders = ", ".join(["?"] * len(INGEST_COLUMNS))
    con.execute(
        f"INSERT INTO ingests ({', '.join(INGEST_COLUMNS)}) VALUES ({placeholders})",
        [row[column] for column in INGEST_COLUMNS],
    )


def training_faces(con: Connection, usages: Sequence[str]) -> pd.DataFrame:
    """The faces of `usages` with their labels, pixels and flags (the `models_faces` query)."""
    return warehouse.query(con, "models_faces", usages=list(usages))


def quality_counts(con: Connection, dataset: str, emotions: Sequence[str]) -> dict[str, int]:
    """Duplicate groups, blank images and file-name collisions of `dataset` (the `quality_summary` query)."""
    row = warehouse.query(con, "quality_summary", dataset=dataset, emotions=list(emotions)).iloc[0]
    return {column: int(value) for column, value in row.items()}


def first_faces(con: Connection, limit: int) -> np.ndarray:
    """The first `limit` faces by image id as an (n, 48, 48) uint8 stack (benchmarks)."""
    rows = con.execute("SELECT pixels FROM images ORDER BY image_id LIMIT ?", [limit]).fetchall()
    return faces_from_blobs(row[0] for row in rows)


# --- evaluations ------------------------------------------------------------------------------------


def evaluation_fingerprint(con: Connection) -> tuple[str, int]:
    """(fingerprint, number) of the PublicTest + PrivateTest faces: changes when they change."""
    row = warehouse.query(con, "models_eval_fingerprint").iloc[0]
    return row["fingerprint"], int(row["n_images"])


def evaluations_done(con: Connection) -> dict[tuple[str, bool], tuple[str, str]]:
    """{(model_id, tta): (model sha256, faces fingerprint)} of every recorded evaluation."""
    if not warehouse.has_table(con, "evaluations"):
        return {}
    return {
        (row.model_id, bool(row.tta)): (row.sha256, row.images_fingerprint)
        for row in warehouse.query(con, "models_evaluations").itertuples()
    }


def stored_probabilities(
    con: Connection, model_id: str, tta: bool, image_ids: Sequence[int]
) -> np.ndarray | None:
    """(N, 7) float32 probabilities `model_id` stored for `image_ids` (in that order) in one mode, or
    None when any of those faces has none."""
    if not warehouse.has_table(con, "predictions"):
        return None
    frame = warehouse.query(con, "models_probabilities", model_id=model_id, tta=tta).set_index("image_id")
    if not frame.index.is_unique or not pd.Index(image_ids).isin(frame.index).all():
        return None
    return frame.loc[list(image_ids), list(EMOTIONS)].to_numpy(np.float32)


def write_evaluation(
    con: Connection, model_id: str, tta: bool, predictions: pd.DataFrame, metrics: pd.DataFrame,
    sha256: str, seconds: float, backend: str,
) -> None:
    """Replace a model's predictions and metrics of one mode (plain or TTA) and record the evaluation."""
    fingerprint, n_images = evaluation_fingerprint(con)
    con.execute("DELETE FROM predictions WHERE model_id = ? AND tta = ?", [model_id, tta])
    con.execute("DELETE FROM metrics WHERE model_id = ? AND tta = ?", [model_id, tta])
    for table, frame in (("predictions", predictions), ("metrics", metrics)):
        con.register("_new_rows", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _new_rows")
        finally:
            con.unregister("_new_rows")
    con.execute(
        "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, now())",
        [model_id, tta, sha256, fingerprint, n_images, seconds, backend],
    )


# --- landmarks --------------------------------------------------------------------------------------

_WITHOUT_LANDMARKS = """
    FROM images i
    WHERE NOT EXISTS (SELECT 1 FROM landmarks l WHERE l.model_id = $model_id AND l.image_id = i.image_id)
"""


def count_without_landmarks(con: Connection, model_id: str) -> int:
    """Faces that have no landmarks of `model_id` (every face when there is no landmarks table)."""
    if not warehouse.has_table(con, "landmarks"):
        return warehouse.row_count(con, "images")
    return int(con.execute("SELECT count(*)" + _WITHOUT_LANDMARKS, {"model_id": model_id}).fetchone()[0])


def ids_without_landmarks(con: Connection, model_id: str) -> list[int]:
    """Image ids without landmarks of `model_id`, in id order."""
    sql = "SELECT image_id" + _WITHOUT_LANDMARKS + "ORDER BY image_id"
    return [row[0] for row in con.execute(sql, {"model_id": model_id}).fetchall()]


def faces_by_id(con: Connection, image_ids: Sequence[int]) -> tuple[list[int], np.ndarray]:
    """(ids, (n, 48, 48) uint8 faces) of the faces `image_ids`, in id order."""
    rows = con.execute(
        "SELECT image_id, pixels FROM images WHERE list_contains(?, image_id) ORDER BY image_id",
        [list(image_ids)],
    ).fetchall()
    return [r[0] for r in rows], faces_from_blobs(r[1] for r in rows)


def delete_landmarks(con: Connection, model_id: str) -> None:
    con.execute("DELETE FROM landmarks WHERE model_id = ?", [model_id])


def append_landmarks(con: Connection, frame: pd.DataFrame) -> None:
    """Append rows of model_id, image_id and the 30 keypoint columns to `landmarks`."""
    columns = ", ".join(("model_id", "image_id", *KEYPOINT_COLUMNS))
    con.register("_landmark_rows", frame)
    try:
        con.execute(f"INSERT INTO landmarks ({columns}) SELECT {columns} FROM _landmark_rows")
    finally:
        con.unregister("_landmark_rows")


# --- attached result sets (Ray runs) ----------------------------------------------------------------


def scale_faces(con: Connection) -> pa.Table:
    """Every warehouse face as the Ray engine's input table (the `scale_faces` query)."""
    return pa.Table.from_pandas(warehouse.query(con, "scale_faces"), preserve_index=False)


def attach_result_set(
    con: Connection, name: str, folder: Path, pattern: str, *, kind: str | None,
    partitions: int, expected: int | None, rows: int, job: dict,
) -> str:
    """Register a folder of result partitions (inside `writing()`): a view over read_parquet of
    `folder/pattern` (absolute; the files are read where they are, never copied) and its result_sets
    row. Attaching a name again replaces it. Returns the view's name."""
    view = warehouse.result_view_name(name)
    taken = con.execute(
        "SELECT name FROM result_sets WHERE view_name = ? AND name <> ?", [view, name]
    ).fetchone()
    if taken:
        raise WarehouseError(f"--name {name!r} clashes with the attached result set {taken[0]!r}")
    glob = warehouse.sql_string(Path(folder).resolve() / pattern)
    con.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet('{glob}', union_by_name = true)"
    )
    con.execute("DELETE FROM result_sets WHERE name = ?", [name])
    con.execute(
        "INSERT INTO result_sets (name, view_name, path, kind, partitions, expected, rows_attached, job, "
        "attached_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
        [name, view, str(Path(folder).resolve()), kind, partitions, expected, rows, json.dumps(job)],
    )
    return view
