"""Predict: upload photos, take a camera snapshot or pick a sample face; see every face's emotion,
landmarks and (on request) a Grad-CAM heatmap of what the emotion model looked at."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from faceemo import detectors, gradcam, inference, model_store, warehouse
from faceemo.analytics import row_of
from faceemo.annotate import annotate_image, draw_landmarks, face_label
from faceemo.errors import FaceemoError, ModelError
from faceemo.images import IMAGE_EXTENSIONS
from faceemo.labels import COLOURS, DISPLAY_NAMES, EMOTIONS
from faceemo.pixels import face_from_blob
from views import common
from views.model_cache import cached_models
from views.model_cache import models_stamp as _models_stamp

SOURCE_UPLOAD = "Upload photos"
SOURCE_CAMERA = "Camera snapshot"
SOURCE_SAMPLE = "Sample face from the warehouse"
UPLOAD_TYPES = [ext.lstrip(".") for ext in IMAGE_EXTENSIONS]


@st.cache_data(show_spinner="Finding faces ...", max_entries=64)
def cached_analysis(
    data: bytes, name: str, emotion_id: str | None, landmark_id: str | None, stamp: tuple,
    whole_image_if_no_face: bool, detector: str | None = None, align: bool = inference.ALIGN_DEFAULT,
    check: bool = True,
) -> tuple[np.ndarray, list[inference.FaceResult]]:
    """(RGB pixels for display, faces) of one uploaded photo; ImageError for a bad one (not cached).
    `check` is the detector's face check of each doubtful box, where it has one (off: `False`)."""
    models = cached_models(emotion_id, landmark_id, stamp)
    checked = detectors.get(detector).check_options(check)  # None: the default detector
    prepared = inference.prepare(
        data, name, whole_image_if_no_face=whole_image_if_no_face, detector=detector, align=align, **checked
    )
    return prepared.image.rgb, inference.predict_faces([prepared], models)[0]


def probability_chart(probabilities: dict[str, float]) -> alt.Chart:
    """Horizontal bars of the 7 probabilities, most probable on top, coloured by emotion."""
    frame = pd.DataFrame(
        {
            "emotion": [DISPLAY_NAMES[e] for e in EMOTIONS],
            "key": list(EMOTIONS),
            "probability": [probabilities[e] for e in EMOTIONS],
        }
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title=None),
            y=alt.Y("emotion:N", sort="-x", title=None),
            color=alt.Color(
                "key:N", scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())), legend=None
            ),
            tooltip=[alt.Tooltip("emotion:N"), alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(height=210)
    )


def _choose_model(task: str, label: str) -> str | None:
    """A model picker when several models of `task` are committed; None means the production one."""
    try:
        known = model_store.list_models(task)
    except ModelError as exc:
        st.error(str(exc))
        return None
    if len(known) < 2:
        return None
    ids = [m.model_id for m in known]
    try:
        production = model_store.resolve_model(None, task).model_id
    except ModelError:
        production = ids[0]
    return st.selectbox(
        label, ids, index=ids.index(production) if production in ids else 0, key=f"predict_model_{task}",
        format_func=lambda i: f"{i} (production)" if i == production else i,
    )


def _downloads(rows: list[dict], stem: str, key: str) -> None:
    left, right = st.columns(2)
    left.download_button(
        "CSV", pd.DataFrame(rows).to_csv(index=False), file_name=f"{stem}.csv", mime="text/csv",
        key=f"{key}_csv", on_click="ignore", icon=":material/download:",
    )
    right.download_button(
        "JSON", json.dumps(rows if len(rows) > 1 else rows[0], indent=2), file_name=f"{stem}.json",
        mime="application/json", key=f"{key}_json", on_click="ignore", icon=":material/download:",
    )


def _saliency_on() -> bool:
    return bool(st.session_state.get("predict_saliency"))


def render_face(result: inference.FaceResult, stem: str, key: str, truth: str | None = None) -> None:
    """One face: its crop with landmarks (and Grad-CAM when asked), its probabilities, its downloads."""
    left, right = st.columns([1, 2])
    caption = "Face crop (as the models see it)"
    caption += " with its 15 landmarks" if result.landmarks_96 is not None else "; no landmark model"
    if result.angle:
        caption += f", turned {result.angle:+.0f}° to level the eyes"
    left.image(draw_landmarks(result.crop96, result.landmarks_96, size=240), caption=caption)
    if _saliency_on() and result.probabilities is not None:
        try:
            left.image(
                gradcam.overlay_for(result, size=240),
                caption=f"Grad-CAM: where the model saw *{DISPLAY_NAMES[result.emotion]}* (red: most)",
            )
        except FaceemoError as exc:
            left.warning(f"No heatmap for this model: {exc}")
    with right:
        if result.probabilities is None:
            st.info("No emotion model: probabilities are not available.")
        else:
            name = DISPLAY_NAMES[result.emotion]
            verdict = f"**Face {result.index + 1}: {name}** ({result.confidence:.0%})"
            if truth is not None:
                verdict += f" — labelled *{DISPLAY_NAMES.get(truth, truth)}* in the warehouse"
            st.markdown(verdict)
            st.altair_chart(probability_chart(result.probabilities), width="stretch")
        if result.whole_image:
            st.caption("The whole image was treated as one face.")
        _downloads([result.to_row()], f"{stem}_face{result.index + 1}", key)


def render_photo(name: str, rgb: np.ndarray, results: list[inference.FaceResult], key: str) -> None:
    """A photo's annotated image and each of its faces."""
    stem = Path(name).stem or "photo"
    st.subheader(name)
    if not results:
        st.warning(
            f"No face found in **{name}**. Tick *If no face is found, treat the whole image as one face* "
            "above to analyse it anyway (as a face crop, this works best on an already-cropped face)."
        )
        st.image(rgb, caption=f"{rgb.shape[1]}x{rgb.shape[0]}", width=min(480, rgb.shape[1]))
        return
    summary = ", ".join(face_label(r) for r in results)
    caption = f"{len(results)} face(s): {summary}"
    st.image(annotate_image(rgb, results), caption=caption, width=min(800, rgb.shape[1]))
    for result in results:
        render_face(result, stem, f"{key}_{result.index}")


def _upload_section(
    emotion_id: str | None, landmark_id: str | None, stamp: tuple, fallback: bool, options: dict,
    camera: bool = False,
) -> None:
    limit = st.get_option("server.maxUploadSize")
    if camera:
        snapshot = st.camera_input("Take a snapshot", key="predict_camera")
        uploads = [snapshot] if snapshot is not None else []
        if not uploads:
            st.info("Allow the camera in your browser and take a snapshot: every face in it is analysed.")
            return
    else:
        uploads = st.file_uploader(
            "Photos", type=UPLOAD_TYPES, accept_multiple_files=True, key="predict_upload",
            help=f"JPEG, PNG, WebP, BMP, TIFF or GIF (first frame), up to {limit} MB each.",
        )
    if not uploads:
        st.info("Upload one or several photos: every face in them gets its emotion and landmarks.")
        return
    all_rows: list[dict] = []
    shown: dict[str, str] = {}  # content digest -> the name it was shown under
    for n, upload in enumerate(uploads):
        digest = hashlib.sha1(upload.getvalue()).hexdigest()
        if digest in shown:  # the same file uploaded again (or under another name): once is enough
            same = "" if shown[digest] == upload.name else f" (as **{shown[digest]}**)"
            st.caption(f"**{upload.name}** is the same file as one above{same}: shown once.")
            continue
        shown[digest] = upload.name
        try:
            rgb, results = cached_analysis(
                upload.getvalue(), upload.name, emotion_id, landmark_id, stamp, fallback, **options
            )
        except FaceemoError as exc:
            # a bad file gets its reason; the other files are still processed
            st.error(f"**{upload.name}**: {str(exc).removeprefix(upload.name + ': ')}")
            continue
        render_photo(upload.name, rgb, results, key=f"up{n}_{digest[:8]}")
        all_rows.extend(r.to_row() for r in results)
    if len(all_rows) > 1:
        st.subheader("All faces")
        _downloads(all_rows, "faces", "all_faces")


def _sample_section(models: inference.Models) -> None:
    if common.row_count("images") == 0:
        st.info(f"The warehouse has no faces yet; fill it with `{warehouse.FILL_COMMAND}` to pick a sample.")
        return
    samples = common.load("predict_sample_faces", emotions=common.selected_emotions(), per_emotion=5)
    if samples.empty:
        st.info("No faces of the emotions chosen in the sidebar.")
        return
    labels = {
        int(row.image_id): f"{DISPLAY_NAMES[row.emotion]} · {row.usage} · {row.file_name}"
        for row in samples.itertuples()
    }
    # Start on a smiling face: the clearest first impression, and the emotion the models know best.
    first_happy = next((i for i, emotion in enumerate(samples["emotion"]) if emotion == "happy"), 0)
    chosen = st.selectbox(
        "Sample face", list(labels), index=first_happy, format_func=labels.get, key="predict_sample"
    )
    row = row_of(samples, "image_id", chosen)
    pixels = face_from_blob(row["pixels"])
    # a warehouse face is already a FER-2013 crop: no detection, the whole image is the face
    results = inference.analyze(pixels, name=row["file_name"], models=models, whole_image=True)
    render_face(results[0], Path(row["file_name"]).stem, f"sample_{chosen}", truth=row["emotion"])


def render() -> None:
    """The Predict page."""
    st.title("Predict")
    st.caption(
        "Every face in a photo, found by a face detector (YuNet by default), levelled on its eye line and "
        "cropped like FER-2013, gets the 7 emotion probabilities and 15 facial landmarks."
    )

    pick_left, pick_right = st.columns(2)
    with pick_left:
        emotion_id = _choose_model("emotion", "Emotion model")
    with pick_right:
        landmark_id = _choose_model("landmarks", "Landmark model")
    stamp = _models_stamp()
    try:
        models = cached_models(emotion_id, landmark_id, stamp)
    except ModelError as exc:
        st.warning(f"Predictions need a model. {exc}.")
        commands = inference.TRAIN_COMMAND
        st.code(f"{commands['emotion']}\n{commands['landmarks']}", language="bash")
        return
    for notice in models.notices():
        st.warning(notice)

    source = st.radio(
        "Faces from", [SOURCE_UPLOAD, SOURCE_CAMERA, SOURCE_SAMPLE], horizontal=True, key="predict_source"
    )
    st.toggle(
        "Show what the model looked at (Grad-CAM)", key="predict_saliency",
        help="A heatmap over each face crop: the regions that raised the predicted emotion's score most.",
    )
    if source in (SOURCE_UPLOAD, SOURCE_CAMERA):
        with st.expander("Detection options"):
            found = detectors.available()
            detector = st.selectbox(
                "Face detector", found, index=found.index(detectors.default_name()), key="predict_detector",
                format_func=lambda n: f"{n}: {detectors.get(n).description}",
            )
            align = st.checkbox(
                "Level each face on its eye line before cropping", value=inference.ALIGN_DEFAULT,
                key="predict_align",
            )
            check = st.checkbox(
                "Check doubtful faces with a second face model", value=True, key="predict_face_check",
                disabled=not detectors.get(detector).checks,
                help="Far fewer false faces on busy backgrounds; off, a very tight face crop is missed a "
                "little less often. YuNet only.",
            )
        fallback = st.checkbox(
            "If no face is found, treat the whole image as one face", key="predict_whole_image",
            help="As the original study did: the whole photo, padded to a square, becomes the face crop.",
        )
        _upload_section(
            emotion_id, landmark_id, stamp, fallback, {"detector": detector, "align": align, "check": check},
            camera=source == SOURCE_CAMERA,
        )
    else:
        _sample_section(models)
