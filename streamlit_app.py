"""faceemo dashboard: `streamlit run streamlit_app.py` (read-only over the DuckDB warehouse)."""

from __future__ import annotations

from types import ModuleType

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from views import class_balance, data_quality, distances, landmarks, models, overview, predict, video
from views.common import emotion_filter_sidebar, pin_version


def page(module: ModuleType, title: str, icon: str, default: bool = False) -> StreamlitPage:
    """A page of the dashboard: its module's render(), at the URL its module's name gives (/class_balance)."""
    url_path = module.__name__.rsplit(".", 1)[-1]
    return st.Page(module.render, title=title, icon=icon, url_path=url_path, default=default)


st.set_page_config(page_title="faceemo", page_icon=":material/mood:", layout="wide")
# Views live in views/, not pages/: a pages/ folder switches Streamlit to its legacy
# multipage mode, which drops the sidebar widgets on rerun.
emotion_filter_sidebar()
pin_version()  # every page of this rerun reads this one warehouse version

navigation = st.navigation(
    {
        "Data": [
            page(overview, "Overview", ":material/home:", default=True),
            page(class_balance, "Class balance", ":material/bar_chart:"),
            page(data_quality, "Data quality", ":material/cleaning_services:"),
        ],
        "Models": [
            page(models, "Models", ":material/model_training:"),
            page(landmarks, "Landmarks", ":material/location_on:"),
            page(distances, "Distances", ":material/straighten:"),
        ],
        "Use": [
            page(predict, "Predict", ":material/photo_camera:"),
            page(video, "Video", ":material/movie:"),
        ],
    }
)
navigation.run()
