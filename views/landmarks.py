"""Landmarks page: the 15 predicted keypoints of the FER-2013 faces, per emotion.

The study's per-coordinate describe() as pictures: each emotion's mean landmark set and its interquartile
(or the study's min/max) envelope drawn over a face, every emotion overlaid, one keypoint's spread, the
statistics as a table, and an image browser. Data: named queries landmarks_* over the warehouse; heavy work
is cached.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from faceemo.analytics import (
    MeanFaces,
    face_points,
    faces_in_stats,
    keypoint_stats_table,
    magnified_means,
    mean_face_images,
    spread_sample,
)
from faceemo.keypoints import KEYPOINTS
from faceemo.pixels import face_from_blob
from views.common import Version, load, per_version, read, selected_emotions
from views.landmarks_common import (
    AXIS_X,
    AXIS_Y,
    SCALE_X,
    SCALE_Y,
    display,
    emotion_colour,
    face_layer,
    face_lines,
    landmark_filters,
    outside_frame,
    stats_columns,
)
from views.result_sets import pick, show_landmarks


@st.cache_data(show_spinner="Averaging the faces of each emotion…", max_entries=16)
def _mean_faces(at: Version, model: str, usages: list[str], emotions: list[str]) -> MeanFaces:
    return mean_face_images(read(at, "landmarks_pixels", model_id=model, usages=usages, emotions=emotions))


@st.cache_data(show_spinner=False, max_entries=16)
def _spread_sample(
    at: Version, model: str, usages: list[str], emotions: list[str]
) -> tuple[pd.DataFrame, int]:
    # every face's points are ~10 MB: sampled once per version and filter, not copied out on each rerun
    return spread_sample(read(at, "landmarks_points", model_id=model, usages=usages, emotions=emotions))


def _points(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns={"mean_x": "x", "mean_y": "y"})


def _point_layer(table: pd.DataFrame, colour_by_emotion: bool = False, size: int = 40) -> alt.Chart:
    chart = (
        alt.Chart(table)
        .mark_circle(size=size, opacity=1, clip=True)
        .encode(
            x=AXIS_X,
            y=AXIS_Y,
            tooltip=[
                alt.Tooltip("emotion:N"),
                alt.Tooltip("keypoint:N"),
                alt.Tooltip("x:Q", format=".2f"),
                alt.Tooltip("y:Q", format=".2f"),
            ],
        )
    )
    return (
        chart.encode(color=emotion_colour())
        if colour_by_emotion
        else chart.encode(color=alt.value("#17becf"))
    )


# "pad": a face plot keeps its square width x height; legends are added beside it, not taken from it.
SQUARE = alt.AutoSizeParams(type="pad")


def render() -> None:
    """The Landmarks page."""
    if (results := pick("landmarks_source", "FER-2013 in the warehouse", "Landmarks")) is not None:
        show_landmarks(results, selected_emotions())
        return
    st.title("Landmarks")
    st.caption(
        "15 facial keypoints predicted for every FER-2013 face (96x96 frame: the 48x48 face upscaled x2). "
        "Blank frames are left out of the statistics."
    )
    model_id, emotions, usages = landmark_filters("landmarks_usage")

    stats = load("landmarks_stats", model_id=model_id, usages=usages, emotions=emotions)
    if stats.empty:
        st.info("No faces with landmarks match these filters.")
        return
    present = [e for e in emotions if e in set(stats["emotion"])]

    faces = per_version(_mean_faces, model_id, usages, emotions)

    tab_one, tab_all, tab_spread, tab_table, tab_browse = st.tabs(
        ["Per emotion", "All emotions", "One keypoint's spread", "Statistics", "Browse faces"]
    )

    with tab_one:
        left, right = st.columns([1, 2])
        with left:
            emotion = st.selectbox("Emotion", present, format_func=display, key="landmarks_emotion")
            envelope = st.radio(
                "Envelope",
                ["interquartile (25–75%)", "min–max (as the study)"],
                key="landmarks_envelope",
                help="Where the middle half of the faces put each keypoint. The study's describe() reported "
                "min and max, which a few badly predicted faces (turned heads, hands over the face) stretch "
                "over the whole face.",
            )
            background = st.radio(
                "Drawn over", ["the mean face of this emotion", "one face"], key="landmarks_bg"
            )
            pixels = faces.per_emotion[emotion]
            if background == "one face":
                choices = load(
                    "landmarks_browse", model_id=model_id, usages=usages, emotions=[emotion], offset=0,
                    limit=200,
                )
                image_id = st.selectbox(
                    "Face (image id)", choices["image_id"].tolist(), key="landmarks_bg_face"
                )
                one = load("landmarks_image", model_id=model_id, image_id=int(image_id))
                pixels = face_from_blob(one["pixels"].iloc[0])
        table = stats[stats["emotion"] == emotion]
        low, high = ("min", "max") if envelope.startswith("min") else ("q25", "q75")
        boxes = (
            alt.Chart(table)
            .mark_rect(fillOpacity=0.15, stroke="#ff7f0e", strokeWidth=1)
            .encode(
                x=alt.X(f"{low}_x:Q", scale=SCALE_X, axis=None),
                x2=f"{high}_x:Q",
                y=alt.Y(f"{low}_y:Q", scale=SCALE_Y, axis=None),
                y2=f"{high}_y:Q",
                color=alt.value("#ff7f0e"),
                tooltip=[
                    "keypoint:N",
                    alt.Tooltip(f"{low}_x:Q", format=".1f"),
                    alt.Tooltip(f"{high}_x:Q", format=".1f"),
                    alt.Tooltip(f"{low}_y:Q", format=".1f"),
                    alt.Tooltip(f"{high}_y:Q", format=".1f"),
                ],
            )
        )
        points = _points(table)
        chart = face_layer(pixels, 420) + boxes + face_lines(points) + _point_layer(points)
        with right:
            # Titles go outside the chart: inside, they would take height from the square face.
            st.markdown(f"**{display(emotion)}: mean points and {envelope.split(' (')[0]} envelope**")
            st.altair_chart(chart.properties(width=420, height=420, autosize=SQUARE), width="content")
            st.caption(f"{int(table['n'].iloc[0]):,} faces. Orange boxes: the {envelope} of each keypoint.")

    with tab_all:
        magnify = st.slider(
            "Magnify differences from the overall mean",
            1,
            10,
            1,
            key="landmarks_magnify",
            help="Draws overall mean + k × (emotion mean − overall mean): the per-emotion differences are "
            "a pixel or two.",
        )
        means = _points(stats[["emotion", "keypoint", "n", "mean_x", "mean_y"]])
        shown = magnified_means(means, magnify)
        chart = (
            face_layer(faces.all, 480, opacity=0.7)
            + face_lines(shown, colour_by_emotion=True)
            + _point_layer(shown, colour_by_emotion=True, size=30)
        )
        st.markdown("**Mean landmark set of each emotion**")
        st.altair_chart(chart.properties(width=480, height=480, autosize=SQUARE), width="content")
        st.caption(
            "Over the mean face of the selected emotions."
            + (f" Differences magnified ×{magnify}." if magnify > 1 else "")
        )

    with tab_spread:
        keypoint = st.selectbox(
            "Keypoint",
            list(KEYPOINTS),
            index=KEYPOINTS.index("nose_tip"),
            key="landmarks_kp",
            format_func=lambda k: k.replace("_", " "),
        )
        sample, n_faces = per_version(_spread_sample, model_id, usages, emotions)
        scatter = (
            alt.Chart(sample)
            .mark_circle(size=10, opacity=0.35)
            .encode(
                x=alt.X(f"{keypoint}_x:Q", title="x (px)", scale=alt.Scale(zero=False)),
                y=alt.Y(f"{keypoint}_y:Q", title="y (px, down)", scale=alt.Scale(zero=False, reverse=True)),
                color=emotion_colour(),
                tooltip=["image_id:Q", "emotion:N", "usage:N"],
            )
        )
        centres = (
            alt.Chart(stats[stats["keypoint"] == keypoint])
            .mark_point(size=160, filled=True, shape="diamond", stroke="black", strokeWidth=1)
            .encode(
                x="mean_x:Q",
                y="mean_y:Q",
                color=emotion_colour(legend=False),
                tooltip=[
                    "emotion:N",
                    alt.Tooltip("mean_x:Q", format=".2f"),
                    alt.Tooltip("mean_y:Q", format=".2f"),
                ],
            )
        )
        st.altair_chart(
            (scatter + centres).properties(
                height=460, title=f"{keypoint.replace('_', ' ')}: one dot per face"
            ),
            width="stretch",
        )
        st.caption(f"{len(sample):,} of {n_faces:,} faces shown; diamonds are the per-emotion means.")

    with tab_table:
        st.markdown(
            "Per emotion and keypoint, in pixels of the 96x96 frame (the study's per-coordinate describe())."
        )
        st.dataframe(
            keypoint_stats_table(stats), hide_index=True, width="stretch", column_config=stats_columns()
        )

    with tab_browse:
        total = faces_in_stats(stats)
        page_size = 50
        page = st.number_input("Page", 1, max(1, -(-total // page_size)), 1, key="landmarks_page")
        listing = load(
            "landmarks_browse",
            model_id=model_id,
            usages=usages,
            emotions=emotions,
            offset=(int(page) - 1) * page_size,
            limit=page_size,
        )
        if listing.empty:
            st.info("No faces on this page.")
        else:
            labels = {
                r.image_id: f"{r.image_id} · {display(r.emotion)} · {r.usage}" for r in listing.itertuples()
            }
            image_id = st.selectbox("Face", list(labels), format_func=labels.get, key="landmarks_face")
            one = load("landmarks_image", model_id=model_id, image_id=int(image_id))
            row = one.iloc[0]
            pixels = face_from_blob(row["pixels"])
            pts = face_points(row)
            left, right = st.columns([2, 1])
            with left:
                st.markdown(f"**{row['file_name']}** ({display(row['emotion'])}, {row['usage']})")
                chart = face_layer(pixels, 400) + face_lines(pts) + _point_layer(pts)
                st.altair_chart(chart.properties(width=400, height=400, autosize=SQUARE), width="content")
                off = ", ".join(k.replace("_", " ") for k in outside_frame(pts))
                st.caption(
                    "The points are drawn where the landmark model put them. Off the face means the model "
                    "missed: it learned from mostly frontal faces and can be far off on turned heads, "
                    "wide-open mouths or hands over the face."
                    + (f" Outside the frame, not drawn: {off}." if off else "")
                )
            with right:
                st.dataframe(
                    pts[["keypoint", "x", "y"]],
                    hide_index=True,
                    column_config={
                        "x": st.column_config.NumberColumn(format="%.1f"),
                        "y": st.column_config.NumberColumn(format="%.1f"),
                    },
                )
