"""Predict the emotion and 15 landmarks of every face in photos and videos: one row per face (CSV, Parquet,
JSON). PATH... are image or video files or folders (searched recursively for .jpg .jpeg .png .webp .bmp
.tif .tiff .gif and .mp4 .m4v .mov .avi .mkv .webm .mpg .mpeg .wmv; a file named explicitly is read
whatever its extension). Faces are found by YuNet (--detector haar: OpenCV's Haar cascades) and levelled
on their eye line before the FER-2013-style crop (--no-align: as detected). A video is sampled at --fps
frames per second; each face of each sampled frame is a row with frame, time_s and track (the same
person across frames). Each face gets a row: file, face (0-based, left
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
from pipelines.common import add_model_argument

OUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders (recursive)")
    parser.add_argument(
        "--out", default=None, metavar="FILE",
        help="write FILE.csv, FILE.parquet or FILE.jsonl (default: JSON lines on stdout); with "
        "--engine ray, a folder of Parquet files",
    )
    add_model_argument(parser, "emotion")
    add_model_argument(parser, "landmark", "--landmark-model")
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
    parser.add_argument(
        "--detector", default=None, metavar="NAME",
        help="face detector: yunet (default where installed) or haar (OpenCV's cascades)",
    )
    parser.add_argument(
        "--face-check", action=argparse.BooleanOptionalAction, default=True,
        help="yunet, photos: check each doubtful face with a second face model, for far fewer false faces "
        "in busy photos (default: on; videos go without, for speed)",
    )
    parser.add_argument(
        "--no-align", dest="align", action="store_false",
        help="crop faces as detected instead of turning them so the eyes are level",
    )
    parser.add_argument(
        "--fps", type=float, default=5.0, help="video frames analysed per second of video (default: 5)"
    )
    parser.add_argument(
        "--smooth", type=int, default=1, metavar="N",
        help="average each video track's probabilities over N sampled frames (default: 1, none)",
    )
    parser.add_argument(
        "--saliency", default=None, metavar="DIR",
        help="also write a Grad-CAM heatmap per face (what the emotion model looked at) as PNGs into DIR",
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
    from faceemo.video import is_video_path

    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and (is_image_path(p) or is_video_path(p))
            )
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

    from faceemo import detectors
    from faceemo.errors import DataError, FaceemoError
    from faceemo.inference import load_models, predict_faces, prepare
    from faceemo.video import is_video_path

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in OUT_FORMATS:
        raise DataError(f"--out {out}: use a .csv, .parquet or .jsonl file name")
    if args.batch_size < 1:
        raise DataError("--batch-size must be at least 1")
    if args.fps <= 0:
        raise DataError("--fps must be above 0")
    if args.smooth < 1:
        raise DataError("--smooth must be at least 1")
    detector = None if args.whole_image else detectors.get(args.detector).name  # DataError when unknown
    # the face check is YuNet's (faceemo.detectors.dlib_check); other detectors take none
    options = detectors.get(detector).check_options(args.face_check) if detector else {}
    files, failed = find_images(args.paths)
    if not files:
        raise DataError(
            f"no image or video files in {' '.join(args.paths)} (looked for {', '.join(_extensions())})"
        )
    videos = [f for f in files if is_video_path(f)]
    files = [f for f in files if not is_video_path(f)]
    saliency = _saliency_writer(args.saliency)

    models = load_models(args.model, args.landmark_model)
    for notice in models.notices():
        print(f"note: {notice}", file=sys.stderr)

    rows: list[dict] = []
    no_face: list[str] = []
    n_faces = 0
    stream = sys.stdout if out is None else None
    with tqdm(total=len(files), unit="photo", file=sys.stderr, desc="predict",
              disable=True if not files else None) as progress:
        for chunk in _chunks(files, args.batch_size):
            prepared = []
            for file in chunk:
                try:
                    prepared.append(
                        prepare(
                            file, str(file), whole_image=args.whole_image,
                            whole_image_if_no_face=args.whole_image_fallback, detector=detector,
                            align=args.align, **options,
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
                    if saliency is not None:
                        saliency(result, Path(item.image.name).stem + f"_face{result.index + 1}")
                    row = result.to_row()
                    if stream is not None:
                        stream.write(json.dumps(row) + "\n")
                    else:
                        rows.append(row)
            if stream is not None:
                stream.flush()
            progress.update(len(chunk))

    n_frames = 0
    for file in videos:
        try:
            analysis = _video(file, models, args, detector, saliency, options)
        except FaceemoError as exc:
            failed.append((str(file), str(exc).removeprefix(f"{file}: ")))
            continue
        n_frames += analysis.sampled
        n_faces += len(analysis.rows)
        for note in analysis.notices():
            print(f"note: {note}", file=sys.stderr)
        if stream is not None:
            for row in analysis.rows:
                stream.write(json.dumps(row) + "\n")
            stream.flush()
        else:
            rows.extend(analysis.rows)

    if out is not None:
        _write(rows, out, with_video=bool(videos))
    _summary(len(files), n_faces, no_face, failed, out, videos=len(videos), frames=n_frames)
    return 1 if failed else 0


def _video(
    file: Path, models, args: argparse.Namespace, detector: str | None, saliency, options: dict
):
    """One video through faceemo.video, with a progress bar of its sampled frames."""
    from tqdm import tqdm

    from faceemo.video import analyze_video

    on_frame = None
    if saliency is not None:
        def on_frame(index: int, _when: float, results) -> None:
            for result in results:
                saliency(result, f"{file.stem}_frame{index}_face{result.index + 1}")

    with tqdm(unit="frame", file=sys.stderr, desc=file.name, disable=None, leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        analysis = analyze_video(
            file, models, fps=args.fps, detector=detector, align=args.align, smooth=args.smooth,
            batch_frames=max(1, min(args.batch_size, 16)), name=str(file), progress=progress,
            on_frame=on_frame, detect_options=options,
        )
    print(f"{file}: {analysis.sampled} frames sampled in {analysis.seconds:.1f} s "
          f"({analysis.sampled / max(analysis.seconds, 1e-9):.1f} frames/s), {len(analysis.rows)} faces, "
          f"{analysis.tracks} track(s)", file=sys.stderr)
    return analysis


def _saliency_writer(folder: str | None):
    """A function (result, stem) that writes the face's Grad-CAM overlay to `folder`/stem_EMOTION.png."""
    if folder is None:
        return None
    from faceemo.errors import DataError

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise DataError(f"--saliency {out}: not a folder")
    out.mkdir(parents=True, exist_ok=True)

    def write(result, stem: str) -> None:
        from faceemo import gradcam

        if result.probabilities is None:
            return
        picture = gradcam.overlay_for(result)
        picture.save(out / f"{stem}_{result.emotion}.png")

    return write


def _extensions() -> tuple[str, ...]:
    from faceemo.images import IMAGE_EXTENSIONS
    from faceemo.video import VIDEO_EXTENSIONS

    return IMAGE_EXTENSIONS + VIDEO_EXTENSIONS


def _write(rows: list[dict], out: Path, with_video: bool = False) -> None:
    """Write atomically: a temp file beside `out`, renamed over it when complete. With videos the
    columns frame, time_s and track follow `file` (empty for photos)."""
    import pandas as pd

    from faceemo.inference import ROW_COLUMNS
    from faceemo.video import VIDEO_COLUMNS

    columns = (ROW_COLUMNS[0], *VIDEO_COLUMNS, *ROW_COLUMNS[1:]) if with_video else ROW_COLUMNS
    frame = pd.DataFrame(rows, columns=list(columns))
    text_columns = {"file", "emotion", "emotion_model", "landmark_model"}
    for column in columns:
        if column in ("frame", "track"):
            frame[column] = frame[column].astype("Int64")
        elif column in ("face", "box_x", "box_y", "box_w", "box_h"):
            frame[column] = frame[column].astype("int64")
        elif column == "whole_image":
            frame[column] = frame[column].astype("bool")
        elif column not in text_columns:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")  # None -> NaN, stable type
    for column in text_columns:
        frame[column] = frame[column].astype("string")
    from faceemo.files import atomic_save

    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = OUT_FORMATS[out.suffix.lower()]
    if fmt == "csv":
        atomic_save(out, lambda tmp: frame.to_csv(tmp, index=False))
    elif fmt == "parquet":
        atomic_save(out, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        atomic_save(out, lambda tmp: frame.to_json(tmp, orient="records", lines=True))


def _summary(
    n_files: int, n_faces: int, no_face: list[str], failed: list[tuple[str, str]], out,
    videos: int = 0, frames: int = 0,
) -> None:
    where = f" -> {out}" if out is not None else ""
    clips = f", {videos} video(s) ({frames} sampled frames)" if videos else ""
    print(
        f"predict: {n_files} photo(s){clips}, {n_faces} face(s){where}; {len(no_face)} with no face, "
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
