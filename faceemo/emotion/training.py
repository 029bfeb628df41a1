"""Training loop helpers: compile, fit with selection on a validation split, checkpoints and resume,
a wall-time budget, and the per-epoch history.

Protocol: fit on Training, select (best checkpoint, learning-rate plateaus, early stop) on PublicTest;
PrivateTest is never looked at here.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from faceemo import model_store
from faceemo.emotion import distribute
from faceemo.emotion.augment import Augmentation
from faceemo.emotion.batches import FaceBatches
from faceemo.emotion.data import Faces, class_weights
from faceemo.emotion.distill import mixed_targets, teacher_probabilities
from faceemo.emotion.models import spec_of
from faceemo.errors import ModelError
from faceemo.files import atomic_write_json

OPTIMIZERS = ("sgd", "adam", "adamw")
DEFAULT_WEIGHT_DECAY = {"sgd": 1e-4, "adam": 0.0, "adamw": 0.05}
STATE_FILE = "state.json"
LAST_FILE = "last.keras"  # the whole training model with its optimizer state, for --resume
BEST_FILE = "best.keras"  # the plain model (no augmentation) at its best validation accuracy


@dataclass
class TrainConfig:
    architecture: str
    epochs: int = 30
    batch_size: int = 64
    optimizer: str | None = None  # None: the architecture's default
    learning_rate: float | None = None
    momentum: float = 0.9
    weight_decay: float | None = None  # decoupled; None: 1e-4 for SGD, 0.05 for AdamW, none for Adam
    schedule: str = "plateau"  # 'plateau' (cut on a val plateau) | 'cosine' (warm-up, cosine decay)
    warmup_epochs: float = 2.0  # cosine only: linear warm-up from lr/10
    label_smoothing: float = 0.1
    class_weights: bool = False
    mixed_precision: bool = False
    distribute: str = "none"
    augment: float = 1.0  # augmentation strength, 0 = none
    xla: bool | None = None  # compile the train step with XLA; None: Keras decides ('auto')
    lr_patience: int = 5  # epochs without a better val accuracy before the lr is cut
    lr_factor: float = 0.5
    min_lr: float = 1e-5
    early_stop_patience: int = 20
    time_budget_s: float | None = None
    checkpoint_dir: str | None = None
    resume: bool = False
    init_from: str | None = None  # warm start: weights of a saved model of the same architecture
    teacher: str | None = None  # distil: mix this emotion model's probabilities into the targets
    teacher_weight: float = 0.5  # the teacher's share of each target (the labels keep the rest)
    seed: int = 0
    model_options: dict[str, Any] = field(default_factory=dict)
    verbose: int | None = None  # None: a progress bar on a terminal, one line per epoch otherwise

    def resolved(self) -> TrainConfig:
        spec = spec_of(self.architecture)
        optimizer = (self.optimizer or spec.optimizer).lower()
        if optimizer not in OPTIMIZERS:
            raise ModelError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in ("plateau", "cosine"):
            raise ModelError(f"unknown schedule {self.schedule!r}; expected plateau or cosine")
        if self.warmup_epochs < 0:
            raise ModelError(f"warm-up epochs must be at least 0, got {self.warmup_epochs}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ModelError(f"{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.label_smoothing < 1:
            raise ModelError(f"label smoothing must be in [0, 1), got {self.label_smoothing}")
        lr = self.learning_rate if self.learning_rate is not None else spec.learning_rate
        if lr <= 0:
            raise ModelError(f"learning rate must be positive, got {lr}")
        if self.teacher and not 0 < self.teacher_weight <= 1:
            raise ModelError(f"teacher weight must be in (0, 1], got {self.teacher_weight}")
        decay = self.weight_decay if self.weight_decay is not None else DEFAULT_WEIGHT_DECAY[optimizer]
        if decay < 0:
            raise ModelError(f"weight decay must be at least 0, got {decay}")
        return TrainConfig(
            **{**asdict(self), "optimizer": optimizer, "learning_rate": lr, "weight_decay": decay}
        )


@dataclass
class TrainResult:
    model: keras.Model  # the selected (best validation accuracy) plain model, float32
    history: list[
        dict[str, float]
    ]  # one dict per epoch: epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds
    epochs_run: int  # epochs completed, resumed ones included
    best_epoch: int
    best_val_accuracy: float
    seconds: float  # training wall time, resumed runs included
    stopped: str  # 'epochs' | 'early stop' | 'time budget'
    replicas: int


def learning_rate(
    config: TrainConfig, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """A constant (cut later on plateaus) or, for 'cosine', a linear warm-up from lr/10 to lr over
    `warmup_epochs`, then a cosine decay to lr/100 at the last epoch. The schedule is a function of the
    optimizer's step count, which every checkpoint holds, so a resumed run continues it exactly."""
    if config.schedule != "cosine":
        return config.learning_rate
    warmup = int(round(config.warmup_epochs * steps_per_epoch))
    total = max(config.epochs * steps_per_epoch, warmup + 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10 if warmup else config.learning_rate,
        decay_steps=total - warmup,
        alpha=0.01,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def make_optimizer(config: TrainConfig, steps_per_epoch: int = 1) -> keras.optimizers.Optimizer:
    lr = learning_rate(config, steps_per_epoch)
    decay = config.weight_decay or None
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(
            learning_rate=lr, momentum=config.momentum, nesterov=True, weight_decay=decay
        )
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=lr, weight_decay=decay or 0.0)
    return keras.optimizers.Adam(learning_rate=lr, weight_decay=decay)


def training_model(base: keras.Model, config: TrainConfig, steps_per_epoch: int = 1) -> keras.Model:
    """A compiled wrapper around `base` (sharing its weights): what fit() trains. Augmentation happens
    in the input pipeline, so the train step holds only the model and XLA can compile it."""
    inputs = keras.Input(shape=base.input_shape[1:], dtype="float32", name="face")
    model = keras.Model(inputs, base(inputs), name="train_" + base.name)
    return compile_for_training(model, config, make_optimizer(config, steps_per_epoch))


def compile_for_training(
    model: keras.Model, config: TrainConfig, optimizer: keras.optimizers.Optimizer
) -> keras.Model:
    """The loss, metric and XLA choice of every training run (a fresh one or a resumed one)."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        jit_compile=config.xla if config.xla is not None else "auto",
    )
    return model


class Selector(keras.callbacks.Callback):
    """Selection on the validation split, in one callback so its whole state can be checkpointed:
    best-model checkpoint, learning-rate cut on plateau, early stop, wall-time budget, history."""

    def __init__(self, config: TrainConfig, base_name: str, ckpt: Path | None, state: dict[str, Any]) -> None:
        super().__init__()
        self.config, self.base_name, self.ckpt = config, base_name, ckpt
        self.state = state
        self.best_weights: list[np.ndarray] | None = None
        self._started = time.monotonic()
        self._seconds_before = float(state.get("seconds", 0.0))
        self._epoch_start = 0.0

    @property
    def seconds(self) -> float:
        return self._seconds_before + time.monotonic() - self._started

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        s = self.state
        lr = float(keras.ops.convert_to_numpy(keras.ops.multiply(self.model.optimizer.learning_rate, 1.0)))
        epoch_seconds = time.monotonic() - self._epoch_start
        row = {"epoch": epoch + 1, "lr": lr, "seconds": epoch_seconds}
        row.update({k: float(v) for k, v in logs.items() if k != "learning_rate"})
        s["history"].append(row)
        s["epochs_done"] = epoch + 1
        val = row.get("val_accuracy", row.get("accuracy", 0.0))
        if val > s["best_val_accuracy"]:
            s.update(best_val_accuracy=val, best_epoch=epoch + 1, wait=0, lr_wait=0)
            base = self.model.get_layer(self.base_name)
            self.best_weights = [np.array(w) for w in base.get_weights()]
            if self.ckpt:
                base.save(self.ckpt / BEST_FILE)
        else:
            s["wait"] += 1
            s["lr_wait"] += 1
            plateau = self.config.schedule == "plateau"
            if plateau and s["lr_wait"] >= self.config.lr_patience and lr > self.config.min_lr:
                new_lr = max(lr * self.config.lr_factor, self.config.min_lr)
                self.model.optimizer.learning_rate = new_lr
                s["lr_wait"] = 0
                print(
                    f"\nlearning rate {lr:.2e} -> {new_lr:.2e} (no better val accuracy in "
                    f"{self.config.lr_patience} epochs)",
                    file=sys.stderr,
                )
            if s["wait"] >= self.config.early_stop_patience:
                s["stopped"] = "early stop"
                self.model.stop_training = True
        s["seconds"] = self.seconds
        budget = self.config.time_budget_s
        more = epoch + 1 < self.config.epochs  # a run that did all its epochs ends on them, not the budget
        if budget and more and not self.model.stop_training and self.seconds + 1.1 * epoch_seconds > budget:
            s["stopped"] = "time budget"
            self.model.stop_training = True
        if self.ckpt:
            self.model.save(self.ckpt / LAST_FILE)
            atomic_write_json(self.ckpt / STATE_FILE, s)


def _load_weights_from(base: keras.Model, path: str) -> None:
    """Warm start (a new schedule from trained weights, as in SGDR's restarts): copy the weights of the
    saved model at `path` into `base`, which must have the same architecture and options."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise ModelError(f"--init-from {path}: no such model file")
    try:
        weights = keras.models.load_model(source, compile=False).get_weights()
    except Exception as exc:  # a corrupt or foreign file: say which
        raise ModelError(f"--init-from {path}: not a readable Keras model ({exc})") from exc
    shapes = [tuple(w.shape) for w in base.get_weights()]
    if [tuple(w.shape) for w in weights] != shapes:
        raise ModelError(f"--init-from {path}: its layers do not match {base.name}'s (another architecture?)")
    base.set_weights([np.asarray(w, dtype="float32") for w in weights])
    print(f"starting from the weights of {source}", file=sys.stderr)


def _fresh_state() -> dict[str, Any]:
    return {
        "epochs_done": 0,
        "best_val_accuracy": -1.0,
        "best_epoch": 0,
        "wait": 0,
        "lr_wait": 0,
        "seconds": 0.0,
        "history": [],
        "stopped": "epochs",
    }


def train(config: TrainConfig, train_faces: Faces, val_faces: Faces | None) -> TrainResult:
    """Train `config.architecture` on `train_faces`, selecting on `val_faces` (PublicTest)."""
    config = config.resolved()
    if len(train_faces) == 0:
        raise ModelError("no training faces")
    ckpt = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    state = _fresh_state()
    resume_from = None
    if ckpt:
        ckpt.mkdir(parents=True, exist_ok=True)
        if config.resume and (ckpt / LAST_FILE).exists() and (ckpt / STATE_FILE).exists():
            state = json.loads((ckpt / STATE_FILE).read_text())
            if state.get("architecture") not in (None, config.architecture):
                raise ModelError(f"{ckpt} holds a {state['architecture']} run, not {config.architecture}")
            resume_from = ckpt / LAST_FILE
        elif config.resume:
            print(f"note: nothing to resume in {ckpt}; starting afresh", file=sys.stderr)
    state.update(architecture=config.architecture, stopped="epochs")
    keras.utils.set_random_seed(config.seed + state["epochs_done"])
    if config.mixed_precision:
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")

    weights = class_weights(train_faces.labels) if config.class_weights else None
    targets = None
    if config.teacher:
        teacher = teacher_probabilities(config.teacher, train_faces, ckpt)
        targets = mixed_targets(train_faces.labels, teacher, config.teacher_weight)
        agree = float(np.mean(teacher.argmax(1) == train_faces.labels))
        print(
            f"distilling from {config.teacher} (weight {config.teacher_weight:g}; it agrees with "
            f"{100 * agree:.1f}% of the Training labels)",
            file=sys.stderr,
        )
    try:
        with distribute.scope(config.distribute) as replicas:
            if config.batch_size % replicas:
                raise ModelError(f"batch size {config.batch_size} does not split over {replicas} devices")
            if resume_from is not None:
                model = keras.models.load_model(resume_from)
                # compile again with the restored optimizer (its step count and moments stay): the saved
                # compile config does not carry the XLA choice
                compile_for_training(model, config, model.optimizer)
                base_name = state["base_name"]
                print(f"resuming {resume_from} after epoch {state['epochs_done']}", file=sys.stderr)
            else:
                base = model_store.build_architecture("emotion", config.architecture, **config.model_options)
                if config.init_from:
                    _load_weights_from(base, config.init_from)
                base_name = base.name
                steps_per_epoch = max(1, len(train_faces) // config.batch_size)
                model = training_model(base, config, steps_per_epoch)
            state["base_name"] = base_name
            selector = Selector(config, base_name, ckpt, state)
            train_data = FaceBatches(
                train_faces.pixels,
                train_faces.labels,
                config.batch_size,
                shuffle=True,
                seed=config.seed,
                first_epoch=state["epochs_done"],
                sample_weights=weights,
                augmentation=Augmentation().scaled(config.augment) if config.augment > 0 else None,
                targets=targets,
            )
            val_data = None
            if val_faces is not None and len(val_faces):
                val_data = FaceBatches(
                    val_faces.pixels, val_faces.labels, max(config.batch_size, 256), multiple_of=replicas
                )
            verbose = config.verbose if config.verbose is not None else (1 if sys.stdout.isatty() else 2)
            if state["epochs_done"] < config.epochs and state.get("wait", 0) < config.early_stop_patience:
                model.fit(
                    train_data,
                    validation_data=val_data,
                    epochs=config.epochs,
                    initial_epoch=state["epochs_done"],
                    callbacks=[selector],
                    verbose=verbose,
                )
            base = model.get_layer(base_name)
            best = selector.best_weights
            if best is None and ckpt and (ckpt / BEST_FILE).exists():
                best = keras.models.load_model(ckpt / BEST_FILE, compile=False).get_weights()
            if best is not None:
                base.set_weights(best)
            final_weights = [np.array(w) for w in base.get_weights()]
            base_config = base.get_config()
            base_class = type(base)
    finally:
        if config.mixed_precision:
            keras.mixed_precision.set_dtype_policy("float32")
    # A plain float32 copy outside any distribution: what is saved and evaluated.
    from faceemo.emotion.storage import rebuild_with_dtype

    plain = rebuild_with_dtype(base_class, base_config, final_weights, "float32")
    return TrainResult(
        model=plain,
        history=state["history"],
        epochs_run=state["epochs_done"],
        best_epoch=state["best_epoch"],
        best_val_accuracy=state["best_val_accuracy"],
        seconds=state["seconds"],
        stopped=state["stopped"],
        replicas=replicas,
    )
