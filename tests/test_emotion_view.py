"""The Models page through AppTest on generated warehouses: empty, registered-only, and evaluated."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from faceemo import model_store, warehouse
from tests.emotion_helpers import make_models_warehouse
from tests.factories import make_images_warehouse
from tests.pages_helpers import all_text, open_page

# Keras 3.15 on TensorFlow converts variables with np.array(x) internally (numpy 2 deprecation noise).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


PAGE = "models"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A warehouse with one tiny trained model, its history, predictions (plain + TTA) and metrics."""
    root = tmp_path_factory.mktemp("models_view")
    models = root / "models"
    models.mkdir()
    model_id = make_models_warehouse(root / "faceemo.duckdb", models)
    return root / "faceemo.duckdb", models, model_id


@pytest.fixture
def use(monkeypatch):
    def _use(db, models=None):
        monkeypatch.setenv("FACEEMO_DB", str(db))
        if models is not None:
            monkeypatch.setenv("FACEEMO_MODELS", str(models))

    return _use


def _charts(app) -> list:
    return app.get("vega_lite_chart")


def _column_config(frame) -> dict:
    """st.dataframe's column_config as the browser receives it: label -> settings."""
    return {
        settings.get("label", name): settings for name, settings in json.loads(frame.proto.columns).items()
    }


def test_models_without_tta_show_no_blank_column(tmp_path, use, evaluated) -> None:
    db, models, _ = evaluated
    copy = tmp_path / "faceemo.duckdb"
    shutil.copy(db, copy)
    with warehouse.writing(copy) as con:
        for table in ("metrics", "predictions", "evaluations"):
            con.execute(f"DELETE FROM {table} WHERE tta")
    use(copy, models)
    app = open_page(PAGE)
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert "Private acc (TTA)" not in table.columns and not table.isna().any().any()
    assert "python -m pipelines evaluate --tta" in all_text(app)


def test_headline_follows_the_emotion_filter(use, evaluated) -> None:
    db, models, model_id = evaluated
    use(db, models)
    con = warehouse.connect_readonly(db)
    try:
        right, total = con.execute(
            "SELECT count(*) FILTER (WHERE p.label = i.label), count(*) FROM predictions p "
            "JOIN images i USING (image_id) WHERE p.model_id = ? AND NOT p.tta AND i.usage = 'PrivateTest' "
            "AND i.emotion IN ('happy', 'sad')",
            [model_id],
        ).fetchone()
    finally:
        con.close()
    app = open_page(PAGE)
    app.sidebar.multiselect[0].set_value(["happy", "sad"]).run()
    assert not app.exception, app.exception
    headline = {m.label: m.value for m in app.metric}
    assert headline["PrivateTest accuracy (2 of 7 emotions)"] == f"{right / total:.2%}"
    assert headline["Faces (2 of 7 emotions)"] == f"{total:,}"


def test_no_model_says_what_to_run(images_db) -> None:
    app = open_page(PAGE)
    assert not app.exception
    text = all_text(app)
    assert "No emotion model is registered" in text and "python -m pipelines evaluate" in text


def test_registered_but_not_evaluated(db_path, tmp_path, use, evaluated) -> None:
    _, models, model_id = evaluated
    make_images_warehouse(db_path)
    with warehouse.writing(db_path) as con:
        info = model_store.resolve_model(str(models / f"{model_id}.keras"), "emotion")
        model_store.register_model(con, info)
    use(db_path, models)
    app = open_page(PAGE)
    assert not app.exception
    assert f"python -m pipelines evaluate --model {model_id}" in all_text(app)


def test_evaluated_model_page(use, evaluated) -> None:
    db, models, model_id = evaluated
    use(db, models)
    app = open_page(PAGE)
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert table["model"].tolist() == [model_id] and table["architecture"].tolist() == ["vgg_fer"]
    assert not table.isna().any().any(), table  # no blank ("None") cell
    # figures are shown as percentages (54.47%), never as raw shares (0.5447...)
    config = _column_config(app.dataframe[0])
    for column in ("Private acc", "Private F1", "Private acc (TTA)", "Public acc", "Public F1"):
        assert config[column]["type_config"]["format"] == "%.2f%%", config[column]
        assert 0 <= table[column].iloc[0] <= 100
    assert all(isinstance(config[c].get("width"), int | str) for c in table.columns)  # headers not cut
    headline = {m.label: m.value for m in app.metric}
    assert headline["PrivateTest accuracy"].endswith("%") and headline["Faces"].replace(",", "").isdigit()
    # training curves (accuracy, loss), confusion matrix, per-class bars
    assert len(_charts(app)) == 4
    text = all_text(app)
    assert "Confusion matrix — PrivateTest" in text and "Misclassified faces" in text
    # counts instead of shares, the PublicTest split, and TTA
    app.toggle[-1].set_value(False).run()
    app.radio[0].set_value("PublicTest").run()
    app.toggle[0].set_value(True).run()
    assert not app.exception
    assert "Confusion matrix — PublicTest (TTA)" in all_text(app)


def test_shared_emotion_filter_narrows_the_page(use, evaluated) -> None:
    db, models, _ = evaluated
    use(db, models)
    app = open_page(PAGE)
    app.sidebar.multiselect[0].set_value(["happy", "sad"]).run()
    assert not app.exception
    true_box = app.selectbox(key="mis_true")
    assert list(true_box.options) == ["Happy", "Sad"]
    true_box.set_value("sad").run()
    assert not app.exception
    assert list(app.selectbox(key="mis_pred").options) == ["Happy"]
    per_class = app.dataframe[-1].value
    assert per_class["emotion"].tolist() == ["Happy", "Sad"]
    assert os.environ["FACEEMO_DB"] == str(db)
