"""Video throughput: sampled frames per second of `python -m pipelines predict clip.mp4` on this machine.

    python benchmarks/video_throughput.py [--seconds 20] [--fps 5] [--faces 2] [--data PATH]

Clips are written at run time into a temp folder (OpenCV's writer, mp4v; never saved) from FER-2013
PrivateTest faces drifting over a cluttered still, at 640x480 and 1280x720, 30 frames per second. Each
is analysed as the CLI does it (`faceemo.video.analyze_video`: sample at --fps, detect, level, both
production models, tracks), after one warm-up run on a short clip, with and without eye-line
alignment. Printed per clip: sampled frames, faces, tracks, seconds, sampled frames/s and faces/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faceemo import inference, video  # noqa: E402
from faceemo.paths import resolve_archive  # noqa: E402
from tests.composites import fer_faces, make_clip  # noqa: E402

CLIP_FPS = 30.0
SIZES = ((640, 480), (1280, 720))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each clip")
    parser.add_argument("--fps", type=float, default=video.DEFAULT_FPS, help="frames sampled per second")
    parser.add_argument("--faces", type=int, default=2, help="faces in each clip")
    parser.add_argument("--data", default=None, help="FER-2013 zip (default ../shared/data/fer2013.zip)")
    args = parser.parse_args()

    faces = [f for f, _ in fer_faces(resolve_archive(args.data, "fer2013.zip"), "PrivateTest", n=args.faces)]
    models = inference.load_models()
    print(f"models: {models.emotion.model_id if models.emotion else '–'}, "
          f"{models.landmarks.model_id if models.landmarks else '–'}; sampling {args.fps:g} frames/s")
    print(f"{'clip':>10} {'align':>5} {'sampled':>8} {'faces':>6} {'tracks':>6} {'s':>7} {'frames/s':>9} "
          f"{'faces/s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        warm = make_clip(Path(tmp) / "warm.mp4", faces, seconds=1.0, fps=CLIP_FPS)
        video.analyze_video(warm, models, fps=args.fps)
        for width, height in SIZES:
            clip = make_clip(
                Path(tmp) / f"clip_{width}.mp4", faces, seconds=args.seconds, fps=CLIP_FPS,
                size=(width, height), side=height // 4,
            )
            for align in (True, False):
                start = time.perf_counter()
                result = video.analyze_video(clip, models, fps=args.fps, align=align)
                seconds = time.perf_counter() - start
                print(
                    f"{width}x{height:<4} {'yes' if align else 'no':>5} {result.sampled:>8,} "
                    f"{len(result.rows):>6,} {result.tracks:>6} {seconds:>7.1f} "
                    f"{result.sampled / seconds:>9.2f} {len(result.rows) / seconds:>8.2f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
