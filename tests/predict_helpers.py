"""Helpers for the predict tests (and the benchmark's stand-ins): tiny real Keras models that honour the
model I/O contract, saved with sidecars and a production.json; and real FER-2013 faces on a canvas."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from faceemo.keypoints import FRAME_SIZE, KEYPOINTS

# FER-2013 test faces the alt2 cascade finds once enlarged 4x onto a larger canvas (checked by hand,
# see tests/test_detect.py); happy faces, clearly frontal.
FER_HAPPY_FACES = (
    "test/happy/PrivateTest_16894784.jpg",
    "test/happy/PrivateTest_18691574.jpg",
    "test/happy/PrivateTest_34633618.jpg",
)


# Roughly the mean face of Kaggle's 96x96 keypoints set, in KEYPOINTS order (x, y).
MEAN_FACE_96 = np.array([
    (66, 37), (30, 37), (59, 37), (73, 38), (37, 37), (22, 38), (56, 29), (80, 30), (39, 29), (16, 30),
    (48, 62), (63, 76), (33, 76), (48, 72), (48, 82),
], dtype=np.float32)


def tiny_emotion_model():
    import keras

    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(7, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="tiny_emotion")


def tiny_landmark_model():
    import keras

    inputs = keras.Input((FRAME_SIZE, FRAME_SIZE, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    # starts at the mean face of the Kaggle keypoints set (weights near zero), so drawings look sane
    x = keras.layers.Dense(
        2 * len(KEYPOINTS),
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
        bias_initializer=keras.initializers.Constant(MEAN_FACE_96.reshape(-1).tolist()),
    )(x)
    return keras.Model(inputs, x, name="tiny_landmarks")


def save_model(model, folder: Path, model_id: str, task: str, input_size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.keras"
    model.save(path)
    meta = {
        "model_id": model_id, "task": task, "architecture": model.name, "params": int(model.count_params()),
        "input_size": input_size, "backend": "tensorflow", "device": "cpu",
        "trained_on": "nothing (test stand-in)",
    }
    (folder / f"{model_id}.json").write_text(json.dumps(meta, indent=2))
    return path


def make_models_folder(
    folder: Path, emotion: bool = True, landmarks: bool = True, extra: bool = False
) -> Path:
    """A models folder with tiny stand-ins and a production.json naming them."""
    production = {}
    if emotion:
        save_model(tiny_emotion_model(), folder, "tiny_emotion", "emotion", 48)
        production["emotion"] = "tiny_emotion"
        if extra:
            save_model(tiny_emotion_model(), folder, "tiny_emotion_b", "emotion", 48)
    if landmarks:
        save_model(tiny_landmark_model(), folder, "tiny_landmarks", "landmarks", FRAME_SIZE)
        production["landmarks"] = "tiny_landmarks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "production.json").write_text(json.dumps(production))
    return folder


def fer_face(archive: Path, member: str) -> np.ndarray:
    """A 48x48 uint8 face from the FER-2013 zip (read at test time, never committed)."""
    from PIL import Image

    with zipfile.ZipFile(archive) as zf:
        return np.asarray(Image.open(io.BytesIO(zf.read(member))).convert("L"))


def face_on_canvas(
    face: np.ndarray, size: tuple[int, int] = (640, 480), at: tuple[int, int] = (220, 120), scale: int = 4
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """`face` enlarged `scale`x and pasted at `at` (x, y) into a width x height canvas whose rest repeats
    the face's edge pixels (a flat grey frame would leave a hard edge Haar may take for a face border).
    Returns the canvas and where the face went: (x, y, side)."""
    import cv2

    side = face.shape[0] * scale
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    width, height = size
    x, y = at
    canvas = cv2.copyMakeBorder(big, y, height - y - side, x, width - x - side, cv2.BORDER_REPLICATE)
    return canvas, (x, y, side)


_BUILT: dict[str, Path] = {}


def tiny_models_folder(root: Path, kind: str = "both") -> Path:
    """A models folder of tiny stand-ins, built once per test session under `root` and reused.

    kind: 'both', 'emotion' (no landmark model), 'several' (two emotion models) or 'none'.
    """
    if kind not in _BUILT:
        folder = root / f"models_{kind}"
        make_models_folder(
            folder, emotion=kind != "none", landmarks=kind in ("both", "several"), extra=kind == "several"
        )
        _BUILT[kind] = folder
    return _BUILT[kind]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height (8-bit gray) and whose data is a few bytes: a bomb's header."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(
        b"IEND", b""
    )
