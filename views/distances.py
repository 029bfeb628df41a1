"""Distances page: the study's two measures per emotion, with uncertainty and a test.

Eye–nose = mean of the two eye-centre → nose-tip distances; nose–mouth = nose tip → bottom-lip centre.
Raw in pixels of the 96x96 frame, divided by the maximum (as the study did), and divided by the
inter-ocular distance (scale-free). Bootstrap 95% intervals, box plots, Kruskal–Wallis with effect sizes,
and the study's findings checked against ours. Heavy statistics are cached per warehouse version.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from faceemo.analytics import DistanceAnalysis, Finding, distance_analysis, kruskal_shown, study_findings
from faceemo.landmark_stats import MEASURES, SCALES, STUDY_FINDINGS
from views.common import Version, per_version, read
from views.landmarks_common import display, emotion_colour, landmark_filters

N_BOOT = 2000


@st.cache_data(show_spinner="Bootstrapping the per-emotion means…", max_entries=16)
def _analysis(at: Version, model: str, usages: list[str], emotions: list[str]) -> DistanceAnalysis | None:
    frame = read(at, "distances_per_face", model_id=model, usages=usages, emotions=emotions)
    return distance_analysis(frame, N_BOOT)


VERDICTS = {"agrees": ":green[**Agrees**]", "disagrees": ":red[**Disagrees**]",
            "close": ":orange[**Too close to call**]", "unknown": "**Cannot tell**"}
SCALE_FREE = {"agrees": "agrees", "disagrees": "disagrees", "close": "too close to call",
              "unknown": "cannot tell"}


def finding_line(finding: Finding) -> str:
    """One study finding: the verdict in pixels, the numbers behind it, the scale-free verdict."""
    line = (f"{VERDICTS[finding.verdict]} — {MEASURES[finding.measure].lower()} is {finding.claim} for "
            f"*{display(finding.study)}*")
    if finding.verdict != "unknown":
        line += (
            f": *{display(finding.ours)}* {finding.ours_mean:.2f} px, *{display(finding.other)}* "
            f"{finding.other_mean:.2f} px; {display(finding.study)} is the {finding.claim} in "
            f"{finding.p_study_claim:.0%} of the resamples"
        )
    return f"{line}. Scale-free: {SCALE_FREE[finding.scale_free]}."


def emotion_axis(emotions: pd.Series) -> alt.X:
    """Emotions along x in the rows' order, capitalized."""
    return alt.X(
        "emotion:N",
        sort=list(emotions),
        title=None,
        axis=alt.Axis(labelExpr="upper(slice(datum.label,0,1)) + slice(datum.label,1)"),
    )


def render() -> None:
    """The Distances page."""
    st.title("Distances")
    st.caption(
        "The study's two measures per face, from the predicted landmarks: **eye–nose** (both eye centres to "
        "the nose tip, averaged) and **nose–mouth** (nose tip to the bottom-lip centre). Blank frames are "
        "left out."
    )
    model_id, emotions, usages = landmark_filters("distances_usage")

    analysis = per_version(_analysis, model_id, usages, emotions)
    if analysis is None:
        st.info("No faces with landmarks match these filters.")
        return

    scale_suffix = st.radio(
        "Scale",
        list(SCALES),
        format_func=SCALES.get,
        horizontal=True,
        key="distances_scale",
        help="÷ max: each measure divided by its largest value over the selected faces, as the study did "
        "(same order and ratios as px). ÷ inter-ocular: divided by each face's eye-to-eye distance, so face "
        "size in the crop no longer matters.",
    )
    summary, box = analysis.summary, analysis.box
    unit = "px" if scale_suffix == "" else "ratio"

    columns = st.columns(len(MEASURES))
    for column, (measure, title) in zip(columns, MEASURES.items(), strict=True):
        variant = measure + scale_suffix
        rows = summary[summary["variant"] == variant]
        with column:
            st.subheader(title)
            base = alt.Chart(rows).encode(
                x=emotion_axis(rows["emotion"]),
            )
            bars = base.mark_errorbar(ticks=True).encode(
                y=alt.Y("ci_low:Q", title=f"mean ({unit}), 95% CI", scale=alt.Scale(zero=False)),
                y2="ci_high:Q",
                color=emotion_colour(legend=False),
            )
            dots = base.mark_point(filled=True, size=70).encode(
                y="mean:Q",
                color=emotion_colour(legend=False),
                tooltip=[
                    "emotion:N",
                    "n:Q",
                    alt.Tooltip("mean:Q", format=".4f"),
                    alt.Tooltip("ci_low:Q", format=".4f"),
                    alt.Tooltip("ci_high:Q", format=".4f"),
                ],
            )
            st.altair_chart((bars + dots).properties(height=260), width="stretch")
            boxes = box[box["variant"] == variant]
            bbase = alt.Chart(boxes).encode(
                x=emotion_axis(boxes["emotion"]),
            )
            whiskers = bbase.mark_rule().encode(
                y=alt.Y("low:Q", title=f"distribution ({unit})", scale=alt.Scale(zero=False)), y2="high:Q"
            )
            iqr = bbase.mark_bar(size=22, opacity=0.8).encode(
                y="q1:Q",
                y2="q3:Q",
                color=emotion_colour(legend=False),
                tooltip=["emotion:N", "q1:Q", "median:Q", "q3:Q", "outliers:Q"],
            )
            median = bbase.mark_tick(color="black", size=22, thickness=2).encode(y="median:Q")
            st.altair_chart((whiskers + iqr + median).properties(height=240), width="stretch")

    st.caption(
        f"{analysis.n:,} faces; intervals from {N_BOOT:,} bootstrap resamples of the faces of each emotion. "
        "Boxes: quartiles; whiskers: 1.5 × IQR."
    )

    st.header("Do the emotions differ?")
    if analysis.kruskal is None:
        st.info("Select at least two emotions to compare them.")
    else:
        st.dataframe(
            kruskal_shown(analysis.kruskal),
            hide_index=True,
            width="stretch",
            column_config={
                "h": st.column_config.NumberColumn("H", format="%.1f"),
                "epsilon_squared": st.column_config.NumberColumn("ε²", format="%.4f"),
                "eta_squared_h": st.column_config.NumberColumn("η²H", format="%.4f"),
                "n": st.column_config.NumberColumn("faces", format="localized"),  # thousands separators
            },
        )
        st.caption(
            "Kruskal–Wallis H test across emotions (rank-based, no normality assumed). Effect sizes: "
            "ε² = H/(n−1), η²H = (H−k+1)/(n−k); magnitude read from η²H (0.01 small, 0.06 medium, "
            "0.14 large). "
            "With tens of thousands of faces even tiny differences are 'significant': read the effect size."
        )

        st.header("The study's findings, checked")
        comparison = analysis.comparison
        st.markdown("\n".join(f"- {finding_line(f)}" for f in study_findings(comparison, summary)))
        st.caption(
            "In pixels, as the study measured; each line also gives the scale-free verdict (÷ inter-ocular). "
            f"Clear = the study's emotion wins in at least 95% of {N_BOOT:,} bootstrap resamples."
        )
        with st.expander("Details: every scale, and what the verdicts can and cannot say"):
            st.markdown(
                "A finding that holds in pixels but not scale-free reflects how large the faces are in their "
                "crops rather than the expression. The intervals cover sampling only, not the landmark "
                "model's "
                "own error (about 1.5 px RMSE on people it never saw): where two emotions are within a few "
                "tenths of a pixel, another landmark model may order them differently. Dividing by the "
                "maximum "
                "keeps the order of the means, so '÷ max' always reads as 'px'."
            )
            for measure, (largest, smallest) in STUDY_FINDINGS.items():
                st.markdown(
                    f"**{MEASURES[measure]}** — the study: largest for *{display(largest)}*, smallest for "
                    f"*{display(smallest)}*."
                )
                rows = comparison[comparison["measure"] == MEASURES[measure]]
                for row in rows.itertuples():
                    probability = "n/a" if pd.isna(row.p_study_claim) else f"{row.p_study_claim:.0%}"
                    st.markdown(
                        f"- {row.scale}, {row.claim}: ours is *{display(row.ours)}* → **{row.verdict}** "
                        f"(share of bootstrap resamples in which {display(row.study)} is the {row.claim}: "
                        f"{probability})"
                    )

    st.header("Per-emotion table")
    wide = analysis.table(emotions)
    thousands = st.column_config.NumberColumn(format="localized")  # 4,945 (in the reader's locale)
    st.dataframe(wide, width="stretch", column_config={"faces": thousands})
    st.caption("Mean [95% bootstrap interval] per emotion.")
