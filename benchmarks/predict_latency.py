"""Predict benchmark: per-photo latency (p50/p95 of decode, detect, classify, landmarks) and CLI throughput.

    python benchmarks/predict_latency.py [--runs 50] [--faces 1000] [--data PATH]

1. Latency: a 640x480 JPEG photo holding one real FER-2013 face (PrivateTest, enlarged 4x), analysed
   `--runs` times in-process after warm-up, through `faceemo.inference` (the page's path).
2. Throughput: `python -m pipelines predict` (a real process, start-up included) over `--faces` FER-2013
   PrivateTest faces written to a temp folder at run time (never committed), twice: as 320x240 photos
   with detection, and as the raw 48x48 crops with --whole-image.
Models: the production models in models/ when there are any, else tiny stand-ins (said in the output).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from faceemo import inference, model_store  # noqa: E402
from faceemo.errors import ModelError  # noqa: E402
from faceemo.paths import resolve_archive  # noqa: E402
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face, make_models_folder  # noqa: E402


def choose_models(scratch: Path) -> tuple[inference.Models, dict[str, str]]:
    """Production models where they exist; tiny stand-ins for the others. Returns what was used."""
    stand_ins = None
    chosen, used = {}, {}
    for task in model_store.TASKS:
        try:
            info = model_store.resolve_model(None, task)
            used[task] = f"production model {info.model_id} ({info.params:,} parameters)"
        except ModelError:
            stand_ins = stand_ins or make_models_folder(scratch / "stand_ins")
            info = model_store.resolve_model(None, task, models_dir=stand_ins)
            used[task] = (
                f"TINY STAND-IN {info.model_id} ({info.params:,} parameters; no production model yet)"
            )
        chosen[task] = info
    return inference.load_models(chosen["emotion"], chosen["landmarks"]), used


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def latency(models: inference.Models, archive: Path, runs: int) -> None:
    canvas, _ = face_on_canvas(fer_face(archive, FER_HAPPY_FACES[0]), size=(640, 480))
    buffer = io.BytesIO()
    Image.fromarray(canvas).convert("RGB").save(buffer, "JPEG", quality=90)
    photo = buffer.getvalue()
    for _ in range(3):  # warm-up: first calls trace the models' graphs
        inference.analyze(photo, models=models)
    stages: dict[str, list[float]] = {k: [] for k in ("decode", "detect", "classify", "landmarks", "total")}
    faces = set()
    for _ in range(runs):
        timings = inference.Timings()
        started = time.perf_counter()
        results = inference.analyze(photo, models=models, timings=timings)
        stages["total"].append(time.perf_counter() - started)
        faces.add(len(results))
        for stage in ("decode", "detect", "classify", "landmarks"):
            stages[stage].append(getattr(timings, stage))
    print(f"\nLatency, one 640x480 JPEG ({len(photo) / 1024:.0f} KiB) with one face, {runs} runs "
          f"(faces found per run: {sorted(faces)}):")
    print(f"  {'stage':<10} {'p50 ms':>8} {'p95 ms':>8}")
    for stage, values in stages.items():
        print(f"  {stage:<10} {percentile_ms(values, 50):>8.1f} {percentile_ms(values, 95):>8.1f}")


def write_faces(archive: Path, folder: Path, count: int, as_photos: bool) -> int:
    import cv2

    folder.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        members = sorted(n for n in zf.namelist() if "/PrivateTest_" in n and n.endswith(".jpg"))[:count]
        for i, member in enumerate(members):
            data = zf.read(member)
            if as_photos:
                face = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
                canvas, _ = face_on_canvas(face, size=(320, 240), at=(88, 48), scale=3)
                cv2.imwrite(str(folder / f"{i:05d}.jpg"), canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
            else:
                (folder / f"{i:05d}.jpg").write_bytes(data)
    return len(members)


def cli_throughput(models: inference.Models, archive: Path, count: int, scratch: Path) -> None:
    env = {**os.environ, "FACEEMO_MODELS": str(models.emotion.path.parent)}
    if models.landmarks.path.parent != models.emotion.path.parent:
        env["FACEEMO_MODELS"] = str(scratch / "mixed")  # production of one task + a stand-in
        mixed = scratch / "mixed"
        mixed.mkdir(exist_ok=True)
        for info in (models.emotion, models.landmarks):
            for suffix in (".keras", ".json"):
                target = mixed / (info.model_id + suffix)
                if not target.exists():
                    target.symlink_to(info.path.with_suffix(suffix))
        (mixed / "production.json").write_text(
            f'{{"emotion": "{models.emotion.model_id}", "landmarks": "{models.landmarks.model_id}"}}'
        )
    print(f"\nCLI throughput (python -m pipelines predict, real process incl. start-up), {count} faces:")
    for label, as_photos, extra in (
        ("320x240 photos, detection on", True, []),
        ("48x48 FER crops, --whole-image", False, ["--whole-image"]),
    ):
        folder = scratch / ("photos" if as_photos else "crops")
        n = write_faces(archive, folder, count, as_photos)
        out = scratch / f"{folder.name}.csv"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "predict", str(folder), "--out", str(out), *extra],
            cwd=REPO, env=env, capture_output=True, text=True,
        )
        wall = time.perf_counter() - started
        summary = [line for line in done.stderr.splitlines() if line.startswith("predict:")]
        print(f"  {label:<32} {n} files in {wall:6.1f} s = {n / wall:6.1f} photos/s  "
              f"(exit {done.returncode}; {summary[0] if summary else done.stderr[-300:]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--faces", type=int, default=1000)
    parser.add_argument("--data", default=None, help="FER-2013 zip or its folder (default: ../shared/data)")
    args = parser.parse_args()
    archive = resolve_archive(args.data, "fer2013.zip")
    print(f"CPU: {os.cpu_count()} cores visible; load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="faceemo-bench-") as tmp:
        scratch = Path(tmp)
        models, used = choose_models(scratch)
        for task, what in used.items():
            print(f"{task}: {what}")
        latency(models, archive, args.runs)
        cli_throughput(models, archive, args.faces, scratch)


if __name__ == "__main__":
    main()
