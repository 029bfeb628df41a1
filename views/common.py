"""What every page shares: the cached read-only warehouse connection, cached named queries, the
emotion filter and the empty-warehouse message. The only place that touches DuckDB for the pages."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import streamlit as st

from faceemo import warehouse
from faceemo.labels import DISPLAY_NAMES, EMOTIONS
from faceemo.paths import resolve_db

EMOTION_FILTER_KEY = "emotion_filter"


@st.cache_resource(show_spinner=False, max_entries=2)
def _connection(path: str, identity: tuple[int, int]) -> duckdb.DuckDBPyConnection:
    # Keyed on the file's identity: when a pipeline publishes a new warehouse, the next rerun
    # opens the new file while the old connection keeps reading the old one safely.
    return warehouse.connect_readonly(path)


def connection() -> duckdb.DuckDBPyConnection | None:
    """Read-only connection to the current warehouse, or None when there is none."""
    path = resolve_db()
    identity = warehouse.file_identity(path)
    if identity is None:
        return None
    return _connection(str(path), identity)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_query(path: str, identity: tuple[int, int], name: str, params_json: str) -> pd.DataFrame:
    return warehouse.query(_connection(path, identity), name, **json.loads(params_json))


def load(name: str, **params: object) -> pd.DataFrame:
    """A named query (warehouse/queries/<name>.sql) as a data frame, cached per warehouse version."""
    path = resolve_db()
    identity = warehouse.file_identity(path)
    if identity is None:
        return pd.DataFrame()
    return _cached_query(str(path), identity, name, json.dumps(params, sort_keys=True, default=list))


def require_images() -> duckdb.DuckDBPyConnection:
    """The connection, or a friendly stop with the command that fills the warehouse."""
    con = connection()
    if con is None or warehouse.row_count(con, "images") == 0:
        where = resolve_db()
        st.warning(f"The warehouse at `{where}` has no faces yet.")
        st.markdown("Fill it (FER-2013 from `../shared/data/fer2013.zip`, or pass `--data PATH`):")
        st.code(warehouse.FILL_COMMAND + (f" --db {where}" if where != resolve_db(None) else ""))
        st.stop()
    return con


def emotion_filter_sidebar() -> list[str]:
    """The emotion multiselect shared by all pages (rendered once, in the sidebar, by the app)."""
    return st.sidebar.multiselect(
        "Emotions", list(EMOTIONS), default=list(EMOTIONS), key=EMOTION_FILTER_KEY,
        format_func=DISPLAY_NAMES.get, help="Filters every page that shows faces or statistics.",
    )


def selected_emotions() -> list[str]:
    """The emotions chosen in the sidebar filter (all of them before the filter is drawn)."""
    chosen = st.session_state.get(EMOTION_FILTER_KEY)
    return list(EMOTIONS) if chosen is None else [e for e in EMOTIONS if e in chosen]
