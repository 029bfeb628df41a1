"""The models the prediction pages share: loaded once per process, reloaded when a model file changes."""

from __future__ import annotations

import streamlit as st

from faceemo import inference
from faceemo.paths import models_dir


def models_stamp() -> tuple:
    """Changes whenever a model file or production.json changes: the cached models are then reloaded."""
    folder = models_dir()
    return (str(folder), tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.json"))))


@st.cache_resource(show_spinner="Loading the models ...", max_entries=4)
def cached_models(emotion_id: str | None, landmark_id: str | None, stamp: tuple) -> inference.Models:
    return inference.load_models(emotion_id, landmark_id)
