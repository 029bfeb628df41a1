"""Inference speed of every committed emotion model on this machine's CPU (or the backend's device).

    python benchmarks/emotion_inference.py [--model NAME] [--batch 256] [--repeats 5]

Prints, per model: parameters, file size, images/s at the given batch size (compiled predict path,
median of repeats) and single-face latency (median of 50 calls).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="one model id (default: every committed emotion model)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import keras
    import numpy as np

    from faceemo import model_store
    from faceemo.emotion.card import device_description

    infos = model_store.named_or_all(args.model, "emotion")
    if not infos:
        print("no committed emotion model in", model_store.default_models_dir())
        return 1
    print(
        f"keras {keras.__version__} on {keras.backend.backend()}, {device_description()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (args.batch, 48, 48, 1)).astype(np.float32)
    one = batch[:1]
    print(f"{'model':28} {'params':>10} {'MiB':>6} {'img/s @' + str(args.batch):>12} {'1-face ms':>10}")
    for info in infos:
        model = model_store.load_keras_model(info)
        model.predict_on_batch(batch)  # compile / warm up
        model.predict_on_batch(one)
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            model.predict_on_batch(batch)
            rates.append(args.batch / (time.perf_counter() - start))
        latencies = []
        for _ in range(50):
            start = time.perf_counter()
            model.predict_on_batch(one)
            latencies.append(1000 * (time.perf_counter() - start))
        print(
            f"{info.model_id:28} {info.params:>10,} {info.file_bytes / 2**20:>6.1f} "
            f"{statistics.median(rates):>12.0f} {statistics.median(latencies):>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
