"""Video: a real clip made here from FER-2013 faces (OpenCV's writer), through the library, the command
line and the Video page (AppTest); bad clips get a clear message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from faceemo import inference, video
from faceemo.labels import EMOTIONS
from pipelines.__main__ import main
from tests.composites import fer_faces, make_clip
from tests.conftest import FER_ARCHIVE, require_file
from tests.pages_helpers import all_text, open_page
from tests.predict_helpers import FER_HAPPY_FACES, fer_face

PAGE = "video"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    archive = require_file(FER_ARCHIVE)
    faces = [fer_face(archive, FER_HAPPY_FACES[0]), fer_face(archive, FER_HAPPY_FACES[2])]
    folder = tmp_path_factory.mktemp("clips")
    made = {
        "two_faces": make_clip(folder / "two_faces.mp4", faces, seconds=2.0),
        "mjpg": make_clip(folder / "one_face.avi", faces[:1], seconds=1.0, fourcc="MJPG"),
        "no_face": make_clip(folder / "no_face.mp4", [], seconds=1.0),
    }
    data = made["mjpg"].read_bytes()
    (folder / "cut.avi").write_bytes(data[: len(data) // 2])
    made["cut"] = folder / "cut.avi"
    (folder / "text.mp4").write_text("not a video")
    made["text"] = folder / "text.mp4"
    (folder / "empty.mp4").write_bytes(b"")
    made["empty"] = folder / "empty.mp4"
    return made


@pytest.fixture
def models(models_env) -> inference.Models:
    models_env("both")
    return inference.load_models()


def test_clip_sampled_tracked_and_timed(clips, models):
    analysis = video.analyze_video(clips["two_faces"], models, fps=5)
    assert analysis.info.fps == pytest.approx(10) and analysis.info.frames == 20
    assert analysis.sampled == 10 and not analysis.truncated
    frame = pd.DataFrame(analysis.rows)
    assert sorted(frame["frame"].unique()) == list(range(0, 20, 2))
    assert frame["time_s"].max() == pytest.approx(1.8)
    # two faces in every sampled frame, each followed by one track from start to end
    assert len(frame) == 20 and analysis.tracks == 2
    assert frame.groupby("track")["frame"].nunique().tolist() == [10, 10]
    left = frame[frame["box_x"] < 100]["track"].unique()
    assert len(left) == 1
    assert set(EMOTIONS) <= set(frame.columns) and frame["emotion"].isin(EMOTIONS).all()
    assert 1 <= len(analysis.key_frames) <= video.KEY_FRAMES
    smoothed = video.smooth_rows(analysis.rows, 3)
    assert pd.DataFrame(smoothed)[list(EMOTIONS)].sum(axis=1).round(4).eq(1).all()
    long = video.timeline(analysis.rows)
    assert len(long) == 7 * len(frame) and set(long["track"]) == {"face 1", "face 2"}


def test_bad_clips_get_a_clear_reason(clips, models):
    with pytest.raises(video.VideoError, match="not a video"):
        video.analyze_video(clips["text"], models)
    with pytest.raises(video.VideoError, match="empty"):
        video.analyze_video(clips["empty"], models)
    cut = video.analyze_video(clips["cut"], models, fps=10)
    assert cut.truncated and any("truncated" in n for n in cut.notices())
    nothing = video.analyze_video(clips["no_face"], models)
    assert nothing.rows == [] and any("no face" in n for n in nothing.notices())


def test_tracker_keeps_ids_through_a_short_gap():
    from faceemo.detect import Box

    tracker = video.Tracker(max_gap=2)
    assert tracker.update([Box(0, 0, 50, 50), Box(200, 0, 50, 50)]) == [0, 1]
    assert tracker.update([Box(205, 2, 50, 50)]) == [1]
    assert tracker.update([Box(3, 1, 50, 50), Box(210, 0, 50, 50)]) == [0, 1]
    assert tracker.update([Box(400, 0, 50, 50)]) == [2]


def test_cli_writes_video_rows_beside_photo_rows(clips, models, tmp_path, capsys):
    from PIL import Image

    from tests.predict_helpers import face_on_canvas

    photo = tmp_path / "photo.png"
    canvas, _ = face_on_canvas(fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[1]))
    Image.fromarray(canvas).save(photo)
    out = tmp_path / "faces.parquet"
    saliency = tmp_path / "cams"
    code = main(["predict", str(clips["mjpg"]), str(photo), str(clips["text"]), "--fps", "5", "--smooth", "3",
                 "--out", str(out), "--saliency", str(saliency)])
    err = capsys.readouterr().err
    assert code == 1, err  # the text file failed
    assert "text.mp4: not a video" in err and "2 video(s) (5 sampled frames)" in err
    frame = pd.read_parquet(out)
    assert list(frame.columns[:4]) == ["file", "frame", "time_s", "track"]
    clip_rows = frame[frame["file"].str.endswith("one_face.avi")]
    assert len(clip_rows) == 5 and clip_rows["track"].nunique() == 1
    assert frame[frame["file"].str.endswith("photo.png")]["frame"].isna().all()
    assert len(list(saliency.glob("*.png"))) == len(frame)


def test_cli_bad_options_exit_2(clips, models, capsys):
    assert main(["predict", str(clips["mjpg"]), "--fps", "0"]) == 2
    assert main(["predict", str(clips["mjpg"]), "--detector", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--fps must be above 0" in err and "unknown face detector 'nope'" in err


def test_video_page_upload_timeline_and_bad_files(clips, db_path, models_env):
    models_env("both")
    app = open_page(PAGE)
    assert not app.exception, app.exception
    assert "60 s" in all_text(app)
    app.file_uploader(key="video_upload").set_value(
        [("text.mp4", clips["text"].read_bytes(), "video/mp4")][0]
    ).run()
    assert not app.exception, app.exception
    assert any("text.mp4" in e.value and "not a video" in e.value for e in app.error)
    app.file_uploader(key="video_upload").set_value(
        ("two_faces.mp4", clips["two_faces"].read_bytes(), "video/mp4")
    ).run()
    assert not app.exception, app.exception
    assert len(app.get("vega_lite_chart")) == 1
    assert "2 track(s)" in all_text(app)
    assert len(app.get("download_button")) == 1
    app.file_uploader(key="video_upload").set_value(
        ("no_face.mp4", clips["no_face"].read_bytes(), "video/mp4")
    ).run()
    assert not app.exception, app.exception
    assert any("No face found" in w.value for w in app.warning)


def test_fer_faces_helper_reads_labels():
    faces = fer_faces(require_file(FER_ARCHIVE), n=3)
    assert all(face.shape == (48, 48) and emotion in EMOTIONS for face, emotion in faces)
