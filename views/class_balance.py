"""Class balance: faces per emotion in each usage (counts and shares), as charts and a table, and
random sample faces per emotion."""

from __future__ import annotations

import altair as alt
import streamlit as st

from faceemo.analytics import ClassBalance, class_balance
from faceemo.labels import COLOURS, DISPLAY_NAMES
from views.common import load, selected_emotions
from views.data_widgets import data_page, face_strip
from views.result_sets import pick, show_balance

SEED_KEY = "balance_seed"


def bars(balance: ClassBalance, value: str, title: str, fmt: str, shared_y: bool) -> alt.FacetChart:
    """Faces (or shares) per emotion, one panel per usage."""
    shown = balance.emotions
    colour = alt.Color(
        "emotion:N", scale=alt.Scale(domain=shown, range=[COLOURS[e] for e in shown]), sort=shown, legend=None
    )
    base = alt.Chart().encode(  # no data on the layers: the facet carries it, or nothing is split
        x=alt.X("emotion:N", sort=shown, title=None),
        y=alt.Y(f"{value}:Q", title=title),
        color=colour,
        tooltip=[
            alt.Tooltip("usage:N"), alt.Tooltip("emotion:N"),
            alt.Tooltip("images:Q", format=","), alt.Tooltip("percent:Q", format=".1f", title="% of usage"),
        ],
    )
    layered = base.mark_bar() + base.mark_text(dy=-6, fontSize=10).encode(
        text=alt.Text(f"{value}:Q", format=fmt), color=alt.value("#333")
    )
    chart = layered.properties(width=220, height=240).facet(
        column=alt.Column("usage:N", sort=balance.usages, title=None), data=balance.counts
    )
    # counts differ 8x between Training and the test usages: each gets its own axis; shares share one
    return chart if shared_y else chart.resolve_scale(y="independent")


def _redraw() -> None:
    st.session_state[SEED_KEY] = int(st.session_state.get(SEED_KEY, 0)) + 1


def render() -> None:
    """The Class balance page."""
    if (results := pick("balance_source", "the warehouse's labelled faces", "Class balance")) is not None:
        show_balance(results, selected_emotions())
        return
    dataset, emotions = data_page("Class balance", "balance_dataset")

    balance = class_balance(
        load("balance_counts", dataset=dataset, emotions=emotions),
        load("balance_split_counts", dataset=dataset, emotions=emotions),
    )
    usages, shown = balance.usages, balance.emotions
    st.caption(
        "Percentages are each emotion's share of all faces of its usage (every emotion counted), so they "
        "stay true when the sidebar filter hides some emotions. Fit on Training, select on PublicTest, "
        "report on PrivateTest."
    )
    tab_counts, tab_percent = st.tabs(["Counts", "Percent of usage"])
    with tab_counts:
        st.altair_chart(bars(balance, "images", "faces", ",", shared_y=False))
    with tab_percent:
        st.altair_chart(bars(balance, "percent", "% of the usage's faces", ".1f", shared_y=True))

    # The same numbers as a table, shaped like the data README: one row per usage and per folder split.
    st.subheader("Counts")
    st.dataframe(balance.table.rename_axis("usage / split").reset_index(), hide_index=True)
    st.caption("`total` sums the emotions shown. Percent of each usage's faces:")
    st.dataframe(balance.percent.rename_axis("usage").reset_index(), hide_index=True)

    st.subheader("Sample faces")

    left, middle, right, button = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    usage = left.selectbox("Usage", ["all", *usages], key="balance_usage")
    per_emotion = middle.slider("Faces per emotion", 4, 24, 8, key="balance_per_emotion")
    seed = right.number_input("Seed", min_value=0, value=0, step=1, key=SEED_KEY)
    button.button("Draw other faces", on_click=_redraw, key="balance_redraw")

    samples = load("balance_samples", dataset=dataset, emotions=emotions, usage=usage,
                   per_emotion=int(per_emotion), seed=int(seed))
    for emotion in shown:
        faces = samples[samples["emotion"] == emotion]
        if faces.empty:
            continue
        available = balance.available(usage, emotion)
        st.markdown(f"**{DISPLAY_NAMES[emotion]}** — {len(faces)} of {available:,}")
        face_strip(faces, list(faces["file_name"]))
