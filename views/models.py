"""Models page (placeholder until its issue lands)."""

import streamlit as st

st.title("Models")
st.info("This page is not built yet.")
