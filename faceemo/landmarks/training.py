"""Training and evaluation helpers for the landmark models (Keras 3, backend-agnostic).

Input pipeline: a keras.utils.PyDataset that augments context crops with numpy/OpenCV affines.
Schedule: cosine learning-rate decay over a time budget (or the epoch count, whichever runs out first),
keeping the weights of the epoch with the best validation RMSE.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import keras
import numpy as np

from faceemo import model_store
from faceemo.keypoints import FLIP_PERMUTATION, FRAME_SIZE, KEYPOINTS
from faceemo.landmarks.augment import AugmentConfig, augment_batch
from faceemo.landmarks.dataset import LandmarkData
from faceemo.landmarks.losses import MaskedRMSE, masked_mse


class AugmentedFaces(keras.utils.PyDataset):
    """Batches of augmented (N, 96, 96, 1) faces and (N, 30) keypoints; reshuffled every epoch."""

    def __init__(self, data: LandmarkData, batch_size: int, config: AugmentConfig, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.data, self.batch_size, self.config = data, batch_size, config
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(data))

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def __getitem__(self, index: int):
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        return augment_batch(
            self.data.images[rows], self.data.keypoints[rows], self.rng, self.config, self.data.context
        )

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.data))


class BudgetSchedule(keras.callbacks.Callback):
    """Cosine learning rate over progress = max(elapsed / budget, epoch / epochs); stops when the next
    epoch would overrun the budget; keeps the best weights by `monitor` and restores them at the end."""

    def __init__(
        self,
        lr: float,
        epochs: int,
        budget_s: float | None,
        monitor: str = "val_rmse",
        min_lr_ratio: float = 0.01,
        warmup_epochs: int = 1,
        log: Callable[[str], None] | None = None,
    ):
        super().__init__()
        self.lr, self.epochs, self.budget_s, self.monitor = lr, epochs, budget_s, monitor
        self.min_lr, self.warmup_epochs, self.log = lr * min_lr_ratio, warmup_epochs, log
        self.best, self.best_epoch, self.best_weights = math.inf, -1, None
        self.current_lr = lr
        self.history: list[dict[str, float]] = []

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.epoch_times: list[float] = []

    def _progress(self, epoch_fraction: float) -> float:
        by_epochs = epoch_fraction / max(self.epochs, 1)
        by_time = (time.monotonic() - self.start) / self.budget_s if self.budget_s else 0.0
        return min(max(by_epochs, by_time), 1.0)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.epoch_start = epoch, time.monotonic()

    def on_train_batch_begin(self, batch, logs=None):
        steps = self.params.get("steps") or 1
        fraction = self.epoch + batch / steps
        if fraction < self.warmup_epochs:
            lr = self.lr * (0.1 + 0.9 * fraction / self.warmup_epochs)
        else:
            lr = self.min_lr + (self.lr - self.min_lr) * 0.5 * (
                1 + math.cos(math.pi * self._progress(fraction))
            )
        self.model.optimizer.learning_rate.assign(lr)
        self.current_lr = lr

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self.epoch_times.append(time.monotonic() - self.epoch_start)
        logs["lr"] = float(self.current_lr)
        logs["seconds"] = time.monotonic() - self.start
        self.history.append({k: float(v) for k, v in logs.items()})
        value = logs.get(self.monitor)
        if value is not None and value < self.best:
            self.best, self.best_epoch = float(value), epoch
            self.best_weights = [w.copy() for w in self.model.get_weights()]
        if self.log:
            shown = " ".join(f"{k}={v:.4g}" for k, v in logs.items() if k != "seconds")
            self.log(f"epoch {epoch + 1}: {shown} ({logs['seconds']:.0f}s)")
        if self.budget_s:
            elapsed = time.monotonic() - self.start
            if elapsed + np.median(self.epoch_times[-3:]) > self.budget_s:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


@dataclass
class TrainConfig:
    architecture: str = "lmk_cnn"
    epochs: int = 150
    time_budget_min: float | None = 40.0
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0
    bn_momentum: float | None = None  # set on every BatchNormalization layer (None: keep the model's)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    model: keras.Model
    history: list[dict[str, float]]
    seconds: float
    epochs_run: int
    best_epoch: int
    best_val_rmse: float


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    layers = []
    for layer in model.layers:
        layers.append(layer)
        if isinstance(layer, keras.Model):
            layers.extend(_all_layers(layer))
    return layers


def mean_shape(data: LandmarkData) -> np.ndarray:
    """Mean (15, 2) keypoints in the 96 frame (NaN-aware): the untrained model's starting point."""
    _, y = data.frame96()
    shape = np.nanmean(y.reshape(len(y), -1, 2), axis=0)
    return np.where(np.isnan(shape), (FRAME_SIZE - 1) / 2, shape)


def compile_model(model: keras.Model, learning_rate: float) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=masked_mse, metrics=[MaskedRMSE()])
    return model


def train(
    train_data: LandmarkData,
    val_data: LandmarkData,
    config: TrainConfig,
    log: Callable[[str], None] | None = print,
    verbose: int = 0,
    initial: keras.Model | None = None,
) -> TrainResult:
    """Fit a model on `train_data` (augmented), select the epoch on `val_data` (plain 96 frames).

    A fresh model of `config.architecture`, or `initial` to continue training one (a new cosine cycle).
    """
    keras.utils.set_random_seed(config.seed)
    model = initial
    if model is None:  # built through the one interface to every task's factories
        model = model_store.build_architecture(
            "landmarks", config.architecture, mean_shape=mean_shape(train_data)
        )
    if config.bn_momentum is not None:
        # e.g. 0.99 when continuing a run: steadier moving statistics than a fresh run's fast-settling 0.9
        for layer in _all_layers(model):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = config.bn_momentum
    model = compile_model(model, config.learning_rate)
    schedule = BudgetSchedule(
        config.learning_rate,
        config.epochs,
        config.time_budget_min * 60 if config.time_budget_min else None,
        log=log,
    )
    x_val, y_val = val_data.frame96()
    start = time.monotonic()
    model.fit(
        AugmentedFaces(train_data, config.batch_size, config.augment, seed=config.seed),
        validation_data=(x_val, y_val),
        epochs=config.epochs,
        callbacks=[schedule],
        verbose=verbose,
    )
    return TrainResult(
        model,
        schedule.history,
        time.monotonic() - start,
        len(schedule.history),
        schedule.best_epoch + 1,
        schedule.best,
    )


def unwrap(model: keras.Model) -> keras.Model:
    """The trainable regressor inside a flip-TTA wrapper (or the model itself)."""
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return inner[0] if len(inner) == 1 and model.name.endswith("_flip_tta") else model


def predict_keypoints(
    model: keras.Model, x: np.ndarray, batch_size: int = 256, flip_tta: bool = False
) -> np.ndarray:
    """(N, 30) keypoints of float32 (N, 96, 96, 1) faces; `flip_tta` averages with the mirrored face."""
    pred = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float64)
    if flip_tta:
        mirrored = np.asarray(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0), np.float64)
        mirrored = mirrored.reshape(len(x), -1, 2)[:, list(FLIP_PERMUTATION)]
        mirrored[..., 0] = FRAME_SIZE - 1 - mirrored[..., 0]
        pred = (pred + mirrored.reshape(len(x), -1)) / 2
    return pred


def rmse_report(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """RMSE in pixels: 'overall' over every present coordinate (Kaggle's definition) and one per keypoint
    (over its x and y), skipping missing targets; 'n' faces."""
    pred = np.asarray(pred, np.float64).reshape(len(pred), -1)
    true = np.asarray(true, np.float64).reshape(len(true), -1)
    square = (pred - true) ** 2
    report = {"overall": float(np.sqrt(np.nanmean(square))), "n": int(len(true))}
    for i, name in enumerate(KEYPOINTS):
        cell = square[:, 2 * i : 2 * i + 2]
        report[name] = float(np.sqrt(np.nanmean(cell))) if np.isfinite(cell).any() else float("nan")
    return report
