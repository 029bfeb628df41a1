"""Face detectors side by side on FER-2013 PrivateTest faces pasted onto cluttered backgrounds.

    python benchmarks/detect_eval.py [--faces 200] [--multi 50] [--detectors yunet,haar] [--data PATH]
    python benchmarks/detect_eval.py --no-face-check               # adds a row: yunet without its face check
    python benchmarks/detect_eval.py --calibrate [--faces 400]     # the FER framing of each detector
    python benchmarks/detect_eval.py --usage PublicTest --grid --seed 1,2,3 --faces 160 --multi 45
                                                                   # choose yunet's score thresholds

Settings are chosen on PublicTest faces (`--usage PublicTest`), figures reported on PrivateTest (default).
Each detector runs as the product runs it (`predict --detector NAME`: yunet at 70 upright / 72 turned,
with its closer look and its face check, dlib's MMOD on every doubtful box); `--no-face-check` adds yunet
without the check (`predict --no-face-check`, check=False: 76 / 78), `--no-closer-look` yunet without its
closer look (enlarge=1: the passes at the photo's size only).
--grid runs YuNet once per photo and pass and prints faces found and false positives over a grid of
score thresholds: upright pass and turned (±ROTATED_PASS) passes, without and with the closer look (an
enlarged window at each doubtful box) and its own second look (detectors.second_look), each without and
with the face check (detectors.dlib_check), with the pass each false positive came from.

Photos (640x480, made at run time from the shared archive, never saved): `--faces` photos with one face
and `--multi` photos with 2-4 faces; each face enlarged to 60-200 px, turned in the image plane by up to
±30° and pasted at a random place (tests/composites.py), so every true box is known. Per detector:
- faces found (a box within 0.3 sides of a face's centre, of a plausible size) and false positives
  (every other box) per 100 photos;
- the production emotion model's accuracy on the found faces, cropped as the product does, without and
  with alignment (eye line levelled), beside the same model on the original 48x48 faces (its ceiling);
- detection time per photo at 640x480 and at 12 MP (4000x3000), detection only (mean, this CPU).
--calibrate pastes upright faces instead and prints each detector's FER framing: the median of
(FER side / box side) and of the FER centre's offset below the box centre in box heights.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from faceemo import detectors, inference  # noqa: E402
from faceemo.paths import resolve_archive  # noqa: E402
from tests.composites import composite, fer_faces  # noqa: E402


def calibrate(names: list[str], faces, seed: int) -> None:  # as the product runs them, no options
    print(f"\nFER framing, {len(faces)} upright faces (96-192 px) on 640x480 backgrounds:")
    print(f"  {'detector':<8} {'found':>6} {'scale (FER side / box side)':>28} {'shift_y (box h)':>16}")
    for name in names:
        rng = np.random.default_rng(seed)
        ratios, shifts = [], []
        for face, emotion in faces:
            canvas, (truth,) = composite(rng, [(face, emotion)], sides=(96, 192), max_angle=0.0)
            for d in detectors.detect(canvas, name):
                if truth.matches(d.box):
                    ratios.append(truth.side / max(d.box.w, d.box.h))
                    shifts.append((truth.cy - (d.box.y + d.box.h / 2)) / d.box.h)
                    break
        print(f"  {name:<8} {len(ratios):>6} {np.median(ratios):>28.3f} {np.median(shifts):>16.3f}")


def grid(photos) -> None:
    """Found / false positives of yunet over pass thresholds (upright / turned), without and with the
    closer look (and its second-look threshold), without and with the face check (MMOD on boxes under
    SECOND_LOOK_SKIP); YuNet run once per photo and pass (the closer look once per photo and pass
    thresholds, each second look and face check once), the rule applied by detectors.choose, as the
    product does."""
    started = time.perf_counter()
    runs = []
    floor = min(min(min(p) for p in PASSES), detectors.CLOSER_FLOOR)
    seconds = {"passes": 0.0, "closer": 0.0, "check": 0.0}  # the product's rule, all photos
    for canvas, truths in photos:
        tick = time.perf_counter()
        passes = detectors.yunet_candidates(canvas, floor)
        seconds["passes"] += time.perf_counter() - tick
        runs.append({"canvas": canvas, "truths": truths, "passes": passes, "looks": {}, "closer": {},
                     "checks": {}})
    n_faces = sum(len(t) for _, t in photos)
    print(f"\nyunet over {len(photos)} photos, {n_faces} faces; cells: found % / false positives per 100 "
          f"photos (of which from turned passes or windows)")
    per_100 = 100 / len(photos)
    product = (detectors.CHECKED_MIN_SCORE, detectors.CHECKED_MIN_SCORE_TURNED)

    def look(run, d):
        if id(d) not in run["looks"]:
            run["looks"][id(d)] = detectors.second_look(run["canvas"], d)
        return run["looks"][id(d)]

    def check(run, d):
        if id(d) not in run["checks"]:
            tick = time.perf_counter()
            run["checks"][id(d)] = detectors.dlib_check(run["canvas"], d)
            seconds["check"] += time.perf_counter() - tick
        return run["checks"][id(d)]

    def closer(run, up, turn):
        """The closer look's candidates under pass thresholds up / turn (cached: rules share them)."""
        if (up, turn) not in run["closer"]:
            tick = time.perf_counter()
            found = detectors.choose([(d, False) for d in run["passes"]], lambda d: 0.0,
                                     min_score=up, min_score_turned=turn)
            seeds = detectors.closer_seeds(run["passes"], found, up, turn)
            run["closer"][(up, turn)] = (
                detectors.closer_candidates(run["canvas"], seeds, min(up, turn)) if seeds else []
            )
            if (up, turn) == product:
                seconds["closer"] += time.perf_counter() - tick
        return run["closer"][(up, turn)]

    def cell(up, turn, with_closer, checked, enlarged_score):
        turn = max(up, turn)
        found = fp = fp_turned = 0
        for run in runs:
            used = [(d, False) for d in run["passes"]]
            if with_closer:
                used += [(d, True) for d in closer(run, up, turn)]
            kept = detectors.choose(
                used, lambda d: look(run, d),  # noqa: B023
                min_score=up, min_score_turned=turn, enlarged_score=enlarged_score,
                verify=(lambda d: check(run, d)) if checked else None,  # noqa: B023
            )
            hits, _ = _matched(kept, run["truths"])
            found += len(hits)
            for d in kept:
                if not any(t.matches(d.box) for t in run["truths"]):
                    fp += 1
                    fp_turned += bool(d.angle)
        return f"{found / n_faces:.1%} / {fp * per_100:.1f} ({fp_turned * per_100:.1f})"

    print("\nwithout the closer look (enlarge=1); columns: without / with the face check")
    print("| upright / turned | no check | face check |")
    print("|---|---|---|")
    for up, turn in PASSES:
        print(f"| {up} / {turn} | {cell(up, turn, False, False, 0.0)} | {cell(up, turn, False, True, 0.0)} |",
              flush=True)
    print(f"\nwith the closer look ({detectors.ENLARGED_PASS}x windows at boxes scoring "
          f"{detectors.CLOSER_FLOOR:.0f} up to their pass's threshold); columns: second look on the boxes "
          f"only it found (enlarged_score, 'off' keeps them all), without / with the face check")
    print("| upright / turned \\ closer look's second look | "
          + " | ".join(f"{'off' if t is None else t}{' + check' if c else ''}"
                       for c in (False, True) for t in CLOSER_LOOKS) + " |")
    print("|---" * (2 * len(CLOSER_LOOKS) + 1) + "|")
    for up, turn in PASSES:
        cells = [cell(up, turn, True, c, look or 0.0) for c in (False, True) for look in CLOSER_LOOKS]
        print(f"| {up} / {turn} | " + " | ".join(cells) + " |", flush=True)
    ms = {key: 1000 * t / len(photos) for key, t in seconds.items()}
    print(f"\nthe product's thresholds ({product[0]:.0f} / {product[1]:.0f}): passes {ms['passes']:.0f} ms, "
          f"closer looks {ms['closer']:.0f} ms a photo; face checks {ms['check']:.0f} ms a photo over every "
          f"rule (this run, {time.perf_counter() - started:.0f} s in all)")
    false_boxes = sorted(
        (round(d.score), round(look(run, d)), check(run, d), d.angle, closer_box, max(d.box.w, d.box.h))
        for run in runs
        for d, closer_box in [(d, False) for d in run["passes"]]
        + [(d, True) for d in closer(run, *product)]
        if d.score >= 70 and not any(t.matches(d.box) for t in run["truths"])
    )
    print("false boxes >= 70 before NMS (score, second look, face check, angle, from a closer look, side "
          "px):", false_boxes)


PASSES = ((76, 78), (74, 76), (72, 74), (70, 72), (68, 70), (65, 65))  # upright / turned thresholds
CLOSER_LOOKS = (None, 50, 60, 70)  # second-look thresholds for the boxes only the closer look found


def _photos(faces, n_single: int, n_multi: int, seed: int):
    rng = np.random.default_rng(seed)
    photos, k = [], 0
    for _ in range(n_single):
        photos.append(composite(rng, [faces[k % len(faces)]]))
        k += 1
    for _ in range(n_multi):
        many = int(rng.integers(2, 5))
        chosen = [faces[(k + j) % len(faces)] for j in range(many)]
        k += many
        photos.append(composite(rng, chosen, sides=(60, 140)))
    return photos


def _matched(results, truths):
    """(truth index -> result) for results matching a pasted face, and the number of other results."""
    hits, false_positives = {}, 0
    for result in results:
        index = next((i for i, t in enumerate(truths) if t.matches(result.box)), None)
        if index is None:
            false_positives += 1
        elif index not in hits or (result.score or 0) > (hits[index].score or 0):
            hits[index] = result
    return hits, false_positives


def evaluate(name: str, photos, models: inference.Models, options: dict) -> dict:
    faces_total = sum(len(truths) for _, truths in photos)
    found = false_positives = 0
    correct = {"plain": 0, "aligned": 0}
    seconds = 0.0
    for canvas, truths in photos:
        started = time.perf_counter()
        found_here = detectors.detect(canvas, name, **options)
        seconds += time.perf_counter() - started
        for variant, align in (("plain", False), ("aligned", True)):
            prepared = inference.prepare(
                canvas, "composite", detector=name, align=align, detections=found_here
            )
            results = inference.predict_faces([prepared], models)[0]
            hits, extra = _matched(results, truths)
            if variant == "plain":
                found += len(hits)
                false_positives += extra
            correct[variant] += sum(r.emotion == truths[i].emotion for i, r in hits.items())
    return {
        "found": found, "faces": faces_total, "fp": false_positives, "photos": len(photos),
        "acc_plain": correct["plain"] / max(found, 1), "acc_aligned": correct["aligned"] / max(found, 1),
        "ms_640": 1000 * seconds / len(photos),
    }


def ms_12mp(name: str, photos, runs: int, options: dict) -> float:
    import cv2

    seconds = 0.0
    for canvas, _ in photos[:runs]:
        big = cv2.resize(canvas, (4000, 3000), interpolation=cv2.INTER_CUBIC)
        started = time.perf_counter()
        detectors.detect(big, name, **options)
        seconds += time.perf_counter() - started
    return 1000 * seconds / runs


def ceiling(faces, models: inference.Models) -> float:
    from faceemo.inference import _predict
    from faceemo.labels import EMOTIONS
    from faceemo.model_store import load_keras_model

    probabilities = _predict(load_keras_model(models.emotion), np.stack([f for f, _ in faces]), 64)
    labels = [e for _, e in faces]
    return float(np.mean([EMOTIONS[p] == e for p, e in zip(probabilities.argmax(1), labels, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=200, help="photos with one face (default 200)")
    parser.add_argument("--multi", type=int, default=50, help="photos with 2-4 faces (default 50)")
    parser.add_argument("--detectors", default=None, help="comma-separated (default: every installed one)")
    parser.add_argument("--runs-12mp", type=int, default=5, help="12 MP photos timed (default 5)")
    parser.add_argument("--no-face-check", action="store_true",
                        help="also run yunet without its face check (predict --no-face-check): one more row")
    parser.add_argument("--no-closer-look", action="store_true",
                        help="also run yunet without its closer look (enlarge=1): one more row")
    parser.add_argument("--calibrate", action="store_true", help="print each detector's FER framing")
    parser.add_argument("--grid", action="store_true", help="yunet's found / false positives per threshold")
    parser.add_argument("--usage", default="PrivateTest", choices=("PrivateTest", "PublicTest"),
                        help="FER-2013 split pasted (default PrivateTest: report; PublicTest: choose)")
    parser.add_argument("--seed", default="0",
                        help="random seed; --grid takes several, comma-separated (their photos together)")
    parser.add_argument("--data", default=None, help="FER-2013 zip (default ../shared/data/fer2013.zip)")
    args = parser.parse_args()
    names = args.detectors.split(",") if args.detectors else detectors.available()
    archive = resolve_archive(args.data, "fer2013.zip")
    needed = min(args.faces + 4 * args.multi, 3589)
    seeds = [int(s) for s in args.seed.split(",")]
    if args.grid:
        photos = []
        for seed in seeds:
            faces = fer_faces(archive, args.usage, n=needed, seed=seed)
            photos += _photos(faces, args.faces, args.multi, seed)
        grid(photos)
        return
    args.seed = seeds[0]
    faces = fer_faces(archive, args.usage, n=needed, seed=args.seed)
    if args.calibrate:
        calibrate(names, faces[: args.faces], args.seed)
        return
    models = inference.load_models()
    print(f"emotion model: {models.emotion.model_id}; "
          f"landmark model (alignment): {models.landmarks.model_id}")
    photos = _photos(faces, args.faces, args.multi, args.seed)
    n_faces = sum(len(t) for _, t in photos)
    pasted = [(f, e) for f, e in faces[:n_faces]]
    print(f"{len(photos)} photos 640x480 ({args.faces} with one face, {args.multi} with 2-4), {n_faces} "
          f"FER-2013 {args.usage} faces, 60-200 px, turned up to ±30°; 12 MP: {args.runs_12mp} photos")
    print(f"the emotion model on the same faces as 48x48 FER crops (ceiling): "
          f"{ceiling(pasted, models):.1%}\n")
    print("| detector | faces found | false positives / 100 photos | emotion acc. plain "
          "| emotion acc. aligned | ms/photo 640x480 | ms/photo 12 MP |")
    print("|---|---|---|---|---|---|---|")
    # (label, detector, options): each as `predict --detector NAME` runs it, and yunet's variants on request
    runs = [(name, name, {}) for name in names]
    if args.no_face_check and "yunet" in names:
        runs.append(("yunet --no-face-check", "yunet", {"check": False}))
    if args.no_closer_look and "yunet" in names:
        runs.append(("yunet, no closer look", "yunet", {"enlarge": 1.0}))
    for label, name, options in runs:
        row = evaluate(name, photos, models, options)
        big = ms_12mp(name, photos, args.runs_12mp, options)
        print(f"| {label} | {row['found']}/{row['faces']} ({row['found'] / row['faces']:.1%}) | "
              f"{100 * row['fp'] / row['photos']:.1f} | {row['acc_plain']:.1%} | {row['acc_aligned']:.1%} | "
              f"{row['ms_640']:.0f} | {big:.0f} |", flush=True)


if __name__ == "__main__":
    main()
