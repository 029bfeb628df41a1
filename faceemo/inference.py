"""The one inference path: photo -> faces -> emotion probabilities and 15 landmarks per face.

The Predict page, the `predict` command and the tests all call `analyze` (one photo) or
`prepare` + `predict_faces` (many photos, the crops of all of them classified in batches).
Models come from `faceemo.model_store` (production unless named) and are loaded once per process.
Faces are found by a registered detector (faceemo.detectors: YuNet by default, `haar` on request) and,
with `align` (the default), levelled on their eye line (faceemo.align) before the FER-2013-style crop.
Model I/O contract: emotion (N,48,48,1) float32 0..255 -> (N,7) softmax in FER order; landmarks
(N,96,96,1) float32 0..255 -> (N,30) x,y per KEYPOINTS in the 96x96 crop.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from faceemo import align as alignment
from faceemo import detect, detectors, images
from faceemo.errors import ModelError
from faceemo.keypoints import COLUMNS, FRAME_SIZE, KEYPOINTS
from faceemo.labels import EMOTIONS
from faceemo.model_store import ModelInfo, load_keras_model, resolve_model

EMOTION_SIZE = 48
ALIGN_DEFAULT = True  # level faces on their eye line (benchmarks/detect_eval.py measures the gain)
LANDMARK_SIZE = FRAME_SIZE
TRAIN_COMMAND = {
    "emotion": "python -m pipelines train-emotion",
    "landmarks": "python -m pipelines train-landmarks",
}
ROW_COLUMNS: tuple[str, ...] = (
    "file", "face", "box_x", "box_y", "box_w", "box_h", "whole_image", *EMOTIONS, "emotion", "confidence",
    *COLUMNS, "emotion_model", "landmark_model",
)


@dataclass
class Timings:
    """Seconds spent per stage, summed over the photos and faces processed."""

    decode: float = 0.0
    detect: float = 0.0  # detection and cropping
    align: float = 0.0  # the landmark pass that finds the eye line, and the re-crop
    classify: float = 0.0
    landmarks: float = 0.0
    images: int = 0
    faces: int = 0

    @property
    def total(self) -> float:
        return self.decode + self.detect + self.align + self.classify + self.landmarks


@dataclass(frozen=True)
class Models:
    """The models an analysis uses; a task whose production model is missing is None, with the reason."""

    emotion: ModelInfo | None
    landmarks: ModelInfo | None
    missing: dict[str, str] = field(default_factory=dict)

    def notices(self) -> list[str]:
        """One line per missing model: which one and how to get it."""
        notices = []
        for task, reason in self.missing.items():
            how = "" if TRAIN_COMMAND[task] in reason else f" (train one with `{TRAIN_COMMAND[task]}`)"
            what = "emotion probabilities" if task == "emotion" else "landmarks"
            notices.append(f"No {task} model: {reason}{how}. Until then the {what} are left empty.")
        return notices


def load_models(
    emotion_model: str | ModelInfo | None = None, landmark_model: str | ModelInfo | None = None
) -> Models:
    """Resolve and load both models (production when None).

    A model asked for by name must exist (ModelError otherwise). A missing *production* model is
    tolerated when the other task has one: that part of the results stays empty. Both missing is a
    ModelError that names the two commands which train them.
    """
    chosen: dict[str, ModelInfo | None] = {}
    missing: dict[str, str] = {}
    for task, name in (("emotion", emotion_model), ("landmarks", landmark_model)):
        if isinstance(name, ModelInfo):
            info = name
        else:
            try:
                info = resolve_model(name, task)
            except ModelError as exc:
                if name is not None:
                    raise
                chosen[task] = None
                missing[task] = str(exc)
                continue
        _check_contract(info, load_keras_model(info))
        chosen[task] = info
    if len(missing) == 2:
        raise ModelError(
            "no emotion and no landmarks model yet: train them with "
            f"`{TRAIN_COMMAND['emotion']}` and `{TRAIN_COMMAND['landmarks']}` "
            "(or point $FACEEMO_MODELS at a folder that has them)"
        )
    return Models(emotion=chosen["emotion"], landmarks=chosen["landmarks"], missing=missing)


def _check_contract(info: ModelInfo, model: Any) -> None:
    size = EMOTION_SIZE if info.task == "emotion" else LANDMARK_SIZE
    shape = tuple(getattr(model, "input_shape", ()) or ())
    if shape[1:] != (size, size, 1):
        raise ModelError(
            f"model {info.model_id!r} takes inputs of shape {shape}; a {info.task} model must take "
            f"(N, {size}, {size}, 1)"
        )


@dataclass
class Face:
    """A face found in a photo, cropped, before any model ran."""

    box: detect.Box
    frame: detect.CropFrame
    crop48: np.ndarray  # (48, 48) uint8, the emotion model's input
    crop96: np.ndarray  # (96, 96) uint8, the landmark model's input
    whole_image: bool = False
    score: float | None = None  # the detector's confidence (None for a whole image)


@dataclass
class PreparedImage:
    """A decoded photo and its cropped faces (empty when none was found)."""

    image: images.DecodedImage
    faces: list[Face]
    align: bool = False  # level the detected faces on their eye line in predict_faces


@dataclass
class FaceResult:
    """Everything predicted for one face. Coordinates are pixels of the (EXIF-rotated) original."""

    file: str
    index: int  # 0-based, faces ordered left to right
    box: detect.Box
    frame: detect.CropFrame
    whole_image: bool
    crop48: np.ndarray
    crop96: np.ndarray
    probabilities: dict[str, float] | None  # EMOTIONS order; None without an emotion model
    landmarks_96: np.ndarray | None  # (15, 2) x,y in the 96x96 crop; None without a landmark model
    emotion_model: str | None = None
    landmark_model: str | None = None
    score: float | None = None  # the detector's confidence

    @property
    def angle(self) -> float:
        """Degrees the crop was turned to level the eyes (0: as detected)."""
        return self.frame.angle

    @property
    def emotion(self) -> str | None:
        """The most probable emotion's name."""
        if self.probabilities is None:
            return None
        return max(self.probabilities, key=self.probabilities.__getitem__)

    @property
    def confidence(self) -> float | None:
        """The probability of `emotion`."""
        return None if self.probabilities is None else max(self.probabilities.values())

    @property
    def landmarks_image(self) -> np.ndarray | None:
        """(15, 2) x,y in original image pixels."""
        if self.landmarks_96 is None:
            return None
        return self.frame.to_image(self.landmarks_96, LANDMARK_SIZE)

    @property
    def landmarks(self) -> dict[str, tuple[float, float]] | None:
        """Keypoint name -> (x, y) in original image pixels."""
        points = self.landmarks_image
        if points is None:
            return None
        return {name: (float(x), float(y)) for name, (x, y) in zip(KEYPOINTS, points, strict=True)}

    def to_row(self) -> dict[str, Any]:
        """A flat record (the columns of ROW_COLUMNS) for CSV, Parquet and JSON."""
        row: dict[str, Any] = {
            "file": self.file, "face": self.index, "box_x": self.box.x, "box_y": self.box.y,
            "box_w": self.box.w, "box_h": self.box.h, "whole_image": self.whole_image,
        }
        probabilities = self.probabilities or {}
        row.update({name: probabilities.get(name) for name in EMOTIONS})
        row["emotion"] = self.emotion
        row["confidence"] = self.confidence
        points = self.landmarks_image
        flat = [None] * len(COLUMNS) if points is None else [round(float(v), 2) for v in points.reshape(-1)]
        row.update(dict(zip(COLUMNS, flat, strict=True)))
        row["emotion_model"] = self.emotion_model
        row["landmark_model"] = self.landmark_model
        return row


def prepare(
    source: object,
    name: str | None = None,
    *,
    whole_image: bool = False,
    whole_image_if_no_face: bool = False,
    timings: Timings | None = None,
    detector: str | None = None,
    align: bool = ALIGN_DEFAULT,
    detections: Sequence[detectors.Detection] | None = None,
    **detect_options: Any,
) -> PreparedImage:
    """Decode a photo and crop its faces (raises images.ImageError on a bad input).

    `whole_image` skips detection (an already-cropped face, e.g. a FER-2013 image);
    `whole_image_if_no_face` falls back to the whole image when the detector finds nothing.
    `detector` names a faceemo.detectors detector (default: YuNet where installed, else Haar);
    `detect_options` go to it. `align` levels each detected face on its eye line (in predict_faces,
    which has the landmark model); a face found by a turned pass starts turned by that angle.
    `detections` (from `detector`, on this image) skips the detector: faces found once, cropped twice.
    """
    started = time.perf_counter()
    decoded = images.decode_image(source, name)
    decoded_at = time.perf_counter()
    gray = decoded.gray
    frames: list[tuple[detect.Box, detect.CropFrame, bool, float | None]] = []
    if not whole_image:
        found = detectors.get(detector)
        frames = [
            (d.box, found.fer_frame(d, None if align else 0.0), False, d.score)
            for d in (found.run(gray, **detect_options) if detections is None else detections)
        ]
    if not frames and (whole_image or whole_image_if_no_face):
        box = detect.Box(0, 0, decoded.width, decoded.height)
        frames = [(box, detect.whole_image_frame(decoded.width, decoded.height), True, None)]
    faces = [
        Face(
            box, frame, detect.crop(gray, frame, EMOTION_SIZE), detect.crop(gray, frame, LANDMARK_SIZE),
            whole, score,
        )
        for box, frame, whole, score in frames
    ]
    if timings is not None:
        timings.decode += decoded_at - started
        timings.detect += time.perf_counter() - decoded_at
        timings.images += 1
        timings.faces += len(faces)
    return PreparedImage(decoded, faces, align=align and not whole_image)


def _predict(model: Any, crops: np.ndarray, batch_size: int) -> np.ndarray:
    x = crops.astype(np.float32)[..., None]  # (N, S, S, 1), 0..255: the model scales inside
    outputs = [
        np.asarray(model.predict_on_batch(x[i : i + batch_size])) for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(outputs, axis=0)


def predict_faces(
    prepared: Sequence[PreparedImage],
    models: Models,
    *,
    batch_size: int = 64,
    timings: Timings | None = None,
) -> list[list[FaceResult]]:
    """Run the models over the faces of several photos at once; one list of results per photo."""
    if models.landmarks is not None:
        _align(prepared, models.landmarks, batch_size, timings)
    faces = [face for item in prepared for face in item.faces]
    probabilities = points = None
    if faces and models.emotion is not None:
        started = time.perf_counter()
        crops = np.stack([f.crop48 for f in faces])
        probabilities = _predict(load_keras_model(models.emotion), crops, batch_size)
        if probabilities.shape != (len(faces), len(EMOTIONS)):
            raise ModelError(
                f"emotion model {models.emotion.model_id!r} returned shape {probabilities.shape}; "
                f"expected ({len(faces)}, {len(EMOTIONS)})"
            )
        if timings is not None:
            timings.classify += time.perf_counter() - started
    if faces and models.landmarks is not None:
        started = time.perf_counter()
        raw = _predict(load_keras_model(models.landmarks), np.stack([f.crop96 for f in faces]), batch_size)
        if raw.shape != (len(faces), 2 * len(KEYPOINTS)):
            raise ModelError(
                f"landmark model {models.landmarks.model_id!r} returned shape {raw.shape}; "
                f"expected ({len(faces)}, {2 * len(KEYPOINTS)})"
            )
        points = raw.reshape(len(faces), len(KEYPOINTS), 2).astype(np.float64)
        if timings is not None:
            timings.landmarks += time.perf_counter() - started

    results: list[list[FaceResult]] = []
    k = 0
    for item in prepared:
        per_image = []
        for index, face in enumerate(item.faces):
            per_image.append(
                FaceResult(
                    file=item.image.name, index=index, box=face.box, frame=face.frame,
                    whole_image=face.whole_image, crop48=face.crop48, crop96=face.crop96,
                    probabilities=None if probabilities is None else {
                        name: float(p) for name, p in zip(EMOTIONS, probabilities[k], strict=True)
                    },
                    landmarks_96=None if points is None else points[k],
                    emotion_model=models.emotion.model_id if models.emotion else None,
                    landmark_model=models.landmarks.model_id if models.landmarks else None,
                    score=face.score,
                )
            )
            k += 1
        results.append(per_image)
    return results


def _align(
    prepared: Sequence[PreparedImage], landmarks: ModelInfo, batch_size: int, timings: Timings | None
) -> None:
    """Level the detected faces of the items prepared with `align` (faceemo.align), in place: one
    landmark pass over their crops finds the eyes, then both crops are cut again from the turned frame."""
    todo = [(item, face) for item in prepared if item.align for face in item.faces if not face.whole_image]
    if not todo:
        return
    started = time.perf_counter()
    raw = _predict(load_keras_model(landmarks), np.stack([face.crop96 for _, face in todo]), batch_size)
    points = raw.reshape(len(todo), len(KEYPOINTS), 2)
    for (item, face), face_points in zip(todo, points, strict=True):
        frame = alignment.levelled_from_crop(face.frame, face_points, LANDMARK_SIZE)
        if frame != face.frame:
            gray = item.image.gray
            face.frame = frame
            face.crop48 = detect.crop(gray, frame, EMOTION_SIZE)
            face.crop96 = detect.crop(gray, frame, LANDMARK_SIZE)
    if timings is not None:
        timings.align += time.perf_counter() - started


def analyze(
    image: object,
    emotion_model: str | ModelInfo | None = None,
    landmark_model: str | ModelInfo | None = None,
    whole_image_if_no_face: bool = False,
    *,
    whole_image: bool = False,
    name: str | None = None,
    models: Models | None = None,
    timings: Timings | None = None,
    detector: str | None = None,
    align: bool = ALIGN_DEFAULT,
    **detect_options: Any,
) -> list[FaceResult]:
    """Every face in one photo (a path, bytes, a file object, a PIL image or an array), left to right.

    An empty list means no face was found (pass `whole_image_if_no_face=True` to treat the whole image
    as one face instead). Raises images.ImageError for a bad input and ModelError when no model exists.
    """
    models = models or load_models(emotion_model, landmark_model)
    prepared = prepare(
        image, name, whole_image=whole_image, whole_image_if_no_face=whole_image_if_no_face,
        timings=timings, detector=detector, align=align, **detect_options,
    )
    return predict_faces([prepared], models, timings=timings)[0]


def rows(results: Iterable[FaceResult]) -> list[dict[str, Any]]:
    """Flat records of many faces (see FaceResult.to_row)."""
    return [result.to_row() for result in results]
