"""Train an emotion model (fit Training, select on PublicTest) into models/ with its card and history.

Reads the warehouse `images` table, or a pack from `export-pack` (for machines without the warehouse).
Writes models/<name>.keras (+ .json sidecar + .md card), checkpoints for --resume, and, when a warehouse
is at hand, the model row, the run and its per-epoch history.

`python -m pipelines.train_emotion ...` runs this step alone, without importing the other steps: the
GPU machine has no DuckDB, and a pack run needs only Keras, its backend and numpy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceemo.emotion import ARCHITECTURES
from faceemo.errors import ModelError
from faceemo.paths import models_dir, runs_dir
from pipelines.common import (
    add_db_argument,
    add_init_from_argument,
    add_seed_argument,
    add_time_budget_argument,
    print_model_result,
)

WIDTH_ARCHITECTURES = ("vgg_fer", "vgg_gap", "resnet_fer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-arch", required=True, choices=ARCHITECTURES, help="registered architecture")
    parser.add_argument("--name", default=None, help="model id (default emotion_<arch>[_w<width>])")
    parser.add_argument("--epochs", type=int, default=30, help="most epochs to train (default 30)")
    parser.add_argument("--batch-size", type=int, default=64, help="faces per training step (default 64)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the architecture's)")
    parser.add_argument(
        "--optimizer",
        choices=("sgd", "adam", "adamw"),
        default=None,
        help="sgd = Nesterov with momentum 0.9; adamw = Adam with decoupled weight decay "
        "(default: the architecture's)",
    )
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=None,
        help="decoupled weight decay (default: 1e-4 for sgd, 0.05 for adamw, none for adam)",
    )
    parser.add_argument(
        "--schedule",
        choices=("plateau", "cosine"),
        default="plateau",
        help="plateau: halve the lr when PublicTest accuracy stalls; cosine: warm-up, then cosine decay "
        "over --epochs",
    )
    parser.add_argument(
        "--warmup-epochs", type=float, default=2.0, help="cosine: epochs of linear warm-up (default 2)"
    )
    parser.add_argument(
        "--label-smoothing", type=float, default=0.1, help="label smoothing (default 0.1; 0 = none)"
    )
    parser.add_argument(
        "--class-weights", action="store_true", help="square-root class balancing (lifts disgust)"
    )
    parser.add_argument("--augment", type=float, default=1.0, help="augmentation strength (0 = none)")
    parser.add_argument(
        "--xla",
        choices=("yes", "no"),
        default="yes",
        help="compile the training step with XLA (yes: ~25%% faster on a CPU; no: for models XLA cannot "
        "compile)",
    )
    parser.add_argument("--mixed-precision", action="store_true", help="bfloat16 compute (for GPUs)")
    parser.add_argument(
        "--distribute",
        choices=("none", "data-parallel"),
        default="none",
        help="data-parallel: keras.distribution on JAX, MirroredStrategy on TensorFlow",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=None,
        help="vgg_fer, vgg_gap, resnet_fer: channels of the first block (vgg_fer 64 = full; others 32)",
    )
    parser.add_argument("--image-size", type=int, default=None, help="xception: upscaled face size (>= 71)")
    parser.add_argument("--weights", default=None, help="xception: local ImageNet 'notop' weights file")
    parser.add_argument("--pack", default=None, help="read faces from this pack instead of the warehouse")
    add_db_argument(parser)
    parser.add_argument("--out", default=None, help="folder for the model files (default: models/)")
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        help="where each epoch is checkpointed (default: ~/.cache/faceemo/runs/<name>/)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    add_init_from_argument(
        parser,
        "start from the weights of this trained model (an id in models/ or its .keras file; same "
        "architecture and width), with a fresh optimizer and schedule: a second training cycle",
    )
    parser.add_argument(
        "--teacher",
        default=None,
        help="distil: also learn this emotion model's probabilities (an id in models/ or a .keras "
        "file, e.g. the production ensemble), scored once on the Training faces",
    )
    parser.add_argument(
        "--teacher-weight",
        type=float,
        default=0.5,
        help="the teacher's share of each training target; the labels keep the rest (default 0.5)",
    )
    parser.add_argument("--limit", type=int, default=0, help="train on at most N faces (tiny runs)")
    add_time_budget_argument(
        parser, None,
        "stop after the last epoch that fits in this much training time, counted over the whole run "
        "(with --resume, the minutes trained before count too)",
    )
    parser.add_argument("--patience", type=int, default=20, help="early stop after N epochs without progress")
    parser.add_argument(
        "--lr-patience", type=int, default=5, help="halve the lr after N epochs without progress"
    )
    parser.add_argument(
        "--float16",
        choices=("auto", "yes", "no"),
        default="auto",
        help="store weights as float16 (auto: only if no PublicTest prediction changes)",
    )
    add_seed_argument(parser)


def _model_options(args: argparse.Namespace) -> dict:
    options = {}
    if args.width is not None:
        if args.model_arch not in WIDTH_ARCHITECTURES:
            raise ModelError(f"--width applies to {', '.join(WIDTH_ARCHITECTURES)} only")
        options["width"] = args.width
    if args.image_size is not None or args.weights is not None:
        if args.model_arch != "xception":
            raise ModelError("--image-size and --weights apply to xception only")
        if args.image_size is not None:
            options["image_size"] = args.image_size
        if args.weights is not None:
            options["weights"] = str(Path(args.weights).expanduser().resolve())
    return options


def _default_name(args: argparse.Namespace) -> str:
    full = {"vgg_fer": 64}.get(args.model_arch, 32)
    suffix = (
        f"_w{args.width}" if args.model_arch in WIDTH_ARCHITECTURES and args.width not in (None, full) else ""
    )
    return f"emotion_{args.model_arch}{suffix}"


def _load_faces(args: argparse.Namespace):
    from faceemo.emotion import data

    if args.pack:
        faces, meta = data.read_pack(args.pack)
        source = f"pack {Path(args.pack).name} (from {meta.get('source', '?')})"
    else:
        faces = data.from_warehouse(args.db)
        from faceemo.paths import resolve_db

        source = f"warehouse {resolve_db(args.db).name}"
    counts = faces.counts()
    if not counts.get("Training"):
        raise ModelError(f"the {source} has no Training faces")
    if not counts.get("PublicTest"):
        raise ModelError(f"the {source} has no PublicTest faces to select on")
    return faces, source


def _command(args: argparse.Namespace, backend: str) -> str:
    """The command line that produced this run, for the model card ('' when called from Python)."""
    if getattr(args, "_standalone", False):
        line = "python -m pipelines.train_emotion " + shlex.join(sys.argv[1:])
    elif len(sys.argv) > 1 and sys.argv[1] == "train-emotion":
        line = "python -m pipelines train-emotion " + shlex.join(sys.argv[2:])
    else:
        return ""
    return (f"KERAS_BACKEND={backend} " if backend != "tensorflow" else "") + line


def _init_from(args: argparse.Namespace):
    """The committed model a second training cycle starts from (--init-from), checked against --model-arch."""
    if not args.init_from:
        return None
    from faceemo import model_store

    info = model_store.resolve_model(args.init_from, "emotion")
    if info.architecture != args.model_arch or info.meta.get("model_options", {}) != _model_options(args):
        raise ModelError(
            f"--init-from {args.init_from} is a {info.architecture} {info.meta.get('model_options') or ''}"
            f"model; train it on with the same --model-arch and --width"
        )
    return info


def _init_from_summary(info) -> dict | None:
    """What a second cycle started from, for its card."""
    if info is None:
        return None
    # init_from carries the chain of earlier cycles, so the card can list every command back to the first
    keys = ("model_id", "epochs", "train_seconds", "command", "init_from")
    return {"path": str(info.path), **{k: info.meta.get(k) for k in keys}}


def input_images_per_s(training, config, batches: int = 20) -> float:
    """Faces per second the input pipeline alone serves (augmentation included)."""
    import time

    from faceemo.emotion.augment import Augmentation
    from faceemo.emotion.batches import FaceBatches

    aug = Augmentation().scaled(config.augment) if config.augment > 0 else None
    data = FaceBatches(training.pixels, training.labels, config.batch_size, shuffle=True, augmentation=aug)
    n = min(batches, len(data))
    start = time.perf_counter()
    for i in range(n):
        data[i]
    return n * config.batch_size / max(time.perf_counter() - start, 1e-9)


def train_images_per_s(history: list[dict], n_train: int, config) -> float:
    """Training faces per second over the run (median epoch; its PublicTest pass included)."""
    import statistics

    seconds = [row["seconds"] for row in history if row.get("seconds")]
    if not seconds:
        return 0.0
    return (n_train // config.batch_size) * config.batch_size / statistics.median(seconds)


def run(args: argparse.Namespace) -> int:
    """data → model → fit → card → register, each step below."""
    name = _checked_name(args)
    start = _init_from(args)
    faces, source = _load_faces(args)  # fails fast, before Keras is imported
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)  # naive UTC
    splits = _splits(args, faces)
    config = _train_config(args, name, start)
    result = _fit(args, name, source, config, splits)
    keras_path, meta = _save_with_card(args, name, source, started, start, config, splits, result)
    _register(args, name, keras_path, meta, len(result.history))
    _report(name, keras_path, meta, result)
    return 0


def _checked_name(args: argparse.Namespace) -> str:
    """The model id, after the options that make no sense are refused."""
    if args.epochs < 1 or args.batch_size < 1 or args.limit < 0:
        raise ModelError("--epochs and --batch-size must be at least 1, --limit at least 0")
    if args.time_budget is not None and args.time_budget <= 0:
        raise ModelError("--time-budget must be a positive number of minutes")
    _model_options(args)  # refuses options the architecture does not take
    name = args.name or _default_name(args)
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ModelError(f"--name {name!r}: use letters, digits, '_' and '-' only")
    return name


@dataclass
class _Splits:
    """The faces a run fits on (Training, less blanks and test duplicates), selects on and reports."""

    training: Any
    public: Any
    private: Any
    dropped_blank: int
    dropped_duplicates: int


def _splits(args: argparse.Namespace, faces) -> _Splits:
    from faceemo.emotion import data

    training_all = faces.of_usage("Training")
    training = data.training_filter(training_all)
    dropped_blank = int(((training_all.flags & data.FLAG_BLANK) > 0).sum())
    dropped_dups = len(training_all) - len(training) - dropped_blank
    public, private = faces.of_usage("PublicTest"), faces.of_usage("PrivateTest")
    if args.limit:
        training = data.stratified_limit(training, args.limit, args.seed)
        public = data.stratified_limit(public, max(args.limit // 4, 50), args.seed)
        private = data.stratified_limit(private, max(args.limit // 4, 50), args.seed)
    return _Splits(training, public, private, dropped_blank, dropped_dups)


def _train_config(args: argparse.Namespace, name: str, start):
    from faceemo.emotion.training import TrainConfig

    ckpt = Path(args.checkpoint_dir).expanduser() if args.checkpoint_dir else runs_dir() / name
    return TrainConfig(
        architecture=args.model_arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        warmup_epochs=args.warmup_epochs,
        label_smoothing=args.label_smoothing,
        class_weights=args.class_weights,
        mixed_precision=args.mixed_precision,
        distribute=args.distribute,
        augment=args.augment,
        xla=args.xla == "yes",
        lr_patience=args.lr_patience,
        early_stop_patience=args.patience,
        time_budget_s=args.time_budget * 60 if args.time_budget else None,
        checkpoint_dir=str(ckpt),
        resume=args.resume,
        init_from=str(start.path) if start else None,
        teacher=args.teacher,
        teacher_weight=args.teacher_weight,
        seed=args.seed,
        model_options=_model_options(args),
    ).resolved()


def _fit(args: argparse.Namespace, name: str, source: str, config, splits: _Splits):
    import keras

    from faceemo.emotion.training import train

    print(
        f"training {name} ({args.model_arch}) on {len(splits.training)} Training faces from the {source}, "
        f"selecting on {len(splits.public)} PublicTest faces; "
        f"keras {keras.__version__} on {keras.backend.backend()}",
        file=sys.stderr,
    )
    return train(config, splits.training, splits.public)


def _save_with_card(
    args: argparse.Namespace, name: str, source: str, started: dt.datetime, start, config,
    splits: _Splits, result,
) -> tuple[Path, dict[str, Any]]:
    """Score the trained model, choose its storage, save it with its sidecar and card."""
    import keras

    from faceemo.emotion.card import device_description, model_card, write_model_files
    from faceemo.emotion.evaluation import score_splits, storage_choice
    from faceemo.emotion.models import spec_of

    model, training, public, private = result.model, splits.training, splits.public, splits.private
    scores, scores_tta = score_splits(model, {"PublicTest": public, "PrivateTest": private})
    to_save, weights_dtype, f16_check = storage_choice(model, public, args.float16)
    spec = spec_of(args.model_arch)
    run_id = f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}"
    config_dict = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    config_dict.update(optimizer=config.optimizer, learning_rate=config.learning_rate)
    meta = {
        "model_id": name,
        "task": "emotion",
        "architecture": args.model_arch,
        "params": int(model.count_params()),
        "input_size": spec.input_size,
        "preprocessing": spec.preprocessing,
        "model_options": _model_options(args),
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "device": device_description(),
        "replicas": result.replicas,
        "trained_on": f"FER-2013 Training ({len(training)} faces, {source})",
        "selected_on": "FER-2013 PublicTest",
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "train_seconds": round(result.seconds, 1),
        "created_at": started.isoformat(),
        "weights_dtype": weights_dtype,
        "float16_check": f16_check,
        "metrics": scores,
        "metrics_tta": scores_tta,
        "throughput": {
            "input_images_per_s": round(input_images_per_s(training, config), 1),
            "train_images_per_s": round(train_images_per_s(result.history, len(training), config), 1),
        },
        "run_id": run_id,
        "command": _command(args, keras.backend.backend()),
        "config": config_dict,
        "data": {
            "train_faces": len(training),
            "dropped_blank": splits.dropped_blank,
            "dropped_test_duplicates": splits.dropped_duplicates,
            "public_faces": len(public),
            "private_faces": len(private),
            "limit": args.limit,
        },
        "history": result.history,
        "init_from": _init_from_summary(start),
    }
    out_dir = Path(args.out).expanduser().resolve() if args.out else models_dir()
    return write_model_files(out_dir, name, to_save, meta, model_card), meta


def _register(
    args: argparse.Namespace, name: str, keras_path: Path, meta: dict[str, Any], epochs: int
) -> None:
    """The warehouse gets the model row, the run and its history when the faces came from it (or --db)."""
    if args.pack and not args.db:
        return
    from faceemo import model_store, warehouse
    from faceemo.emotion.records import write_run

    info = model_store.resolve_model(str(keras_path), "emotion")
    with warehouse.writing(args.db) as con:
        model_store.register_model(con, info)
        write_run(con, meta)
    print(f"registered {name} and its {epochs} epochs in {warehouse.resolve_db(args.db)}", file=sys.stderr)


def _report(name: str, keras_path: Path, meta: dict[str, Any], result) -> None:
    scores = meta["metrics"]
    summary = ", ".join(
        f"{u} accuracy {100 * s['accuracy']:.2f}% macro-F1 {100 * s['macro_f1']:.2f}%"
        for u, s in scores.items()
    )
    print(
        f"done: {keras_path} ({keras_path.stat().st_size / 2**20:.1f} MiB, {meta['weights_dtype']}), "
        f"{result.epochs_run} epochs (best {result.best_epoch}, stopped by {result.stopped}) in "
        f"{result.seconds / 60:.1f} min; {summary}",
        file=sys.stderr,
    )
    print_model_result(name, keras_path, scores)


def main(argv: list[str] | None = None) -> int:
    """This step alone: `python -m pipelines.train_emotion [options]`."""
    from faceemo.errors import FaceemoError

    parser = argparse.ArgumentParser(
        prog="python -m pipelines.train_emotion", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    args._standalone = argv is None  # the card records sys.argv
    try:
        return run(args)
    except FaceemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
