"""Predict page (placeholder until its issue lands)."""

import streamlit as st

st.title("Predict")
st.info("This page is not built yet.")
