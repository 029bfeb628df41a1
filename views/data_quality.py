"""Data quality page (placeholder until its issue lands)."""

import streamlit as st

st.title("Data quality")
st.info("This page is not built yet.")
