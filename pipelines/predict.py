"""Predict the emotion and 15 landmarks of every face in photos: one row per face (CSV, Parquet, JSON).
PATH... are image files or folders (searched recursively for .jpg .jpeg .png .webp .bmp .tif .tiff .gif;
a file named explicitly is read whatever its extension). Each face gets a row: file, face (0-based, left
to right), box_x/box_y/box_w/box_h, whole_image, the 7 emotion probabilities, emotion, confidence, the 15
landmarks as <keypoint>_x/_y in pixels of the original (EXIF-rotated) photo, and the model ids.
Without --out the rows go to stdout as JSON lines. Photos with no face get no row and are listed at
the end (not an error; --whole-image-fallback treats them as one face instead). Bad files (not an image,
truncated, empty, too large...) are skipped, listed at the end with the reason, and make the exit code 1.
With --engine ray the work runs on Ray workers (this machine or a cluster) and --out is a folder of
Parquet files with one row per face, per photo without a face and per bad file (status and reason);
PATH may then also be Parquet tables holding encoded images.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pipelines import ray_engine

OUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders (recursive)")
    parser.add_argument(
        "--out", default=None, metavar="FILE",
        help="write FILE.csv, FILE.parquet or FILE.jsonl (default: JSON lines on stdout); with "
        "--engine ray, a folder of Parquet files",
    )
    parser.add_argument("--model", default=None, help="emotion model id (default: the production one)")
    parser.add_argument(
        "--landmark-model", default=None, help="landmark model id (default: the production one)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="faces per model call, and photos per chunk (default: 64)"
    )
    parser.add_argument(
        "--whole-image-fallback", action="store_true",
        help="when no face is found in a photo, treat the whole photo as one face",
    )
    parser.add_argument(
        "--whole-image", action="store_true",
        help="skip face detection: every photo already is one face crop (e.g. FER-2013 images)",
    )
    ray_engine.add_arguments(parser)
    parser.add_argument(
        "--image-column", default=None, metavar="COL",
        help="with --engine ray and Parquet input: the column of image bytes (default: guessed)",
    )
    parser.add_argument(
        "--id-column", default=None, metavar="COL",
        help="with --engine ray and Parquet input: the column naming each image, unique (default: the "
        "first of source, path, file, file_name, image_id, id, ...)",
    )


def find_images(paths: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to read (folders expanded recursively, sorted, each once) and the paths that do not exist."""
    from faceemo.images import is_image_path

    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_image_path(p))
        elif path.is_file():
            found = [path]
        else:
            missing.append((given, "no such file or folder"))
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files, missing


def _chunks(items: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run(args: argparse.Namespace) -> int:
    if ray_engine.wants_ray(args):
        return ray_engine.run_predict(args)
    ray_engine.check_local_only(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tqdm import tqdm

    from faceemo.errors import DataError, FaceemoError
    from faceemo.inference import load_models, predict_faces, prepare

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in OUT_FORMATS:
        raise DataError(f"--out {out}: use a .csv, .parquet or .jsonl file name")
    if args.batch_size < 1:
        raise DataError("--batch-size must be at least 1")
    files, failed = find_images(args.paths)
    if not files:
        raise DataError(f"no image files in {' '.join(args.paths)} (looked for {', '.join(_extensions())})")

    models = load_models(args.model, args.landmark_model)
    for notice in models.notices():
        print(f"note: {notice}", file=sys.stderr)

    rows: list[dict] = []
    no_face: list[str] = []
    n_faces = 0
    stream = sys.stdout if out is None else None
    with tqdm(total=len(files), unit="photo", file=sys.stderr, desc="predict", disable=None) as progress:
        for chunk in _chunks(files, args.batch_size):
            prepared = []
            for file in chunk:
                try:
                    prepared.append(
                        prepare(
                            file, str(file), whole_image=args.whole_image,
                            whole_image_if_no_face=args.whole_image_fallback,
                        )
                    )
                except FaceemoError as exc:
                    failed.append((str(file), str(exc).removeprefix(f"{file}: ")))
                except Exception as exc:  # a decoder bug on one odd file must not stop the other 999
                    failed.append((str(file), f"unexpected {type(exc).__name__}: {exc}"))
            for item, results in zip(prepared, predict_faces(prepared, models, batch_size=args.batch_size),
                                     strict=True):
                if not results:
                    no_face.append(item.image.name)
                for result in results:
                    n_faces += 1
                    row = result.to_row()
                    if stream is not None:
                        stream.write(json.dumps(row) + "\n")
                    else:
                        rows.append(row)
            if stream is not None:
                stream.flush()
            progress.update(len(chunk))

    if out is not None:
        _write(rows, out)
    _summary(len(files), n_faces, no_face, failed, out)
    return 1 if failed else 0


def _extensions() -> tuple[str, ...]:
    from faceemo.images import IMAGE_EXTENSIONS

    return IMAGE_EXTENSIONS


def _write(rows: list[dict], out: Path) -> None:
    """Write atomically: a temp file beside `out`, renamed over it when complete."""
    import pandas as pd

    from faceemo.inference import ROW_COLUMNS

    frame = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    text_columns = {"file", "emotion", "emotion_model", "landmark_model"}
    for column in ROW_COLUMNS:
        if column in ("face", "box_x", "box_y", "box_w", "box_h"):
            frame[column] = frame[column].astype("int64")
        elif column == "whole_image":
            frame[column] = frame[column].astype("bool")
        elif column not in text_columns:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")  # None -> NaN, stable type
    for column in text_columns:
        frame[column] = frame[column].astype("string")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    fmt = OUT_FORMATS[out.suffix.lower()]
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        elif fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=True)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _summary(n_files: int, n_faces: int, no_face: list[str], failed: list[tuple[str, str]], out) -> None:
    where = f" -> {out}" if out is not None else ""
    print(
        f"predict: {n_files} photo(s), {n_faces} face(s){where}; {len(no_face)} with no face, "
        f"{len(failed)} failed",
        file=sys.stderr,
    )
    if no_face:
        print("no face found in (use --whole-image-fallback to treat each as one face):", file=sys.stderr)
        for name in no_face:
            print(f"  {name}", file=sys.stderr)
    if failed:
        print("failed:", file=sys.stderr)
        for name, reason in failed:
            print(f"  {name}: {reason}", file=sys.stderr)
