"""The Landmarks and Distances pages through AppTest on a generated warehouse with landmarks."""

from __future__ import annotations

import pytest

from tests.landmark_factories import add_landmarks, write_production
from tests.pages_helpers import all_text, open_page


@pytest.fixture
def landmarks_db(images_db, tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path))
    write_production(tmp_path, "lmk_test")
    add_landmarks(images_db, "lmk_other", seed=1)
    return add_landmarks(images_db, "lmk_test")


def charts(app) -> list:
    return app.get("vega_lite_chart")


def test_pages_say_how_to_fill_landmarks(images_db, tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path))
    for page in ("landmarks", "distances"):
        app = open_page(page)
        assert not app.exception, app.exception
        text = all_text(app)
        assert "No landmarks" in text and "python -m pipelines landmarks" in text


def test_landmarks_page(landmarks_db):
    app = open_page("landmarks")
    assert not app.exception, app.exception
    assert app.sidebar.selectbox(key="landmark_model").value == "lmk_test"  # the production model first
    assert len(charts(app)) >= 4  # per emotion, all emotions, one keypoint, the browsed face
    assert app.dataframe, "the statistics table"
    # The interquartile envelope by default (a few outliers stretch min–max over the whole face).
    assert app.radio(key="landmarks_envelope").value.startswith("interquartile")
    assert '"q25_x' in charts(app)[0].spec and '"min_x' not in charts(app)[0].spec
    # Another emotion over one chosen face, the study's min–max envelope, another keypoint, magnified overlay.
    app.selectbox(key="landmarks_emotion").set_value("surprise").run()
    app.radio(key="landmarks_bg").set_value("one face").run()
    app.radio(key="landmarks_envelope").set_value("min–max (as the study)").run()
    assert '"min_x' in charts(app)[0].spec
    app.selectbox(key="landmarks_kp").set_value("mouth_center_bottom_lip").run()
    app.slider(key="landmarks_magnify").set_value(5).run()
    assert not app.exception, app.exception
    assert "Differences magnified ×5" in all_text(app)
    # The usage filter narrows every table; an empty choice asks for one.
    app.multiselect(key="landmarks_usage").set_value(["PrivateTest"]).run()
    assert not app.exception, app.exception
    app.multiselect(key="landmarks_usage").set_value([]).run()
    assert "Choose at least one" in all_text(app)


def test_landmarks_page_follows_the_sidebar_emotions(landmarks_db):
    app = open_page("landmarks")
    app.sidebar.multiselect(key="emotion_filter").set_value(["happy", "sad"]).run()
    assert not app.exception, app.exception
    assert app.selectbox(key="landmarks_emotion").options == ["Happy", "Sad"]


def test_distances_page(landmarks_db):
    app = open_page("distances")
    assert not app.exception, app.exception
    text = all_text(app)
    assert "Do the emotions differ?" in text and "The study's findings, checked" in text
    # the generated faces open the mouth for surprise and close it for happy (tests/landmark_factories.py)
    # one line per finding, verdict first, with its numbers; the per-scale details in an expander
    findings = next(m.value for m in app.markdown if "nose–mouth is largest for *Surprise*" in m.value)
    lines = findings.splitlines()
    assert len(lines) == 4 and all(line.startswith("- :") for line in lines), lines
    surprise = next(line for line in lines if "largest for *Surprise*" in line)
    assert surprise.startswith("- :green[**Agrees**]"), surprise
    assert " px" in surprise and "% of the resamples" in surprise
    assert "Details: every scale, and what the verdicts can and cannot say" in [e.label for e in app.expander]
    assert "largest: ours is *Surprise* → **agrees" in text  # the details are still there
    assert len(charts(app)) == 4 and len(app.dataframe) == 2
    app.radio(key="distances_scale").set_value("_iod").run()
    assert not app.exception, app.exception
    app.sidebar.multiselect(key="emotion_filter").set_value(["happy"]).run()
    assert "Select at least two emotions" in all_text(app)


def test_browsed_face_draws_points_where_the_model_put_them(landmarks_db):
    from faceemo import warehouse

    with warehouse.writing(landmarks_db) as con:  # the first face's nose tip predicted left of the frame
        first = con.execute("SELECT min(image_id) FROM landmarks WHERE model_id = 'lmk_test'").fetchone()[0]
        con.execute(
            "UPDATE landmarks SET nose_tip_x = -12 WHERE model_id = 'lmk_test' AND image_id = ?", [first]
        )
    app = open_page("landmarks")
    assert not app.exception, app.exception
    assert app.selectbox(key="landmarks_face").value == first
    captions = [c.value for c in app.caption]
    assert any("Outside the frame, not drawn: nose tip." in c for c in captions), captions
    # points and lines are clipped, never clamped onto the frame's edge (on the face)
    browsed = charts(app)[-1].spec
    assert '"clip": true' in browsed.replace('"clip":true', '"clip": true')
