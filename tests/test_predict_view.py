"""The Predict page through AppTest: uploads (good, faceless, bad), missing models, samples, model choice."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import FER_ARCHIVE, require_file
from tests.pages_helpers import all_text, open_page
from tests.predict_helpers import (
    FER_HAPPY_FACES,
    face_on_canvas,
    fer_face,
    png_header_only,
)

PAGE = "predict"


def _png(image) -> bytes:
    buffer = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def face_png() -> bytes:
    canvas, _ = face_on_canvas(fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0]))
    return _png(canvas)


def _image_captions(app) -> list[str]:
    return [caption for element in app.get("image") for caption in element.captions]


def _charts(app) -> list:
    return app.get("vega_lite_chart")


def test_upload_good_faceless_and_bad_files(db_path, models_env, face_png):
    models_env("both")
    app = open_page(PAGE)
    assert not app.exception
    blank = _png(Image.new("L", (300, 200), 128))
    app.file_uploader(key="predict_upload").set_value(
        [
            ("face.png", face_png, "image/png"),
            ("broken.jpg", b"this is text", "image/jpeg"),
            ("blank.png", blank, "image/png"),
            ("empty.png", b"", "image/png"),
            ("bomb.png", png_header_only(100_000, 100_000), "image/png"),
            ("banner.png", _png(Image.new("L", (2000, 50), 128)), "image/png"),
        ]
    ).run()
    assert not app.exception, app.exception
    errors = [e.value for e in app.error]
    assert any("broken.jpg" in e and "not an image" in e for e in errors), errors
    assert any("empty.png" in e and "empty" in e for e in errors), errors
    assert any("bomb.png" in e and "decompression bomb" in e for e in errors), errors
    assert any("banner.png" in e and "aspect ratio" in e for e in errors), errors
    assert [h.value for h in app.subheader][:2] == ["face.png", "blank.png"]
    assert len(_charts(app)) == 1  # one face -> one probabilities chart
    assert any("No face found in **blank.png**" in w.value for w in app.warning)
    downloads = app.get("download_button")
    assert len(downloads) == 2  # CSV and JSON of the one face

    # the whole-image option turns the faceless photo into a face
    app.checkbox(key="predict_whole_image").check().run()
    assert not app.exception, app.exception
    assert len(_charts(app)) == 2
    assert "The whole image was treated as one face." in all_text(app)


def test_the_same_photo_twice_is_shown_once(db_path, models_env, face_png):
    models_env("both")
    app = open_page(PAGE)
    uploader = app.file_uploader(key="predict_upload")
    uploader.set_value([("face.png", face_png, "image/png"), ("face.png", face_png, "image/png"),
                        ("copy.png", face_png, "image/png")]).run()
    assert not app.exception, app.exception
    assert [h.value for h in app.subheader].count("face.png") == 1 and "copy.png" not in app.subheader
    assert len(_charts(app)) == 1
    assert any("**copy.png** is the same file" in c.value for c in app.caption)
    app.checkbox(key="predict_whole_image").check().run()  # a rerun lists it once still
    assert [h.value for h in app.subheader].count("face.png") == 1


def test_no_model_says_how_to_train(db_path, models_env):
    models_env("none")
    app = open_page(PAGE)
    assert not app.exception, app.exception
    text = all_text(app)
    assert "python -m pipelines train-emotion" in text and "python -m pipelines train-landmarks" in text
    assert not app.file_uploader  # stopped before offering an upload


def test_one_missing_model_is_named(db_path, models_env, face_png):
    models_env("emotion")
    app = open_page(PAGE)
    assert any("No landmarks model" in w.value and "train-landmarks" in w.value for w in app.warning)
    app.file_uploader(key="predict_upload").set_value(("face.png", face_png, "image/png")).run()
    assert not app.exception, app.exception
    assert len(_charts(app)) == 1
    captions = [c for element in app.get("image") for c in element.captions]
    assert any("no landmark model" in caption for caption in captions), captions


def test_sample_face_from_the_warehouse(images_db, models_env):
    models_env("both")
    app = open_page(PAGE)
    app.radio(key="predict_source").set_value("Sample face from the warehouse").run()
    assert not app.exception, app.exception
    picker = app.selectbox(key="predict_sample")
    assert len(picker.options) == 7 * 5  # five per emotion, blank frames left out
    assert picker.value is not None and str(picker.format_func(picker.value)).startswith("Happy")
    assert "labelled" in all_text(app) and len(_charts(app)) == 1
    # the sidebar filter narrows the samples
    app.multiselect(key="emotion_filter").set_value(["sad"]).run()
    assert all(option.startswith("Sad") for option in app.selectbox(key="predict_sample").options)


def test_sample_path_without_warehouse(db_path, models_env):
    models_env("both")
    app = open_page(PAGE)
    app.radio(key="predict_source").set_value("Sample face from the warehouse").run()
    assert not app.exception
    assert "pipelines ingest" in all_text(app)


def test_several_models_offer_a_choice(db_path, models_env, face_png):
    models_env("several")
    app = open_page(PAGE)
    picker = app.selectbox(key="predict_model_emotion")
    assert picker.value == "tiny_emotion" and "tiny_emotion_b" in picker.options
    picker.set_value("tiny_emotion_b").run()
    app.file_uploader(key="predict_upload").set_value(("face.png", face_png, "image/png")).run()
    assert not app.exception, app.exception
    assert len(_charts(app)) == 1


def test_camera_snapshot_gradcam_and_detector_choice(db_path, models_env, face_png):
    """Issue 11: a camera snapshot goes through the same pipeline; the Grad-CAM toggle adds a heatmap per
    face; the Haar detector stays one choice away."""
    models_env("both")
    app = open_page(PAGE)
    app.radio(key="predict_source").set_value("Camera snapshot").run()
    assert not app.exception, app.exception
    assert "take a snapshot" in all_text(app)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(face_png)).convert("RGB").save(jpeg, "JPEG", quality=92)
    app.camera_input[0].set_value(("snapshot.jpg", jpeg.getvalue(), "image/jpeg")).run()
    assert not app.exception, app.exception
    assert len(_charts(app)) == 1
    captions = _image_captions(app)
    assert not any("Grad-CAM" in c for c in captions), captions
    app.toggle(key="predict_saliency").set_value(True).run()
    assert not app.exception, app.exception
    assert any("Grad-CAM" in c for c in _image_captions(app)), _image_captions(app)
    app.selectbox(key="predict_detector").set_value("haar").run()
    assert not app.exception, app.exception
    assert len(_charts(app)) == 1
    camera_help = app.camera_input[0]
    camera_help.set_value(("bad.jpg", b"not a photo", "image/jpeg")).run()
    assert not app.exception, app.exception
    assert any("not an image" in e.value for e in app.error)


def test_face_check_reaches_the_detector(db_path, models_env, face_png, monkeypatch):
    """Issue 11: the page's face check box (on by default) runs YuNet's face check; unticked, it does not;
    it is greyed out for a detector without one. The check is forced to reject every box, so the face goes
    with it."""
    import streamlit as st

    from faceemo import detectors

    st.cache_data.clear()  # earlier tests' analyses of the same photo, with the check, are cached
    checked = []
    monkeypatch.setattr(detectors, "SECOND_LOOK_SKIP", 101.0)  # every box gets the check
    monkeypatch.setattr(detectors, "dlib_check", lambda gray, d: checked.append(d) and False)
    models_env("both")
    app = open_page(PAGE)
    box = app.checkbox(key="predict_face_check")
    assert box.value is True and not box.disabled
    app.file_uploader(key="predict_upload").set_value(("face.png", face_png, "image/png")).run()
    assert not app.exception, app.exception
    assert checked and not _charts(app)
    assert any("No face found in **face.png**" in w.value for w in app.warning)
    checked.clear()
    app.checkbox(key="predict_face_check").uncheck().run()
    assert not app.exception, app.exception
    assert len(_charts(app)) == 1 and not checked
    app.selectbox(key="predict_detector").set_value("haar").run()
    assert app.checkbox(key="predict_face_check").disabled
    assert len(_charts(app)) == 1
