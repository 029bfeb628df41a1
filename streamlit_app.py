"""faceemo dashboard: `streamlit run streamlit_app.py` (read-only over the DuckDB warehouse)."""

import streamlit as st

from views.common import emotion_filter_sidebar, pin_version

st.set_page_config(page_title="faceemo", page_icon=":material/mood:", layout="wide")
# Views live in views/, not pages/: a pages/ folder switches Streamlit to its legacy
# multipage mode, which drops the sidebar widgets on rerun.
emotion_filter_sidebar()
pin_version()  # every page of this rerun reads this one warehouse version

navigation = st.navigation(
    {
        "Data": [
            st.Page("views/overview.py", title="Overview", icon=":material/home:", default=True),
            st.Page("views/class_balance.py", title="Class balance", icon=":material/bar_chart:"),
            st.Page("views/data_quality.py", title="Data quality", icon=":material/cleaning_services:"),
        ],
        "Models": [
            st.Page("views/models.py", title="Models", icon=":material/model_training:"),
            st.Page("views/landmarks.py", title="Landmarks", icon=":material/location_on:"),
            st.Page("views/distances.py", title="Distances", icon=":material/straighten:"),
        ],
        "Use": [
            st.Page("views/predict.py", title="Predict", icon=":material/photo_camera:"),
            st.Page("views/video.py", title="Video", icon=":material/movie:"),
        ],
    }
)
navigation.run()
