"""Dashboard pages, wired up by streamlit_app.py with st.navigation (pages only lay out)."""
