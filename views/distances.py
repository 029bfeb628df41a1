"""Distances page (placeholder until its issue lands)."""

import streamlit as st

st.title("Distances")
st.info("This page is not built yet.")
