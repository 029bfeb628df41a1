"""The dashboard's analytics: typed results shaped from the named queries' frames, which pages only draw.

Each function takes what a named query returned (warehouse/queries/*.sql) and returns a result the page
renders as it is: no page pivots, groups or reindexes data itself. No Streamlit here (pages cache these
results per warehouse version); the landmark and distance statistics live in `faceemo.landmark_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceemo.keypoints import KEYPOINTS
from faceemo.labels import DISPLAY_NAMES, EMOTIONS, USAGES
from faceemo.landmark_stats import MEASURES, DistanceSet, mean_faces

FOLDER_SPLITS = ("train", "valid", "test")


def ordered_usages(values: pd.Series) -> list[str]:
    """The usages present, FER-2013's order first (Training, PublicTest, PrivateTest), then any other."""
    present = set(values)
    return [u for u in USAGES if u in present] + sorted(present - set(USAGES))


def ordered_emotions(values: pd.Series) -> list[str]:
    """The emotions present, in label order."""
    present = set(values)
    return [e for e in EMOTIONS if e in present]


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
    return wide.loc[[e for e in emotions if e in wide.index]]


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


# --- distances: the study's findings ----------------------------------------------------------------


def emotion_means(summary: pd.DataFrame, variant: str, smallest_first: bool) -> pd.Series:
    """DistanceSet.summary()'s mean of `variant` per emotion, ranked: largest first, or smallest first."""
    means = summary[summary["variant"] == variant].set_index("emotion")["mean"]
    return means.sort_values(ascending=smallest_first)
