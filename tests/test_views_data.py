"""The Overview, Class balance and Data quality pages through AppTest: on a generated warehouse, an
empty one, and the real FER-2013 one; chart data equals the warehouse; the emotion filter applies."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df as arrow_to_frame
from streamlit.testing.v1 import AppTest

from faceemo import warehouse
from faceemo.ingest import ingest
from faceemo.labels import EMOTIONS
from tests.archive_factories import fer_files, write_zip
from tests.pages_helpers import all_text, open_page
from tests.test_ingest import README_COUNTS

DATA_PAGES = ("overview", "class_balance", "data_quality")


def chart_frames(app: AppTest) -> list[pd.DataFrame]:
    """The data behind every Vega-Lite (Altair) chart on the page."""
    frames = []
    for chart in app.get("vega_lite_chart"):
        proto = chart.proto
        for dataset in proto.datasets:
            frames.append(arrow_to_frame(dataset.data.data))
        if proto.data.data:
            frames.append(arrow_to_frame(proto.data.data))
    return frames


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def set_filter(app: AppTest, emotions: list[str]) -> AppTest:
    app.multiselect(key="emotion_filter").set_value(emotions).run()
    return app


@pytest.mark.parametrize("page", DATA_PAGES)
def test_empty_or_missing_warehouse_shows_the_fill_command(db_path, page):
    app = open_page(page)  # no file at all
    assert not app.exception
    assert "python -m pipelines ingest" in all_text(app)
    with warehouse.writing(db_path):
        pass  # a warehouse with the schema but no faces
    app = open_page(page)
    assert not app.exception
    assert "no faces yet" in all_text(app) and "python -m pipelines ingest" in all_text(app)


@pytest.mark.parametrize("page", DATA_PAGES)
def test_pages_render_on_the_generated_warehouse(images_db, page):
    app = open_page(page)
    assert not app.exception, app.exception
    assert not app.warning


def test_overview_says_what_is_loaded_and_lists_skipped_files(tmp_path, db_path):
    files = fer_files(per_class=1)
    files["test/happy/PublicTest_broken.jpg"] = b"garbage"
    result = ingest(write_zip(tmp_path / "fer2013.zip", files), db=db_path)
    app = open_page("overview")
    assert not app.exception
    text = all_text(app)
    assert result.sha256 in text and str(tmp_path / "fer2013.zip") in text and str(db_path) in text
    assert metric(app, "Faces") == "14" and metric(app, "Training") == "7"
    assert metric(app, "Skipped files") == "1"
    assert "1 files could not be read" in app.warning[0].value
    skipped = [df.value for df in app.dataframe if "reason" in df.value.columns][0]
    assert list(skipped["file"]) == ["test/happy/PublicTest_broken.jpg"]


def test_class_balance_chart_and_table_equal_the_warehouse(images_db):
    con = warehouse.connect_readonly(images_db)
    truth = con.execute("SELECT usage, emotion, count(*) AS n FROM images GROUP BY ALL").df()
    app = open_page("class_balance")
    assert not app.exception
    frames = chart_frames(app)
    assert len(frames) == 2  # counts and percent
    for chart in app.get("vega_lite_chart"):  # faceted by usage, the data on the facet (not the layers)
        spec = json.loads(chart.proto.spec)
        assert spec["facet"]["column"]["field"] == "usage"
        assert all("data" not in layer for layer in spec["spec"]["layer"])
    for frame in frames:
        got = frame.set_index(["usage", "emotion"])["images"].sort_index()
        want = truth.set_index(["usage", "emotion"])["n"].sort_index()
        assert got.to_dict() == want.to_dict()
        shares = frame.groupby("usage")["percent"].sum()
        assert shares.round(6).eq(100).all()
    table = app.dataframe[0].value.set_index("usage / split")
    for usage, n in truth.groupby("usage")["n"].sum().items():
        assert table.loc[usage, "total"] == n
    assert table.loc["test (folder)", "total"] == truth[truth.usage != "Training"]["n"].sum()


def test_class_balance_follows_the_emotion_filter_and_redraws_samples(images_db):
    app = open_page("class_balance")
    before = [c for image in app.image for c in image.captions]
    assert len(before) == 7 * 8
    app.button(key="balance_redraw").click().run()
    after = [c for image in app.image for c in image.captions]
    assert app.number_input(key="balance_seed").value == 1 and sorted(after) != sorted(before)

    set_filter(app, ["happy", "sad"])
    assert not app.exception
    for frame in chart_frames(app):
        assert set(frame["emotion"]) == {"happy", "sad"}
    table = app.dataframe[0].value
    assert [c for c in table.columns if c in EMOTIONS] == ["happy", "sad"]
    assert len([c for image in app.image for c in image.captions]) == 2 * 8
    assert "**Angry**" not in all_text(app) and "**Happy**" in all_text(app)

    set_filter(app, [])
    assert "Choose at least one emotion" in all_text(app)


def test_data_quality_counts_and_filter_on_the_generated_warehouse(images_db):
    app = open_page("data_quality")
    assert not app.exception
    # the factory's warehouse: one cross-split pair (angry Training / happy PublicTest) and one blank
    assert metric(app, "Duplicate groups") == "1" and metric(app, "Across train/test") == "1"
    assert metric(app, "Conflicting labels") == "1" and metric(app, "Blank images") == "1"
    members = [df.value for df in app.dataframe if "source_file" in df.value.columns][0]
    assert sorted(members["emotion"]) == ["angry", "happy"]
    set_filter(app, ["sad", "neutral"])
    assert metric(app, "Duplicate groups") == "0" and metric(app, "Blank images") == "1"
    assert "No duplicate group" in all_text(app)
    set_filter(app, ["sad"])
    assert metric(app, "Blank images") == "0"


# --- the real warehouse ----------------------------------------------------------------------------


@pytest.fixture
def fer_env(fer_db, monkeypatch):
    monkeypatch.setenv("FACEEMO_DB", str(fer_db))
    return fer_db


def test_class_balance_on_fer2013_equals_the_data_readme(fer_env):
    app = open_page("class_balance")
    assert not app.exception
    table = app.dataframe[0].value.set_index("usage / split")
    for usage, numbers in README_COUNTS.items():
        assert list(table.loc[usage, list(EMOTIONS)]) == numbers
    assert table.loc["train (folder)", "total"] == 28709 and table.loc["test (folder)", "total"] == 7178
    counts = chart_frames(app)[0].set_index(["usage", "emotion"])["images"]
    assert counts[("Training", "disgust")] == 436 and counts.sum() == 35887


def test_data_quality_on_fer2013_shows_the_known_problems(fer_env):
    app = open_page("data_quality")
    assert not app.exception
    assert metric(app, "Duplicate groups") == "1,516" and metric(app, "Files in them") == "3,369"
    assert metric(app, "Across train/test") == "531" and metric(app, "Conflicting labels") == "57"
    assert metric(app, "Blank images") == "12"
    text = all_text(app)
    assert "**2 file names**" in text and "**12 images**" in text
    collisions = [df.value for df in app.dataframe if "file_name" in df.value.columns
                  and "sha256" in df.value.columns and "label" in df.value.columns][-1]
    assert set(collisions["file_name"]) == {"Training_8475486.jpg", "Training_52789098.jpg"}
    # the page leads with the findings: leakage across train/test and conflicting labels, one line each
    assert "**531 groups of identical faces cross train/test:**" in text
    assert "**57 groups carry conflicting labels:**" in text
    assert app.radio(key="quality_kind").value == "cross"
    groups = [df.value for df in app.dataframe if "members" in df.value.columns][0]
    assert not groups["blank"].iloc[:24].any()  # real faces first, not 24 black frames
    assert "Show the 12 blank images" in [e.label for e in app.expander]  # blanks one click away
    app.radio(key="quality_kind").set_value("conflict").run()
    assert "**57 groups**" in all_text(app)


def test_overview_on_fer2013(fer_env):
    app = open_page("overview")
    assert not app.exception
    assert metric(app, "Faces") == "35,887" and metric(app, "PrivateTest") == "3,589"
    assert "18b836746e820e4407c22cc447d98809391d6383b75c8a38045e6af82ac74b91" in all_text(app)
    tables = json.dumps([list(df.value.columns) for df in app.dataframe])
    assert "rows" in tables


def test_open_dashboard_sees_a_new_ingest_on_its_next_rerun(tmp_path, db_path):
    ingest(write_zip(tmp_path / "a.zip", fer_files(per_class=1)), db=db_path)
    app = open_page("overview")
    assert metric(app, "Faces") == "14"
    # a pipeline publishes a new warehouse while the page is open
    ingest(write_zip(tmp_path / "b.zip", fer_files(per_class=3)), db=db_path)
    app.run()
    assert not app.exception and metric(app, "Faces") == "42"


def test_several_data_sets_get_a_selector(tmp_path, db_path):
    ingest(write_zip(tmp_path / "a.zip", fer_files(per_class=1)), db=db_path)
    ingest(write_zip(tmp_path / "m.zip", fer_files(splits=("train", "valid", "test"), per_class=2)),
           db=db_path, dataset="mma")
    app = open_page("class_balance")
    assert app.selectbox(key="balance_dataset").value == "fer2013"
    assert app.dataframe[0].value["total"].iloc[0] == 7
    app.selectbox(key="balance_dataset").set_value("mma").run()
    table = app.dataframe[0].value.set_index("usage / split")
    assert table.loc["valid (folder)", "total"] == 14 and table.loc["Training", "total"] == 14
    overview = open_page("overview")
    assert [h.value for h in overview.header][:2] == ["Data set `fer2013`", "Data set `mma`"]
