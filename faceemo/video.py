"""Video: sample frames, find and classify the faces in each, link them across frames into tracks.

Reading is OpenCV's (`opencv-python-headless` bundles FFmpeg): MP4/MOV (H.264, MPEG-4), AVI (MJPEG,
MPEG-4/XVID), MKV and WebM (VP8/VP9), among others. Frames are sampled at `fps` (default 5 per second:
an expression lasts longer than 0.2 s), each goes through the photo path (faceemo.inference: detector,
alignment, models), and faces are linked to the face of the previous sampled frames they overlap most
(IoU, Hungarian assignment), a track surviving a few frames without its face. `smooth` averages each
track's probabilities over a centred window of sampled frames.

Bad input raises VideoError with a clear reason: not a video, no frames, a file that ends before its
header says (truncated: the frames before the damage are kept, `VideoAnalysis.truncated` says so).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceemo import detectors, inference
from faceemo.detect import Box, iou
from faceemo.errors import DataError
from faceemo.labels import DISPLAY_NAMES, EMOTIONS

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv")
DEFAULT_FPS = 5.0
TRACK_IOU = 0.3  # a face continues a track when its box overlaps the track's last box by more than this
TRACK_GAP = 5  # sampled frames a track may miss its face before it ends (1 s at 5 fps)
KEY_FRAMES = 6  # frames kept as pictures (annotated) for the page
KEY_FRAME_SIDE = 640
VIDEO_COLUMNS: tuple[str, ...] = ("frame", "time_s", "track")


class VideoError(DataError):
    """An input that is not a readable video; the message says why."""


def is_video_path(path: Path) -> bool:
    """True for a file whose extension is one of VIDEO_EXTENSIONS (case-insensitive)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class VideoInfo:
    """What the container says: frame count (0 when unknown), frames per second, size, duration."""

    frames: int
    fps: float
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps > 0 else 0.0


@dataclass
class KeyFrame:
    """A sampled frame kept as a picture, with its faces (boxes in the frame's pixels)."""

    frame: int
    time_s: float
    rgb: np.ndarray
    results: list[inference.FaceResult]


@dataclass
class VideoAnalysis:
    """Everything `analyze_video` found in one clip."""

    name: str
    info: VideoInfo
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per face per sampled frame
    sampled: int = 0  # frames analysed
    frames_read: int = 0  # frames decoded (sampled or not)
    truncated: bool = False
    stopped_at_s: float | None = None  # set when max_seconds cut the clip short
    seconds: float = 0.0  # wall time of the analysis
    key_frames: list[KeyFrame] = field(default_factory=list)

    @property
    def tracks(self) -> int:
        return len({row["track"] for row in self.rows})

    def notices(self) -> list[str]:
        """What a user should know besides the rows: truncation, a cut, no face at all."""
        notes = []
        if self.truncated:
            notes.append(
                f"{self.name}: the file ends early (truncated or damaged): {self.frames_read} of the "
                f"{self.info.frames} frames its header announces could be read; those were analysed"
            )
        if self.stopped_at_s is not None:
            notes.append(f"{self.name}: only the first {self.stopped_at_s:.0f} s were analysed")
        if not self.rows:
            notes.append(f"{self.name}: no face found in any of the {self.sampled} sampled frames")
        return notes

    def table(self):
        """The rows as a data frame (pandas is imported only when asked for)."""
        import pandas as pd

        return pd.DataFrame(self.rows)


@contextmanager
def _capture(path: Path, name: str):
    import cv2

    if not Path(path).is_file():
        raise VideoError(f"{name}: no such file")
    if Path(path).stat().st_size == 0:
        raise VideoError(f"{name}: the file is empty (0 bytes)")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoError(
                f"{name}: not a video this app can read (expected MP4, MOV, AVI, MKV or WebM)"
            )
        yield capture
    finally:
        capture.release()


def probe(path: str | os.PathLike, name: str | None = None) -> VideoInfo:
    """The container's frame count, rate and size; VideoError when it is not a readable video."""
    import cv2

    name = name or Path(path).name
    with _capture(Path(path), name) as capture:
        return _info(capture, name, cv2)


def _info(capture, name: str, cv2) -> VideoInfo:
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if width <= 0 or height <= 0:
        raise VideoError(f"{name}: not a video this app can read (no video stream)")
    if not (0 < fps < 1000):
        fps = 25.0  # an unknown rate: assume PAL's, only the time axis depends on it
    return VideoInfo(max(frames, 0), fps, width, height)


def sample_frames(
    path: str | os.PathLike, fps: float = DEFAULT_FPS, max_seconds: float | None = None,
    name: str | None = None, state: VideoAnalysis | None = None,
) -> Iterator[tuple[int, float, np.ndarray]]:
    """(frame index, time in s, RGB pixels) of every frame at `fps` per second (all frames when the clip
    has fewer). Raises VideoError when no frame can be read; `state` (optional) gets the counts,
    truncation and cut."""
    import cv2

    if fps <= 0:
        raise VideoError("--fps must be above 0")
    name = name or Path(path).name
    with _capture(Path(path), name) as capture:
        info = _info(capture, name, cv2)
        state = state or VideoAnalysis(name, info)
        state.info = info
        step = 1.0 / fps
        next_time = 0.0
        index = -1
        while True:
            if not capture.grab():
                break
            index += 1
            state.frames_read = index + 1
            when = index / info.fps
            if max_seconds is not None and when >= max_seconds:
                state.stopped_at_s = max_seconds
                break
            if when + 1e-9 < next_time:
                continue
            ok, bgr = capture.retrieve()
            if not ok or bgr is None:
                break
            next_time += step * max(1, int((when - next_time) // step) + 1)
            yield index, when, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if state.frames_read == 0:
            raise VideoError(f"{name}: the video has no frame that can be decoded (empty or damaged)")
        # containers round their frame count: a frame or two short is normal, more is a truncated file
        slack = max(2, round(0.02 * info.frames))
        if state.stopped_at_s is None and info.frames and state.frames_read < info.frames - slack:
            state.truncated = True


class Tracker:
    """Links boxes across sampled frames: each box continues the live track it overlaps most."""

    def __init__(self, min_iou: float = TRACK_IOU, max_gap: int = TRACK_GAP) -> None:
        self.min_iou, self.max_gap = min_iou, max_gap
        self._live: dict[int, tuple[Box, int]] = {}  # track -> (last box, sampled frame it was seen)
        self._next = 0
        self._step = 0

    def update(self, boxes: list[Box]) -> list[int]:
        """The track id of each box of the next sampled frame (new ids for new faces)."""
        from scipy.optimize import linear_sum_assignment

        self._step += 1
        self._live = {t: v for t, v in self._live.items() if self._step - v[1] <= self.max_gap + 1}
        tracks = list(self._live)
        ids: list[int | None] = [None] * len(boxes)
        if tracks and boxes:
            overlap = np.array([[iou(b, self._live[t][0]) for t in tracks] for b in boxes])
            rows, cols = linear_sum_assignment(-overlap)
            for r, c in zip(rows, cols, strict=True):
                if overlap[r, c] > self.min_iou:
                    ids[r] = tracks[c]
        for i, box in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self._next
                self._next += 1
            self._live[ids[i]] = (box, self._step)
        return [int(i) for i in ids]


def analyze_video(
    path: str | os.PathLike,
    models: inference.Models,
    *,
    fps: float = DEFAULT_FPS,
    detector: str | None = None,
    align: bool = inference.ALIGN_DEFAULT,
    smooth: int = 1,
    max_seconds: float | None = None,
    batch_frames: int = 8,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_frame: Callable[[int, float, list[inference.FaceResult]], None] | None = None,
    detect_options: dict[str, Any] | None = None,
) -> VideoAnalysis:
    """Every face of every sampled frame: rows (FaceResult.to_row() + frame, time_s, track), key frames.

    `progress(done, total)` is called after each batch (total: the sampled frames expected);
    `on_frame(frame, time_s, results)` sees each sampled frame's faces (e.g. for saliency maps).
    `detect_options` go to the detector, over its video options (e.g. {"check": True}: yunet's face check).
    """
    started = time.perf_counter()
    name = name or Path(path).name
    info = probe(path, name)
    analysis = VideoAnalysis(name, info)
    span = info.duration_s if max_seconds is None else min(info.duration_s or max_seconds, max_seconds)
    expected = max(1, int(np.ceil(span * min(fps, info.fps)))) if span else 0
    key_times = np.linspace(0, max(span, 0.0), KEY_FRAMES, endpoint=False) if span else np.zeros(1)
    tracker = Tracker()
    batch: list[tuple[int, float, inference.PreparedImage]] = []

    def flush() -> None:
        results = inference.predict_faces([p for _, _, p in batch], models)
        for (index, when, item), faces in zip(batch, results, strict=True):
            for face, track in zip(faces, tracker.update([f.box for f in faces]), strict=True):
                row = {**face.to_row(), "frame": index, "time_s": round(when, 3), "track": track}
                analysis.rows.append(row)
            _keep_key_frame(analysis, key_times, index, when, item.image.rgb, faces)
            if on_frame is not None:
                on_frame(index, when, faces)
        analysis.sampled += len(batch)
        batch.clear()
        if progress is not None:
            progress(analysis.sampled, max(expected, analysis.sampled))

    options = {**detectors.get(detector).video_options, **(detect_options or {})}
    for index, when, rgb in sample_frames(path, fps, max_seconds, name, analysis):
        batch.append((index, when, inference.prepare(rgb, name, detector=detector, align=align, **options)))
        if len(batch) >= batch_frames:
            flush()
    if batch:
        flush()
    if smooth > 1:
        analysis.rows = smooth_rows(analysis.rows, smooth)
    analysis.seconds = time.perf_counter() - started
    return analysis


def _keep_key_frame(analysis: VideoAnalysis, key_times: np.ndarray, index: int, when: float,
                    rgb: np.ndarray, faces: list[inference.FaceResult]) -> None:
    """Keep the first sampled frame with faces at or after each of KEY_FRAMES evenly spaced times."""
    if not faces:
        return
    slot = int(np.searchsorted(key_times, when, side="right")) - 1
    if slot < 0 or any(int(np.searchsorted(key_times, k.time_s, side="right")) - 1 == slot
                       for k in analysis.key_frames):
        return
    analysis.key_frames.append(KeyFrame(index, when, rgb, faces))


def smooth_rows(rows: list[dict[str, Any]], window: int) -> list[dict[str, Any]]:
    """Each track's 7 probabilities averaged over a centred window of `window` sampled frames; emotion
    and confidence follow the smoothed probabilities."""
    import pandas as pd

    if window <= 1 or not rows or rows[0].get(EMOTIONS[0]) is None:
        return rows
    frame = pd.DataFrame(rows)
    probabilities = list(EMOTIONS)
    frame[probabilities] = (
        frame.groupby("track", sort=False)[probabilities]
        .transform(lambda s: s.rolling(window, center=True, min_periods=1).mean())
    )
    frame["emotion"] = frame[probabilities].idxmax(axis=1)
    frame["confidence"] = frame[probabilities].max(axis=1)
    return frame.to_dict("records")


def timeline(rows: list[dict[str, Any]]):
    """Long table for a timeline chart: time_s, track, emotion, probability (one row per emotion), and
    `name`, the emotion's display name."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["time_s", "track", *EMOTIONS])
    long = frame.melt(id_vars=["time_s", "track"], value_vars=list(EMOTIONS), var_name="emotion",
                      value_name="probability")
    long["track"] = "face " + (long["track"].astype(int) + 1).astype(str)
    long["name"] = [DISPLAY_NAMES[e] for e in long["emotion"]]
    return long.sort_values(["track", "emotion", "time_s"], ignore_index=True)


@contextmanager
def as_file(data: bytes, suffix: str = ".mp4") -> Iterator[Path]:
    """Uploaded bytes as a temporary file (OpenCV reads videos from paths), removed afterwards."""
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="faceemo-video-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
