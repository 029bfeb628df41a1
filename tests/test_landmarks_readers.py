"""Readers of the three landmark formats, the 68→15 mapping, FER-like framing and the person split."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from faceemo.errors import DataError
from faceemo.keypoints import KEYPOINTS
from faceemo.landmarks import dataset, framing, readers
from faceemo.landmarks.mapping import to_kaggle15
from tests.landmark_factories import (
    draw_face,
    face_points,
    make_68_zip,
    make_kaggle_csv,
    make_npz_pair,
    png_bytes,
)


def test_mapping_on_a_hand_made_face():
    points = np.zeros((68, 2))
    points[36:42] = [[10, 20], [12, 18], [14, 18], [16, 20], [14, 22], [12, 22]]  # subject's right eye
    points[42:48] = [[30, 20], [32, 18], [34, 18], [36, 20], [34, 22], [32, 22]]  # subject's left eye
    points[17], points[21], points[22], points[26] = [8, 12], [17, 11], [29, 11], [38, 12]
    points[30], points[48], points[54], points[51], points[57] = (
        [23, 30],
        [15, 40],
        [31, 40],
        [23, 37],
        [23, 44],
    )
    kp = dict(zip(KEYPOINTS, to_kaggle15(points), strict=True))
    np.testing.assert_allclose(kp["right_eye_center"], [13, 20])
    np.testing.assert_allclose(kp["left_eye_center"], [33, 20])
    np.testing.assert_allclose(kp["right_eye_outer_corner"], [10, 20])
    np.testing.assert_allclose(kp["right_eye_inner_corner"], [16, 20])
    np.testing.assert_allclose(kp["left_eye_inner_corner"], [30, 20])
    np.testing.assert_allclose(kp["left_eye_outer_corner"], [36, 20])
    np.testing.assert_allclose(kp["right_eyebrow_outer_end"], [8, 12])
    np.testing.assert_allclose(kp["right_eyebrow_inner_end"], [17, 11])
    np.testing.assert_allclose(kp["left_eyebrow_inner_end"], [29, 11])
    np.testing.assert_allclose(kp["left_eyebrow_outer_end"], [38, 12])
    np.testing.assert_allclose(kp["nose_tip"], [23, 30])
    np.testing.assert_allclose(kp["mouth_right_corner"], [15, 40])
    np.testing.assert_allclose(kp["mouth_left_corner"], [31, 40])
    np.testing.assert_allclose(kp["mouth_center_top_lip"], [23, 37])
    np.testing.assert_allclose(kp["mouth_center_bottom_lip"], [23, 44])
    # Kaggle's "left" is the subject's left: the image's right, larger x.
    assert kp["left_eye_center"][0] > kp["right_eye_center"][0]
    assert to_kaggle15(np.stack([points, points])).shape == (2, 15, 2)


def test_68_zip_is_read_by_content(tmp_path):
    path = make_68_zip(tmp_path / "kp.zip", people=("Ann_Lee", "Bo_Chan"), frames=2, test_frames=1)
    faces = list(readers.iter_68_zip(path))
    assert [f.split for f in faces] == ["training"] * 4 + ["test"] * 2
    assert faces[0].name == "Ann_Lee_00.jpg" and faces[0].person == "Ann_Lee"
    assert readers.count_68_zip(path) == 6
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("training/Ann_Lee_00.jpg")
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"  # PNG under a .jpg name
    expected = draw_face(face_points(0, 80), 80, 90, 0)
    np.testing.assert_array_equal(faces[0].image, expected)
    np.testing.assert_allclose(faces[0].points, face_points(0, 80) + 0.5)  # as in the file: pixel edges


def test_person_of():
    assert readers.person_of("Luis_Fonsi_21.jpg") == "Luis_Fonsi"
    assert readers.person_of("training/Kristin_Chenoweth_10.jpg") == "Kristin_Chenoweth"


@pytest.mark.parametrize("damage", ["missing", "not_zip", "no_csv", "bad_columns", "bad_image", "bad_number"])
def test_68_zip_errors(tmp_path, damage):
    path = tmp_path / "kp.zip"
    if damage == "not_zip":
        path.write_bytes(b"this is not a zip")
    elif damage != "missing":
        with zipfile.ZipFile(path, "w") as archive:
            header = ["", *[str(i) for i in range(136)]]
            row = ["A_B_01.jpg", *np.arange(136.0)]
            if damage == "bad_columns":
                header, row = header[:50], row[:50]
            if damage == "bad_number":
                row[5] = "abc"
            csv = pd.DataFrame([row], columns=header).to_csv(index=False)
            if damage != "no_csv":
                archive.writestr("training_frames_keypoints.csv", csv)
                archive.writestr(
                    "test_frames_keypoints.csv", pd.DataFrame(columns=header).to_csv(index=False)
                )
            image = b"garbage" if damage == "bad_image" else png_bytes(np.zeros((100, 100), np.uint8))
            archive.writestr("training/A_B_01.jpg", image)
    with pytest.raises(DataError) as err:
        list(readers.iter_68_zip(path))
    assert str(path) in str(err.value)


def test_kaggle_csv_keeps_missing_keypoints(tmp_path):
    images, kps = make_kaggle_csv(tmp_path / "training.csv", n=5)
    data = readers.read_kaggle_csv(tmp_path / "training.csv")
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_allclose(data.keypoints, kps, rtol=1e-5)
    assert np.isnan(data.keypoints[1:, 2:6]).all() and not np.isnan(data.keypoints[0]).any()
    assert len(readers.read_keypoints15(tmp_path)) == 5  # a folder holding training.csv


def test_kaggle_csv_errors(tmp_path):
    with pytest.raises(DataError, match="no Kaggle"):
        readers.read_kaggle_csv(tmp_path / "training.csv")
    make_kaggle_csv(tmp_path / "training.csv", n=2)
    frame = pd.read_csv(tmp_path / "training.csv")
    frame.loc[1, "Image"] = "1 2 3"
    frame.to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match="row 3 has 3 pixels"):
        readers.read_kaggle_csv(tmp_path / "short.csv")
    frame.drop(columns=["nose_tip_x"]).to_csv(tmp_path / "cols.csv", index=False)
    with pytest.raises(DataError, match="nose_tip_x"):
        readers.read_kaggle_csv(tmp_path / "cols.csv")
    frame.drop(columns=["Image"]).to_csv(tmp_path / "noimg.csv", index=False)
    with pytest.raises(DataError, match="Image"):
        readers.read_kaggle_csv(tmp_path / "noimg.csv")


def test_npz_pair(tmp_path):
    images, kps = make_npz_pair(tmp_path, n=4)
    data = readers.read_npz_pair(tmp_path / "face_images.npz")
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_allclose(data.keypoints, kps, rtol=1e-5)
    assert len(readers.read_keypoints15(tmp_path / "face_images.npz")) == 4


def test_npz_pair_errors(tmp_path):
    with pytest.raises(DataError, match="missing"):
        readers.read_npz_pair(tmp_path / "face_images.npz")
    make_npz_pair(tmp_path, n=4)
    pd.read_csv(tmp_path / "facial_keypoints.csv").head(3).to_csv(
        tmp_path / "facial_keypoints.csv", index=False
    )
    with pytest.raises(DataError, match="3 rows but"):
        readers.read_npz_pair(tmp_path / "face_images.npz")
    np.savez(tmp_path / "face_images.npz", other=np.zeros((96, 96, 3)))
    with pytest.raises(DataError, match="no array 'face_images'"):
        readers.read_npz_pair(tmp_path / "face_images.npz")
    np.savez(tmp_path / "face_images.npz", face_images=np.zeros((48, 48, 3)))
    with pytest.raises(DataError, match=r"\(96, 96, N\)"):
        readers.read_npz_pair(tmp_path / "face_images.npz")
    (tmp_path / "face_images.npz").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="cannot read"):
        readers.read_npz_pair(tmp_path / "face_images.npz")


def test_crop_moves_points_with_the_pixels():
    points = face_points(7, 200)
    image = draw_face(points, 200, 230, 7)
    box = framing.fer_box(points)
    crop, moved = framing.crop_face(image, points, box, 96)
    assert crop.shape == (96, 96)
    inside = (moved >= 2).all(axis=1) & (moved <= 93).all(axis=1)
    assert inside.sum() > 50
    for x, y in moved[inside]:
        xi, yi = int(round(x)), int(round(y))
        assert crop[yi - 1 : yi + 2, xi - 1 : xi + 2].max() > 120, (x, y)
    # FER-like: the whole face, little background: the jaw spans most of the width, brows near the top.
    width = moved[:17, 0].max() - moved[:17, 0].min()
    assert 0.8 * 96 < width < 0.9 * 96
    assert 0.15 * 96 < moved[17:27, 1].min() < 0.2 * 96


def test_strong_downscale_crop_keeps_points():
    points = face_points(3, 900)
    image = draw_face(points, 900, 900, 3)
    crop, moved = framing.crop_face(image, points, framing.fer_box(points), 96)
    nose = moved[30]
    assert (
        crop[
            int(round(nose[1])) - 1 : int(round(nose[1])) + 2,
            int(round(nose[0])) - 1 : int(round(nose[0])) + 2,
        ].max()
        > 40
    )


def test_load_68_frames_every_face(tmp_path):
    path = make_68_zip(tmp_path / "kp.zip")
    data = dataset.load_68(path)
    assert data.images.shape == (20, dataset.CROP_SIZE, dataset.CROP_SIZE)
    x, y = data.frame96()
    assert x.shape == (20, 96, 96, 1) and y.shape == (20, 30) and x.dtype == np.float32
    # the template's eye centres land where a FER face has them (about a third of the way down)
    left = y[:, 0:2]
    assert (np.abs(left[:, 1] - 33) < 6).all()
    assert (y[:, 0] > y[:, 2]).all()  # left eye (image right) at larger x than the right eye
    # the keypoints sit on the dots drawn at their iBUG points (eye corners, brows, nose tip, mouth)
    singles = [i for i, k in enumerate(KEYPOINTS) if "eye_center" not in k]
    for img, pts in zip(x[..., 0], y.reshape(-1, 15, 2), strict=True):
        for px, py in pts[singles]:
            xi, yi = int(round(px)), int(round(py))
            if 1 <= xi < 95 and 1 <= yi < 95:
                assert img[yi - 1 : yi + 2, xi - 1 : xi + 2].max() > 120, (px, py)
    limited = dataset.load_68(path, limit=2)
    assert len(limited) == 4


def test_roles_never_split_a_person(tmp_path):
    data = dataset.load_68(
        make_68_zip(tmp_path / "kp.zip", people=tuple(f"P_{i}" for i in range(30)), frames=2)
    )
    roles = dataset.assign_roles(data, seed=0)
    by_person = pd.DataFrame({"person": data.persons, "role": roles}).groupby("person")["role"].nunique()
    assert (by_person == 1).all()
    assert set(roles) == {"train", "val", "heldout"}
    np.testing.assert_array_equal(roles, dataset.assign_roles(data, seed=0))


def test_load_cached_round_trip(tmp_path):
    path = make_68_zip(tmp_path / "kp.zip", people=("A_B",), frames=2)
    first = dataset.load_cached(path, tmp_path / "cache")
    assert list((tmp_path / "cache").glob("*.npz"))
    second = dataset.load_cached(path, tmp_path / "cache")
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.persons, second.persons)


def test_load_any_reads_kaggle_formats(tmp_path):
    make_kaggle_csv(tmp_path / "training.csv", n=3)
    data = dataset.load_any(tmp_path / "training.csv")
    x, y = data.frame96()
    assert x.shape == (3, 96, 96, 1) and np.isnan(y[1, 4:12]).all()
    with pytest.raises(DataError):
        dataset.load_any(tmp_path / "nothing.txt")
