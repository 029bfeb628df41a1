"""Every registered model: shapes, a tiny real training run, save -> load -> identical predictions;
a learnable tiny set whose loss goes down; float16 storage; clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from faceemo import model_store
from faceemo.emotion import ARCHITECTURES
from faceemo.emotion.augment import Augmentation, augment_faces
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
    "vgg_gap": ({"width": 4}, 3),
    "resnet_fer": ({"width": 4}, 3),
    "xception": ({"image_size": 71}, 1),
}


def test_registry_matches_the_cli_names() -> None:
    assert tuple(REGISTRY) == ARCHITECTURES == tuple(TINY)
    for spec in REGISTRY.values():
        assert spec.input_size == 48 and spec.optimizer in ("sgd", "adam", "adamw") and spec.learning_rate > 0


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


def test_resume_continues_a_cosine_run_exactly(tmp_path) -> None:
    """A resumed run continues the learning-rate schedule and the data stream exactly (dropout masks
    are the one thing drawn afresh)."""
    from faceemo.emotion.batches import FaceBatches

    faces, val = drawn_faces(3), drawn_faces(1, "PublicTest", seed=5)
    common = dict(
        batch_size=7, model_options={"width": 4}, schedule="cosine", warmup_epochs=1, epochs=3, verbose=0
    )
    whole = train(TrainConfig("vgg_gap", **common), faces, val)
    ckpt = tmp_path / "ckpt"
    train(TrainConfig("vgg_gap", time_budget_s=1e-3, checkpoint_dir=str(ckpt), **common), faces, val)
    resumed = train(TrainConfig("vgg_gap", resume=True, checkpoint_dir=str(ckpt), **common), faces, val)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3]
    assert [round(r["lr"], 9) for r in resumed.history] == [round(r["lr"], 9) for r in whole.history]
    assert resumed.history[0]["loss"] == whole.history[0]["loss"]
    # the batches of epoch 2: from a run that went through epoch 1, and from one resumed after it
    went_on = FaceBatches(faces.pixels, faces.labels, 7, shuffle=True, augmentation=Augmentation())
    went_on.on_epoch_end()
    resumed_batches = FaceBatches(
        faces.pixels, faces.labels, 7, shuffle=True, augmentation=Augmentation(), first_epoch=1
    )
    for i in range(len(went_on)):
        np.testing.assert_array_equal(went_on[i][0], resumed_batches[i][0])
        np.testing.assert_array_equal(went_on[i][1], resumed_batches[i][1])


def test_time_budget_checkpoint_and_resume(tmp_path) -> None:
    faces, val = drawn_faces(3), drawn_faces(1, "PublicTest", seed=5)
    common = dict(batch_size=7, model_options={"width": 4}, checkpoint_dir=str(tmp_path), verbose=0)
    # a budget far below one epoch: stops after the first epoch, with its checkpoint written
    first = train(TrainConfig("vgg_fer", epochs=50, time_budget_s=1e-3, **common), faces, val)
    assert first.epochs_run == 1 and first.stopped == "time budget"
    assert (tmp_path / "last.keras").exists() and (tmp_path / "state.json").exists()
    # resumed with the same tiny budget: its one remaining epoch runs, and it ends on its epochs
    second = train(TrainConfig("vgg_fer", epochs=2, time_budget_s=1e-3, resume=True, **common), faces, val)
    assert second.epochs_run == 2 and second.stopped == "epochs"
    assert [row["epoch"] for row in second.history] == [1, 2]  # the first epoch kept, one more run
    assert second.seconds >= first.seconds


def test_init_from_starts_a_new_cycle_from_trained_weights(tmp_path) -> None:
    faces, val = drawn_faces(3), drawn_faces(1, "PublicTest", seed=5)
    common = dict(batch_size=7, model_options={"width": 4}, verbose=0)
    source = train(TrainConfig("vgg_gap", epochs=1, **common), faces, val).model
    source.save(tmp_path / "first.keras")
    # a learning rate of ~0: the second cycle's trained weights must end where the first one's did
    # (batch-norm statistics still move, they are not trained)
    config = TrainConfig(
        "vgg_gap", epochs=1, learning_rate=1e-12, optimizer="adam", init_from=str(tmp_path / "first.keras"),
        augment=0, **common,
    )
    again = train(config, faces, val).model
    for a, b in zip(source.trainable_weights, again.trainable_weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    fresh = build("vgg_gap", width=4)
    assert any(
        not np.allclose(np.asarray(a), np.asarray(b))
        for a, b in zip(fresh.trainable_weights, again.trainable_weights, strict=True)
    )
    # another architecture's weights, or no file at all: a clear error
    with pytest.raises(ModelError, match="do not match"):
        train(TrainConfig("vgg_gap", epochs=1, init_from=str(tmp_path / "first.keras"),
                          **{**common, "model_options": {"width": 8}}), faces, val)
    with pytest.raises(ModelError, match="no such model file"):
        train(TrainConfig("vgg_gap", epochs=1, init_from=str(tmp_path / "nope.keras"), **common), faces, val)


def test_card_of_a_third_cycle_lists_every_earlier_command_oldest_first() -> None:
    import json

    from faceemo.emotion.card import model_card
    from faceemo.paths import models_dir

    meta = json.loads((models_dir() / "emotion_vgg_gap_r2.json").read_text())  # a real card's fields
    meta["init_from"] = {
        "model_id": "second", "epochs": 3, "train_seconds": 120.0, "command": "cmd-second",
        "init_from": {"model_id": "first", "epochs": 2, "train_seconds": 60.0, "command": "cmd-first"},
    }
    card = model_card(meta)
    assert "the weights of `second` (2 earlier cycles: 5 epochs, 3.0 min)" in card
    lines = card.splitlines()
    order = [lines.index(x) for x in ("# cycle 1 (first)", "cmd-first", "# cycle 2 (second)", "cmd-second",
                                      "# this cycle (cycle 3)")]
    assert order == sorted(order)
    assert lines[order[-1] + 1] == meta["command"]


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


def test_augmentation_changes_faces_reproducibly_and_strength_zero_is_identity() -> None:
    faces = drawn_faces(2).pixels
    aug = Augmentation()
    out = augment_faces(faces, np.random.default_rng(1), aug)
    assert out.shape == faces.shape and out.dtype == np.uint8
    assert all(not np.array_equal(a, b) for a, b in zip(out, faces, strict=True))
    np.testing.assert_array_equal(augment_faces(faces, np.random.default_rng(1), aug), out)
    assert not np.array_equal(augment_faces(faces, np.random.default_rng(2), aug), out)
    np.testing.assert_array_equal(augment_faces(faces, np.random.default_rng(1), aug.scaled(0)), faces)
    # mild: an augmented face still looks like its source (correlation well above chance)
    r = np.corrcoef(out.reshape(len(out), -1).astype(float), faces.reshape(len(faces), -1).astype(float))
    assert np.median(np.diag(r[: len(out), len(out) :])) > 0.5


def test_augmented_batches_are_the_same_whatever_order_they_are_served_in() -> None:
    from faceemo.emotion.batches import FaceBatches

    faces = drawn_faces(3)
    a = FaceBatches(faces.pixels, faces.labels, 7, shuffle=True, seed=3, augmentation=Augmentation())
    b = FaceBatches(faces.pixels, faces.labels, 7, shuffle=True, seed=3, augmentation=Augmentation())
    np.testing.assert_array_equal(a[2][0], b[2][0])
    np.testing.assert_array_equal(a[0][0], b[0][0])  # b served batch 2 first: same faces
    a.on_epoch_end()
    assert not np.array_equal(a[0][0], b[0][0])  # a new epoch draws new augmentations


def test_cosine_schedule_warms_up_then_decays() -> None:
    from faceemo.emotion.training import learning_rate

    config = TrainConfig(
        "vgg_gap", epochs=10, learning_rate=1e-3, schedule="cosine", warmup_epochs=2
    ).resolved()
    schedule = learning_rate(config, steps_per_epoch=100)
    lrs = [float(schedule(step)) for step in (0, 100, 200, 600, 999)]
    assert lrs[0] == pytest.approx(1e-4, rel=1e-3) and lrs[2] == pytest.approx(1e-3, rel=1e-3)
    assert lrs[0] < lrs[1] < lrs[2] > lrs[3] > lrs[4] and lrs[4] < 2e-5
    assert config.optimizer == "adamw" and config.weight_decay == 0.05


def test_the_net_can_memorise_a_few_hundred_real_faces() -> None:
    """The classic check: without augmentation or regularisation, the production architecture
    (narrowed) must fit a few hundred real FER-2013 faces almost perfectly in a minute. If it cannot,
    the model, the loss or the input pipeline is broken (as the flatten-head vgg_fer's stall was)."""
    import zipfile

    from faceemo.emotion.data import Faces
    from faceemo.labels import label_of
    from tests.conftest import FER_ARCHIVE, require_file
    from tests.predict_helpers import fer_face

    with zipfile.ZipFile(require_file(FER_ARCHIVE)) as zf:
        members = sorted(n for n in zf.namelist() if n.startswith("train/") and n.endswith(".jpg"))
    chosen = np.random.default_rng(0).choice(members, 280, replace=False)
    n = len(chosen)
    train_faces = Faces(
        pixels=np.stack([fer_face(FER_ARCHIVE, m) for m in chosen]),
        labels=np.array([label_of(m.split("/")[1]) for m in chosen], np.uint8),
        usage=np.zeros(n, np.uint8),
        image_id=np.arange(n, dtype=np.int32),
        flags=np.zeros(n, np.uint8),
    )
    config = TrainConfig(
        "vgg_gap",
        epochs=40,
        batch_size=32,
        learning_rate=3e-3,
        schedule="cosine",
        warmup_epochs=1,
        weight_decay=0.0,
        label_smoothing=0.0,
        augment=0.0,
        model_options={"width": 8, "dropout": 0.0},
        verbose=0,
    )
    result = train(config, train_faces, None)
    assert result.history[0]["accuracy"] < 0.5  # it did not know them before
    assert max(row["accuracy"] for row in result.history[-3:]) > 0.95, result.history[-1]


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


def test_tta_views_are_the_ten_crops_a_centre_cropping_model_sees() -> None:
    from faceemo.emotion.inference import TTA_SHIFT, _tta_views, predict_proba

    x = np.random.default_rng(0).uniform(0, 255, (3, 48, 48, 1)).astype(np.float32)
    views = _tta_views(x)
    assert len(views) == 10 and all(v.shape == x.shape for v in views)
    s, lo, hi = TTA_SHIFT, 4, 44  # the model's centre 40 px
    np.testing.assert_array_equal(views[0], x)
    np.testing.assert_array_equal(views[1][:, lo:hi, lo:hi], x[:, lo - s : hi - s, lo - s : hi - s])
    np.testing.assert_array_equal(views[4][:, lo:hi, lo:hi], x[:, lo + s : hi + s, lo + s : hi + s])
    np.testing.assert_array_equal(views[5], x[:, :, ::-1])
    probs = predict_proba(build("vgg_gap", width=4), x, tta=True)
    assert probs.shape == (3, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_the_warp_is_opencvs_affine_warp() -> None:
    """Our numpy warp (pack runs need no OpenCV) resamples like cv2.warpAffine, reflect-101 edges."""
    import cv2

    from faceemo.emotion.augment import _warp

    faces = drawn_faces(1).pixels
    out = _warp(
        faces, np.radians(np.full(len(faces), 12.0)), np.full(len(faces), 0.9), np.tile([3.0, -2.0], (7, 1))
    )
    for face, ours in zip(faces, out, strict=True):
        m = cv2.getRotationMatrix2D((23.5, 23.5), 12.0, 0.9)
        m[:, 2] += [3.0, -2.0]
        ref = cv2.warpAffine(face, m, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        diff = np.abs(ref.astype(int) - ours)
        assert diff.max() <= 4 and diff.mean() < 1.0  # OpenCV interpolates in fixed point
