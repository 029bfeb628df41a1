"""Overview (home): what the warehouse holds, where it came from, and how to fill it."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from faceemo.analytics import faces_per_split_and_usage, faces_per_usage
from faceemo.paths import resolve_db
from views.common import load, require_images


def _int(value: object) -> int:
    """An integer column value; 0 for NULL (older or hand-made ingests rows leave some empty)."""
    return 0 if pd.isna(value) else int(value)


st.title("Overview")
st.caption(
    "FER-2013 faces in a DuckDB warehouse, read-only. Pipelines write a private copy and swap it in "
    "when they finish; this page shows the new data on its next rerun."
)
require_images()  # stops here, with the command that fills the warehouse, when there are no faces

db = resolve_db()
ingests = load("overview_latest_ingest", dataset=None)

for ingest in ingests.itertuples(index=False):
    st.header(f"Data set `{ingest.dataset}`")
    counts = load("overview_counts", dataset=ingest.dataset)
    per_usage = faces_per_usage(counts)
    cols = st.columns(2 + len(per_usage))
    cols[0].metric("Faces", f"{int(counts['images'].sum()):,}")
    for col, (usage, n) in zip(cols[1:], per_usage.items(), strict=False):
        col.metric(usage, f"{int(n):,}")
    cols[-1].metric("Skipped files", f"{_int(ingest.n_skipped):,}")

    kind = ingest.source_kind if isinstance(ingest.source_kind, str) else "unknown source"
    finished = pd.Timestamp(ingest.finished_at).to_pydatetime()
    st.markdown(
        f"Ingested **{finished:%Y-%m-%d %H:%M:%S}** in {float(ingest.seconds):.1f} s from "
        f"`{ingest.source_path}` ({ingest.layout}, {kind}, "
        f"{_int(ingest.source_bytes) / 1e6:,.1f} MB)."
    )
    st.markdown("Source sha256:")
    st.code(ingest.source_sha256, language=None)
    if _int(ingest.n_converted):
        st.caption(f"{_int(ingest.n_converted):,} images were converted to 8-bit gray / resized to 48x48.")

    st.subheader("Faces per split, usage and emotion")
    st.caption("All emotions (the sidebar filter applies to the class-balance and data-quality pages).")
    st.dataframe(faces_per_split_and_usage(counts), hide_index=True)
    blank = int(counts["blank"].sum())
    if blank:
        st.caption(f"{blank:,} of them are blank frames (see Data quality).")

    if _int(ingest.n_skipped):
        st.warning(
            f"{_int(ingest.n_skipped):,} files could not be read and were skipped "
            "(unreadable or not an image); everything else was ingested."
        )
        with st.expander("Skipped files and why"):
            st.dataframe(load("overview_skipped", dataset=ingest.dataset), hide_index=True)

st.header("Warehouse")
stat = db.stat()
st.markdown(
    f"`{db}` — {stat.st_size / 1e6:,.1f} MB, written "
    f"{datetime.fromtimestamp(stat.st_mtime):%Y-%m-%d %H:%M:%S}."
)
st.dataframe(load("overview_tables"), hide_index=True)
st.caption("Refill or update it with `python -m pipelines ingest [--data PATH] [--db PATH]`; "
           "re-running it on the same archive changes nothing.")
