"""Batch inference beyond one process: Ray Data over many images, results as Parquet partitions.

The same inference path as the single-process `predict` (`faceemo.inference.prepare` + `predict_faces`,
the one image decoder, the detector of `--detector`), run by Ray actors that each load the models once:

    inputs (image files / a Parquet table of image bytes / the warehouse's faces)
      -> Ray Dataset, one row per input        (only the inputs of partitions not yet complete)
      -> map_batches(FaceWorker, batch_size, ActorPoolStrategy(size=concurrency))
      -> one row per face, or one row per input that failed or showed no face (status + reason)
      -> OUT/part-NNNNN.parquet                 (written by the driver as each partition completes)

Partitions are consecutive runs of `partition_size` inputs in job order. The driver collects the result
rows as they stream back (a face row is ~0.5 KB: a million faces is ~0.5 GB through the driver over the
whole job) and writes a partition's file, atomically, once every input of it came back. So a partition
file that exists is complete, a killed job loses at most the partitions in flight, and a rerun with the
same OUT (and the same inputs and models, which `OUT/_job.json` records) computes only the missing ones.
The output folder needs to exist only where the driver runs, not on every node.

Image files are listed by the driver and read by the workers with the project's decoder, rather than by
`ray.data.read_binary_files`: that one fails the whole job when one file is unreadable or disappears;
here such a file is a `failed` row with its reason. Ray is an optional dependency (`pip install
'faceemo[ray]'`); this module imports it only when a job starts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from faceemo.errors import DataError, FaceemoError
from faceemo.keypoints import COLUMNS
from faceemo.labels import EMOTIONS

JOB_FILE = "_job.json"
PART_GLOB = "part-*.parquet"
JOB_VERSION = 1
DEFAULT_PARTITION_SIZE = 4096
INSTALL_HINT = "pip install 'faceemo[ray]' (scripts/setup.sh installs it)"

STATUSES = ("ok", "no_face", "failed")
NO_FACE = "no face found"

# One row per face (status 'ok') or per input without a face ('no_face') or that failed ('failed').
RESULT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),  # the file path as given, "<parquet id>", or dataset/split/emotion/file
        ("face", pa.int32()),  # 0-based, left to right; null when no face
        ("faces", pa.int32()),  # faces found in this input (0 for no_face and failed)
        ("status", pa.string()),
        ("reason", pa.string()),  # why it failed or found no face; null when ok
        ("image_id", pa.int64()),  # the warehouse's image_id when the input is a warehouse face
        ("box_x", pa.int32()), ("box_y", pa.int32()), ("box_w", pa.int32()), ("box_h", pa.int32()),
        # the square the model crops were cut from, turned by crop_angle degrees when aligned
        ("crop_x", pa.int32()), ("crop_y", pa.int32()), ("crop_side", pa.int32()),
        ("crop_angle", pa.float64()),
        ("whole_image", pa.bool_()),
        *[(name, pa.float64()) for name in EMOTIONS],
        ("emotion", pa.string()),
        ("confidence", pa.float64()),
        *[(name, pa.float64()) for name in COLUMNS],  # pixels of the original image, 2 decimals
        *[(f"frame_{name}", pa.float64()) for name in COLUMNS],  # the same in the crop's 96x96 frame
        ("emotion_model", pa.string()),
        ("landmark_model", pa.string()),
    ]
)
RESULT_COLUMNS: tuple[str, ...] = tuple(RESULT_SCHEMA.names)


# ---------------------------------------------------------------------------------------------- inputs


@dataclass
class Inputs:
    """What a job reads, in job order: `table` has one row per input with a unique `source` column and
    the payload the workers read (`path`, `image` bytes or raw `pixels`), except for Parquet inputs,
    which Ray reads itself from `parquet` (`table` then holds only the sources)."""

    kind: str  # 'files' | 'parquet' | 'warehouse'
    table: pa.Table
    fingerprint: str  # changes when any input does
    parquet: list[str] = field(default_factory=list)
    id_column: str = "source"
    image_column: str = "image"
    row_bytes: float = 0.0  # Parquet input: uncompressed bytes per row

    @property
    def sources(self) -> list[str]:
        return self.table.column("source").to_pylist()

    def __len__(self) -> int:
        return self.table.num_rows


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def file_inputs(files: Sequence[Path]) -> Inputs:
    """Image files (already listed, e.g. by `pipelines.predict.find_images`): `source` is the path as
    given, `path` the absolute one the workers open. The fingerprint covers each file's size and mtime."""
    sources = [str(f) for f in files]
    paths = [str(Path(f).resolve()) for f in files]
    stamps = []
    for path in paths:
        try:
            st = os.stat(path)
            stamps.append(f"{path}|{st.st_size}|{st.st_mtime_ns}")
        except OSError:
            stamps.append(f"{path}|missing")
    table = pa.table({"source": pa.array(sources, pa.string()), "path": pa.array(paths, pa.string())})
    return Inputs("files", table, _digest(["files", *stamps]))


IMAGE_COLUMN_NAMES = ("image", "bytes", "image_bytes", "content", "data")
ID_COLUMN_NAMES = ("source", "path", "file", "file_name", "filename", "image_id", "id", "key", "name")


def parquet_inputs(
    paths: Sequence[Path], image_column: str | None = None, id_column: str | None = None
) -> Inputs:
    """A Parquet table of encoded images (PNG, JPEG, ... bytes; or a struct with a `bytes` field, as
    Hugging Face image columns are) and a unique id per row. Reads only the id column here."""
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    files = [str(Path(p).resolve()) for p in paths]
    try:
        dataset = pads.dataset(files, format="parquet")
        schema = dataset.schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read {', '.join(map(str, paths))} as Parquet: {exc}") from None
    names = schema.names
    image_column = image_column or _guess_image_column(schema)
    if image_column not in names:
        raise DataError(f"{paths[0]}: no column {image_column!r} (columns: {', '.join(names)})")
    kind = schema.field(image_column).type
    if not (_is_binary(kind) or (pa.types.is_struct(kind) and kind.get_field_index("bytes") >= 0)):
        raise DataError(f"{paths[0]}: column {image_column!r} is {kind}, not image bytes")
    id_column = id_column or next((n for n in ID_COLUMN_NAMES if n in names and n != image_column), None)
    if id_column is None or id_column not in names:
        raise DataError(
            f"{paths[0]}: no id column to name each image by (looked for {', '.join(ID_COLUMN_NAMES)}); "
            "pass --id-column NAME"
        )
    ids = pa.chunked_array(
        [batch.column(0).cast(pa.string()) for batch in dataset.to_batches(columns=[id_column])],
        type=pa.string(),
    )
    if ids.null_count:
        raise DataError(f"{paths[0]}: column {id_column!r} has {ids.null_count} empty ids")
    if len(ids) == 0:
        raise DataError(f"{', '.join(map(str, paths))}: the table has no rows")
    unique = pa.compute.count_distinct(ids).as_py()
    if unique != len(ids):
        raise DataError(
            f"{paths[0]}: column {id_column!r} names {len(ids) - unique} images twice; "
            "pass --id-column with a unique column"
        )
    sizes = [f"{f}|{os.stat(f).st_size}|{os.stat(f).st_mtime_ns}" for f in files]
    table = pa.table({"source": ids.combine_chunks()})
    total = 0
    for f in files:
        meta = pq.read_metadata(f)
        total += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return Inputs("parquet", table, _digest(["parquet", image_column, id_column, *sizes]), files,
                  id_column, image_column, total / len(ids))


def _is_binary(kind: pa.DataType) -> bool:
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def _guess_image_column(schema: pa.Schema) -> str:
    binary = [f.name for f in schema if _is_binary(f.type)]
    structs = [f.name for f in schema if pa.types.is_struct(f.type) and f.type.get_field_index("bytes") >= 0]
    for name in IMAGE_COLUMN_NAMES:
        if name in binary or name in structs:
            return name
    candidates = binary + structs
    if len(candidates) == 1:
        return candidates[0]
    raise DataError(
        "cannot tell which column holds the images "
        f"({'none is binary' if not candidates else 'several could: ' + ', '.join(candidates)}); "
        "pass --image-column NAME"
    )


def warehouse_inputs(faces: pa.Table) -> Inputs:
    """The warehouse's faces (the named query scale_faces: image_id, dataset, split, emotion, file_name,
    sha256, pixels: square gray bytes). `source` is dataset/split/emotion/file_name, unique per face."""
    sources = [
        f"{d}/{s}/{e}/{f}"
        for d, s, e, f in zip(
            *(faces.column(c).to_pylist() for c in ("dataset", "split", "emotion", "file_name")), strict=True
        )
    ]
    table = pa.table(
        {
            "source": pa.array(sources, pa.string()),
            "image_id": faces.column("image_id").cast(pa.int64()),
            "pixels": faces.column("pixels").cast(pa.binary()),
        }
    )
    stamps = (f"{s}|{h}" for s, h in zip(sources, faces.column("sha256").to_pylist(), strict=True))
    return Inputs("warehouse", table, _digest(["warehouse", *stamps]))


# ---------------------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelPayload:
    """A model travelling to the workers: its sidecar and its file's bytes (no shared disk needed)."""

    task: str
    model_id: str
    meta: dict[str, Any]
    data: bytes
    sha256: str


def model_payloads(models: Any) -> dict[str, ModelPayload | None]:
    """The payloads of an `inference.Models` (None for a task whose production model is missing)."""
    out: dict[str, ModelPayload | None] = {}
    for task in ("emotion", "landmarks"):
        info = getattr(models, task)
        if info is None:
            out[task] = None
            continue
        data = info.path.read_bytes()
        out[task] = ModelPayload(task, info.model_id, dict(info.meta), data, hashlib.sha256(data).hexdigest())
    return out


# ---------------------------------------------------------------------------------------------- worker


def _set_threads(threads: int) -> None:
    """TensorFlow's thread pools sized to the CPUs Ray gave this worker (before any TF op runs)."""
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already initialised: keep what it has
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1 if threads == 1 else 2)


class FaceWorker:
    """A Ray Data actor: loads the models (and the detector) once, then turns batches of inputs into
    result rows (RESULT_SCHEMA). Every input gives at least one row; nothing in one input can fail the
    batch. Callable on a pyarrow batch with `source` and one of `path`, `image` or `pixels`.

    `payloads` maps each task to its ModelPayload (or a Ray reference to one, so that the actor's own
    arguments stay small), or None when that task has no model."""

    def __init__(
        self,
        payloads: dict[str, Any],
        missing: dict[str, str],
        *,
        whole_image: bool = False,
        whole_image_fallback: bool = False,
        detector: str | None = None,
        align: bool = True,
        model_batch: int = 64,
        threads: int = 1,
    ) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        _set_threads(threads)
        from faceemo import detectors, model_store
        from faceemo.inference import Models

        self._dir = tempfile.mkdtemp(prefix="faceemo-models-")
        infos = {}
        for task, payload in payloads.items():
            if payload is not None and not isinstance(payload, ModelPayload):  # an ObjectRef: fetch it
                import ray

                payload = ray.get(payload)
            if payload is None:
                infos[task] = None
                continue
            folder = Path(self._dir)
            (folder / f"{payload.model_id}.keras").write_bytes(payload.data)
            (folder / f"{payload.model_id}.json").write_text(json.dumps(payload.meta))
            infos[task] = model_store.resolve_model(payload.model_id, task, models_dir=folder)
            model_store.load_keras_model(infos[task])  # once per worker, now rather than on the first batch
        self.models = Models(emotion=infos["emotion"], landmarks=infos["landmarks"], missing=dict(missing))
        self.whole_image = whole_image
        self.whole_image_fallback = whole_image_fallback
        self.model_batch = model_batch
        self.detector = detector
        self.align = align
        if not whole_image:  # the detector, loaded once too
            detectors.get(detector).run(np.zeros((64, 64), np.uint8))

    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.Table.from_pylist(self.rows(batch), schema=RESULT_SCHEMA)

    def rows(self, batch: pa.Table) -> list[dict[str, Any]]:
        from faceemo.inference import predict_faces, prepare

        data = batch.to_pydict()
        sources = data["source"]
        n = len(sources)
        image_ids = data.get("image_id", [None] * n)
        prepared: list[Any] = []
        outcome: list[Any] = []  # per input: the PreparedImage, or the reason it failed
        for i, source in enumerate(sources):
            try:
                item = prepare(
                    self._payload(data, i), source, whole_image=self.whole_image,
                    whole_image_if_no_face=self.whole_image_fallback, detector=self.detector,
                    align=self.align,
                )
            except FaceemoError as exc:
                outcome.append(str(exc).removeprefix(f"{source}: "))
                continue
            except Exception as exc:  # a decoder bug on one odd file must not stop the other million
                outcome.append(f"unexpected {type(exc).__name__}: {exc}")
                continue
            prepared.append(item)
            outcome.append(item)
        results = iter(predict_faces(prepared, self.models, batch_size=self.model_batch))
        rows: list[dict[str, Any]] = []
        for source, image_id, item in zip(sources, image_ids, outcome, strict=True):
            if isinstance(item, str):
                rows.append(_empty_row(source, image_id, "failed", item, self.models))
                continue
            faces = next(results)
            if not faces:
                rows.append(_empty_row(source, image_id, "no_face", NO_FACE, self.models))
            for result in faces:
                rows.append(_face_row(result, source, image_id, len(faces)))
        return rows

    @staticmethod
    def _payload(data: dict[str, list], i: int) -> object:
        if "path" in data:
            return data["path"][i]
        if "pixels" in data:  # a warehouse face: square 8-bit gray, row-major
            pixels = np.frombuffer(data["pixels"][i], np.uint8)
            side = math.isqrt(pixels.size)
            if side * side != pixels.size:
                raise DataError(f"{pixels.size} pixel bytes do not make a square face")
            return pixels.reshape(side, side)
        value = data["image"][i]
        if isinstance(value, dict):  # a Hugging Face image struct {bytes, path}
            value = value.get("bytes")
        if value is None:
            raise DataError("no image bytes in this row")
        return value


def _face_row(result: Any, source: str, image_id: int | None, faces: int) -> dict[str, Any]:
    row = result.to_row()
    del row["file"]
    row.update(
        source=source, image_id=image_id, faces=faces, status="ok", reason=None,
        crop_x=result.frame.x0, crop_y=result.frame.y0, crop_side=result.frame.side,
        crop_angle=float(getattr(result.frame, "angle", 0.0)),
    )
    if result.landmarks_96 is not None:
        flat = np.asarray(result.landmarks_96, np.float64).reshape(-1)
        row.update({f"frame_{name}": float(v) for name, v in zip(COLUMNS, flat, strict=True)})
    return row


def _empty_row(source: str, image_id: int | None, status: str, reason: str, models: Any) -> dict[str, Any]:
    return {
        "source": source, "image_id": image_id, "faces": 0, "status": status, "reason": reason,
        "emotion_model": models.emotion.model_id if models.emotion else None,
        "landmark_model": models.landmarks.model_id if models.landmarks else None,
    }


# ---------------------------------------------------------------------------------------------- job


@dataclass(frozen=True)
class JobOptions:
    """How a job runs. Only the fields of `_identity` change its results (the rest is speed)."""

    out: Path
    whole_image: bool = False
    whole_image_fallback: bool = False
    detector: str | None = None  # a faceemo.detectors name; None: the default one
    align: bool = True
    batch_size: int = 64
    concurrency: int | None = None  # model workers; None: as many as the cluster has CPUs for
    cpus_per_worker: float = 1.0
    partition_size: int = DEFAULT_PARTITION_SIZE
    address: str | None = None  # None: $RAY_ADDRESS, else a local Ray on this machine
    overwrite: bool = False

    def check(self) -> None:
        for name in ("batch_size", "partition_size"):
            if getattr(self, name) < 1:
                raise DataError(f"--{name.replace('_', '-')} must be at least 1")
        if self.concurrency is not None and self.concurrency < 1:
            raise DataError("--concurrency must be at least 1")
        if self.cpus_per_worker <= 0:
            raise DataError("--cpus-per-worker must be above 0")


@dataclass
class JobSummary:
    """What a job did: inputs, result rows by status, partitions written now and found complete."""

    out: Path
    inputs: int = 0
    faces: int = 0
    no_face: int = 0
    failed: int = 0
    partitions: int = 0
    written: int = 0
    skipped: int = 0
    seconds: float = 0.0  # from submitting the work to the last partition written
    startup_seconds: float = 0.0  # starting or joining Ray
    first_batch_seconds: float = 0.0  # from submitting the work to the first results (workers starting)
    steady_faces: int = 0  # faces that came back after the first batch
    workers: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source, reason), first 100

    @property
    def faces_per_second(self) -> float:
        return self.faces / self.seconds if self.seconds else 0.0


def partition_path(out: Path, index: int) -> Path:
    return out / f"part-{index:05d}.parquet"


def complete_partitions(out: Path) -> set[int]:
    """Partitions whose file exists (written atomically, so complete)."""
    done = set()
    for path in out.glob(PART_GLOB):
        with contextlib.suppress(ValueError):
            done.add(int(path.stem.split("-", 1)[1]))
    return done


def _job_record(inputs: Inputs, options: JobOptions, payloads: dict[str, ModelPayload | None]) -> dict:
    n = len(inputs)
    return {
        "version": JOB_VERSION,
        "kind": inputs.kind,
        "inputs": n,
        "inputs_fingerprint": inputs.fingerprint,
        "partition_size": options.partition_size,
        "partitions": -(-n // options.partition_size),
        "whole_image": options.whole_image or inputs.kind == "warehouse",
        "whole_image_fallback": options.whole_image_fallback,
        "detector": options.detector,
        "align": options.align,
        "models": {
            task: None if p is None else {"model_id": p.model_id, "sha256": p.sha256}
            for task, p in payloads.items()
        },
    }


def _prepare_out(out: Path, record: dict, overwrite: bool) -> set[int]:
    """Create or check OUT; the partitions already complete there (none for a new or overwritten job)."""
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} is a file; the Ray engine writes a folder of Parquet partitions")
    out.mkdir(parents=True, exist_ok=True)
    job_file = out / JOB_FILE
    parts = sorted(out.glob(PART_GLOB))
    for stale in out.glob(".part-*.tmp-*"):  # a killed run's half-written partition
        with contextlib.suppress(OSError):
            stale.unlink()
    if not job_file.exists() and not parts and any(out.iterdir()):
        raise DataError(
            f"--out {out} holds other files; the Ray engine writes into a new or empty folder (or one of "
            "its earlier runs)"
        )
    if job_file.exists() or parts:
        try:
            previous = json.loads(job_file.read_text())
        except (OSError, ValueError):
            previous = None
        if previous != record:
            if not overwrite:
                what = "another job" if previous else "Parquet files of unknown origin"
                raise DataError(
                    f"{out} holds {what} (other inputs, models or options); write to a new --out "
                    "folder, or pass --overwrite to replace it"
                )
            for path in parts:
                path.unlink()
            job_file.unlink(missing_ok=True)
    _write_json(job_file, record)
    return complete_partitions(out)


def _write_json(path: Path, data: dict) -> None:
    from faceemo.files import atomic_write_json

    atomic_write_json(path, data)


def _write_partition(out: Path, index: int, tables: list[pa.Table]) -> None:
    """One partition's rows, sorted by source and face, into part-NNNNN.parquet (temp file + rename)."""
    import pyarrow.parquet as pq

    table = pa.concat_tables(tables).cast(RESULT_SCHEMA)
    table = table.sort_by([("source", "ascending"), ("face", "ascending")])
    from faceemo.files import atomic_save

    atomic_save(partition_path(out, index), lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def load_ray() -> Any:
    """The `ray` module, or a clear DataError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise DataError(f"the Ray engine needs Ray: {INSTALL_HINT}") from None
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None, tries: int = 3) -> None:
    """ray.init, quiet; a local Ray (address None) gets `num_cpus` and no dashboard. A local start whose
    node does not register within Ray's fixed 30 s (a machine overloaded by other work) is tried again."""
    ray = load_ray()
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address is None:
        options |= {"num_cpus": num_cpus, "include_dashboard": False}
    for attempt in range(1, tries + 1):
        try:
            ray.init(address=address, **options)
            return
        except Exception as exc:
            if address is not None or "timed out during startup" not in str(exc) or attempt == tries:
                raise
            ray.shutdown()
            print(f"ray: the local Ray was slow to start ({attempt}/{tries}); trying again", file=sys.stderr)


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None):
    """Join the Ray cluster at `address` (else $RAY_ADDRESS); without one, start a local Ray on this
    machine (stopped again on exit). A Ray already initialised in this process is used as it is."""
    ray = load_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    try:
        init_ray(address, num_cpus)
    except Exception as exc:  # Ray raises all sorts here (ConnectionError, RuntimeError, plain Exception)
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise DataError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def run_job(
    inputs: Inputs,
    models: Any,
    options: JobOptions,
    *,
    progress: Callable[[int], None] | None = None,
    on_partition: Callable[[int], None] | None = None,
) -> JobSummary:
    """Run `models` (an `inference.Models`) over `inputs` on Ray; write OUT's missing partitions.

    `progress(n)` is told how many more inputs came back; `on_partition(k)` after partition k is
    written. Returns the summary of the whole OUT folder (partitions done earlier included).
    """
    options.check()
    out = Path(options.out).resolve()
    payloads = model_payloads(models)
    record = _job_record(inputs, options, payloads)
    done = _prepare_out(out, record, options.overwrite)
    n_parts = record["partitions"]
    size = options.partition_size
    pending = [k for k in range(n_parts) if k not in done]
    summary = JobSummary(out=out, inputs=len(inputs), partitions=n_parts, skipped=n_parts - len(pending))
    if pending:
        _run_pending(inputs, models, payloads, options, out, pending, size, summary, progress, on_partition)
    _count(out, summary)
    return summary


def _run_pending(inputs, models, payloads, options, out, pending, size, summary, progress, on_partition):
    ray = load_ray()
    try:
        _stream(inputs, models, payloads, options, out, pending, size, summary, progress, on_partition)
    except ray.exceptions.RayError as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise FaceemoError(
            f"the Ray job failed ({first.strip()[:200]}); the partitions written so far are kept: run the "
            "same command again to go on"
        ) from exc


def _stream(inputs, models, payloads, options, out, pending, size, summary, progress, on_partition):
    n = len(inputs)
    rows = np.concatenate([np.arange(k * size, min(n, (k + 1) * size)) for k in pending])
    todo = inputs.table.take(pa.array(rows))
    source_part = dict(zip(todo.column("source").to_pylist(), (rows // size).tolist(), strict=True))
    expected = {k: min(n, (k + 1) * size) - k * size for k in pending}
    started = time.perf_counter()
    with ray_session(options.address) as ray:
        summary.startup_seconds = time.perf_counter() - started
        context = ray.data.DataContext.get_current()
        saved = {k: getattr(context, k, None) for k in (
            "enable_progress_bars", "print_on_execution_start", "use_datasource_v2", "target_max_block_size"
        )}
        context.enable_progress_bars = False  # our progress bar and summary say it
        context.print_on_execution_start = False
        if inputs.kind == "parquet":
            # Ray 2.60's new Parquet reader starts 32 footer-reading actors (Python processes) before
            # the first row: a minute on a small machine, for the few files a table of images has.
            context.use_datasource_v2 = False
            block = inputs.row_bytes * options.batch_size
            context.target_max_block_size = int(min(128 << 20, max(1 << 20, block)))
        try:
            logging.getLogger("ray.data").setLevel(logging.ERROR)
            cpus = float(ray.cluster_resources().get("CPU", 1))
            workers = options.concurrency or max(1, int(cpus // options.cpus_per_worker))
            on_cluster = options.address or os.environ.get("RAY_ADDRESS")
            if workers * options.cpus_per_worker > cpus and not on_cluster:
                raise DataError(
                    f"{workers} worker(s) x {options.cpus_per_worker:g} CPU need more than the {cpus:g} "
                    "CPUs of this machine's Ray: lower --concurrency or --cpus-per-worker"
                )
            summary.workers = workers
            refs = {task: None if p is None else ray.put(p) for task, p in payloads.items()}
            # a small job still gives every worker a batch; a large one uses the batch size asked for
            batch_size = max(1, min(options.batch_size, -(-len(rows) // workers)))
            dataset = _dataset(ray, inputs, todo, batch_size, set(source_part) if len(rows) < n else None)
            results = dataset.map_batches(
                FaceWorker,
                fn_constructor_args=(refs, dict(models.missing)),
                fn_constructor_kwargs={
                    "whole_image": options.whole_image or inputs.kind == "warehouse",
                    "whole_image_fallback": options.whole_image_fallback,
                    "detector": options.detector,
                    "align": options.align,
                    "model_batch": batch_size,
                    "threads": max(1, round(options.cpus_per_worker)),
                },
                batch_size=batch_size,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=options.cpus_per_worker,
            )
            begun = time.perf_counter()
            buffers: dict[int, list[pa.Table]] = {k: [] for k in pending}
            rows_left: dict[str, int] = {}
            for batch in results.iter_batches(batch_size=None, batch_format="pyarrow"):
                if not summary.first_batch_seconds:
                    summary.first_batch_seconds = time.perf_counter() - begun
                else:
                    ok = pa.compute.equal(batch.column("status"), "ok")
                    summary.steady_faces += pa.compute.sum(ok).as_py() or 0
                sources = batch.column("source").to_pylist()
                faces = batch.column("faces").to_pylist()
                parts = np.fromiter((source_part[s] for s in sources), np.int64, len(sources))
                finished: list[int] = []
                came_back = 0
                for source, count, part in zip(sources, faces, parts, strict=True):
                    left = rows_left.pop(source, max(1, count or 0)) - 1
                    if left:
                        rows_left[source] = left
                        continue
                    came_back += 1
                    expected[part] -= 1
                    if expected[part] == 0:
                        finished.append(int(part))
                for part in np.unique(parts):
                    buffers[int(part)].append(batch.filter(pa.array(parts == part)))
                for part in finished:
                    _write_partition(out, part, buffers.pop(part))
                    summary.written += 1
                    if on_partition is not None:
                        on_partition(part)
                if progress is not None and came_back:
                    progress(came_back)
            summary.seconds = time.perf_counter() - begun
        finally:
            for key, value in saved.items():
                if value is not None:
                    setattr(context, key, value)
    if buffers:  # cannot happen unless Ray lost rows: say so rather than leave holes silently
        raise FaceemoError(f"{len(buffers)} partition(s) did not come back complete; run the job again")


def _dataset(ray: Any, inputs: Inputs, todo: pa.Table, batch_size: int, keep: set[str] | None):
    """The Ray Dataset of the inputs still to do, in blocks of `batch_size` rows."""
    if inputs.kind == "parquet":
        columns = [inputs.id_column, inputs.image_column]
        # Reading takes no CPU slot (num_cpus=0): the model workers may hold every CPU of the cluster,
        # and a read waiting for one would wait for ever. Blocks of ~batch_size rows (target block size
        # from the table's bytes per row; set by run_job) spread the rows over the workers.
        dataset = ray.data.read_parquet(inputs.parquet, columns=columns, partitioning=None, num_cpus=0)
        rename = {inputs.id_column: "source", inputs.image_column: "image"}
        wanted = None if keep is None else pa.array(sorted(keep), pa.string())

        def normalise(batch: pa.Table) -> pa.Table:
            batch = batch.select(columns).rename_columns([rename[c] for c in columns])
            batch = batch.set_column(0, "source", batch.column("source").cast(pa.string()))
            if wanted is not None:  # a rerun: only the rows of partitions not written yet
                batch = batch.filter(pa.compute.is_in(batch.column("source"), wanted))
            return batch

        return dataset.map_batches(normalise, batch_format="pyarrow", batch_size=None, num_cpus=0)
    blocks = [todo.slice(i, batch_size) for i in range(0, todo.num_rows, batch_size)]
    return ray.data.from_arrow(blocks)


def _count(out: Path, summary: JobSummary) -> None:
    """Rows by status over every partition file in OUT (the columns it needs only), first failures."""
    import pyarrow.parquet as pq

    for path in sorted(out.glob(PART_GLOB)):
        table = pq.read_table(path, columns=["source", "status", "reason"])
        status = table.column("status").to_pylist()
        summary.faces += status.count("ok")
        summary.no_face += status.count("no_face")
        summary.failed += status.count("failed")
        if len(summary.failures) < 100 and "failed" in status:
            failed = table.filter(pa.compute.equal(table.column("status"), "failed"))
            pairs = zip(failed.column("source").to_pylist(), failed.column("reason").to_pylist(), strict=True)
            summary.failures.extend(list(pairs)[: 100 - len(summary.failures)])


def print_summary(summary: JobSummary, stream: Any = None) -> None:
    """The end-of-job lines the Ray steps print (to stderr unless `stream`)."""
    stream = stream or sys.stderr
    rate = f" in {summary.seconds:.1f} s ({summary.faces_per_second:.0f} faces/s, {summary.workers} " \
           f"worker(s))" if summary.written else ""
    print(
        f"ray: {summary.inputs:,} input(s) in {summary.partitions} partition(s) -> {summary.out}; "
        f"wrote {summary.written}{rate}, {summary.skipped} already complete",
        file=stream,
    )
    print(
        f"ray: {summary.faces:,} face(s), {summary.no_face:,} with no face, {summary.failed:,} failed "
        "(each a row with status and reason)",
        file=stream,
    )
    for source, reason in summary.failures[:20]:
        print(f"  failed: {source}: {reason}", file=stream)
    if summary.failed > 20:
        print(f"  ... and {summary.failed - 20:,} more (status = 'failed' in the Parquet rows)", file=stream)


# ------------------------------------------------------------------------------------ attached results


def result_set_problem(path: str | os.PathLike) -> str | None:
    """Why an attached result folder cannot be read now (None when it can)."""
    folder = Path(path)
    if not folder.is_dir():
        return f"the result folder {folder} is not there any more (moved or deleted?)"
    if not any(folder.glob(PART_GLOB)):
        return f"the result folder {folder} has no complete partition ({PART_GLOB}) yet"
    return None


def result_folder_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """(partition files, newest mtime_ns) of a result folder: changes when a running job adds one."""
    stamps = [p.stat().st_mtime_ns for p in Path(path).glob(PART_GLOB)]
    return len(stamps), max(stamps, default=0)


def describe_results(path: str | os.PathLike) -> dict[str, Any]:
    """Check a result folder before attaching it: partitions present and expected, rows, job record.
    Raises DataError for a folder that is missing, empty, or whose files are not result partitions."""
    import pyarrow.parquet as pq

    folder = Path(path).expanduser().resolve()
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    problem = result_set_problem(folder)
    if problem:
        raise DataError(problem.replace("the result folder ", "") + "; run predict or landmarks "
                        "with --engine ray --out to make one")
    parts = sorted(folder.glob(PART_GLOB))
    rows = 0
    for part in parts:
        try:
            meta = pq.read_metadata(part)
            schema = pq.read_schema(part)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{part}: not a readable Parquet file ({exc})") from None
        missing = [c for c in RESULT_COLUMNS if c not in schema.names]
        if missing:
            raise DataError(f"{part}: not a faceemo result partition (no column {missing[0]!r})")
        rows += meta.num_rows
    try:
        job = json.loads((folder / JOB_FILE).read_text())
    except (OSError, ValueError):
        job = {}
    return {"path": folder, "partitions": len(parts), "expected": job.get("partitions"), "rows": rows,
            "job": job}
