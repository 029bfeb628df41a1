"""Masked loss and metric at the value level, RMSE reports, a tiny training run, save → load."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from faceemo import model_store
from faceemo.keypoints import FRAME_SIZE
from faceemo.landmarks import card, training
from faceemo.landmarks.augment import AugmentConfig
from faceemo.landmarks.dataset import LandmarkData
from faceemo.landmarks.losses import MaskedRMSE, masked_mse
from faceemo.landmarks.model import ARCHITECTURES, build


def test_masked_mse_ignores_missing_values():
    y_true = np.array([[1.0, np.nan, 3.0, np.nan], [np.nan] * 4, [0.0, 0.0, 0.0, 0.0]], np.float32)
    y_pred = np.array([[2.0, 100.0, 5.0, -50.0], [9.0, 9.0, 9.0, 9.0], [1.0, 1.0, 1.0, 1.0]], np.float32)
    loss = keras.ops.convert_to_numpy(masked_mse(y_true, y_pred))
    np.testing.assert_allclose(loss, [(1 + 4) / 2, 0.0, 1.0])
    # filling the gaps with zeros (the study's mistake) would have given a very different first value
    assert loss[0] < ((2 - 1) ** 2 + 100**2 + (5 - 3) ** 2 + 50**2) / 4


def test_masked_mse_gradient_is_finite_and_zero_where_missing():
    import tensorflow as tf  # the test backend; the loss itself uses keras.ops only

    y_true = tf.constant([[1.0, np.nan, 3.0]])
    y_pred = tf.Variable([[2.0, 7.0, 5.0]])
    with tf.GradientTape() as tape:
        loss = masked_mse(y_true, y_pred)
    grad = tape.gradient(loss, y_pred).numpy()
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [[1.0, 0.0, 2.0]])  # d/dp of ((p-t)^2)/2 = p - t


def test_masked_rmse_metric_accumulates_present_coordinates():
    metric = MaskedRMSE()
    metric.update_state(np.array([[0.0, np.nan]], np.float32), np.array([[3.0, 50.0]], np.float32))
    metric.update_state(np.array([[0.0, 0.0]], np.float32), np.array([[4.0, 0.0]], np.float32))
    np.testing.assert_allclose(float(metric.result()), np.sqrt((9 + 16 + 0) / 3), rtol=1e-6)


def test_rmse_report_per_keypoint():
    true = np.zeros((2, 30))
    pred = np.zeros((2, 30))
    pred[:, 0] = 3.0  # left_eye_center x off by 3
    true[1, 2:4] = np.nan  # one missing right eye centre
    report = training.rmse_report(pred, true)
    assert report["n"] == 2
    np.testing.assert_allclose(report["left_eye_center"], np.sqrt(9 / 2))
    np.testing.assert_allclose(report["right_eye_center"], 0.0)
    np.testing.assert_allclose(report["overall"], np.sqrt(18 / 58))


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_models_follow_the_io_contract(architecture):
    mean = np.tile([[40.0, 50.0]], (15, 1))
    model = build(architecture, mean_shape=mean)
    out = model.predict(np.zeros((2, FRAME_SIZE, FRAME_SIZE, 1), np.float32), verbose=0)
    assert out.shape == (2, 30)
    # an untrained model predicts the mean shape it was given (zero-initialised head)
    np.testing.assert_allclose(out, np.tile(mean.reshape(1, -1), (2, 1)), atol=1e-4)


def shifted_dots(n: int, seed: int = 0) -> LandmarkData:
    """Faces that are a bright blob whose position sets every keypoint: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    images = np.full((n, 96, 96), 20, np.uint8)
    grid = np.array([(x, y) for y in (36, 48, 60) for x in (30, 39, 48, 57, 66)], np.float32)
    shifts = rng.uniform(-12, 12, size=(n, 2)).astype(np.float32)
    for i, (dx, dy) in enumerate(shifts):
        cx, cy = int(48 + dx), int(48 + dy)
        images[i, cy - 18 : cy + 18, cx - 24 : cx + 24] = 220
    kps = grid[None] + shifts[:, None]
    return LandmarkData(
        images,
        kps,
        np.array([str(i) for i in range(n)]),
        np.array([""] * n),
        np.array(["all"] * n),
        context=1.0,
    )


def test_tiny_training_run_learns_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path))
    data = shifted_dots(96)
    config = training.TrainConfig(
        architecture="lmk_tiny",
        epochs=6,
        time_budget_min=None,
        batch_size=16,
        learning_rate=1e-2,
        augment=AugmentConfig(rotation=0, scale=(1, 1), shift=0, flip=0.5, lowres=0),
    )
    result = training.train(data, shifted_dots(32, seed=1), config, log=None)
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 6 and losses[-1] < 0.7 * losses[0]
    assert result.best_val_rmse == min(h["val_rmse"] for h in result.history)
    meta = {
        "model_id": "lmk_test_tiny",
        "task": "landmarks",
        "architecture": "lmk_tiny",
        "params": result.model.count_params(),
        "input_size": 96,
        "trained_on": "generated",
        "split": "none",
        "selected_on": "generated",
        "best_epoch": result.best_epoch,
        "epochs": result.epochs_run,
        "train_seconds": result.seconds,
        "device": "cpu",
        "keras": keras.__version__,
        "backend": "tensorflow",
        "created_at": "2025-01-01T00:00:00",
        "command": "test",
    }
    x, y = shifted_dots(8, seed=2).frame96()
    report = training.rmse_report(training.predict_keypoints(result.model, x), y)
    card.save_model(result.model, tmp_path, meta, {"generated": report}, ["a note"])
    model_store.set_production("landmarks", "lmk_test_tiny", tmp_path)
    (tmp_path / "production.json").write_text(
        json.dumps({**json.loads((tmp_path / "production.json").read_text()), "emotion": "other"})
    )
    model_store.set_production("landmarks", "lmk_test_tiny", tmp_path)
    assert json.loads((tmp_path / "production.json").read_text()) == {
        "emotion": "other",
        "landmarks": "lmk_test_tiny",
    }
    info = model_store.resolve_model(None, "landmarks")
    assert info.model_id == "lmk_test_tiny" and "| **overall** |" in info.card_path.read_text()
    loaded = model_store.load_keras_model(info)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5)
    tta = training.predict_keypoints(loaded, x, flip_tta=True)
    assert tta.shape == (8, 30) and np.isfinite(tta).all()


def test_flip_tta_wrapper_matches_manual_mirroring(tmp_path):
    from faceemo.landmarks.model import with_flip_tta

    rng = np.random.default_rng(0)
    base = build("lmk_tiny", mean_shape=rng.uniform(20, 70, size=(15, 2)))
    for layer in base.layers:  # random weights so the mirrored pass differs from the plain one
        layer.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in layer.get_weights()])
    x = rng.uniform(0, 255, size=(3, FRAME_SIZE, FRAME_SIZE, 1)).astype("float32")
    wrapped = with_flip_tta(base)
    expected = training.predict_keypoints(base, x, flip_tta=True)
    np.testing.assert_allclose(wrapped.predict(x, verbose=0), expected, atol=1e-3)
    wrapped.save(tmp_path / "tta.keras")
    reloaded = keras.models.load_model(tmp_path / "tta.keras", compile=False)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, atol=1e-3)


def test_one_registry_interface_builds_both_tasks():
    from faceemo import model_store
    from faceemo.emotion import ARCHITECTURES as EMOTION_ARCHITECTURES
    from faceemo.errors import ModelError

    assert model_store.architectures("emotion") == EMOTION_ARCHITECTURES
    assert model_store.architectures("landmarks") == tuple(ARCHITECTURES)
    mean = np.tile([[48.0, 40.0]], (15, 1))
    model = model_store.build_architecture("landmarks", "lmk_tiny", mean_shape=mean)
    assert model.output_shape == build("lmk_tiny", mean_shape=mean).output_shape
    for task, name in (("landmarks", "lmk_nope"), ("emotion", "resnet"), ("age", "any")):
        with pytest.raises(ModelError):
            model_store.build_architecture(task, name)
