"""Train a 15-keypoint landmark CNN and commit it to models/ (weights, metadata, model card).

Reads the 68-point archive (default ../shared/data/face_keypoints_68.zip), Kaggle's training.csv or the
face_images.npz pair. Faces are split by person (train / val / held-out), trained with keypoint-aware
augmentation and a masked loss, selected on the val people, and reported on the held-out people and on
the archive's own (frame-level) test split.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipelines.common import (
    add_data_argument,
    add_init_from_argument,
    add_seed_argument,
    add_time_budget_argument,
)

DEFAULT_NAME = "landmarks_cnn_v1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser, "landmark data: face_keypoints_68.zip, training.csv or face_images.npz")
    parser.add_argument("--epochs", type=int, default=150, help="most epochs (default 150)")
    add_time_budget_argument(
        parser, 40.0, "stop (with the learning rate annealed) after about this long (default 40)"
    )
    parser.add_argument("--out", default=None, help="models folder (default: $FACEEMO_MODELS, else models/)")
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"model id (default {DEFAULT_NAME})")
    parser.add_argument(
        "--limit", type=int, default=None, help="at most N faces per split of the archive (quick trials)"
    )
    parser.add_argument("--architecture", default="lmk_cnn", help="lmk_cnn (default) or lmk_tiny")
    parser.add_argument("--batch-size", type=int, default=32, help="faces per training step (default 32)")
    parser.add_argument(
        "--learning-rate", type=float, default=2e-3, help="initial learning rate (default 0.002)"
    )
    add_seed_argument(parser)
    parser.add_argument(
        "--bn-momentum",
        type=float,
        default=None,
        help="batch-norm momentum (default: the model's own; 0.9 fresh)",
    )
    parser.add_argument(
        "--flip-tta",
        action="store_true",
        help="commit the model averaged with its mirrored prediction (built in; 2x inference cost)",
    )
    add_init_from_argument(parser, "continue training a committed landmark model (model id or .keras path)")
    parser.add_argument(
        "--no-production", action="store_true", help="do not point models/production.json at the new model"
    )
    parser.add_argument(
        "--cache",
        default=None,
        help="folder for the prepared crops (default ~/.cache/faceemo; 'none' to skip)",
    )


def _command(args: argparse.Namespace) -> str:
    """The command line as typed (sys.argv) when run as `python -m pipelines train-landmarks`."""
    if len(sys.argv) > 1 and sys.argv[1] == "train-landmarks":
        return "python -m pipelines " + shlex.join(sys.argv[1:])
    options = {
        k: v
        for k, v in vars(args).items()
        if not k.startswith("_") and k != "step" and v not in (None, False)
    }
    return "python -m pipelines train-landmarks " + " ".join(
        f"--{k.replace('_', '-')}" + ("" if v is True else f" {shlex.quote(str(v))}")
        for k, v in options.items()
    )


def _device() -> str:
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


@dataclass
class _Data:
    """The landmark faces and their split into fit / val / held-out people."""

    source: Path
    data: Any  # faceemo.landmarks.dataset.LandmarkData
    roles: Any  # np.ndarray of role names, one per face
    parts: dict[str, Any]
    cache: Path | None

    @property
    def by_person(self) -> bool:
        return bool(self.data.persons[0])


@dataclass
class _Start:
    """Where training starts: a fresh net, or the weights of a committed model (--init-from)."""

    config: Any  # faceemo.landmarks.training.TrainConfig
    initial: Any = None
    previous_seconds: float = 0.0
    previous_epochs: int = 0
    previous_command: str = "?"


def run(args: argparse.Namespace) -> int:
    """data → model → fit → card → register."""
    data = load_data(args)
    start = build_model(args)
    result, plain_model = fit(args, data, start)
    reports, plain_reports, tta = evaluate(args, data, result.model, plain_model)
    meta, notes = describe(args, data, start, result, plain_model, reports, plain_reports, tta)
    return register(args, result, meta, reports, notes, data.by_person)


def load_data(args: argparse.Namespace) -> _Data:
    from tqdm import tqdm

    from faceemo.errors import DataError
    from faceemo.landmarks import dataset
    from faceemo.paths import KEYPOINTS_ARCHIVE, resolve_archive

    source = resolve_archive(args.data, KEYPOINTS_ARCHIVE)
    if not source.exists():
        raise DataError(
            f"no landmark data at {source}: pass --data PATH (face_keypoints_68.zip, "
            "training.csv or face_images.npz)"
        )
    cache = None if args.cache == "none" else Path(args.cache or Path.home() / ".cache" / "faceemo")
    progress = lambda **kw: tqdm(file=sys.stderr, leave=False, **kw)  # noqa: E731
    data = dataset.load_cached(source, cache, limit=args.limit, progress=progress)
    roles = dataset.assign_roles(data, seed=args.seed)
    parts = {role: data.subset(roles == role) for role in dataset.ROLES}
    if min(len(p) for p in parts.values()) == 0:
        raise DataError(f"{source}: too few faces ({len(data)}) to split into train / val / held-out people")
    print(
        f"{len(data)} faces from {source.name}: "
        + ", ".join(f"{role} {len(p)} ({len(set(p.persons))} people)" for role, p in parts.items()),
        file=sys.stderr,
    )
    return _Data(source, data, roles, parts, cache)


def build_model(args: argparse.Namespace) -> _Start:
    from faceemo.landmarks import training

    config = training.TrainConfig(
        architecture=args.architecture,
        epochs=args.epochs,
        time_budget_min=args.time_budget,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        bn_momentum=args.bn_momentum,
    )
    if not args.init_from:
        return _Start(config)
    import keras

    from faceemo import model_store

    base = model_store.resolve_model(args.init_from, "landmarks")
    config.architecture = base.meta.get("base_architecture", base.architecture)
    return _Start(
        config,
        initial=training.unwrap(keras.models.load_model(base.path, compile=False)),
        previous_seconds=float(base.meta.get("train_seconds") or 0.0),
        previous_epochs=int(base.meta.get("epochs") or 0),
        previous_command=base.meta.get("command", "?"),
    )


def fit(args: argparse.Namespace, data: _Data, start: _Start) -> tuple[Any, Any]:
    """(the training result, its plain model); result.model gains the mirror TTA with --flip-tta."""
    from faceemo.landmarks import card, training

    result = training.train(
        data.parts["train"],
        data.parts["val"],
        start.config,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        initial=start.initial,
    )
    plain_model = result.model
    if data.cache is not None:
        # Insurance: the trained weights survive a failure in the evaluation or saving below.
        rescue = data.cache / f"{args.name}.trained.keras"
        rescue.parent.mkdir(parents=True, exist_ok=True)
        plain_model.save(rescue)
        print(f"trained weights kept at {rescue}", file=sys.stderr)
    if args.flip_tta:
        from faceemo.landmarks.model import with_flip_tta

        # wrap an uncompiled copy: the saved wrapper then carries no optimizer state
        result.model = with_flip_tta(card.without_optimizer(plain_model))
    return result, plain_model


def evaluate(args: argparse.Namespace, data: _Data, model: Any, plain_model: Any) -> tuple[dict, dict, dict]:
    """(RMSE reports of the model, of the plain model, mirror-TTA report on the held-out people)."""
    from faceemo.landmarks import training

    parts, faces, roles = data.parts, data.data, data.roles

    def reports_of(model) -> dict[str, dict[str, float]]:
        subsets = {"held-out people": parts["heldout"], "val people": parts["val"]}
        if data.by_person:
            subsets["test split (all)"] = faces.subset(faces.splits == "test")
            subsets["test split, held-out people"] = faces.subset(
                (faces.splits == "test") & (roles == "heldout")
            )
        out = {}
        for label, subset in subsets.items():
            if len(subset):
                x, y = subset.frame96()
                out[label] = training.rmse_report(training.predict_keypoints(model, x), y)
        return out

    reports = reports_of(model)
    plain_reports = reports_of(plain_model) if args.flip_tta else reports
    x_h, y_h = parts["heldout"].frame96()
    tta = training.rmse_report(training.predict_keypoints(plain_model, x_h, flip_tta=True), y_h)
    return reports, plain_reports, tta


def describe(
    args: argparse.Namespace, data: _Data, start: _Start, result: Any, plain_model: Any,
    reports: dict, plain_reports: dict, tta: dict,
) -> tuple[dict[str, Any], list[str]]:
    """The sidecar metadata and the card's notes."""
    import keras
    import numpy as np

    parts, config, by_person = data.parts, start.config, data.by_person
    split_text = (
        "by person (stable hash of the name before the last `_`): "
        f"{len(set(parts['train'].persons))} people fit, {len(set(parts['val'].persons))} val, "
        f"{len(set(parts['heldout'].persons))} held out (all their frames, from both of the archive's splits)"
        if by_person
        else "by face at random (this format names no people): 70% fit, 10% val, 20% held out"
    )
    meta = {
        "model_id": args.name,
        "task": "landmarks",
        "architecture": config.architecture + ("+flip_tta" if args.flip_tta else ""),
        "base_architecture": config.architecture,
        "params": int(result.model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in plain_model.trainable_weights)),
        "input_size": 96,
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "device": _device(),
        "trained_on": (
            f"{data.source.name}: {len(parts['train'])} faces of the fit people, FER-like 96x96 crops"
        ),
        "split": split_text,
        "selected_on": f"val people ({len(parts['val'])} faces), lowest RMSE",
        "epochs": start.previous_epochs + result.epochs_run,
        "best_epoch": start.previous_epochs + result.best_epoch,
        "train_seconds": round(start.previous_seconds + result.seconds, 1),
        "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "command": _command(args),
        "init_from": args.init_from,
        "config": config.as_dict(),
        "metrics": {label: r for label, r in reports.items()},
        "metrics_without_flip_tta": plain_reports if args.flip_tta else None,
        "history": result.history,
    }
    notes = [
        "Missing keypoints are masked out of the loss and the metrics (never filled with zeros).",
        "The archive's own split is by video frame and shares every person with training, so the "
        "'test split (all)' figure is optimistic; 'held-out people' is the honest one.",
    ]
    if args.flip_tta:
        notes.append(
            "The committed model averages the regressor's prediction with its prediction on the mirrored "
            "face (left/right keypoints swapped back), built from stock Keras layers. Without it: "
            f"{plain_reports['held-out people']['overall']:.3f} px on the held-out people"
            + (
                f", {plain_reports['test split (all)']['overall']:.3f} px on the test split."
                if by_person
                else "."
            )
        )
    else:
        notes.append(
            f"Mirror test-time augmentation (not built in; --flip-tta) would give {tta['overall']:.3f} px "
            "on the held-out people."
        )
    if args.init_from:
        notes.append(
            f"Training continued from {args.init_from} (epochs and time include its run; a new cosine "
            f"learning-rate cycle). That run: `{start.previous_command}`"
        )
    return meta, notes


def register(
    args: argparse.Namespace, result: Any, meta: dict[str, Any], reports: dict, notes: list[str],
    by_person: bool,
) -> int:
    """Save the model files (model_store's one save path) and point production.json at them."""
    from faceemo import model_store
    from faceemo.landmarks import card
    from faceemo.paths import models_dir

    out_dir = Path(args.out).resolve() if args.out else models_dir()
    path = card.save_model(result.model, out_dir, meta, reports, notes)
    if not args.no_production:
        model_store.set_production("landmarks", args.name, out_dir)
    held = reports["held-out people"]
    print(
        f"saved {path} ({result.epochs_run} epochs, best {result.best_epoch}, "
        f"{result.seconds / 60:.1f} min); "
        f"RMSE held-out people {held['overall']:.3f} px"
        + (f", test split {reports['test split (all)']['overall']:.3f} px" if by_person else ""),
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    from pipelines.__main__ import main

    raise SystemExit(main(["train-landmarks", *sys.argv[1:]]))
