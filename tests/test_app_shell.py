"""Every page renders without an exception, on an empty and on a filled warehouse."""

import pytest

from tests.pages_helpers import PAGES, open_page, switch_to


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_missing_warehouse(db_path, page):
    app = open_page(page)
    assert not app.exception, app.exception


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_generated_warehouse(images_db, page):
    app = open_page(page)
    assert not app.exception, app.exception


def test_emotion_filter_is_shared_in_the_sidebar(images_db):
    app = open_page("overview")
    assert [w.key for w in app.sidebar.multiselect] == ["emotion_filter"]
    chosen = app.multiselect(key="emotion_filter")
    assert len(chosen.value) == 7
    chosen.set_value(["happy", "sad"]).run()
    switch_to(app, "class_balance").run()
    assert app.multiselect(key="emotion_filter").value == ["happy", "sad"]
