"""The 68-point iBUG 300-W scheme mapped onto the 15 Kaggle keypoints (faceemo.keypoints.KEYPOINTS).

iBUG indices are 0-based and "right"/"left" are the subject's: 36–41 is the subject's right eye (image
left), 42–47 the left eye (image right), matching Kaggle, whose "left" lies on the image's right.
"""

from __future__ import annotations

import numpy as np

from faceemo.keypoints import KEYPOINTS

# Each Kaggle keypoint = the mean of these iBUG points (one index for all but the eye centres).
KAGGLE_FROM_68: dict[str, tuple[int, ...]] = {
    "left_eye_center": (42, 43, 44, 45, 46, 47),
    "right_eye_center": (36, 37, 38, 39, 40, 41),
    "left_eye_inner_corner": (42,),
    "left_eye_outer_corner": (45,),
    "right_eye_inner_corner": (39,),
    "right_eye_outer_corner": (36,),
    "left_eyebrow_inner_end": (22,),
    "left_eyebrow_outer_end": (26,),
    "right_eyebrow_inner_end": (21,),
    "right_eyebrow_outer_end": (17,),
    "nose_tip": (30,),
    "mouth_left_corner": (54,),
    "mouth_right_corner": (48,),
    "mouth_center_top_lip": (51,),
    "mouth_center_bottom_lip": (57,),
}
assert tuple(KAGGLE_FROM_68) == KEYPOINTS


def mapping_matrix() -> np.ndarray:
    """(15, 68) weights: kaggle = W @ points68 (each row averages its iBUG points)."""
    weights = np.zeros((len(KEYPOINTS), 68), np.float64)
    for row, name in enumerate(KEYPOINTS):
        indices = KAGGLE_FROM_68[name]
        weights[row, list(indices)] = 1.0 / len(indices)
    return weights


def to_kaggle15(points68: np.ndarray) -> np.ndarray:
    """(..., 68, 2) iBUG points → (..., 15, 2) Kaggle keypoints in KEYPOINTS order."""
    points68 = np.asarray(points68, np.float64)
    if points68.shape[-2:] != (68, 2):
        raise ValueError(f"expected (..., 68, 2) points, got {points68.shape}")
    return np.einsum("kp,...pc->...kc", mapping_matrix(), points68)
