"""What every page shares: the warehouse version a rerun reads, cached named queries, the emotion filter
and the empty-warehouse message. The only place that touches DuckDB for the pages.

Many users share one dashboard process, each session in a thread of its own. So

* the open warehouse is a `warehouse.Reader`, cached once per file version for every session: it has
  no public way to run SQL on its shared connection, each read opens a cursor of its own;
* what is the same for every user is computed once per warehouse version and parameters, in
  `st.cache_data` (`load` for named queries; pages key their heavier computations on `version()`);
* a rerun reads one version from start to end: `pin_version()` (run by streamlit_app.py before the
  page) fixes it, so a pipeline publishing meanwhile shows on the next rerun, never half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

import pandas as pd
import streamlit as st

from faceemo import model_store, warehouse
from faceemo.labels import DISPLAY_NAMES, EMOTIONS
from faceemo.paths import resolve_db

EMOTION_FILTER_KEY = "emotion_filter"
_VERSION_KEY = "_warehouse_version"
T = TypeVar("T")


class Version(NamedTuple):
    """One published warehouse file: its path and (inode, mtime_ns). The key of every cached read."""

    path: str
    identity: tuple[int, int]


def _current_version() -> Version | None:
    path = resolve_db()
    identity = warehouse.file_identity(path)
    return None if identity is None else Version(str(path), identity)


def pin_version() -> Version | None:
    """Fix the warehouse version this rerun reads (called once per rerun, before the page runs)."""
    current = _current_version()
    st.session_state[_VERSION_KEY] = current
    return current


def version() -> Version | None:
    """The warehouse version of this rerun (pinned by the app), or None when there is no warehouse."""
    if _VERSION_KEY in st.session_state:
        return st.session_state[_VERSION_KEY]
    return _current_version()  # a page run on its own, without streamlit_app.py


@st.cache_resource(show_spinner=False, max_entries=2)
def _reader(path: str, identity: tuple[int, int]) -> warehouse.Reader:
    # Keyed on the file's identity: when a pipeline publishes a new warehouse, the next rerun opens
    # the new file while sessions still on the old version keep reading the old one safely.
    return warehouse.Reader(path, identity)


def read(at: Version, name: str, **params: object) -> pd.DataFrame:
    """A named query on version `at`, uncached: for the pages' own cached computations (keyed on `at`).

    Raises WarehouseChanged when `at` is no longer the file on disk and no longer open.
    """
    return _reader(at.path, at.identity).query(name, **params)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(at: Version, name: str, params: dict) -> pd.DataFrame:
    return read(at, name, **params)


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_row_count(at: Version, table: str) -> int:
    return _reader(at.path, at.identity).row_count(table)


def per_version(compute: Callable[..., T], *args: object) -> T:
    """compute(version(), *args): how a page calls its own cached computation (keyed on the version).

    When the pinned version was replaced on disk before it could be opened, the page starts over on
    the new one rather than mix versions.
    """
    at = version()
    try:
        return compute(at, *args)
    except warehouse.WarehouseChanged:
        st.session_state.pop(_VERSION_KEY, None)
        st.rerun()


def load(name: str, **params: object) -> pd.DataFrame:
    """A named query (warehouse/queries/<name>.sql) as a data frame, cached per warehouse version."""
    if version() is None:
        return pd.DataFrame()
    return per_version(_cached_query, name, params)


def row_count(table: str) -> int:
    """Rows in `table` of this rerun's warehouse, 0 when there is no warehouse or no such table."""
    if version() is None:
        return 0
    return per_version(_cached_row_count, table)


def require_images() -> Version:
    """This rerun's warehouse version, or a friendly stop with the command that fills the warehouse."""
    at = version()
    if at is None or row_count("images") == 0:
        where = resolve_db()
        st.warning(f"The warehouse at `{where}` has no faces yet.")
        st.markdown("Fill it (FER-2013 from `../shared/data/fer2013.zip`, or pass `--data PATH`):")
        st.code(warehouse.FILL_COMMAND + (f" --db {where}" if where != resolve_db(None) else ""))
        st.stop()
    return at


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


def production_model(task: str) -> str | None:
    """The model id models/production.json names for `task`; None when it is missing or unreadable (a page
    then just has no default)."""
    try:
        return model_store.production_choice(task)
    except (OSError, ValueError):
        return None
