"""Readers on small generated sources: zip and folder layouts (train/test/valid, RGB, any size), the
CSV, and every bad input the issue names."""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from faceemo.errors import DataError
from faceemo.labels import EMOTIONS, LABEL_OF
from faceemo.pixels import face_from_blob
from faceemo.readers import FaceRecord, Skipped, open_source
from tests.archive_factories import (
    corrupt_member,
    csv_text,
    fer_csv_rows,
    fer_files,
    image_bytes,
    write_folder,
    write_zip,
)
from tests.factories import drawn_face


def read_all(path: Path) -> tuple[list[FaceRecord], list[Skipped]]:
    with open_source(path) as source:
        items = list(source)
    return [i for i in items if isinstance(i, FaceRecord)], [i for i in items if isinstance(i, Skipped)]


def test_zip_image_folders_map_folders_through_labels_and_usage_from_prefix(tmp_path):
    files = fer_files(per_class=2, folder_case="title")  # Angry/, Happy/ ...: case-insensitive
    faces, skipped = read_all(write_zip(tmp_path / "fer.zip", files))
    assert not skipped
    assert len(faces) == len(files) == 2 * 7 * 2
    for face in faces:
        data = files[face.source_file]
        assert face.sha256 == hashlib.sha256(data).hexdigest()  # of the file's bytes
        assert face.label == LABEL_OF[face.emotion] and face.emotion == face.source_file.split("/")[1].lower()
        assert face.usage == face.file_name.split("_")[0]
        assert face.pixels.shape == (48, 48) and face.pixels.dtype == np.uint8
        assert not face.converted
    # PNG is lossless: the pixels are the drawn ones
    first = next(f for f in faces if f.split == "train" and f.emotion == "angry")
    assert np.array_equal(first.pixels, drawn_face("angry", seed=0))
    assert Counter(f.usage for f in faces) == {"Training": 14, "PublicTest": 7, "PrivateTest": 7}


def test_folder_with_valid_split_and_no_prefix_takes_usage_from_the_folder(tmp_path):
    files = fer_files(splits=("train", "valid", "test"), per_class=1, prefixed=False)
    with open_source(write_folder(tmp_path / "mma", files)) as source:
        assert (source.layout, source.kind) == ("image-folders", "folder")
        assert source.expected() == 21
        faces = [i for i in source if isinstance(i, FaceRecord)]
    usage_of_split = {f.split: f.usage for f in faces}
    assert usage_of_split == {"train": "Training", "valid": "PublicTest", "test": "PrivateTest"}
    assert Counter(f.emotion for f in faces) == dict.fromkeys(EMOTIONS, 3)


def test_wrapper_folder_inside_the_zip_is_found(tmp_path):
    faces, _ = read_all(write_zip(tmp_path / "a.zip", fer_files(per_class=1), wrapper="archive/",
                                  dir_entries=False))
    assert len(faces) == 14


def test_rgb_and_other_sizes_become_48x48_gray_centre_cropped(tmp_path):
    files = fer_files(per_class=1)
    # an RGB photo 144x48 with three vertical bands: centre-crop keeps only the middle band
    bands = np.zeros((48, 144, 3), np.uint8)
    bands[:, 48:96] = (200, 100, 50)
    bands[:, 96:] = 255
    files["train/happy/Training_1.png"] = image_bytes(bands)
    files["train/sad/Training_2.jpg"] = image_bytes(np.full((96, 96, 3), 90, np.uint8), fmt="JPEG")
    faces, skipped = read_all(write_folder(tmp_path / "f", files))
    assert not skipped
    by_name = {f.file_name: f for f in faces}
    wide = by_name["Training_1.png"]
    assert wide.converted and (wide.source_width, wide.source_height) == (144, 48)
    luma = round(200 * 299 / 1000 + 100 * 587 / 1000 + 50 * 114 / 1000)  # ITU-R 601, as Pillow's "L"
    assert wide.pixels.shape == (48, 48) and abs(int(np.median(wide.pixels)) - luma) <= 1
    assert wide.pixels.min() >= luma - 3 and wide.pixels.max() <= luma + 3  # no black/white bands
    grey = by_name["Training_2.jpg"]
    assert grey.converted and grey.pixels.shape == (48, 48) and abs(float(grey.pixels.mean()) - 90) < 2


def test_csv_file_rows_become_faces_and_bad_rows_are_skipped(tmp_path):
    rows = fer_csv_rows(per_class=1)
    bad = [(9, rows[0][1], "Training"), (0, "1 2 3", "Training"), (0, rows[0][1], "Holdout")]
    path = tmp_path / "fer2013.csv"
    path.write_text(csv_text(rows + bad))
    faces, skipped = read_all(path)
    assert len(faces) == 21 and len(skipped) == 3
    assert [s.file for s in skipped] == ["fer2013.csv:21", "fer2013.csv:22", "fer2013.csv:23"]
    assert "label" in skipped[0].reason and "2304" in skipped[1].reason and "Usage" in skipped[2].reason
    face = faces[0]
    assert face.source_file == "fer2013.csv:0" and face.usage == "Training" and face.split == "train"
    assert np.array_equal(face.pixels, rows[0][1])
    assert face.sha256 == hashlib.sha256(rows[0][1].tobytes()).hexdigest()  # of the pixel bytes
    assert {f.split for f in faces if f.usage != "Training"} == {"test"}


def test_csv_inside_a_zip_and_in_a_folder(tmp_path):
    text = csv_text(fer_csv_rows(per_class=1))
    with zipfile.ZipFile(tmp_path / "fer2013.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("fer2013/fer2013.csv", text)
    faces, _ = read_all(tmp_path / "fer2013.zip")
    assert len(faces) == 21
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "fer2013.csv").write_text(text)
    with open_source(folder) as source:
        assert source.layout == "csv"
        assert len([i for i in source if isinstance(i, FaceRecord)]) == 21


def test_pixels_blob_round_trip():
    face = drawn_face("fear", seed=3)
    assert np.array_equal(face_from_blob(bytearray(face.tobytes())), face)


# --- bad input ---------------------------------------------------------------------------------------


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        open_source(tmp_path / "nope.zip")


@pytest.mark.parametrize(
    ("name", "text", "read", "reason"),
    [
        ("fer2013.zip", "this is not an archive\n", open_source, "not a zip archive"),
        ("fer2013.csv", "emotion,pixels\n0,1 2 3\n", read_all, "missing column.*usage"),
    ],
    ids=["text_file_is_not_a_zip", "csv_missing_column"],
)
def test_a_file_that_is_not_what_its_name_says(tmp_path, name, text, read, reason):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=reason):
        read(path)


def test_truncated_zip(tmp_path):
    whole = write_zip(tmp_path / "whole.zip", fer_files(per_class=1)).read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="not a zip archive.*truncated"):
        open_source(path)


def test_wrong_layout(tmp_path):
    path = write_zip(tmp_path / "x.zip", {"images/happy/a.png": image_bytes(drawn_face("happy"))})
    with pytest.raises(DataError, match=r"wrong layout.*no train/ or test/ folder.*images/"):
        open_source(path)
    with pytest.raises(DataError, match="wrong layout"):
        open_source(write_folder(tmp_path / "empty", {"notes.txt": b"hi"}))


def test_unknown_class_folder_is_named(tmp_path):
    files = fer_files(per_class=1)
    files["train/contempt/Training_9.png"] = image_bytes(drawn_face("angry"))
    with pytest.raises(DataError, match=r"unknown class folder 'train/contempt'"):
        open_source(write_zip(tmp_path / "x.zip", files))
    with pytest.raises(DataError, match=r"unknown class folder 'train/contempt'"):
        open_source(write_folder(tmp_path / "f", files))


def test_corrupt_image_is_skipped_with_its_reason(tmp_path):
    files = fer_files(per_class=1)
    files["test/happy/PublicTest_1.jpg"] = b"\xff\xd8\xff\xe0 definitely not a jpeg"
    truncated = image_bytes(drawn_face("sad"), fmt="JPEG")
    files["test/sad/PublicTest_2.jpg"] = truncated[: len(truncated) // 2]
    faces, skipped = read_all(write_zip(tmp_path / "x.zip", files))
    assert len(faces) == 14
    assert {s.file for s in skipped} == {"test/happy/PublicTest_1.jpg", "test/sad/PublicTest_2.jpg"}
    assert all("not a readable image" in s.reason for s in skipped)


def test_nothing_readable_is_an_error(tmp_path):
    files = {"train/happy/a.jpg": b"garbage", "test/sad/b.jpg": b"more garbage"}
    with pytest.raises(DataError, match=r"no readable image.*all 2 files were skipped.*not a readable image"):
        read_all(write_zip(tmp_path / "x.zip", files))


def test_damaged_zip_member_fails_naming_it(tmp_path):
    files = fer_files(per_class=1)
    path = write_zip(tmp_path / "x.zip", files)
    corrupt_member(path, "test/fear/PublicTest_10009.png")
    with pytest.raises(DataError, match=r"damaged.*test/fear/PublicTest_10009.png"):
        read_all(path)


def test_files_outside_emotion_folders_and_same_name_twice_are_skipped(tmp_path):
    files = fer_files(per_class=1)
    files["train/stray.png"] = image_bytes(drawn_face("happy"))
    files["train/Happy/Training_10003.png"] = image_bytes(drawn_face("happy", seed=99))  # also in happy/
    faces, skipped = read_all(write_folder(tmp_path / "f", files))
    assert len(faces) == 14
    reasons = {s.file: s.reason for s in skipped}
    assert "emotion folder" in reasons["train/stray.png"]
    assert any("same split, emotion and file name" in r for r in reasons.values())
