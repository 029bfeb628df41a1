"""Combine trained emotion models into one: the mean of their probabilities, under one model id.

Pass two or more committed emotion models (ids in models/ or .keras files) and a --name. The ensemble is
scored on PublicTest and PrivateTest, with and without test-time augmentation, and written to models/
like a trained model (weights, sidecar, card), then registered in the warehouse; make it the
production model by naming it in models/production.json.

With --select the models passed are candidates: the ensemble is the mean of two to --max-members of them
with the best PublicTest accuracy (PrivateTest is only reported), fewer members on a tie.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys

from faceemo.errors import ModelError
from pipelines.common import add_db_argument, print_model_result

MEMBER_FIELDS = ("model_id", "architecture", "params", "epochs", "train_seconds", "metrics", "metrics_tta")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="+", metavar="MODEL", help="two or more emotion model ids or files")
    parser.add_argument("--name", required=True, help="model id of the ensemble, e.g. emotion_ensemble")
    parser.add_argument(
        "--float16",
        choices=("members", "auto", "yes", "no"),
        default="members",
        help="how to store the weights: members (default) as each member's own file stores them, so the "
        "ensemble gives exactly the mean of its members (and `evaluate` reuses their predictions); auto: "
        "all float16 if no PublicTest accuracy is lost; yes: all float16; no: all float32",
    )
    parser.add_argument(
        "--select",
        action="store_true",
        help="treat the models as candidates: keep the mean of two to --max-members of them with the best "
        "PublicTest accuracy (fewer members on a tie)",
    )
    parser.add_argument(
        "--max-members", type=int, default=3, help="with --select: most members to combine (default 3)"
    )
    parser.add_argument("--out", default=None, help="folder for the model files (default: models/)")
    add_db_argument(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from faceemo import model_store
    from faceemo.emotion import data
    from faceemo.paths import models_dir

    name = args.name
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ModelError(f"--name {name!r}: use letters, digits, '_' and '-' only")
    infos = [model_store.resolve_model(m, "emotion") for m in args.models]
    unique: dict[str, model_store.ModelInfo] = {}
    for info in infos:  # each once, in the order given
        unique.setdefault(info.model_id, info)
    infos = list(unique.values())
    ids = [info.model_id for info in infos]
    if len(ids) < 2:
        raise ModelError("an ensemble needs at least two different emotion models")
    if name in ids:
        raise ModelError(f"--name {name!r} is one of the members; pick a new id")
    if args.select and args.max_members < 2:
        raise ModelError("an ensemble has at least two members: --max-members must be 2 or more")
    faces = data.from_warehouse(args.db, ("PublicTest", "PrivateTest"))
    public, private = faces.of_usage("PublicTest"), faces.of_usage("PrivateTest")
    if not len(public):
        raise ModelError("the warehouse has no PublicTest faces to check the ensemble on")
    candidates = ids
    selection = None
    if args.select:
        selection = _select(infos, public, args.max_members)
        chosen = set(selection["ranking"][0]["members"])
        infos = [info for info in infos if info.model_id in chosen]
        ids = [info.model_id for info in infos]

    import keras

    from faceemo import warehouse
    from faceemo.emotion import ensemble
    from faceemo.emotion.card import device_description, ensemble_card, write_model_files
    from faceemo.emotion.evaluation import score_splits, storage_choice
    from faceemo.emotion.storage import with_dtype

    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)  # naive UTC
    loaded = [model_store.load_keras_model(info) for info in infos]
    model = ensemble.average(loaded, name)
    print(
        f"scoring {name} ({' + '.join(ids)}) on {len(public):,} PublicTest and {len(private):,} "
        "PrivateTest faces, plain and with test-time augmentation",
        file=sys.stderr,
    )
    scores, scores_tta = score_splits(model, {"PublicTest": public, "PrivateTest": private})
    if args.float16 == "members":
        stored = ["float16" if info.meta.get("weights_dtype") == "float16" else "float32" for info in infos]
        to_save = ensemble.average(
            [with_dtype(m, "float16") if d == "float16" else m for m, d in zip(loaded, stored, strict=True)],
            name,
        )
        weights_dtype = "as each member's file: " + ", ".join(
            f"{i} {d}" for i, d in zip(ids, stored, strict=True)
        )
        f16_check = None
    else:
        to_save, weights_dtype, f16_check = storage_choice(model, public, args.float16)
    members = [{k: info.meta.get(k) for k in MEMBER_FIELDS} for info in infos]
    meta = {
        "model_id": name,
        "task": "emotion",
        "architecture": ensemble.ARCHITECTURE,
        "params": int(model.count_params()),
        "input_size": 48,
        "preprocessing": "each member's own",
        "members": members,
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "device": device_description(),
        "trained_on": "FER-2013 Training (each member; see its card)",
        "selected_on": (
            f"FER-2013 PublicTest: the best plain accuracy among every mean of two to "
            f"{selection['max_members']} of {', '.join(candidates)}"
            if selection
            else "FER-2013 PublicTest (members chosen by their PublicTest accuracy)"
        ),
        "selection": selection,
        "epochs": sum(int(m.get("epochs") or 0) for m in members),
        "train_seconds": round(sum(float(m.get("train_seconds") or 0) for m in members), 1),
        "created_at": created.isoformat(),
        "weights_dtype": weights_dtype,
        "float16_check": f16_check,
        "metrics": scores,
        "metrics_tta": scores_tta,
        "command": "python -m pipelines ensemble-emotion "
        + shlex.join(
            [*candidates, "--name", name]
            + (["--select", "--max-members", str(args.max_members)] if args.select else [])
            + (["--float16", args.float16] if args.float16 != "members" else [])
        ),
    }
    out_dir = Path(args.out).expanduser().resolve() if args.out else models_dir()
    keras_path = write_model_files(out_dir, name, to_save, meta, ensemble_card)
    with warehouse.writing(args.db) as con:
        model_store.register_model(con, model_store.resolve_model(str(keras_path), "emotion"))
    summary = ", ".join(
        f"{u} {100 * scores[u]['accuracy']:.2f}% (TTA {100 * scores_tta[u]['accuracy']:.2f}%)" for u in scores
    )
    print(
        f"done: {keras_path} ({keras_path.stat().st_size / 2**20:.1f} MiB, {weights_dtype}); {summary}",
        file=sys.stderr,
    )
    print_model_result(
        name, keras_path, scores, metrics_tta={u: s["accuracy"] for u, s in scores_tta.items()}
    )
    return 0


SELECTION_SHOWN = 10  # best combinations printed and kept in the card


def _select(infos: list, public, max_members: int) -> dict:
    """The members chosen by PublicTest accuracy (ensemble.select) and the best combinations."""
    from faceemo import model_store
    from faceemo.emotion import ensemble, metrics
    from faceemo.emotion.inference import predict_proba

    probabilities = {}
    for info in infos:
        print(f"PublicTest probabilities of {info.model_id} ...", file=sys.stderr)
        probabilities[info.model_id] = predict_proba(model_store.load_keras_model(info), public.pixels)
    ranked = ensemble.select(probabilities, public.labels, max_members)
    print(f"best of {len(ranked):,} combinations (PublicTest accuracy, plain):", file=sys.stderr)
    for combo, accuracy in ranked[:SELECTION_SHOWN]:
        print(f"  {100 * accuracy:6.2f}%  {' + '.join(combo)}", file=sys.stderr)
    return {
        "max_members": max_members,
        "candidates": [
            {"model_id": m, "public_accuracy": metrics.summarize(public.labels, p.argmax(1))["accuracy"]}
            for m, p in probabilities.items()
        ],
        "combinations": len(ranked),
        "ranking": [{"members": list(c), "public_accuracy": a} for c, a in ranked[:SELECTION_SHOWN]],
    }
