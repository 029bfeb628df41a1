"""Video: upload a clip, follow each face's emotions over time, see key frames, download the table."""

from __future__ import annotations

import hashlib
from pathlib import Path

import altair as alt
import streamlit as st

from faceemo import video
from faceemo.annotate import annotate_image
from faceemo.errors import FaceemoError, ModelError
from faceemo.labels import COLOURS, DISPLAY_NAMES
from views.model_cache import cached_models, models_stamp

MAX_SECONDS = 60  # the first minute of a longer clip is analysed
UPLOAD_TYPES = [ext.lstrip(".") for ext in video.VIDEO_EXTENSIONS]


def timeline_chart(rows: list[dict]) -> alt.Chart:
    """The 7 probabilities over time, one panel per track, in the emotion colours."""
    return (
        alt.Chart(video.timeline(rows))
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X("time_s:Q", title="time (s)"),
            y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.Color(
                "emotion:N", scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
                legend=alt.Legend(title="emotion"),
            ),
            row=alt.Row("track:N", title=None),
            tooltip=["track:N", "name:N", alt.Tooltip("time_s:Q", format=".1f"),
                     alt.Tooltip("probability:Q", format=".0%")],
        )
        .properties(height=160, width=700)
    )


def _analyse(data: bytes, name: str, fps: float, smooth: int) -> video.VideoAnalysis:
    models = cached_models(None, None, models_stamp())
    bar = st.progress(0.0, text=f"Analysing {name} ...")

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"Analysing {name}: {done} of ~{total} frames")

    with video.as_file(data, Path(name).suffix or ".mp4") as path:
        analysis = video.analyze_video(
            path, models, fps=fps, smooth=smooth, max_seconds=MAX_SECONDS, name=name, progress=progress
        )
    bar.empty()
    return analysis


def render() -> None:
    """The Video page."""
    st.title("Video")
    limit = st.get_option("server.maxUploadSize")
    st.caption(
        f"Upload a clip (MP4, MOV, AVI, MKV, WebM; up to {limit} MB, the first {MAX_SECONDS} s are "
        "analysed): "
        "frames are sampled, every face is found, levelled and classified, and followed from frame to frame."
    )
    try:
        cached_models(None, None, models_stamp())
    except ModelError as exc:
        st.warning(f"Predictions need a model. {exc}.")
        return

    left, right = st.columns(2)
    fps = left.slider("Frames analysed per second", 1, 10, int(video.DEFAULT_FPS), key="video_fps")
    smooth = right.slider("Smoothing (sampled frames averaged per track)", 1, 9, 1, key="video_smooth")
    upload = st.file_uploader("Clip", type=UPLOAD_TYPES, key="video_upload")
    if upload is None:
        st.info("Upload a short clip with faces in it.")
        return

    data = upload.getvalue()
    key = (hashlib.sha1(data).hexdigest(), fps, smooth)
    done = st.session_state.setdefault("video_results", {})
    if key not in done:
        try:
            done.clear()  # one clip's results per session: frames are large
            done[key] = _analyse(data, upload.name, float(fps), smooth)
        except FaceemoError as exc:
            st.error(f"**{upload.name}**: {str(exc).removeprefix(upload.name + ': ')}")
            return
    analysis: video.VideoAnalysis = done[key]

    for note in analysis.notices():
        st.warning(note.removeprefix(f"{analysis.name}: ").capitalize())
    st.caption(
        f"{analysis.sampled} frames sampled of {analysis.frames_read} read "
        f"({analysis.info.width}x{analysis.info.height}, {analysis.info.fps:.0f} fps), "
        f"{len(analysis.rows)} faces in {analysis.tracks} track(s), {analysis.seconds:.1f} s "
        f"({analysis.sampled / max(analysis.seconds, 1e-9):.1f} frames/s)."
    )
    if not analysis.rows:
        return

    st.subheader("Emotions over time")
    st.altair_chart(timeline_chart(analysis.rows), width="stretch")

    st.subheader("Key frames")
    columns = st.columns(3)
    for n, key_frame in enumerate(analysis.key_frames):
        faces = key_frame.results
        labels = ", ".join(f"{DISPLAY_NAMES[r.emotion]}" for r in faces if r.emotion) or "faces"
        columns[n % 3].image(
            annotate_image(key_frame.rgb, faces), caption=f"{key_frame.time_s:.1f} s: {labels}",
            width="stretch",
        )

    st.subheader("Table")
    table = analysis.table()
    shown = ["frame", "time_s", "track", "box_x", "box_y", "box_w", "box_h", "emotion", "confidence"]
    st.dataframe(table[shown], hide_index=True, height=240)
    st.download_button(
        "CSV", table.to_csv(index=False), file_name=f"{Path(analysis.name).stem}_faces.csv", mime="text/csv",
        key="video_csv", on_click="ignore", icon=":material/download:",
    )
