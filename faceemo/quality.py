"""Data-quality facts about faces: simple pixel statistics, the blank-frame rule, duplicate groups.

Duplicates are *byte-identical source files* (same `images.sha256`); the grouping itself runs in SQL
(warehouse/queries/quality_*.sql) so the dashboard and the ingest summary count the same way.

Blank threshold: a face is blank when the standard deviation of its 48x48 gray pixels is below
BLANK_STD = 2.0 (out of 255). On the real FER-2013 the standard deviations split cleanly: 12 files
have std 0.0 (one byte-identical group, the blank frame the data README mentions) and the next lowest
is 42.6, so any threshold from about 1 to 40 finds the same 12; 2.0 also catches a constant frame that
JPEG re-encoding left with +-1 noise, without touching a real low-contrast face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np

from faceemo import store
from faceemo.labels import EMOTIONS

BLANK_STD = 2.0


def image_stats(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-image (mean, std, is_blank) of a (N, 48, 48) or (48, 48) uint8 stack."""
    stack = np.asarray(pixels, dtype=np.float32)
    if stack.ndim == 2:
        stack = stack[None]
    flat = stack.reshape(len(stack), -1)
    mean = flat.mean(axis=1)
    std = flat.std(axis=1)
    return mean, std, std < BLANK_STD


@dataclass(frozen=True)
class QualitySummary:
    """Headline numbers of the data-quality page (for one data set and emotion filter)."""

    duplicate_groups: int
    duplicate_files: int
    within_split_groups: int
    cross_split_groups: int
    cross_usage_groups: int
    conflicting_groups: int
    blank_images: int
    name_collisions: int

    def lines(self) -> list[str]:
        return [
            f"{self.duplicate_groups:,} groups of byte-identical files ({self.duplicate_files:,} files): "
            f"{self.within_split_groups:,} within one split, {self.cross_split_groups:,} across splits "
            f"(train/test), {self.conflicting_groups:,} with conflicting labels",
            f"{self.blank_images:,} blank (near-constant) images; "
            f"{self.name_collisions:,} file names used in more than one emotion folder",
        ]


def summary(
    con: duckdb.DuckDBPyConnection, dataset: str = "fer2013", emotions: Sequence[str] = EMOTIONS
) -> QualitySummary:
    """Counts of duplicate groups, blank images and file-name collisions (the `quality_summary` query)."""
    counts = store.quality_counts(con, dataset, emotions)
    return QualitySummary(**{field: counts[field] for field in QualitySummary.__dataclass_fields__})
