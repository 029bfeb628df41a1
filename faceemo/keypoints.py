"""Names of the 15 Kaggle facial keypoints, in the order every landmark model outputs them.

"left"/"right" are the subject's: the subject's left eye lies on the image's right (larger x).
Coordinates live in a 96x96 frame (pixels, origin top-left), as in the Kaggle data.
"""

from __future__ import annotations

KEYPOINTS: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
)
NUM_KEYPOINTS = len(KEYPOINTS)
FRAME_SIZE = 96

# Column names as in Kaggle's training.csv and the warehouse `landmarks` table: x, y per keypoint.
COLUMNS: tuple[str, ...] = tuple(f"{k}_{axis}" for k in KEYPOINTS for axis in ("x", "y"))

# Horizontal flip turns the subject's left into right: the index each keypoint swaps with.
FLIP_PERMUTATION: tuple[int, ...] = tuple(
    KEYPOINTS.index(
        k.replace("left", "\0").replace("right", "left").replace("\0", "right")
    )
    for k in KEYPOINTS
)
