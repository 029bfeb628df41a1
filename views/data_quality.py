"""Data quality: byte-identical duplicate groups (within a split, across train/test, with conflicting
labels), blank frames, and file names shared by different faces — counted and shown."""

from __future__ import annotations

import math

import streamlit as st

from faceemo.analytics import blank_groups_last, files_in_groups, shared_names
from faceemo.quality import BLANK_STD
from views.common import load
from views.data_widgets import data_page, face_strip, without_pixels

GROUPS_PER_PAGE = 24
# The findings first: copies across train/test (a model is tested on faces it was trained on) and copies
# with different labels; then the harmless kinds.
KINDS = {
    "cross": "Across splits (train/test)",
    "conflict": "Conflicting labels",
    "within": "Within one split",
    "all": "All groups",
}


def render() -> None:
    """The Data quality page."""
    dataset, emotions = data_page("Data quality", "quality_dataset")

    summary = load("quality_summary", dataset=dataset, emotions=emotions).iloc[0]
    st.caption(
        "A duplicate group is a set of byte-identical source files (same sha256). Counts follow the "
        "sidebar filter: a group counts when any of its files has a chosen emotion."
    )
    row1 = st.columns(3)
    row1[0].metric("Duplicate groups", f"{int(summary.duplicate_groups):,}")
    row1[1].metric("Files in them", f"{int(summary.duplicate_files):,}")
    row1[2].metric("Within one split", f"{int(summary.within_split_groups):,}")
    row2 = st.columns(3)
    row2[0].metric("Across train/test", f"{int(summary.cross_split_groups):,}",
                   help=f"{int(summary.cross_usage_groups):,} groups span more than one usage")
    row2[1].metric("Conflicting labels", f"{int(summary.conflicting_groups):,}")
    row2[2].metric("Blank images", f"{int(summary.blank_images):,}")

    # --- the findings, one line each --------------------------------------------------------------------
    findings = []
    if summary.cross_split_groups:
        findings.append(
            f"**{int(summary.cross_split_groups):,} groups of identical faces cross train/test:** a model is "
            "tested on faces it was trained on, which flatters its test accuracy (our training leaves these "
            "copies out)."
        )
    if summary.conflicting_groups:
        findings.append(
            f"**{int(summary.conflicting_groups):,} groups carry conflicting labels:** the same image is "
            "labelled with different emotions, so no model can get all of its copies right."
        )
    if summary.blank_images:
        findings.append(
            f"**{int(summary.blank_images):,} blank frames** (no face at all) are labelled as emotions: "
            "see *Blank or near-constant images* below."
        )
    if findings:
        st.markdown("\n".join(f"- {line}" for line in findings))
    else:
        st.success("No duplicate across splits, no conflicting label and no blank frame for these emotions.")

    # --- duplicate groups -------------------------------------------------------------------------------
    st.header("Duplicate groups")
    kind = st.radio("Show", list(KINDS), format_func=KINDS.get, horizontal=True, key="quality_kind")
    groups = load("quality_duplicate_groups", dataset=dataset, emotions=emotions, kind=kind)
    # blank frames last: they are one click away below, and the real faces are the findings
    groups = blank_groups_last(groups)
    if groups.empty:
        st.info("No duplicate group of this kind for the chosen emotions.")
    else:
        st.markdown(f"**{len(groups):,} groups** ({files_in_groups(groups):,} files), largest first.")
        pages = math.ceil(len(groups) / GROUPS_PER_PAGE)
        page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1,
                               key=f"quality_page_{kind}")
        shown = groups.iloc[(page - 1) * GROUPS_PER_PAGE: page * GROUPS_PER_PAGE]
        face_strip(shown, [
            f"#{i} · {n}× · {e}" + (" ⚠" if c else "")
            for i, n, e, c in zip(shown.index + 1, shown["files"], shown["emotions"], shown["conflicting"],
                                  strict=True)
        ])
        st.caption("⚠ = the copies carry different labels. The table lists every group's files.")
        st.dataframe(without_pixels(shown), hide_index=True, column_order=[
            "files", "splits", "usages", "emotions", "conflicting", "crosses_splits", "blank", "members",
            "sha256",
        ])

        labels = {
            sha: f"#{i} · {n} files · {e} · {sha[:12]}"
            for i, sha, n, e in zip(groups.index + 1, groups["sha256"], groups["files"], groups["emotions"],
                                    strict=True)
        }
        chosen = st.selectbox("Look at one group's files", list(labels), format_func=labels.get,
                              key=f"quality_group_{kind}")
        members = load("quality_group_members", dataset=dataset, sha256=chosen)
        face_strip(members, [f"{e} · {u}" for e, u in zip(members["emotion"], members["usage"], strict=True)])
        st.dataframe(without_pixels(members), hide_index=True)

    # --- blank frames -----------------------------------------------------------------------------------
    st.header("Blank or near-constant images")
    blank = load("quality_blank", dataset=dataset, emotions=emotions)
    st.markdown(f"**{len(blank):,} images** have a pixel standard deviation below {BLANK_STD:g} (of 255).")
    with st.expander(f"Show the {len(blank):,} blank images", expanded=False):
        face_strip(blank, [f"{e} · {f}" for e, f in zip(blank["emotion"], blank["file_name"], strict=True)])
    with st.expander("The lowest-contrast faces, to judge the threshold"):
        lowest = load("quality_lowest_contrast", dataset=dataset, emotions=emotions, limit=len(blank) + 12)
        face_strip(lowest, [f"std {sd:.1f} · {e}"
                            for sd, e in zip(lowest["std"], lowest["emotion"], strict=True)])
        st.caption("On FER-2013 the blank frames have std 0 and the next lowest face about 43, so the "
                   "threshold is not a close call.")

    # --- file-name collisions ---------------------------------------------------------------------------
    st.header("File names shared by different faces")
    collisions = load("quality_name_collisions", dataset=dataset, emotions=emotions)
    n_names = shared_names(collisions)
    st.markdown(
        f"**{n_names:,} file names** are used by more than one face: a file name alone does not identify "
        "a face (split + emotion + file name, or the content hash, does)."
    )
    face_strip(collisions, [f"{e} · {f}" for e, f in zip(collisions["emotion"], collisions["file_name"],
                                                           strict=True)])
    st.dataframe(without_pixels(collisions), hide_index=True)
