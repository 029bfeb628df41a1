"""FER-2013 landmark throughput: faces per second of the landmarks step's inference path
(48x48 pixels → 96x96 upscale → model), per batch size, without writing anything.

    python benchmarks/landmarks_throughput.py [--model NAME] [--db PATH] [--faces 4096] [--batch-sizes 64,256]

Reads faces from the warehouse (or draws random ones when it has none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pipelines.common import add_db_argument, add_model_argument  # noqa: E402 (the options of the pipeline steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_argument(parser, "landmark")
    add_db_argument(parser)
    parser.add_argument("--faces", type=int, default=4096)
    parser.add_argument("--batch-sizes", default="64,256")
    args = parser.parse_args()

    import numpy as np

    from faceemo import model_store, store, warehouse
    from faceemo.errors import WarehouseError
    from faceemo.landmarks.framing import upscale_fer

    info = model_store.resolve_model(args.model, "landmarks")
    try:
        con = warehouse.connect_readonly(args.db)
        faces = store.first_faces(con, args.faces)
        faces = faces if len(faces) else None
    except WarehouseError:
        faces = None
    if faces is None:
        faces = np.random.default_rng(0).integers(0, 256, size=(args.faces, 48, 48), dtype=np.uint8)
        print("(no warehouse faces: random 48x48 faces)")
    model = model_store.load_keras_model(info)
    model.predict_on_batch(np.zeros((8, 96, 96, 1), np.float32))  # warm-up (graph tracing)
    print(f"model {info.model_id} ({info.architecture}), {len(faces)} faces, {os.cpu_count()} CPU cores")
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        start = time.perf_counter()
        for begin in range(0, len(faces), batch):
            chunk = faces[begin : begin + batch]
            x = np.stack([upscale_fer(f) for f in chunk]).astype(np.float32)[..., None]
            model.predict_on_batch(x)
        seconds = time.perf_counter() - start
        print(f"batch {batch:4d}: {len(faces) / seconds:7.0f} faces/s ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
