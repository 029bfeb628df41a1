"""Every registered model: shapes, a tiny real training run, save -> load -> identical predictions;
a learnable tiny set whose loss goes down; float16 storage; clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from faceemo import model_store
from faceemo.emotion import ARCHITECTURES
from faceemo.emotion.augment import augmenter
from faceemo.emotion.models import REGISTRY, build, spec_of
from faceemo.emotion.storage import has_float16_weights, with_dtype
from faceemo.emotion.training import TrainConfig, train
from faceemo.errors import ModelError
from tests.emotion_helpers import drawn_faces

# Keras 3.15 on TensorFlow converts variables with np.array(x) internally (numpy 2 deprecation noise).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


# Small enough for a 2-core CPU: vgg_fer narrowed, xception at its minimum size on a handful of faces.
TINY = {
    "study_cnn": ({}, 1),
    "vgg_fer": ({"width": 4}, 3),
    "xception": ({"image_size": 71}, 1),
}


def test_registry_matches_the_cli_names() -> None:
    assert tuple(REGISTRY) == ARCHITECTURES == tuple(TINY)
    for spec in REGISTRY.values():
        assert spec.input_size == 48 and spec.optimizer in ("sgd", "adam") and spec.learning_rate > 0


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_tiny_training_and_save_load(name: str, tmp_path) -> None:
    options, per_class = TINY[name]
    faces = drawn_faces(per_class)
    val = drawn_faces(1, "PublicTest", seed=7)
    config = TrainConfig(name, epochs=1, batch_size=7, model_options=options, verbose=0)
    result = train(config, faces, val)
    model = result.model
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 7)
    assert len(result.history) == 1 and {"loss", "val_accuracy", "lr"} <= set(result.history[0])
    x = faces.x()[:5]
    probs = np.asarray(model.predict(x, verbose=0))
    assert probs.shape == (5, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    again = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(np.asarray(again.predict(x, verbose=0)), probs, rtol=1e-6, atol=1e-6)


def test_loss_goes_down_on_a_learnable_set() -> None:
    faces = drawn_faces(8)
    config = TrainConfig(
        "vgg_fer",
        epochs=6,
        batch_size=8,
        optimizer="adam",
        learning_rate=3e-3,
        augment=0.0,
        label_smoothing=0.0,
        model_options={"width": 4},
        verbose=0,
    )
    result = train(config, faces, drawn_faces(2, "PublicTest", seed=99))
    losses = [row["loss"] for row in result.history]
    assert losses[-1] < 0.7 * losses[0], losses


def test_time_budget_checkpoint_and_resume(tmp_path) -> None:
    faces, val = drawn_faces(3), drawn_faces(1, "PublicTest", seed=5)
    common = dict(batch_size=7, model_options={"width": 4}, checkpoint_dir=str(tmp_path), verbose=0)
    # a budget far below one epoch: stops after the first epoch, with its checkpoint written
    first = train(TrainConfig("vgg_fer", epochs=50, time_budget_s=1e-3, **common), faces, val)
    assert first.epochs_run == 1 and first.stopped == "time budget"
    assert (tmp_path / "last.keras").exists() and (tmp_path / "state.json").exists()
    second = train(TrainConfig("vgg_fer", epochs=2, resume=True, **common), faces, val)
    assert second.epochs_run == 2 and second.stopped == "epochs"
    assert [row["epoch"] for row in second.history] == [1, 2]  # the first epoch kept, one more run
    assert second.seconds >= first.seconds


def test_batches_full_when_training_padded_when_evaluating() -> None:
    from faceemo.emotion.batches import FaceBatches

    faces = drawn_faces(3)  # 21 faces
    fit = FaceBatches(faces.pixels, faces.labels, 8, shuffle=True, sample_weights=np.ones(7, np.float32) * 2)
    assert len(fit) == 2  # full batches only
    x, y, w = fit[1]
    assert x.shape == (8, 48, 48, 1) and x.dtype == np.float32 and y.shape == (8, 7) and (w == 2).all()
    ev = FaceBatches(faces.pixels, faces.labels, 8, multiple_of=3)
    assert len(ev) == 3
    x, y, w = ev[2]  # 5 faces padded to 6 with one blank, weight 0
    assert x.shape[0] == 6 and w.tolist() == [1, 1, 1, 1, 1, 0] and y[-1].sum() == 0
    seen = np.concatenate([ev[i][1][ev[i][2] > 0].argmax(1) for i in range(len(ev))])
    assert np.array_equal(seen, faces.labels)  # every face once, in order


def test_augmentation_is_identity_at_inference_and_changes_faces_in_training() -> None:
    x = drawn_faces(1).x()
    block = augmenter(seed=1)
    np.testing.assert_array_equal(np.asarray(block(x, training=False)), x)
    out = np.asarray(block(x, training=True))
    assert out.shape == x.shape and not np.array_equal(out, x)
    assert 0 <= out.min() and out.max() <= 255


def test_float16_storage_round_trip(tmp_path, monkeypatch) -> None:
    model = build("vgg_fer", width=16)
    x = drawn_faces(1).x()
    half = with_dtype(model, "float16")
    assert has_float16_weights(half)
    half.save(tmp_path / "m.keras")
    full = tmp_path / "m32.keras"
    model.save(full)
    assert (tmp_path / "m.keras").stat().st_size < 0.7 * full.stat().st_size
    (tmp_path / "m.json").write_text(
        '{"model_id": "m", "task": "emotion", "architecture": "vgg_fer", "params": 1, "input_size": 48}'
    )
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path))
    loaded = model_store.load_keras_model(model_store.resolve_model("m", "emotion"))
    assert not has_float16_weights(loaded)  # computed in float32
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=2e-3)


def test_clear_errors(tmp_path) -> None:
    with pytest.raises(ModelError, match="known: study_cnn"):
        spec_of("resnet")
    with pytest.raises(ModelError, match="no Xception weights file"):
        build("xception", weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ModelError, match="at least 71"):
        build("xception", image_size=48)
    with pytest.raises(ModelError, match="batch_size|batch-size"):
        TrainConfig("vgg_fer", batch_size=0).resolved()
    with pytest.raises(ModelError, match="optimizer"):
        TrainConfig("vgg_fer", optimizer="rmsprop").resolved()
