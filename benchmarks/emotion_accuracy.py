"""Accuracy and macro-F1 of every committed emotion model on PublicTest and PrivateTest, recomputed
from the warehouse faces (optionally with test-time augmentation), with per-class recall.

    python benchmarks/emotion_accuracy.py [--model NAME] [--tta] [--db PATH]

Selection split: PublicTest; the held-out figure to report: PrivateTest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tta", action="store_true", help="also score with test-time augmentation")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()

    from faceemo import model_store
    from faceemo.emotion import metrics
    from faceemo.emotion.data import from_warehouse
    from faceemo.emotion.inference import predict_proba
    from faceemo.labels import EMOTIONS, USAGES

    infos = model_store.named_or_all(args.model, "emotion")
    if not infos:
        print("no committed emotion model in", model_store.default_models_dir())
        return 1
    faces = from_warehouse(args.db, ("PublicTest", "PrivateTest"))
    header = f"{'model':26} {'mode':5} {'split':11} {'acc':>7} {'macro-F1':>8}  recall " + " ".join(
        f"{e[:5]:>5}" for e in EMOTIONS
    )
    print(header)
    for info in infos:
        model = model_store.load_keras_model(info)
        for tta in (False, True) if args.tta else (False,):
            start = time.perf_counter()
            probs = predict_proba(model, faces.pixels, tta=tta)
            seconds = time.perf_counter() - start
            for usage in ("PublicTest", "PrivateTest"):
                split = faces.of_usage(usage)
                mask = faces.usage == USAGES.index(usage)
                s = metrics.summarize(split.labels, probs[mask].argmax(1))
                recalls = " ".join(f"{100 * s[f'recall_{e}']:5.1f}" for e in EMOTIONS)
                print(
                    f"{info.model_id:26} {'tta' if tta else 'plain':5} {usage:11} "
                    f"{100 * s['accuracy']:6.2f}% "
                    f"{100 * s['macro_f1']:7.2f}%  {recalls}"
                )
            print(f"{'':26} ({seconds:.1f} s for {len(faces)} faces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
