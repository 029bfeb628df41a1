"""Run the real dashboard (streamlit_app.py with st.navigation) through Streamlit's AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from faceemo.paths import REPO_ROOT

APP = str(REPO_ROOT / "streamlit_app.py")
PAGES = (
    "views/overview.py",
    "views/class_balance.py",
    "views/data_quality.py",
    "views/models.py",
    "views/landmarks.py",
    "views/distances.py",
    "views/predict.py",
    "views/video.py",
)


def open_page(page: str, timeout: float = 60) -> AppTest:
    """The app, switched to `page` and run once. The timeout is generous: some pages import TensorFlow."""
    app = AppTest.from_file(APP, default_timeout=timeout)
    app.run()
    if page != PAGES[0]:
        app.switch_page(page)
        app.run()
    return app


def all_text(app: AppTest) -> str:
    """Everything the page wrote as markdown, captions, infos, warnings and errors."""
    parts = []
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    for kind in kinds:
        parts.extend(str(element.value) for element in getattr(app, kind))
    parts.extend(str(code.value) for code in app.code)
    return "\n".join(parts)
