"""Augmentation keeps the keypoints on the features: dots drawn at the keypoints stay under them."""

from __future__ import annotations

import numpy as np

from faceemo.keypoints import FLIP_PERMUTATION, KEYPOINTS
from faceemo.landmarks.augment import NO_AUGMENT, AugmentConfig, augment_batch, base_matrix, sample_matrix

SIZE, CONTEXT = 120, 1.25
GEOMETRY_ONLY = AugmentConfig(brightness=0, contrast=(1, 1), lowres=0)


def dotted_faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Context crops with a bright 3x3 dot at each of 15 well-separated keypoints."""
    rng = np.random.default_rng(seed)
    images = np.full((n, SIZE, SIZE), 10, np.uint8)
    kps = np.empty((n, 15, 2))
    grid = np.array([(x, y) for y in (40, 55, 70) for x in (35, 47, 60, 72, 85)], np.float64)
    for i in range(n):
        kps[i] = grid + rng.integers(-2, 3, size=grid.shape)
        for x, y in kps[i].astype(int):
            images[i, y - 1 : y + 2, x - 1 : x + 2] = 255
    return images, kps


def assert_dots_under_keypoints(x: np.ndarray, y: np.ndarray) -> None:
    for img, pts in zip(x[..., 0], y.reshape(len(y), -1, 2), strict=True):
        for px, py in pts:
            xi, yi = int(round(px)), int(round(py))
            assert img[yi - 1 : yi + 2, xi - 1 : xi + 2].max() > 100, (px, py)


def test_no_augment_is_the_centre_crop():
    images, kps = dotted_faces(2)
    x, y = augment_batch(images, kps, np.random.default_rng(0), NO_AUGMENT, CONTEXT)
    np.testing.assert_array_equal(x[..., 0], images[:, 12:108, 12:108])
    np.testing.assert_allclose(y, (kps - 12).reshape(2, -1))
    np.testing.assert_allclose(base_matrix(SIZE, CONTEXT), [[1, 0, -12], [0, 1, -12]])


def test_random_geometry_keeps_dots_under_keypoints():
    images, kps = dotted_faces(16)
    x, y = augment_batch(images, kps, np.random.default_rng(1), GEOMETRY_ONLY, CONTEXT)
    assert x.shape == (16, 96, 96, 1) and y.shape == (16, 30)
    assert_dots_under_keypoints(x, y)


def test_rotation_rotates_points_about_the_centre():
    images, kps = dotted_faces(1)
    config = AugmentConfig(
        rotation=30, scale=(1, 1), shift=0, flip=0, brightness=0, contrast=(1, 1), lowres=0
    )
    rng = np.random.default_rng(5)
    matrix, flipped = sample_matrix(np.random.default_rng(5), config, SIZE, CONTEXT)
    assert not flipped
    angle = np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0]))  # image coordinates (y down)
    assert 1 < abs(angle) <= 30
    x, y = augment_batch(images, kps, rng, config, CONTEXT)
    centre = np.array([47.5, 47.5])
    before = kps[0] - 12 - centre
    after = y.reshape(15, 2) - centre
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), np.linalg.norm(before, axis=1), atol=1e-4)
    turned = np.degrees(np.arctan2(after[:, 1], after[:, 0]) - np.arctan2(before[:, 1], before[:, 0]))
    turned = (turned + 180) % 360 - 180
    np.testing.assert_allclose(turned, angle, atol=1e-4)
    assert_dots_under_keypoints(x, y)


def test_flip_mirrors_and_swaps_left_right_names():
    images, kps = dotted_faces(1)
    config = AugmentConfig(
        rotation=0, scale=(1, 1), shift=0, flip=1.0, brightness=0, contrast=(1, 1), lowres=0
    )
    x, y = augment_batch(images, kps, np.random.default_rng(0), config, CONTEXT)
    np.testing.assert_array_equal(x[0, ..., 0], images[0, 12:108, 12:108][:, ::-1])
    pts = y.reshape(15, 2)
    plain = kps[0] - 12
    for i, name in enumerate(KEYPOINTS):
        j = FLIP_PERMUTATION[i]  # the keypoint that lands where `name` now is
        np.testing.assert_allclose(pts[i], [95 - plain[j, 0], plain[j, 1]])
        if "left" in name:
            assert KEYPOINTS[j] == name.replace("left", "right")
    assert_dots_under_keypoints(x, y)


def test_flip_keeps_subject_left_on_the_image_right():
    images, kps = dotted_faces(1)
    # give the left eye a larger x than the right eye, as in a real face
    kps[0, KEYPOINTS.index("left_eye_center")] = [80, 40]
    kps[0, KEYPOINTS.index("right_eye_center")] = [40, 40]
    config = AugmentConfig(
        rotation=0, scale=(1, 1), shift=0, flip=1.0, brightness=0, contrast=(1, 1), lowres=0
    )
    _, y = augment_batch(images, kps, np.random.default_rng(0), config, CONTEXT)
    pts = y.reshape(15, 2)
    assert pts[KEYPOINTS.index("left_eye_center"), 0] > pts[KEYPOINTS.index("right_eye_center"), 0]


def test_missing_keypoints_stay_missing_and_photometric_stays_in_range():
    images, kps = dotted_faces(4)
    kps[:, 3] = np.nan
    x, y = augment_batch(images, kps, np.random.default_rng(2), AugmentConfig(lowres=1.0), CONTEXT)
    ys = y.reshape(4, 15, 2)
    assert (
        np.isnan(ys[:, :, :]).any(axis=2).sum() == 4
    )  # one missing point per face, wherever the flip put it
    assert x.min() >= 0 and x.max() <= 255 and x.dtype == np.float32
