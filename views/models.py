"""Models page: emotion models, their training curves, confusion matrices, per-class metrics and the
faces they got wrong. Reads the warehouse only (rows written by train-emotion and evaluate)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from faceemo.analytics import (
    TTA_COLUMN,
    accuracy_of,
    confusion_cells,
    confusion_midpoint,
    confusion_shown,
    long_metrics,
    macro_f1,
    model_tables,
    per_class_metrics,
    per_class_percent,
    row_of,
    top_confusion,
    training_curves,
)
from faceemo.labels import DISPLAY_NAMES, EMOTIONS
from faceemo.pixels import face_from_blob
from views.common import (
    Version,
    load,
    per_version,
    production_model,
    read,
    require_images,
    selected_emotions,
)

EVALUATE = "python -m pipelines evaluate"
TRAIN = "python -m pipelines train-emotion --model-arch vgg_fer"

HELP = {
    "Private acc": "Accuracy on PrivateTest, the held-out split: no model was fit or selected on it",
    "Private F1": "Macro-F1 on PrivateTest: the mean F1 of the 7 emotions (rare ones count as much)",
    TTA_COLUMN: "PrivateTest accuracy with test-time augmentation: the mean of 10 views of each face",
    "Public acc": "Accuracy on PublicTest, the split training selected its best epoch on",
    "Public F1": "Macro-F1 on PublicTest",
}


def _column(label: str, values: pd.Series, fmt: str | None = None) -> st.column_config.Column:
    """A column as wide as its header and its longest value (both would be cut off otherwise)."""
    longest = max([len(label), *(len(fmt % v if fmt and "%" in fmt else str(v)) for v in values.dropna())])
    width = int(7.5 * longest) + 32
    if fmt is None:
        return st.column_config.TextColumn(label, width=width, help=HELP.get(label))
    return st.column_config.NumberColumn(label, width=width, format=fmt, help=HELP.get(label))


@st.cache_data(show_spinner=False, max_entries=64)
def _confusion(at: Version, model_id: str, usage: str, tta: bool) -> pd.DataFrame:
    """Every (true, predicted) cell with its count and share of the true emotion, once per version."""
    return confusion_cells(read(at, "models_confusion", model_id=model_id, usage=usage, tta=tta))


def render() -> None:
    """The Models page."""
    st.title("Models")
    require_images()

    models = load("models_list")
    if models.empty:
        st.info("No emotion model is registered in the warehouse yet.")
        st.markdown("Register and evaluate the committed models (`models/`), or train one first:")
        st.code(f"{EVALUATE}\n{TRAIN}")
        return

    # --- the models table --------------------------------------------------------------------------------
    st.subheader("Emotion models")
    tables = model_tables(models)

    shown = tables.quality
    column_config = {
        c: _column(c, shown[c], "%.2f%%" if shown[c].dtype.kind == "f" else None) for c in shown.columns
    }
    st.dataframe(shown, hide_index=True, width="stretch", column_config=column_config)
    tta_note = f" Models without a TTA figure: run `{EVALUATE} --tta`." if tables.tta_missing else ""
    st.caption(
        "Every emotion, whatever the sidebar filter. Protocol: fit on Training, select on PublicTest, report "
        "PrivateTest (the held-out figure). TTA = mean of 10 views (the face and its four corner crops, "
        "each mirrored)." + tta_note
    )
    with st.expander("How they were trained"):
        training = tables.training
        st.dataframe(
            training,
            hide_index=True,
            width="stretch",
            column_config={
                "model": _column("model", training["model"]),
                "parameters": st.column_config.NumberColumn(format="compact"),
                "size (MiB)": st.column_config.NumberColumn(format="%.1f"),
                "epochs": st.column_config.NumberColumn(format="%d"),
                "training (min)": st.column_config.NumberColumn(format="%.0f"),
                "device": st.column_config.TextColumn(width="large"),
            },
        )

    ids = list(models["model_id"])
    production = production_model("emotion")
    default = ids.index(production) if production in ids else 0
    model_id = (
        st.selectbox("Model", ids, index=default, help="Models registered in the warehouse")
        if len(ids) > 1
        else ids[0]
    )
    row = row_of(models, "model_id", model_id)

    # --- training curves ----------------------------------------------------------------------------------
    st.subheader("Training curves")
    history = load("models_history", model_id=model_id)
    if history.empty:
        st.info(f"No training history for `{model_id}` in the warehouse.")
    else:
        history = training_curves(history)
        cols = st.columns(2)
        for col, quantity in zip(cols, ("accuracy", "loss"), strict=True):
            part = history[history["quantity"] == quantity]
            chart = (
                alt.Chart(part)
                .mark_line(point=True)
                .encode(
                    x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(format="d", tickMinStep=1)),
                    y=alt.Y("value:Q", title=quantity, scale=alt.Scale(zero=False)),
                    color=alt.Color("split:N", title=None),
                    tooltip=["epoch", "split", alt.Tooltip("value:Q", format=".4f")],
                )
                .properties(height=260, title=quantity)
            )
            col.altair_chart(chart, width="stretch")

    # --- evaluation -----------------------------------------------------------------------------------------
    if not row["evaluated"]:
        st.info(f"`{model_id}` has no predictions yet. Evaluate it:")
        st.code(f"{EVALUATE} --model {model_id}")
        return

    emotions = selected_emotions()
    if not emotions:
        st.warning("No emotion selected in the sidebar filter.")
        return

    left, middle, right = st.columns(3)
    usage = left.radio(
        "Split", ["PrivateTest", "PublicTest"], horizontal=True, help="PrivateTest is held out"
    )
    tta = middle.toggle(
        "Test-time augmentation",
        value=False,
        disabled=not row["has_tta"],
        help=None if row["has_tta"] else f"Run `{EVALUATE} --tta` to add TTA predictions",
    )
    normalise = right.toggle(
        "Row-normalised", value=True, help="Share of each true emotion (recall on the diagonal)"
    )

    st.subheader(f"Confusion matrix — {usage}{' (TTA)' if tta else ''}")

    confusion = confusion_shown(per_version(_confusion, model_id, usage, bool(tta)), emotions)
    value, fmt = ("row_share", ".0%") if normalise else ("n", "d")
    order = [DISPLAY_NAMES[e] for e in emotions]
    base = alt.Chart(confusion).encode(
        x=alt.X("predicted:N", sort=order, title="predicted"),
        y=alt.Y("true:N", sort=order, title="true"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color(
            f"{value}:Q", scale=alt.Scale(scheme="blues"), title="share" if normalise else "faces"
        ),
        tooltip=["true", "predicted", "n", alt.Tooltip("row_share:Q", format=".1%", title="share of true")],
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text(f"{value}:Q", format=fmt),
        color=alt.condition(
            f"datum.{value} > {confusion_midpoint(confusion, normalise)}",
            alt.value("white"),
            alt.value("black"),
        ),
    )
    st.altair_chart((heat + text).properties(height=380), width="stretch")

    # --- per-class metrics ----------------------------------------------------------------------------------
    st.subheader("Per-class precision, recall and F1")
    per_class = per_class_metrics(load("models_metrics", model_id=model_id), usage, bool(tta), emotions)
    # The headline follows the sidebar filter like the rest of the page: faces whose true emotion is chosen.
    accuracy = accuracy_of(load("models_confusion", model_id=model_id, usage=usage, tta=bool(tta)), emotions)
    filtered = len(emotions) < len(EMOTIONS)
    scope = f" ({len(emotions)} of {len(EMOTIONS)} emotions)" if filtered else ""
    c1, c2, c3 = st.columns(3)
    c1.metric(
        f"{usage} accuracy{scope}",
        f"{accuracy.share:.2%}" if accuracy.faces else "–",
        help="Share of the faces of the chosen emotions that the model got right (a face predicted as an "
        "emotion outside the filter counts as wrong).",
    )
    f1 = macro_f1(per_class)
    c2.metric(
        f"{usage} macro-F1{scope}",
        f"{f1:.2%}" if f1 is not None else "–",
        help="Mean of the per-class F1 of the chosen emotions.",
    )
    c3.metric("Faces" + scope, f"{accuracy.faces:,}")
    long = long_metrics(per_class)
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("emotion:N", sort=order, title=None),
            xOffset="metric:N",
            y=alt.Y("value:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title=None),
            color=alt.Color("metric:N", title=None),
            tooltip=["emotion", "metric", alt.Tooltip("value:Q", format=".1%")],
        )
        .properties(height=280)
    )
    st.altair_chart(bars, width="stretch")
    per_class_shown = per_class_percent(per_class)
    st.dataframe(
        per_class_shown,
        hide_index=True,
        width="stretch",
        column_config={c: _column(c, per_class_shown[c], "%.1f%%") for c in ("precision", "recall", "F1")},
    )

    # --- misclassified faces --------------------------------------------------------------------------------
    st.subheader("Misclassified faces")
    a, b = st.columns(2)
    if len(emotions) < 2:
        st.info("Select at least two emotions in the sidebar to browse mistakes.")
        return
    # start on the most frequent confusion among the selected emotions
    top_true, top_pred = top_confusion(confusion) or (emotions[0], emotions[1])
    true_emotion = a.selectbox(
        "True emotion", emotions, index=emotions.index(top_true), format_func=DISPLAY_NAMES.get,
        key="mis_true",
    )
    others = [e for e in emotions if e != true_emotion]
    predicted_emotion = b.selectbox(
        "Predicted as",
        others,
        index=others.index(top_pred) if top_pred in others else 0,
        format_func=DISPLAY_NAMES.get,
        key="mis_pred",
    )
    wrong = load(
        "models_misclassified",
        model_id=model_id,
        usage=usage,
        tta=bool(tta),
        true_label=EMOTIONS.index(true_emotion),
        predicted_label=EMOTIONS.index(predicted_emotion),
        limit=48,
    )
    if wrong.empty:
        st.success(
            f"No {DISPLAY_NAMES[true_emotion].lower()} face of {usage} was predicted as "
            f"{DISPLAY_NAMES[predicted_emotion].lower()}."
        )
    else:
        shown = f"the {len(wrong)} most confident" if len(wrong) == 48 else f"{len(wrong)}"
        st.caption(f"Showing {shown} mistake(s), most confident first (confidence · file).")
        st.image(
            [face_from_blob(blob) for blob in wrong["pixels"]],
            caption=[
                f"{conf:.0%} · {name}"
                for conf, name in zip(wrong["confidence"], wrong["file_name"], strict=True)
            ],
            width=96,
        )
