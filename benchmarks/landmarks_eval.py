"""RMSE of a committed landmark model, per keypoint and overall, on held-out people and the test split.

    python benchmarks/landmarks_eval.py [--model NAME] [--data face_keypoints_68.zip] [--no-tta-compare]

Uses the person split the model was trained with (the seed in its sidecar), so 'held-out people' are
people the model never saw. Prints a markdown table (pixels of the 96x96 frame).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pipelines.common import add_data_argument, add_model_argument  # noqa: E402 (the options of the pipeline steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_argument(parser, "landmark")
    add_data_argument(parser, "the 68-point landmark archive")
    parser.add_argument("--mirror", action="store_true", help="also report with mirror averaging added here")
    args = parser.parse_args()

    from faceemo import model_store
    from faceemo.keypoints import KEYPOINTS
    from faceemo.landmarks import dataset, training
    from faceemo.paths import KEYPOINTS_ARCHIVE, resolve_archive

    info = model_store.resolve_model(args.model, "landmarks")
    model = model_store.load_keras_model(info)
    source = resolve_archive(args.data, KEYPOINTS_ARCHIVE)
    data = dataset.load_cached(source, Path.home() / ".cache" / "faceemo")
    seed = int((info.meta.get("config") or {}).get("seed", 0))
    roles = dataset.assign_roles(data, seed=seed)
    subsets = {
        "held-out people": roles == "heldout",
        "test split (all)": data.splits == "test",
        "test split, held-out people": (data.splits == "test") & (roles == "heldout"),
        "test split, seen people": (data.splits == "test") & (roles == "train"),
    }
    columns = {}
    for label, mask in subsets.items():
        x, y = data.subset(mask).frame96()
        start = time.perf_counter()
        columns[label] = training.rmse_report(training.predict_keypoints(model, x), y)
        columns[label]["seconds"] = time.perf_counter() - start
        if args.mirror:
            columns[label + " +mirror"] = training.rmse_report(
                training.predict_keypoints(model, x, flip_tta=True), y
            )
    print(f"model {info.model_id} ({info.architecture}, {info.params:,} params), data {source.name}\n")
    print("| keypoint | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for key in ("overall", *KEYPOINTS):
        print(f"| {key} | " + " | ".join(f"{c[key]:.3f}" for c in columns.values()) + " |")
    print("| faces | " + " | ".join(str(c["n"]) for c in columns.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
