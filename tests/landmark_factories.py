"""Generated landmark data for the tests: a hand-made 68-point face, and small files in the three
formats a user may bring (the 68-point zip with PNG data under .jpg names, Kaggle's training.csv, the
face_images.npz + facial_keypoints.csv pair), plus a warehouse with landmarks."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from faceemo import warehouse
from faceemo.keypoints import COLUMNS, FRAME_SIZE, KEYPOINTS
from faceemo.labels import EMOTIONS


def template68() -> np.ndarray:
    """A frontal 68-point face (iBUG order) in a unit box: x, y in 0..1, subject's left at larger x."""
    pts = np.zeros((68, 2))
    t = np.linspace(np.pi, 0, 17)  # jaw 0..16 from image left to image right, through the chin
    pts[0:17] = np.c_[0.5 + 0.5 * np.cos(t), 0.35 + 0.65 * np.sin(t)]
    pts[17:22] = np.c_[np.linspace(0.12, 0.42, 5), [0.12, 0.06, 0.04, 0.06, 0.1]]  # right brow (image left)
    pts[22:27] = np.c_[np.linspace(0.58, 0.88, 5), [0.1, 0.06, 0.04, 0.06, 0.12]]  # left brow
    pts[27:31] = np.c_[[0.5] * 4, np.linspace(0.2, 0.48, 4)]  # nose bridge, 30 = tip
    pts[31:36] = np.c_[np.linspace(0.42, 0.58, 5), [0.52, 0.54, 0.55, 0.54, 0.52]]
    for first, cx in ((36, 0.3), (42, 0.7)):  # eyes: 6 points on an ellipse, outer/inner corners first/4th
        ang = np.radians([180, 120, 60, 0, -60, -120])
        pts[first : first + 6] = np.c_[cx + 0.09 * np.cos(ang), 0.25 - 0.03 * np.sin(ang)]
    # 48..59 outer lip (48 right corner, 51 top centre, 54 left corner, 57 bottom centre), 60..67 inner lip
    ang = np.radians(np.linspace(180, -150, 12))
    pts[48:60] = np.c_[0.5 + 0.2 * np.cos(ang), 0.75 - 0.08 * np.sin(ang)]
    ang = np.radians(np.linspace(180, -135, 8))
    pts[60:68] = np.c_[0.5 + 0.14 * np.cos(ang), 0.75 - 0.03 * np.sin(ang)]
    return pts


def draw_face(points68: np.ndarray, width: int, height: int, seed: int = 0) -> np.ndarray:
    """A grayscale image with a bright dot at every point (for checks that points follow the pixels)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(20, 40, size=(height, width)).astype(np.uint8)
    for x, y in points68:
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < width and 0 <= yi < height:
            img[max(yi - 1, 0) : yi + 2, max(xi - 1, 0) : xi + 2] = 255
    return img


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def face_points(seed: int, size: int) -> np.ndarray:
    """The template placed in a size x size image with some jitter (a few points may fall outside)."""
    rng = np.random.default_rng(seed)
    scale = size * rng.uniform(0.55, 0.75)
    origin = rng.uniform(0.05, 0.3, size=2) * size
    return np.round(template68() * scale + origin + rng.normal(0, 0.5, (68, 2)))


def make_68_zip(
    path: Path,
    people: tuple[str, ...] = ("Ann_Lee", "Bo_Chan", "Cy_Dee", "Di_Eve", "Ed_Fox"),
    frames: int = 3,
    test_frames: int = 1,
) -> Path:
    """A 68-point archive like face_keypoints_68.zip: PNG data under .jpg names, varied sizes."""
    with zipfile.ZipFile(path, "w") as archive:
        for split, count in (("training", frames), ("test", test_frames)):
            rows = []
            archive.writestr(f"{split}/", b"")
            for p, person in enumerate(people):
                for f in range(count):
                    seed = 100 * p + f + (50 if split == "test" else 0)
                    size = 80 + (seed * 37) % 120
                    pts = face_points(seed, size)
                    name = f"{person}_{f:02d}.jpg" if split == "training" else f"{person}_{90 + f}.jpg"
                    archive.writestr(f"{split}/{name}", png_bytes(draw_face(pts, size, size + 10, seed)))
                    # the archive labels pixel c as [c, c+1): a dot drawn at c reads c + 0.5
                    rows.append([name, *(pts + 0.5).reshape(-1)])
            frame = pd.DataFrame(rows, columns=["", *[str(i) for i in range(136)]])
            archive.writestr(f"{split}_frames_keypoints.csv", frame.to_csv(index=False))
    return path


def kaggle_rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n 96x96 images and (n, 15, 2) keypoints with some missing (NaN), like Kaggle's training.csv."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, FRAME_SIZE, FRAME_SIZE)).astype(np.uint8)
    kps = rng.uniform(10, 86, size=(n, len(KEYPOINTS), 2)).round(3)
    kps[1:, 2:6] = np.nan  # most faces lack the eye corners, as in Kaggle's data
    return images, kps


def make_kaggle_csv(path: Path, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    images, kps = kaggle_rows(n)
    frame = pd.DataFrame(kps.reshape(n, -1), columns=list(COLUMNS))
    frame["Image"] = [" ".join(map(str, img.reshape(-1))) for img in images]
    frame.to_csv(path, index=False)
    return images, kps


def make_npz_pair(folder: Path, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    images, kps = kaggle_rows(n, seed=1)
    np.savez_compressed(folder / "face_images.npz", face_images=np.moveaxis(images, 0, 2).astype(np.float64))
    pd.DataFrame(kps.reshape(n, -1), columns=list(COLUMNS)).to_csv(
        folder / "facial_keypoints.csv", index=False
    )
    return images, kps


# Per-emotion mouth opening and eye height: surprise opens the mouth, happy shortens it (made-up).
MOUTH_DROP = {"angry": 0, "disgust": 2, "fear": 1, "happy": -3, "sad": 0, "surprise": 6, "neutral": 0}


def kaggle_face(emotion: str, rng: np.random.Generator) -> np.ndarray:
    """(15, 2) plausible keypoints in the 96 frame, varied by emotion, with noise."""
    base = {
        "left_eye_center": (66, 37),
        "right_eye_center": (30, 37),
        "left_eye_inner_corner": (59, 38),
        "left_eye_outer_corner": (73, 38),
        "right_eye_inner_corner": (37, 38),
        "right_eye_outer_corner": (22, 38),
        "left_eyebrow_inner_end": (56, 29),
        "left_eyebrow_outer_end": (80, 30),
        "right_eyebrow_inner_end": (39, 29),
        "right_eyebrow_outer_end": (16, 30),
        "nose_tip": (48, 62),
        "mouth_left_corner": (63, 76),
        "mouth_right_corner": (33, 76),
        "mouth_center_top_lip": (48, 72),
        "mouth_center_bottom_lip": (48, 79),
    }
    pts = np.array([base[k] for k in KEYPOINTS], np.float64)
    pts[KEYPOINTS.index("mouth_center_bottom_lip"), 1] += MOUTH_DROP[emotion]
    return pts + rng.normal(0, 1.0, pts.shape)


def add_landmarks(db: Path, model_id: str = "lmk_test", seed: int = 0) -> Path:
    """Give every face in a warehouse made by make_images_warehouse landmarks from `model_id` (and a
    models row), as the landmarks step would."""
    rng = np.random.default_rng(seed)
    with warehouse.writing(db) as con:
        faces = con.execute("SELECT image_id, emotion FROM images ORDER BY image_id").fetchall()
        rows = [[model_id, image_id, *kaggle_face(emotion, rng).reshape(-1)] for image_id, emotion in faces]
        frame = pd.DataFrame(rows, columns=["model_id", "image_id", *COLUMNS])
        con.register("generated", frame)
        con.execute("INSERT INTO landmarks SELECT * FROM generated")
        con.execute(
            "INSERT INTO models (model_id, task, architecture, params, file, created_at) "
            "VALUES (?, 'landmarks', 'lmk_tiny', 1, 'models/x.keras', now())",
            [model_id],
        )
    return db


def write_production(folder: Path, model_id: str) -> None:
    (folder / "production.json").write_text(json.dumps({"landmarks": model_id}))


assert set(MOUTH_DROP) == set(EMOTIONS)
