"""Predict the 15 facial keypoints of every FER-2013 face in the warehouse (Landmarks, Distances pages).
Uses the production landmark model unless --model names another. Only faces without keypoints from that
model are predicted: a second run changes nothing and returns at once.

With --engine ray, Ray workers (this machine or a cluster) predict the emotion and landmarks of every
face into a folder of Parquet files at --out instead (see attach-results), redoing only missing files.

Faces are upscaled 48 → 96 and predicted in batches into the `landmarks` table; the model is registered
in the warehouse when missing. A second run returns without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
import time

from pipelines import ray_engine
from pipelines.common import add_db_argument, add_model_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser, "landmark")
    add_db_argument(parser)
    parser.add_argument(
        "--batch-size", type=int, default=256, help="faces per prediction batch (default 256)"
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR",
        help="with --engine ray: the folder the Parquet results go to (emotion and landmarks of every face)",
    )
    parser.add_argument(
        "--emotion-model", default=None,
        help="with --engine ray: the emotion model id (default: the production one)",
    )
    ray_engine.add_arguments(parser)


def _pending(db, model_id: str) -> tuple[int, int, str | None]:
    """(faces, faces without landmarks of this model, registered sha256) from a read-only look."""
    from faceemo import store, warehouse
    from faceemo.errors import WarehouseError

    con = warehouse.connect_readonly(db)
    try:
        faces = warehouse.row_count(con, "images")
        if faces == 0:
            raise WarehouseError(f"the warehouse {db} has no faces: fill it with `{warehouse.FILL_COMMAND}`")
        if not warehouse.has_table(con, "landmarks"):
            return faces, faces, None
        return faces, store.count_without_landmarks(con, model_id), store.model_sha256(con, model_id)
    finally:
        con.close()


def run(args: argparse.Namespace) -> int:
    from faceemo import model_store
    from faceemo.errors import FaceemoError
    from faceemo.paths import resolve_db

    if ray_engine.wants_ray(args):
        return ray_engine.run_landmarks(args)
    ray_engine.check_local_only(args)
    if args.out or args.emotion_model:
        raise FaceemoError("--out and --emotion-model: only with --engine ray")
    db = resolve_db(args.db)
    if args.batch_size < 1:
        raise FaceemoError("--batch-size must be at least 1")
    info = model_store.resolve_model(args.model, "landmarks")
    faces, missing, registered = _pending(db, info.model_id)
    sha = model_store.sha256_of(info.path)
    if missing == 0 and registered == sha:
        print(f"landmarks: all {faces} faces already have landmarks from {info.model_id}; nothing to do")
        return 0
    stale = registered is not None and registered != sha and missing < faces
    if stale:
        print(
            f"landmarks: the file of {info.model_id} changed since its landmarks were predicted; "
            "predicting every face again",
            file=sys.stderr,
        )
        missing = faces
    return _predict(db, info, args.batch_size, faces, missing, stale)


def _predict(db, info, batch_size: int, faces: int, missing: int, stale: bool = False) -> int:
    import numpy as np
    import pandas as pd
    from tqdm import tqdm

    from faceemo import model_store, store, warehouse
    from faceemo.keypoints import COLUMNS
    from faceemo.landmarks.framing import upscale_fer

    model = model_store.load_keras_model(info) if missing else None
    start = time.monotonic()
    done = 0
    with warehouse.writing(db) as con:
        if stale:
            store.delete_landmarks(con, info.model_id)
        model_store.ensure_registered(con, info)
        ids = store.ids_without_landmarks(con, info.model_id)
        with tqdm(total=len(ids), desc=f"landmarks {info.model_id}", unit="face", file=sys.stderr) as bar:
            for begin in range(0, len(ids), batch_size):
                chunk = ids[begin : begin + batch_size]
                found, pixels = store.faces_by_id(con, chunk)
                x = np.empty((len(found), 96, 96, 1), np.float32)
                for i, face in enumerate(pixels):
                    x[i, ..., 0] = upscale_fer(face)
                pred = np.asarray(model.predict_on_batch(x), np.float32)
                frame = pd.DataFrame(pred, columns=list(COLUMNS))
                frame.insert(0, "image_id", found)
                frame.insert(0, "model_id", info.model_id)
                store.append_landmarks(con, frame)
                done += len(found)
                bar.update(len(found))
    seconds = time.monotonic() - start
    rate = f" in {seconds:.1f} s ({done / seconds:.0f} faces/s)" if done else ""
    print(
        f"landmarks: predicted {done} faces with {info.model_id}{rate}; "
        f"{faces - missing} already had them; {faces} faces in the warehouse"
    )
    return 0
