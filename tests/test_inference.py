"""The one inference function, with tiny real Keras models that follow the model I/O contract."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import faceemo
from faceemo import inference
from faceemo.errors import ModelError
from faceemo.images import ImageError
from faceemo.keypoints import KEYPOINTS
from faceemo.labels import EMOTIONS
from tests.conftest import FER_ARCHIVE, require_file
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face, save_model


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, tuple[int, int, int]]:
    """A 640x480 photo with one real FER-2013 face, and where the face is (x, y, side)."""
    return face_on_canvas(fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0]))


def test_analyze_a_photo(models_env, photo):
    models_env("both")
    canvas, (x, y, side) = photo
    timings = inference.Timings()
    (face,) = faceemo.analyze(canvas, timings=timings)
    assert list(face.probabilities) == list(EMOTIONS)
    assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert face.emotion == max(face.probabilities, key=face.probabilities.get)
    assert face.confidence == face.probabilities[face.emotion]
    assert face.crop48.shape == (48, 48) and face.crop96.shape == (96, 96) and face.crop48.dtype == np.uint8
    assert face.landmarks_96.shape == (15, 2)
    assert list(face.landmarks) == list(KEYPOINTS)
    # the tiny landmark model starts at a mean face: its points land inside the detected face's frame
    points = face.landmarks_image
    assert np.allclose(points, face.frame.to_image(face.landmarks_96, 96))
    assert (points[:, 0] > x).all() and (points[:, 0] < x + side).all()
    assert (points[:, 1] > y).all() and (points[:, 1] < y + side).all()
    row = face.to_row()
    assert tuple(row) == inference.ROW_COLUMNS
    assert row["emotion_model"] == "tiny_emotion" and row["landmark_model"] == "tiny_landmarks"
    assert timings.images == 1 and timings.faces == 1
    assert min(timings.decode, timings.detect, timings.classify, timings.landmarks) > 0


def test_no_face_and_the_whole_image_fallback(models_env):
    models_env("both")
    blank = np.full((120, 200), 100, np.uint8)
    assert faceemo.analyze(blank) == []
    (face,) = faceemo.analyze(blank, whole_image_if_no_face=True)
    assert face.whole_image and tuple(face.box) == (0, 0, 200, 120)
    assert face.frame.side == 200 and face.probabilities is not None


def test_a_cropped_face_skips_detection(models_env):
    models_env("both")
    (face,) = faceemo.analyze(np.full((48, 48), 90, np.uint8), whole_image=True)
    assert face.whole_image and (face.crop48 == 90).all()


def test_batched_equals_one_at_a_time(models_env, photo):
    models_env("both")
    canvas = photo[0]
    models = inference.load_models()
    sources = [canvas, np.full((100, 100), 5, np.uint8), canvas[:, ::-1].copy()]
    prepared = [inference.prepare(s, f"p{i}") for i, s in enumerate(sources)]
    batched = inference.predict_faces(prepared, models, batch_size=2)
    assert [len(r) for r in batched] == [1, 0, 1]
    single = faceemo.analyze(sources[2], models=models)
    assert np.allclose(list(batched[2][0].probabilities.values()), list(single[0].probabilities.values()),
                       atol=1e-5)
    assert np.allclose(batched[2][0].landmarks_96, single[0].landmarks_96, atol=1e-3)
    assert batched[2][0].file == "p2"


def test_bad_image_is_an_image_error(models_env):
    models_env("both")
    with pytest.raises(ImageError, match="not an image"):
        faceemo.analyze(b"hello", name="x.txt")


def test_one_missing_model_is_tolerated_and_named(models_env, photo):
    models_env("emotion")
    models = inference.load_models()
    assert models.emotion is not None and models.landmarks is None
    (notice,) = models.notices()
    assert "landmarks" in notice and "python -m pipelines train-landmarks" in notice
    (face,) = faceemo.analyze(photo[0], models=models)
    assert face.probabilities is not None and face.landmarks is None
    row = face.to_row()
    assert row["nose_tip_x"] is None and row["landmark_model"] is None


def test_no_model_at_all_says_how_to_train(models_env):
    models_env("none")
    with pytest.raises(ModelError, match="train-emotion.*train-landmarks"):
        inference.load_models()


def test_a_named_model_must_exist(models_env):
    models_env("both")
    with pytest.raises(ModelError, match="no emotion model 'nope'"):
        inference.load_models("nope")


def test_a_model_breaking_the_contract_is_refused(tmp_path, monkeypatch):
    import keras

    inputs = keras.Input((64, 64, 1))
    wrong = keras.Model(inputs, keras.layers.Dense(7)(keras.layers.Flatten()(inputs)))
    save_model(wrong, tmp_path, "wrong", "emotion", 64)
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path))
    with pytest.raises(ModelError, match=r"must take \(N, 48, 48, 1\)"):
        inference.load_models("wrong")


def test_importing_faceemo_stays_light():
    code = (
        "import sys, faceemo; "
        "heavy = [m for m in ('tensorflow', 'keras', 'cv2', 'streamlit') if m in sys.modules]; "
        "print(heavy); assert callable(faceemo.analyze)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
