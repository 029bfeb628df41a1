"""Landmarks page (placeholder until its issue lands)."""

import streamlit as st

st.title("Landmarks")
st.info("This page is not built yet.")
