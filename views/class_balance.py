"""Class balance page (placeholder until its issue lands)."""

import streamlit as st

st.title("Class balance")
st.info("This page is not built yet.")
