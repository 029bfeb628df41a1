"""Small layout helpers shared by the data pages (overview, class balance, data quality)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from faceemo.pixels import face_from_blob
from views.common import load, require_images, selected_emotions

DEFAULT_DATASET = "fer2013"


def data_page(title: str, dataset_key: str) -> tuple[str, list[str]]:
    """A data page's title and filters: (data set, emotions); a friendly stop without faces or emotions."""
    st.title(title)
    require_images()
    dataset = dataset_choice(dataset_key)
    emotions = selected_emotions()
    if not emotions:
        st.info("Choose at least one emotion in the sidebar filter.")
        st.stop()
    return dataset, emotions


def dataset_choice(key: str) -> str:
    """The data set to show: fer2013 by default; a selectbox only when the warehouse holds several."""
    datasets = load("overview_datasets")
    names = list(datasets["dataset"]) if not datasets.empty else [DEFAULT_DATASET]
    if len(names) == 1:
        return names[0]
    default = names.index(DEFAULT_DATASET) if DEFAULT_DATASET in names else 0
    return st.selectbox("Data set", names, index=default, key=key)


def face_strip(frame: pd.DataFrame, captions: Sequence[str], width: int = 96) -> None:
    """The faces of `frame` (a `pixels` BLOB column) in a row that wraps, one caption each."""
    if frame.empty:
        return
    st.image([face_from_blob(blob) for blob in frame["pixels"]], caption=list(captions), width=width)


def without_pixels(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame for st.dataframe: the BLOB column dropped."""
    return frame.drop(columns=[c for c in ("pixels",) if c in frame.columns])
