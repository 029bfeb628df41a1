"""Evaluate committed emotion models on PublicTest and PrivateTest into the warehouse.
Fills the dashboard's Models page (accuracy, macro-F1, confusion matrices, per-class figures, mistakes).
Without --model, every committed emotion model. A model already evaluated on the same faces is skipped
(--force redoes it). --tta adds test-time augmentation figures.

Per model: 7 probabilities per face into `predictions`, accuracy, macro-F1 and per-class precision /
recall / F1 into `metrics` (the confusion matrix is the `models_confusion` query over predictions), the
model row and its training history (from the model's sidecar) when missing. Without --model, every
committed emotion model. Idempotent: a model whose exact file was already evaluated on the same faces is
skipped (without importing Keras) unless --force; otherwise its rows are replaced.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from pipelines.common import add_db_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None, help="model id or .keras path (default: every committed model)"
    )
    parser.add_argument(
        "--tta", action="store_true",
        help="also evaluate with test-time augmentation (10 views of each face; about 10x slower)",
    )
    parser.add_argument("--force", action="store_true", help="re-evaluate even when nothing changed")
    parser.add_argument(
        "--batch-size", type=int, default=256, help="faces per prediction batch (default 256)"
    )
    add_db_argument(parser)


def _pending(args: argparse.Namespace, models: list, con) -> list[tuple[object, bool]]:
    """(model, tta) pairs that need work: new file, new faces, missing rows, or --force."""
    from faceemo import model_store, store

    fingerprint, _ = store.evaluation_fingerprint(con)
    done = store.evaluations_done(con)
    registered = store.model_sha256s(con)
    pending = []
    for info in models:
        sha = model_store.sha256_of(info.path)
        run_id = info.meta.get("run_id")
        bookkeeping_ok = registered.get(info.model_id) == sha and (not run_id or store.has_run(con, run_id))
        for tta in (False, True) if args.tta else (False,):
            fresh = done.get((info.model_id, tta)) == (sha, fingerprint)
            if args.force or not fresh or not bookkeeping_ok:
                pending.append((info, tta))
    return pending


def run(args: argparse.Namespace) -> int:
    from faceemo import model_store, store, warehouse
    from faceemo.errors import ModelError

    if args.batch_size < 1:
        raise ModelError("--batch-size must be at least 1")
    models = model_store.named_or_all(args.model, "emotion")
    if not models:
        print(
            "nothing to evaluate: no committed emotion model in "
            f"{model_store.default_models_dir()} (train one with `python -m pipelines train-emotion`)",
            file=sys.stderr,
        )
        return 0
    con = warehouse.connect_readonly(args.db)  # a clear error when the warehouse is missing
    try:
        if warehouse.row_count(con, "images") == 0:
            raise ModelError(
                f"the warehouse {warehouse.resolve_db(args.db)} has no faces: fill it with "
                f"`{warehouse.FILL_COMMAND}`"
            )
        pending = _pending(args, models, con)
        gone = {
            model_id: file for model_id, file in store.model_files(con, "emotion").items()
            if not model_store.registered_path(file).exists()
        }
    finally:
        con.close()
    if gone:
        _drop_gone(args, gone)
    if not pending:
        print(
            f"up to date: {len(models)} emotion model(s) already evaluated (--force to redo)", file=sys.stderr
        )
        return 0
    return _evaluate(args, pending)


def _drop_gone(args: argparse.Namespace, gone: dict[str, str]) -> None:
    """Models whose weights file is gone (retired from models/, or deleted) leave the warehouse too, so the
    Models page lists only models the product can load; their cards stay in git history."""
    from faceemo import store, warehouse

    with warehouse.writing(args.db) as con:
        for model_id, file in sorted(gone.items()):
            rows = sum(store.drop_model(con, model_id).values())
            print(
                f"{model_id}: its file {file} is gone; its {rows:,} warehouse rows are removed",
                file=sys.stderr,
            )


def _evaluate(args: argparse.Namespace, pending: list) -> int:
    import keras
    from tqdm import tqdm

    from faceemo import model_store, store, warehouse
    from faceemo.emotion import ensemble
    from faceemo.emotion.data import from_warehouse
    from faceemo.emotion.evaluation import metric_rows, prediction_rows
    from faceemo.emotion.inference import predict_proba
    from faceemo.emotion.records import write_run

    faces = from_warehouse(args.db, ("PublicTest", "PrivateTest"))
    results = []
    computed: dict[tuple[str, bool], np.ndarray] = {}
    # members before the ensembles that average them, so an ensemble reuses what they gave
    pending = sorted(pending, key=lambda item: item[0].architecture == ensemble.ARCHITECTURE)
    for info, tta in tqdm(pending, desc="evaluating", unit="model", file=sys.stderr):
        model = model_store.load_keras_model(info)
        started = time.monotonic()
        probs = _from_members(args, info, tta, model, faces.image_id, computed)
        if probs is None:
            probs = predict_proba(model, faces.pixels, batch_size=args.batch_size, tta=tta)
        else:
            print(f"{info.model_id}{' (TTA)' if tta else ''}: the mean of its members' probabilities",
                  file=sys.stderr)
        computed[(info.model_id, tta)] = probs
        seconds = time.monotonic() - started
        results.append(
            (
                info,
                tta,
                prediction_rows(info.model_id, faces, probs, tta),
                metric_rows(info.model_id, faces, probs, tta),
                seconds,
            )
        )
    with warehouse.writing(args.db) as con:
        for info, tta, preds, mets, seconds in results:
            model_store.ensure_registered(con, info)
            run_id = info.meta.get("run_id")
            if run_id and info.meta.get("history") and not store.has_run(con, run_id):
                write_run(con, info.meta)
            store.write_evaluation(
                con, info.model_id, tta, preds, mets, model_store.sha256_of(info.path), seconds,
                keras.backend.backend(),
            )
    for info, tta, _, mets, seconds in results:
        by = mets.set_index(["usage", "metric"])["value"]
        parts = [
            f"{u} accuracy {100 * by[(u, 'accuracy')]:.2f}% macro-F1 {100 * by[(u, 'macro_f1')]:.2f}%"
            for u in ("PublicTest", "PrivateTest")
            if (u, "accuracy") in by.index
        ]
        print(
            f"{info.model_id}{' (TTA)' if tta else ''}: " + "; ".join(parts) + f" [{seconds:.1f} s]",
            file=sys.stderr,
        )
    print(f"done: {len(results)} evaluation(s) written to {warehouse.resolve_db(args.db)}", file=sys.stderr)
    return 0


def _from_members(
    args: argparse.Namespace, info, tta: bool, model, image_ids: np.ndarray,
    computed: dict[tuple[str, bool], np.ndarray],
) -> np.ndarray | None:
    """An ensemble's probabilities as the mean of its committed members' - given in this run, or stored
    by an evaluation of the same member file on the same faces - when it holds exactly their weights:
    the same numbers (up to rounding) without running every member again. None otherwise."""
    from faceemo import model_store, store, warehouse
    from faceemo.emotion import ensemble
    from faceemo.errors import FaceemoError

    ids = [m.get("model_id") for m in info.meta.get("members") or [] if isinstance(m, dict)]
    if info.architecture != ensemble.ARCHITECTURE or not ids:
        return None
    try:
        parts = [model_store.resolve_model(member, "emotion") for member in ids]
        if not ensemble.holds(model, [model_store.load_keras_model(part) for part in parts]):
            return None
    except FaceemoError:  # a member no longer committed, or unreadable: run the ensemble itself
        return None
    probabilities = [computed.get((part.model_id, tta)) for part in parts]
    missing = [i for i, probs in enumerate(probabilities) if probs is None]
    if missing:  # the rest from the warehouse, where the same member file was evaluated on the same faces
        con = warehouse.connect_readonly(args.db)
        try:
            fingerprint, _ = store.evaluation_fingerprint(con)
            done = store.evaluations_done(con)
            for i in missing:
                part = parts[i]
                if done.get((part.model_id, tta)) == (model_store.sha256_of(part.path), fingerprint):
                    probabilities[i] = store.stored_probabilities(con, part.model_id, tta, image_ids.tolist())
        finally:
            con.close()
    if any(probs is None for probs in probabilities):
        return None
    return np.mean(probabilities, axis=0, dtype=np.float32)
