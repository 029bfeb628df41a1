"""The Models page through AppTest on generated warehouses: empty, registered-only, and evaluated."""

from __future__ import annotations

import os

import pytest

from faceemo import model_store, warehouse
from tests.emotion_helpers import make_models_warehouse
from tests.factories import make_images_warehouse
from tests.pages_helpers import all_text, open_page

# Keras 3.15 on TensorFlow converts variables with np.array(x) internally (numpy 2 deprecation noise).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


PAGE = "views/models.py"


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
    assert 0 <= table["PrivateTest acc"].iloc[0] <= 1
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
