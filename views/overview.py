"""Overview (home): what the warehouse holds, where it came from, and how to fill it."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from faceemo.analytics import dataset_overview
from faceemo.paths import resolve_db
from views.common import load, require_images


def render() -> None:
    """The Overview page."""
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
        data = dataset_overview(ingest._asdict(), load("overview_counts", dataset=ingest.dataset))
        cols = st.columns(2 + len(data.per_usage))
        cols[0].metric("Faces", f"{data.faces:,}")
        for col, (usage, n) in zip(cols[1:], data.per_usage.items(), strict=False):
            col.metric(usage, f"{int(n):,}")
        cols[-1].metric("Skipped files", f"{data.skipped:,}")

        st.markdown(
            f"Ingested **{data.finished:%Y-%m-%d %H:%M:%S}** in {data.seconds:.1f} s from "
            f"`{ingest.source_path}` ({ingest.layout}, {data.source_kind}, {data.source_mb:,.1f} MB)."
        )
        st.markdown("Source sha256:")
        st.code(ingest.source_sha256, language=None)
        if data.converted:
            st.caption(f"{data.converted:,} images were converted to 8-bit gray / resized to 48x48.")

        st.subheader("Faces per split, usage and emotion")
        st.caption("All emotions (the sidebar filter applies to the class-balance and data-quality pages).")
        st.dataframe(data.table, hide_index=True)
        if data.blank:
            st.caption(f"{data.blank:,} of them are blank frames (see Data quality).")

        if data.skipped:
            st.warning(
                f"{data.skipped:,} files could not be read and were skipped "
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
