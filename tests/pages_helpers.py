"""Run the real dashboard (streamlit_app.py with st.navigation) through Streamlit's AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from faceemo.paths import REPO_ROOT

APP = str(REPO_ROOT / "streamlit_app.py")
# the pages by their URL paths (http://host/class_balance), in the navigation's order; the first is home
PAGES = ("overview", "class_balance", "data_quality", "models", "landmarks", "distances", "predict", "video")


def switch_to(app: AppTest, url_path: str) -> AppTest:
    """Point `app` (run at least once) at the page registered under `url_path`, as a browser opening
    /url_path does; run it next. AppTest.switch_page finds file pages only, and the dashboard's pages are
    functions (st.Page(module.render)): st.navigation keys a page on the hash of its url_path."""
    registered = {info.get("url_pathname") for info in app._registered_pages.values()}
    if url_path not in registered and not (url_path == PAGES[0] and "" in registered):
        raise ValueError(f"no page at /{url_path}; the app registers {sorted(registered)}")
    app._page_hash = calc_hash(url_path)
    return app


def open_page(page: str, timeout: float = 60) -> AppTest:
    """The app, switched to the page at URL path `page` and run once. The timeout is generous: some pages
    import TensorFlow."""
    app = AppTest.from_file(APP, default_timeout=timeout)
    app.run()
    if page != PAGES[0]:
        switch_to(app, page).run()
    return app


def all_text(app: AppTest) -> str:
    """Everything the page wrote as markdown, captions, infos, warnings and errors."""
    parts = []
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    for kind in kinds:
        parts.extend(str(element.value) for element in getattr(app, kind))
    parts.extend(str(code.value) for code in app.code)
    return "\n".join(parts)
