"""The dashboard's analytics: typed results shaped from the named queries' frames, which pages only draw.

Each function takes what a named query returned (warehouse/queries/*.sql) and returns a result the page
renders as it is: no page pivots, groups or reindexes data itself. No Streamlit here (pages cache these
results per warehouse version); the landmark and distance statistics live in `faceemo.landmark_stats`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from faceemo.labels import EMOTIONS, USAGES
from faceemo.landmark_stats import MEASURES, DistanceSet

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
