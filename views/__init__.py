"""Dashboard pages (st.navigation views, wired up by streamlit_app.py); they only lay out."""
