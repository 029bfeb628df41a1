"""Shared by the Landmarks and Distances pages: the landmark-model choice, the usage filter, the
friendly stop when no landmarks exist, and Altair drawings of a face with points over it."""

from __future__ import annotations

import base64
import io

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from faceemo.analytics import STATS_COLUMNS, faces_per_model, keypoints_outside, line_segments
from faceemo.keypoints import FRAME_SIZE
from faceemo.labels import COLOURS, DISPLAY_NAMES, USAGES
from faceemo.paths import resolve_db
from views.common import load, production_model, require_images, row_count, selected_emotions

LANDMARKS_COMMAND = "python -m pipelines landmarks"
# Segments that make the 15 points read as a face: (from, to) keypoint names.
FACE_LINES: tuple[tuple[str, str], ...] = (
    ("right_eyebrow_outer_end", "right_eyebrow_inner_end"),
    ("left_eyebrow_inner_end", "left_eyebrow_outer_end"),
    ("right_eye_outer_corner", "right_eye_center"),
    ("right_eye_center", "right_eye_inner_corner"),
    ("left_eye_inner_corner", "left_eye_center"),
    ("left_eye_center", "left_eye_outer_corner"),
    ("mouth_right_corner", "mouth_center_top_lip"),
    ("mouth_center_top_lip", "mouth_left_corner"),
    ("mouth_left_corner", "mouth_center_bottom_lip"),
    ("mouth_center_bottom_lip", "mouth_right_corner"),
)
# clamp: an envelope reaching outside the frame is drawn to the frame's edge, not over the page
SCALE_X = alt.Scale(domain=[-0.5, FRAME_SIZE - 0.5], nice=False, clamp=True)
SCALE_Y = alt.Scale(domain=[FRAME_SIZE - 0.5, -0.5], nice=False, clamp=True)  # image rows: y grows down
# Points and lines are never clamped: a keypoint predicted outside the frame would otherwise be drawn on
# the frame's edge, on the face, where the model did not put it. Their marks clip to the frame instead.
AXIS_X = alt.X("x:Q", scale=alt.Scale(domain=SCALE_X.domain, nice=False), axis=None)
AXIS_Y = alt.Y("y:Q", scale=alt.Scale(domain=SCALE_Y.domain, nice=False), axis=None)


def require_landmarks() -> str:
    """The chosen landmark model (sidebar), or a friendly stop with the command that fills the table."""
    require_images()
    models = load("landmarks_models") if row_count("landmarks") else pd.DataFrame()
    if models.empty:
        st.warning("No landmarks in the warehouse yet.")
        st.markdown("Predict the 15 keypoints of every face with the committed landmark model:")
        db = resolve_db()
        st.code(LANDMARKS_COMMAND + (f" --db {db}" if db != resolve_db(None) else ""))
        st.stop()
    ids = models["model_id"].tolist()
    faces = faces_per_model(models)
    production = production_model("landmarks")
    default = ids.index(production) if production in ids else 0
    return st.sidebar.selectbox(
        "Landmark model",
        ids,
        index=default,
        key="landmark_model",
        format_func=lambda m: f"{m} ({faces[m]:,} faces)",
    )


def landmark_filters(usage_key: str) -> tuple[str, list[str], list[str]]:
    """The landmark model, emotions and usages a landmark page shows; a friendly stop when none."""
    model_id = require_landmarks()
    emotions = selected_emotions()
    usages = usage_filter(usage_key)
    if not emotions or not usages:
        st.info("Choose at least one emotion (sidebar) and one usage.")
        st.stop()
    return model_id, emotions, usages


def usage_filter(key: str) -> list[str]:
    chosen = st.multiselect(
        "FER-2013 usage",
        list(USAGES),
        default=list(USAGES),
        key=key,
        help="Training, PublicTest and PrivateTest faces (the original split).",
    )
    return chosen


def face_layer(pixels: np.ndarray, size: int, opacity: float = 1.0) -> alt.Chart:
    """A grayscale face as a background image filling the plot, in the 96x96 frame's coordinates (a PNG
    data URL, `size` px a side, in an Altair image mark anchored at the frame's top-left corner)."""
    from PIL import Image

    face = Image.fromarray(np.clip(np.asarray(pixels, np.float64), 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    face.resize((size, size), Image.BILINEAR).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    anchor = pd.DataFrame({"x": [-0.5], "y": [-0.5], "url": [url]})
    # Sized by the plot's own width/height signals: Streamlit may shrink the plot to fit its container.
    return (
        alt.Chart(anchor)
        .mark_image(
            width=alt.ExprRef("width"),
            height=alt.ExprRef("height"),
            align="left",
            baseline="top",
            opacity=opacity,
            aspect=False,
        )
        .encode(x=AXIS_X, y=AXIS_Y, url="url:N")
    )


def face_lines(points: pd.DataFrame, colour_by_emotion: bool = False) -> alt.Chart:
    """Lines between keypoints (FACE_LINES) for frames with columns keypoint, x, y (and emotion)."""
    chart = (
        alt.Chart(line_segments(points, FACE_LINES, by_emotion=colour_by_emotion))
        .mark_line(strokeWidth=1.5, clip=True)
        .encode(x=AXIS_X, y=AXIS_Y, detail="segment:N", order="order:Q")
    )
    if colour_by_emotion:
        return chart.encode(color=emotion_colour())
    return chart.encode(color=alt.value("#17becf"))


def outside_frame(points: pd.DataFrame) -> list[str]:
    """Keypoints (frame with columns keypoint, x, y) that lie outside the 96x96 frame: not drawn."""
    return keypoints_outside(points, FRAME_SIZE)


def emotion_colour(legend: bool = True) -> alt.Color:
    names = list(COLOURS)
    return alt.Color(
        "emotion:N",
        scale=alt.Scale(domain=names, range=[COLOURS[n] for n in names]),
        legend=alt.Legend(title="Emotion", labelExpr="upper(slice(datum.label,0,1)) + slice(datum.label,1)")
        if legend
        else None,
    )


def stats_columns() -> dict[str, st.column_config.Column]:
    """The column settings of the keypoint statistics table (analytics.keypoint_stats_table): pixels
    to 2 decimals."""
    return {c: st.column_config.NumberColumn(format="%.2f") for c in STATS_COLUMNS if "_" in c}


def display(emotion: str) -> str:
    return DISPLAY_NAMES.get(emotion, emotion)
