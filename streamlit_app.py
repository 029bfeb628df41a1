"""faceemo dashboard: `streamlit run streamlit_app.py` (read-only over the DuckDB warehouse)."""

import streamlit as st

from pages.common import emotion_filter_sidebar

st.set_page_config(page_title="faceemo", page_icon="🙂", layout="wide")

navigation = st.navigation(
    {
        "Data": [
            st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
            st.Page("pages/class_balance.py", title="Class balance", icon="📊"),
            st.Page("pages/data_quality.py", title="Data quality", icon="🧹"),
        ],
        "Models": [
            st.Page("pages/models.py", title="Models", icon="🧠"),
            st.Page("pages/landmarks.py", title="Landmarks", icon="📍"),
            st.Page("pages/distances.py", title="Distances", icon="📏"),
        ],
        "Use": [
            st.Page("pages/predict.py", title="Predict", icon="📷"),
        ],
    }
)
emotion_filter_sidebar()
navigation.run()
