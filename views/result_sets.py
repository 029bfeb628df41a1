"""Attached result sets (Parquet folders of `--engine ray` runs, registered by `attach-results`) for the
pages that can show one in place of the warehouse's faces: Class balance (the predicted emotions) and
Landmarks (statistics per predicted emotion). Reads only through views.common; the numbers come from the
named queries results_*."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from faceemo.analytics import keypoint_stats_table, predicted_balance, result_status, row_of
from faceemo.labels import COLOURS
from faceemo.scale import result_folder_stamp, result_set_problem
from views import landmarks_common
from views.common import Version, load, per_version, read, row_count
from views.landmarks_common import AXIS_X, AXIS_Y, SCALE_X, SCALE_Y, display, emotion_colour, face_lines

WAREHOUSE = ""  # the option for the warehouse's own faces (a result set's name is never empty)
ATTACH_COMMAND = "python -m pipelines attach-results DIR --name"


@st.cache_data(show_spinner=False, max_entries=128)
def _cached(at: Version, name: str, stamp: tuple[int, int], params: dict) -> pd.DataFrame:
    return read(at, name, **params)


def _load(row: pd.Series, name: str, **params: object) -> pd.DataFrame:
    """A results_* named query on a result set, cached per warehouse version AND the folder's partition
    files: partitions a running job adds show on the next rerun."""
    return per_version(_cached, name, result_folder_stamp(row["path"]), params)


def attached() -> pd.DataFrame:
    """The attached result sets, newest first (empty when there are none)."""
    return load("results_list") if row_count("result_sets") else pd.DataFrame()


def pick(key: str, warehouse_label: str, title: str) -> pd.Series | None:
    """A "Faces" choice in the sidebar, shown only when result sets are attached: the warehouse's faces
    (None: the page goes on as usual) or one result set (its results_list row, after the page's `title`).
    A set whose folder is gone stops the page with what to do."""
    sets = attached()
    if sets.empty:
        return None
    names = sets["name"].tolist()
    chosen = st.sidebar.selectbox(
        "Faces",
        [WAREHOUSE, *names],
        key=key,
        format_func=lambda n: warehouse_label if n == WAREHOUSE else f"{n} (attached results)",
        help="The warehouse's faces, or a result set of a Ray run attached with "
        f"`{ATTACH_COMMAND} NAME`: its predicted emotions stand in for the labels.",
    )
    if chosen == WAREHOUSE:
        return None
    st.title(title)
    row = row_of(sets, "name", chosen)
    problem = result_set_problem(row["path"])
    if problem:
        st.warning(f"Result set **{chosen}** cannot be read: {problem}.")
        st.markdown("Attach it again from where it is now (or run the job again into that folder):")
        st.code(f"{ATTACH_COMMAND} {chosen}".replace("DIR", "NEW_DIR"))
        st.stop()
    return row


def _status_line(row: pd.Series) -> None:
    status = result_status(_load(row, "results_status", view=row["view_name"]))
    cols = st.columns(4)
    cols[0].metric("Faces", f"{status.faces:,}")
    cols[1].metric("Inputs with faces", f"{status.ok:,}")
    cols[2].metric("No face found", f"{status.no_face:,}")
    cols[3].metric("Failed", f"{status.failed:,}", help=status.failed_reason)
    expected, parts = row.get("expected"), int(row["partitions"])
    where = f"`{row['path']}`, read in place"
    if pd.notna(expected) and int(expected) > parts:
        where += f"; {parts} of {int(expected)} partitions when attached (the job was not finished)"
    st.caption(f"Result set **{row['name']}** ({row['kind'] or 'unknown input'}): {where}.")


def show_balance(row: pd.Series, emotions: list[str]) -> None:
    """Class balance of a result set: faces per predicted emotion, counts and shares."""
    _status_line(row)
    counts = _load(row, "results_balance", view=row["view_name"], label=row["name"], emotions=emotions)
    if counts.empty:
        st.info("No face of this result set has a predicted emotion among the emotions chosen.")
        return
    balance = predicted_balance(counts)
    counts, shown = balance.counts, balance.emotions
    colour = alt.Color(
        "emotion:N", scale=alt.Scale(domain=shown, range=[COLOURS[e] for e in shown]), sort=shown, legend=None
    )
    base = alt.Chart(counts).encode(
        x=alt.X("emotion:N", sort=shown, title=None),
        color=colour,
        tooltip=[
            alt.Tooltip("emotion:N"), alt.Tooltip("images:Q", format=",", title="faces"),
            alt.Tooltip("percent:Q", format=".1f", title="% of faces"),
            alt.Tooltip("mean_confidence:Q", format=".2f", title="mean confidence"),
        ],
    )
    tab_counts, tab_percent = st.tabs(["Counts", "Percent of faces"])
    for tab, value, title, fmt in ((tab_counts, "images", "faces", ","),
                                   (tab_percent, "percent", "% of the faces", ".1f")):
        layered = base.mark_bar().encode(y=alt.Y(f"{value}:Q", title=title)) + base.mark_text(
            dy=-6, fontSize=10, color="#333"
        ).encode(y=f"{value}:Q", text=alt.Text(f"{value}:Q", format=fmt))
        with tab:
            st.altair_chart(layered.properties(height=280), width="stretch")
    st.caption(
        "Predicted emotions (the most probable of the 7), not labels: a result set has none. Percentages "
        "are shares of all its faces, so they stay true when the sidebar filter hides some emotions."
    )
    st.dataframe(balance.table, hide_index=True, column_config={
        "% of faces": st.column_config.NumberColumn(format="%.2f"),
        "mean_confidence": st.column_config.NumberColumn("mean confidence", format="%.3f"),
    })


def _points(table: pd.DataFrame, by_emotion: bool) -> alt.Chart:
    chart = alt.Chart(table.rename(columns={"mean_x": "x", "mean_y": "y"})).mark_circle(
        size=40, opacity=1, clip=True
    ).encode(
        x=AXIS_X, y=AXIS_Y,
        tooltip=[
            "emotion:N", "keypoint:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f")
        ],
    )
    return chart.encode(color=emotion_colour()) if by_emotion else chart.encode(color=alt.value("#17becf"))


def show_landmarks(row: pd.Series, emotions: list[str]) -> None:
    """Landmark statistics of a result set per predicted emotion, in the 96x96 frame of each face's crop."""
    _status_line(row)
    stats = _load(row, "results_landmarks_stats", view=row["view_name"], emotions=emotions)
    if stats.empty:
        st.info("No face of this result set has landmarks and a predicted emotion among those chosen.")
        return
    present = [e for e in emotions if e in set(stats["emotion"])]
    square = alt.AutoSizeParams(type="pad")
    tab_one, tab_all, tab_table = st.tabs(["Per predicted emotion", "All emotions", "Statistics"])
    with tab_one:
        emotion = st.selectbox("Predicted emotion", present, format_func=display, key="results_lmk_emotion")
        table = stats[stats["emotion"] == emotion]
        boxes = alt.Chart(table).mark_rect(fillOpacity=0.15, stroke="#ff7f0e", strokeWidth=1).encode(
            x=alt.X("q25_x:Q", scale=SCALE_X, axis=None), x2="q75_x:Q",
            y=alt.Y("q25_y:Q", scale=SCALE_Y, axis=None), y2="q75_y:Q", color=alt.value("#ff7f0e"),
        )
        points = table.rename(columns={"mean_x": "x", "mean_y": "y"})
        chart = boxes + face_lines(points) + _points(table, by_emotion=False)
        st.altair_chart(chart.properties(width=420, height=420, autosize=square), width="content")
        st.caption(
            f"{int(table['n'].iloc[0]):,} faces predicted {display(emotion).lower()}: mean points and the "
            "interquartile box of each keypoint, in the 96x96 frame of each face's crop."
        )
    with tab_all:
        means = stats.rename(columns={"mean_x": "x", "mean_y": "y"})
        chart = face_lines(means, colour_by_emotion=True) + _points(stats, by_emotion=True)
        st.altair_chart(chart.properties(width=480, height=480, autosize=square), width="content")
    with tab_table:
        shown = keypoint_stats_table(stats)
        st.dataframe(shown, hide_index=True, width="stretch", column_config=landmarks_common.stats_columns())
