"""The dashboard's analytics: typed results shaped from the named queries' frames, which pages only draw.

Each function takes what a named query returned (warehouse/queries/*.sql) and returns a result the page
renders as it is: no page pivots, groups or reindexes data itself. No Streamlit here (pages cache these
results per warehouse version); the landmark and distance statistics live in `faceemo.landmark_stats`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from faceemo.keypoints import KEYPOINTS
from faceemo.labels import DISPLAY_NAMES, EMOTIONS, USAGES
from faceemo.landmark_stats import MEASURES, SCALES, STUDY_FINDINGS, DistanceSet, mean_faces, variant_label

FOLDER_SPLITS = ("train", "valid", "test")


def ordered_usages(values: pd.Series) -> list[str]:
    """The usages present, FER-2013's order first (Training, PublicTest, PrivateTest), then any other."""
    present = set(values)
    return [u for u in USAGES if u in present] + sorted(present - set(USAGES))


def ordered_emotions(values: pd.Series) -> list[str]:
    """The emotions present, in label order."""
    present = set(values)
    return [e for e in EMOTIONS if e in present]


def row_of(frame: pd.DataFrame, column: str, value: object) -> pd.Series:
    """The first row of `frame` whose `column` is `value` (the column kept): a choice's full record."""
    return frame.loc[frame[column] == value].iloc[0]


def _count(value: object) -> int:
    """An integer column value; 0 for NULL (older or hand-made rows leave some empty)."""
    return 0 if pd.isna(value) else int(value)


# --- class balance ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassBalance:
    """Faces per emotion in each usage and folder split (the Class balance page)."""

    counts: pd.DataFrame  # long: usage, emotion, images, percent (of all faces of the usage)
    usages: list[str]
    emotions: list[str]
    table: pd.DataFrame  # rows: usages then '<split> (folder)'; columns: emotions + total
    percent: pd.DataFrame  # rows: usages; columns: emotions (percent of the usage's faces, 2 decimals)

    def available(self, usage: str, emotion: str) -> int:
        """Faces of `emotion` in `usage` ('all': every usage)."""
        rows = self.counts if usage == "all" else self.counts[self.counts["usage"] == usage]
        return int(rows.loc[rows["emotion"] == emotion, "images"].sum())


def class_balance(counts: pd.DataFrame, splits: pd.DataFrame) -> ClassBalance:
    """From balance_counts (usage, emotion, images, percent) and balance_split_counts (split, emotion,
    images)."""
    usages, emotions = ordered_usages(counts["usage"]), ordered_emotions(counts["emotion"])

    def wide(frame: pd.DataFrame, index: str, values: str, rows: list[str]) -> pd.DataFrame:
        return frame.pivot_table(index=index, columns="emotion", values=values, aggfunc="sum",
                                 fill_value=0).reindex(index=rows, columns=emotions, fill_value=0)

    by_usage = wide(counts, "usage", "images", usages)
    by_split = wide(splits, "split", "images", [s for s in FOLDER_SPLITS if s in set(splits["split"])])
    by_split.index = [f"{s} (folder)" for s in by_split.index]
    table = pd.concat([by_usage, by_split])
    table["total"] = table.sum(axis=1)
    percent = wide(counts, "usage", "percent", usages).round(2)
    return ClassBalance(counts, usages, emotions, table, percent)


def faces_per_split_and_usage(counts: pd.DataFrame) -> pd.DataFrame:
    """overview_counts as one row per (split, usage), one column per emotion, and a total."""
    table = counts.pivot_table(index=["split", "usage"], columns="emotion", values="images",
                               aggfunc="sum", fill_value=0)
    table = table.reindex(columns=[e for e in EMOTIONS if e in table.columns])
    table["total"] = table.sum(axis=1)
    return table.reset_index()


def faces_per_usage(counts: pd.DataFrame) -> pd.Series:
    """overview_counts summed per usage, in FER-2013's usage order."""
    per_usage = counts.groupby("usage")["images"].sum()
    return per_usage.loc[ordered_usages(per_usage.index.to_series())]


@dataclass(frozen=True)
class DatasetOverview:
    """One data set on the Overview page: its faces (overview_counts) and its latest ingest's numbers
    (an overview_latest_ingest row), NULLs read as 0."""

    faces: int
    per_usage: pd.Series  # faces per usage, FER-2013's order
    table: pd.DataFrame  # faces_per_split_and_usage
    blank: int
    skipped: int
    converted: int
    source_mb: float
    seconds: float
    finished: datetime
    source_kind: str


def dataset_overview(ingest: Mapping[str, object], counts: pd.DataFrame) -> DatasetOverview:
    kind = ingest["source_kind"]
    return DatasetOverview(
        faces=int(counts["images"].sum()),
        per_usage=faces_per_usage(counts),
        table=faces_per_split_and_usage(counts),
        blank=int(counts["blank"].sum()),
        skipped=_count(ingest["n_skipped"]),
        converted=_count(ingest["n_converted"]),
        source_mb=_count(ingest["source_bytes"]) / 1e6,
        seconds=float(ingest["seconds"]),
        finished=pd.Timestamp(ingest["finished_at"]).to_pydatetime(),
        source_kind=kind if isinstance(kind, str) else "unknown source",
    )


# --- model quality ----------------------------------------------------------------------------------


def confusion_cells(counts: pd.DataFrame) -> pd.DataFrame:
    """Every (true, predicted) label pair with its count `n` and its share of the true emotion's faces,
    from models_confusion (true_label, predicted_label, n; missing pairs are 0)."""
    grid = pd.MultiIndex.from_product(
        [range(len(EMOTIONS)), range(len(EMOTIONS))], names=["true_label", "predicted_label"]
    )
    cells = counts.set_index(["true_label", "predicted_label"])["n"].reindex(grid, fill_value=0).reset_index()
    cells["row_share"] = cells["n"] / cells.groupby("true_label")["n"].transform("sum").replace(0, 1)
    return cells


def confusion_shown(cells: pd.DataFrame, emotions: Sequence[str]) -> pd.DataFrame:
    """confusion_cells of the chosen emotions only, with their display names as `true` and `predicted`."""
    labels = [EMOTIONS.index(e) for e in emotions]
    shown = cells[cells["true_label"].isin(labels) & cells["predicted_label"].isin(labels)].copy()
    shown["true"] = shown["true_label"].map(lambda i: DISPLAY_NAMES[EMOTIONS[i]])
    shown["predicted"] = shown["predicted_label"].map(lambda i: DISPLAY_NAMES[EMOTIONS[i]])
    return shown


def top_confusion(cells: pd.DataFrame) -> tuple[str, str] | None:
    """The (true, predicted) emotions of the most frequent mistake among `cells`; None without one."""
    mistakes = cells[cells["true_label"] != cells["predicted_label"]].sort_values("n", ascending=False)
    if not len(mistakes) or mistakes["n"].iloc[0] <= 0:
        return None
    return EMOTIONS[mistakes["true_label"].iloc[0]], EMOTIONS[mistakes["predicted_label"].iloc[0]]


@dataclass(frozen=True)
class Accuracy:
    """Faces whose true emotion is among the chosen ones, and how many of them the model got right."""

    faces: int
    right: int

    @property
    def share(self) -> float | None:
        return self.right / self.faces if self.faces else None


def accuracy_of(counts: pd.DataFrame, emotions: Sequence[str]) -> Accuracy:
    """From models_confusion (true_label, predicted_label, n): a face predicted as an emotion outside
    `emotions` counts as wrong."""
    chosen = counts[counts["true_label"].isin([EMOTIONS.index(e) for e in emotions])]
    right = chosen.loc[chosen["true_label"] == chosen["predicted_label"], "n"].sum()
    return Accuracy(int(chosen["n"].sum()), int(right))


def per_class_metrics(metrics: pd.DataFrame, usage: str, tta: bool, emotions: Sequence[str]) -> pd.DataFrame:
    """models_metrics of one split as one row per chosen emotion (display name): precision, recall, F1."""
    rows = metrics[(metrics["usage"] == usage) & (metrics["tta"] == bool(tta))]
    values = rows.set_index("metric")["value"]
    return pd.DataFrame(
        [
            {
                "emotion": DISPLAY_NAMES[e],
                "precision": values.get(f"precision_{e}"),
                "recall": values.get(f"recall_{e}"),
                "F1": values.get(f"f1_{e}"),
            }
            for e in emotions
        ],
        columns=["emotion", "precision", "recall", "F1"],
    )


def long_metrics(per_class: pd.DataFrame) -> pd.DataFrame:
    """per_class_metrics as one row per emotion and metric (for grouped bars)."""
    return per_class.melt("emotion", var_name="metric", value_name="value")


def training_curves(history: pd.DataFrame) -> pd.DataFrame:
    """models_history's accuracy and loss per epoch, with `split` (Training / PublicTest (val)) and
    `quantity` (accuracy / loss)."""
    curves = history[history["metric"].isin(["accuracy", "val_accuracy", "loss", "val_loss"])].copy()
    curves["split"] = curves["metric"].map(
        lambda m: "PublicTest (val)" if m.startswith("val_") else "Training"
    )
    curves["quantity"] = curves["metric"].str.replace("val_", "", regex=False)
    return curves


TTA_COLUMN = "Private acc (TTA)"
# the models table's figures (shares in models_list), shown in percent: label -> models_list column
MODEL_FIGURES = {
    "Private acc": "private_accuracy",
    "Private F1": "private_macro_f1",
    TTA_COLUMN: "private_accuracy_tta",
    "Public acc": "public_accuracy",
    "Public F1": "public_macro_f1",
}


@dataclass(frozen=True)
class ModelTables:
    """The Models page's two tables of models_list, one row per model."""

    quality: pd.DataFrame  # model, architecture, then MODEL_FIGURES in percent (no TTA column when no
    #                        model has a TTA figure; 'not run' text in it when only some have one)
    training: pd.DataFrame  # model, parameters, size (MiB), epochs, training (min), backend, device
    tta_missing: bool  # some model has no TTA figure


def model_tables(models: pd.DataFrame) -> ModelTables:
    quality = pd.DataFrame({"model": models["model_id"], "architecture": models["architecture"]})
    for label, column in MODEL_FIGURES.items():
        quality[label] = models[column] * 100  # "%.2f%%" prints 54.47%: the figures are shares
    has_tta = quality[TTA_COLUMN].notna()
    if not has_tta.any():
        quality = quality.drop(columns=TTA_COLUMN)  # a column of blanks says nothing
    elif not has_tta.all():  # some models have TTA figures, some not: say so, no blanks
        quality[TTA_COLUMN] = [f"{v:.2f}%" if pd.notna(v) else "not run" for v in quality[TTA_COLUMN]]
    training = pd.DataFrame(
        {
            "model": models["model_id"],
            "parameters": models["params"],
            "size (MiB)": models["file_bytes"] / 2**20,
            "epochs": models["epochs"],
            "training (min)": models["train_seconds"] / 60,
            "backend": models["backend"],
            "device": models["device"],
        }
    )
    return ModelTables(quality, training, tta_missing=not has_tta.all())


def macro_f1(per_class: pd.DataFrame) -> float | None:
    """The mean per-class F1 of per_class_metrics' rows; None when no class has one."""
    return float(per_class["F1"].mean()) if per_class["F1"].notna().any() else None


def per_class_percent(per_class: pd.DataFrame) -> pd.DataFrame:
    """per_class_metrics with precision, recall and F1 in percent."""
    return per_class.assign(**{c: per_class[c] * 100 for c in ("precision", "recall", "F1")})


def confusion_midpoint(shown: pd.DataFrame, normalised: bool) -> float:
    """Half the largest value a confusion grid shows: its cells above it get light text on dark."""
    return 0.5 if normalised else float(shown["n"].max()) / 2


# --- distances --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistanceAnalysis:
    """The Distances page's results over the selected faces (distances_per_face)."""

    n: int
    summary: pd.DataFrame  # per emotion and variant: mean with its bootstrap interval
    box: pd.DataFrame  # per emotion and variant: quartiles, whiskers, outliers
    kruskal: pd.DataFrame | None  # None with fewer than two emotions
    comparison: pd.DataFrame | None

    def table(self, emotions: list[str]) -> pd.DataFrame:
        """One row per emotion (in `emotions`' order): faces, then 'mean [low, high]' per variant."""
        return distance_table(self.summary, emotions)


def distance_analysis(frame: pd.DataFrame, n_boot: int) -> DistanceAnalysis | None:
    """None when no face is selected."""
    if frame.empty:
        return None
    ds = DistanceSet(frame, n_boot=n_boot)
    several = len(ds.emotions) >= 2
    return DistanceAnalysis(
        n=len(frame), summary=ds.summary(), box=ds.box_stats(),
        kruskal=ds.kruskal_table() if several else None,
        comparison=ds.study_comparison() if several else None,
    )


def distance_table(summary: pd.DataFrame, emotions: list[str]) -> pd.DataFrame:
    """DistanceSet.summary() as one row per emotion: faces, then 'mean [low, high]' per measure and scale."""
    table = summary.assign(
        value=[f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in
               zip(summary["mean"], summary["ci_low"], summary["ci_high"], strict=True)],
        column=summary["measure"].map(MEASURES) + " " + summary["scale"],
    )
    wide = table.pivot(index="emotion", columns="column", values="value")
    wide.insert(0, "faces", table.groupby("emotion")["n"].max())
    wide = wide.loc[[e for e in emotions if e in wide.index]]
    wide.index = [DISPLAY_NAMES.get(e, e) for e in wide.index]
    return wide.rename_axis("emotion")


def p_value_text(p: float) -> str:
    """A p-value as text; scipy underflows to 0 below about 1e-300, which reads as '< 1e-300'."""
    return f"{p:.2e}" if p > 0 else "< 1e-300"


def kruskal_shown(kruskal: pd.DataFrame) -> pd.DataFrame:
    """DistanceSet.kruskal_table() with each measure's label and p as text, in the page's columns."""
    shown = kruskal.assign(
        measure=[variant_label(v) for v in kruskal["measure"]], p=[p_value_text(p) for p in kruskal["p"]]
    )
    return shown[["measure", "h", "dof", "p", "epsilon_squared", "eta_squared_h", "magnitude", "n"]]


# --- landmarks --------------------------------------------------------------------------------------


def pooled_centres(means: pd.DataFrame) -> pd.DataFrame:
    """Per keypoint (the index), the mean (ox, oy) over every selected face, pooled from per-emotion
    means (columns keypoint, x, y, n) weighted by their face counts."""
    weights = means.assign(wx=means["x"] * means["n"], wy=means["y"] * means["n"])
    overall = weights.groupby("keypoint")[["wx", "wy", "n"]].sum()
    return pd.DataFrame({"ox": overall["wx"] / overall["n"], "oy": overall["wy"] / overall["n"]})


def magnified_means(means: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Per-emotion mean points (columns emotion, keypoint, n, x, y) moved away from the pooled centre of
    every selected face by `factor`: centre + factor × (emotion mean − centre). Keeps the centre (ox, oy)."""
    shown = means.join(pooled_centres(means), on="keypoint")
    shown["x"] = shown["ox"] + factor * (shown["x"] - shown["ox"])
    shown["y"] = shown["oy"] + factor * (shown["y"] - shown["oy"])
    return shown


STATS_COLUMNS = ["emotion", "keypoint", "n", "mean_x", "mean_y", "std_x", "std_y", "min_x", "max_x", "min_y",
                 "max_y"]


def keypoint_stats_table(stats: pd.DataFrame) -> pd.DataFrame:
    """A keypoint_stats frame (landmarks_stats, results_landmarks_stats) as the pages' table: emotions by
    their display names, the study's describe() columns."""
    return stats.assign(emotion=[DISPLAY_NAMES.get(e, e) for e in stats["emotion"]])[STATS_COLUMNS]


def faces_per_model(models: pd.DataFrame) -> dict[str, int]:
    """landmarks_models as model id -> faces with landmarks."""
    return {m: int(n) for m, n in zip(models["model_id"], models["faces"], strict=True)}


def faces_in_stats(stats: pd.DataFrame) -> int:
    """The faces behind a keypoint_stats frame (landmarks_stats): each emotion's count, summed."""
    return int(stats.groupby("emotion")["n"].first().sum()) if len(stats) else 0


@dataclass(frozen=True)
class MeanFaces:
    """The mean 48x48 face of each emotion (landmarks_pixels) and of all of them, weighted by faces."""

    per_emotion: dict[str, np.ndarray]
    all: np.ndarray


def mean_face_images(frame: pd.DataFrame) -> MeanFaces:
    faces = mean_faces(frame)
    counts = frame["emotion"].value_counts()
    total = sum(faces[e] * counts[e] for e in faces) / max(int(counts.sum()), 1)
    return MeanFaces(faces, total)


def spread_sample(points: pd.DataFrame, size: int = 4000) -> tuple[pd.DataFrame, int]:
    """At most `size` of the non-blank faces of landmarks_points (a fixed draw), and how many there are."""
    points = points[~points["is_blank"]]
    return points.sample(min(len(points), size), random_state=0), len(points)


def face_points(row: pd.Series) -> pd.DataFrame:
    """One face's keypoints (a row with `<keypoint>_x`, `<keypoint>_y` and emotion) as keypoint, x, y."""
    return pd.DataFrame({
        "keypoint": list(KEYPOINTS),
        "x": [row[f"{k}_x"] for k in KEYPOINTS],
        "y": [row[f"{k}_y"] for k in KEYPOINTS],
        "emotion": row["emotion"],
    })


def line_segments(
    points: pd.DataFrame, lines: Sequence[tuple[str, str]], by_emotion: bool = False
) -> pd.DataFrame:
    """The two ends (order 0, 1) of each line between keypoints that are both in `points` (columns
    keypoint, x, y and, `by_emotion`, emotion): columns segment, order, x, y (and emotion)."""
    rows = []
    groups = points.groupby("emotion") if by_emotion else [(None, points)]
    for key, group in groups:
        at = group.set_index("keypoint")
        for s, (a, b) in enumerate(lines):
            if a in at.index and b in at.index:
                for order, name in enumerate((a, b)):
                    x, y = at.loc[name, "x"], at.loc[name, "y"]
                    row = {"segment": f"{key}-{s}", "order": order, "x": x, "y": y}
                    if by_emotion:
                        row["emotion"] = key
                    rows.append(row)
    return pd.DataFrame(rows, columns=["segment", "order", "x", "y", *(["emotion"] if by_emotion else [])])


def keypoints_outside(points: pd.DataFrame, size: int) -> list[str]:
    """Keypoints (columns keypoint, x, y) outside a size x size frame of pixel centres."""
    low, high = -0.5, size - 0.5
    out = (points["x"] < low) | (points["x"] > high) | (points["y"] < low) | (points["y"] > high)
    return points.loc[out, "keypoint"].tolist()


# --- data quality -----------------------------------------------------------------------------------


def blank_groups_last(groups: pd.DataFrame) -> pd.DataFrame:
    """quality_duplicate_groups with the groups of blank frames last (stable: largest first otherwise)."""
    return groups.sort_values("blank", kind="stable").reset_index(drop=True)


def files_in_groups(groups: pd.DataFrame) -> int:
    """The files of quality_duplicate_groups' groups, all together."""
    return int(groups["files"].sum())


def shared_names(collisions: pd.DataFrame) -> int:
    """How many file names quality_name_collisions lists (each is used by several faces)."""
    return int(collisions["file_name"].nunique()) if not collisions.empty else 0


# --- attached result sets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultStatus:
    """An attached result set's rows by status (results_status): faces found, the inputs with faces,
    without a face, and failed, and the most frequent reason of the failures."""

    faces: int
    ok: int
    no_face: int
    failed: int
    failed_reason: str | None


def result_status(status: pd.DataFrame) -> ResultStatus:
    by = {row.status: row for row in status.itertuples(index=False)}

    def inputs(name: str) -> int:
        return int(by[name].inputs) if name in by else 0

    reason = by["failed"].top_reason if "failed" in by else None
    return ResultStatus(
        faces=int(by["ok"].rows) if "ok" in by else 0, ok=inputs("ok"), no_face=inputs("no_face"),
        failed=inputs("failed"), failed_reason=reason if isinstance(reason, str) and reason else None,
    )


@dataclass(frozen=True)
class PredictedBalance:
    """Faces of a result set per predicted emotion (results_balance), in label order."""

    counts: pd.DataFrame  # emotion, images, percent, mean_confidence
    emotions: list[str]
    table: pd.DataFrame  # emotion (display name), faces, % of faces, mean_confidence


def predicted_balance(counts: pd.DataFrame) -> PredictedBalance:
    emotions = ordered_emotions(counts["emotion"])
    counts = counts.set_index("emotion").loc[emotions].reset_index()
    table = counts.assign(emotion=[DISPLAY_NAMES[e] for e in counts["emotion"]])[
        ["emotion", "images", "percent", "mean_confidence"]
    ].rename(columns={"images": "faces", "percent": "% of faces"})
    return PredictedBalance(counts, emotions, table)


# --- distances: the study's findings ----------------------------------------------------------------


def emotion_means(summary: pd.DataFrame, variant: str, smallest_first: bool) -> pd.Series:
    """DistanceSet.summary()'s mean of `variant` per emotion, ranked: largest first, or smallest first."""
    means = summary[summary["variant"] == variant].set_index("emotion")["mean"]
    return means.sort_values(ascending=smallest_first)


def verdict_word(text: str) -> str:
    """A study-comparison verdict in one of four words: agrees, disagrees, close, unknown."""
    if text == "agrees":
        return "agrees"
    if text.startswith("disagrees"):
        return "disagrees"
    return "unknown" if text.startswith("cannot tell") else "close"


@dataclass(frozen=True)
class Finding:
    """One of the study's findings checked against ours: in pixels, with the numbers behind the verdict
    (when there is one), and the scale-free verdict (÷ inter-ocular)."""

    measure: str  # a MEASURES key
    claim: str  # largest / smallest
    study: str  # the study's emotion
    verdict: str  # verdict_word in pixels
    scale_free: str  # verdict_word ÷ inter-ocular
    ours: str | None = None  # our emotion of that claim, and the one it is compared with
    other: str | None = None
    ours_mean: float | None = None
    other_mean: float | None = None
    p_study_claim: float | None = None  # share of the resamples in which the study's emotion wins


def study_findings(comparison: pd.DataFrame, summary: pd.DataFrame) -> list[Finding]:
    """Each finding of STUDY_FINDINGS from DistanceSet.study_comparison() and .summary()."""
    findings = []
    for measure, claims in STUDY_FINDINGS.items():
        for claim, study in zip(("largest", "smallest"), claims, strict=True):
            rows = comparison[(comparison["measure"] == MEASURES[measure]) & (comparison["claim"] == claim)]
            px = rows[rows["scale"] == SCALES[""]].iloc[0]
            iod = rows[rows["scale"] == SCALES["_iod"]].iloc[0]
            verdict, scale_free = verdict_word(px["verdict"]), verdict_word(iod["verdict"])
            if verdict == "unknown":
                findings.append(Finding(measure, claim, study, verdict, scale_free))
                continue
            means = emotion_means(summary, measure, smallest_first=claim == "smallest")
            ours = px["ours"]
            other = means.index[1] if ours == study else study
            findings.append(Finding(
                measure, claim, study, verdict, scale_free, ours, other,
                float(means[ours]), float(means[other]), float(px["p_study_claim"]),
            ))
    return findings
