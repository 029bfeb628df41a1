"""`--engine ray` for the predict and landmarks steps: the options, and the runs over faceemo.scale."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ENGINES = ("local", "ray")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every step with an engine choice takes (on top of its own --batch-size and --out)."""
    group = parser.add_argument_group("running on Ray (--engine ray)")
    group.add_argument(
        "--engine", choices=ENGINES, default="local",
        help="local: this process (default). ray: Ray Data workers, on this machine or a Ray cluster; "
        "writes a folder of Parquet files at --out, one row per face or failed input",
    )
    group.add_argument(
        "--address", default=None, metavar="ADDR",
        help="the Ray cluster to run on, e.g. ray://head:10001 or auto (default: $RAY_ADDRESS; without "
        "one, a local Ray on this machine)",
    )
    group.add_argument(
        "--concurrency", type=int, default=None, metavar="N",
        help="model workers, each loading the models once (default: one per CPU of the cluster)",
    )
    group.add_argument(
        "--cpus-per-worker", type=float, default=1.0, metavar="C",
        help="CPUs each worker takes, and its number of compute threads (default: 1)",
    )
    group.add_argument(
        "--partition-size", type=int, default=None, metavar="N",
        help="inputs per Parquet file (default: 4096); a rerun of a killed job redoes only the files "
        "that are missing",
    )
    group.add_argument(
        "--overwrite", action="store_true",
        help="replace the results in --out when they come from other inputs, models or options "
        "(otherwise that is an error)",
    )


def wants_ray(args: argparse.Namespace) -> bool:
    return getattr(args, "engine", "local") == "ray"


def check_local_only(args: argparse.Namespace) -> None:
    """The Ray options make no sense without --engine ray: say so rather than ignore them."""
    from faceemo.errors import DataError

    given = [flag for flag, value in (
        ("--address", args.address), ("--concurrency", args.concurrency),
        ("--partition-size", args.partition_size), ("--overwrite", args.overwrite or None),
    ) if value is not None]
    if args.cpus_per_worker != 1.0:
        given.append("--cpus-per-worker")
    if given:
        raise DataError(f"{', '.join(given)}: only with --engine ray")


def _options(
    args: argparse.Namespace, out: str | None, whole_image: bool, fallback: bool,
    detector: str | None = None, align: bool = True,
):
    from faceemo.errors import DataError
    from faceemo.scale import DEFAULT_PARTITION_SIZE, JobOptions

    if not out:
        raise DataError("--engine ray needs --out DIR: the folder the Parquet results go to")
    options = JobOptions(
        out=Path(out), whole_image=whole_image, whole_image_fallback=fallback, detector=detector,
        align=align, batch_size=args.batch_size,
        concurrency=args.concurrency, cpus_per_worker=args.cpus_per_worker,
        partition_size=args.partition_size or DEFAULT_PARTITION_SIZE, address=args.address,
        overwrite=args.overwrite,
    )
    options.check()
    return options


def _run(inputs, models, options) -> int:
    from tqdm import tqdm

    from faceemo.scale import print_summary, run_job

    for notice in models.notices():
        print(f"note: {notice}", file=sys.stderr)
    with tqdm(total=len(inputs), unit="input", file=sys.stderr, desc="ray", disable=None) as bar:
        summary = run_job(inputs, models, options, progress=bar.update)
    print_summary(summary)
    print(
        f"attach it to the warehouse: python -m pipelines attach-results {summary.out} --name NAME",
        file=sys.stderr,
    )
    return 1 if summary.failed else 0


def run_predict(args: argparse.Namespace) -> int:
    """predict --engine ray: image files and folders, or Parquet tables of image bytes."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from faceemo import detectors
    from faceemo.errors import DataError
    from faceemo.inference import load_models
    from faceemo.scale import file_inputs, load_ray, parquet_inputs
    from faceemo.video import is_video_path
    from pipelines.predict import find_images

    if args.saliency:
        raise DataError("--saliency runs with the local engine only")
    if not args.face_check:
        raise DataError("--no-face-check runs with the local engine only")
    detector = None if args.whole_image else detectors.get(args.detector).name  # DataError when unknown
    options = _options(args, args.out, args.whole_image, args.whole_image_fallback, detector, args.align)
    load_ray()  # before anything slow: a clear message when Ray is not installed
    tables = [p for p in args.paths if p.lower().endswith(".parquet")]
    if tables:
        if len(tables) != len(args.paths):
            raise DataError("give either image files and folders or Parquet tables of images, not both")
        missing = [p for p in tables if not Path(p).is_file()]
        if missing:
            raise DataError(f"{missing[0]}: no such file")
        inputs = parquet_inputs([Path(p) for p in tables], args.image_column, args.id_column)
    else:
        if args.image_column or args.id_column:
            raise DataError("--image-column and --id-column are for Parquet tables of images")
        files, missing = find_images(args.paths)
        if missing:
            raise DataError(f"{missing[0][0]}: {missing[0][1]}")
        videos = [f for f in files if is_video_path(f)]
        if videos:
            raise DataError(f"{videos[0]}: videos run with the local engine (--engine local)")
        if not files:
            raise DataError(f"no image files in {' '.join(args.paths)}")
        inputs = file_inputs(files)
    models = load_models(args.model, args.landmark_model)
    return _run(inputs, models, options)


def run_landmarks(args: argparse.Namespace) -> int:
    """landmarks --engine ray: every face of the warehouse, emotion and landmarks, into Parquet."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from faceemo import model_store, store, warehouse
    from faceemo.errors import WarehouseError
    from faceemo.inference import load_models
    from faceemo.paths import resolve_db
    from faceemo.scale import load_ray, warehouse_inputs

    options = _options(args, args.out, whole_image=True, fallback=False)
    load_ray()
    landmark_model = model_store.resolve_model(args.model, "landmarks")  # this step needs one
    db = resolve_db(args.db)
    con = warehouse.connect_readonly(db)
    try:
        if warehouse.row_count(con, "images") == 0:
            raise WarehouseError(f"the warehouse {db} has no faces: fill it with `{warehouse.FILL_COMMAND}`")
        faces = store.scale_faces(con)
    finally:
        con.close()
    models = load_models(args.emotion_model, landmark_model)
    return _run(warehouse_inputs(faces), models, options)
