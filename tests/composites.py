"""Photos made from FER-2013 faces with known boxes, for the detector tests and benchmarks/detect_eval.py:
each face enlarged, turned in the image plane and pasted on a cluttered background (smooth noise,
blobs, bars, sensor noise: no faces, so any other box is a false positive). Faces are read from the
shared archive at run time, never committed."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceemo.labels import EMOTIONS


@dataclass(frozen=True)
class PastedFace:
    """Where a face went: the centre and side of its FER frame, its angle (CropFrame's sense), label."""

    cx: float
    cy: float
    side: int
    angle: float
    emotion: str | None = None

    def matches(self, box, tolerance: float = 0.3) -> bool:
        """A detector's box counts as this face when its centre is within `tolerance` sides of it
        and its size within a factor of 2."""
        bx, by, bw, bh = box
        near = max(abs(bx + bw / 2 - self.cx), abs(by + bh / 2 - self.cy)) < tolerance * self.side
        return near and 0.5 * self.side < max(bw, bh) < 2 * self.side


def fer_faces(archive: Path, usage: str = "PrivateTest", n: int | None = None, seed: int = 0):
    """[(48x48 uint8 face, emotion)] of `usage` faces from the FER-2013 image-folder zip, `n` at random."""
    from PIL import Image

    with zipfile.ZipFile(archive) as zf:
        members = sorted(m for m in zf.namelist() if f"/{usage}_" in m and m.lower().endswith(".jpg"))
        if n is not None:
            rng = np.random.default_rng(seed)
            members = [members[i] for i in sorted(rng.choice(len(members), n, replace=False))]
        faces = []
        for member in members:
            emotion = member.split("/")[-2].lower()
            face = np.asarray(Image.open(io.BytesIO(zf.read(member))).convert("L"))
            faces.append((face, emotion if emotion in EMOTIONS else None))
    return faces


def background(rng: np.random.Generator, width: int = 640, height: int = 480) -> np.ndarray:
    """A cluttered uint8 gray background: smooth noise, filled blobs and bars, blur, sensor noise."""
    import cv2

    coarse = rng.uniform(0, 255, (height // 40 + 2, width // 40 + 2)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    image = np.clip(smooth, 0, 255).astype(np.uint8)
    for _ in range(12):
        shade = int(rng.integers(0, 256))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            corner = (x + int(rng.integers(10, 200)), y + int(rng.integers(10, 200)))
            cv2.rectangle(image, (x, y), corner, shade, -1)
        else:
            cv2.circle(image, (x, y), int(rng.integers(5, 80)), shade, -1)
    image = cv2.GaussianBlur(image, (0, 0), 1.5)
    return np.clip(image.astype(np.int16) + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def paste(
    canvas: np.ndarray, face: np.ndarray, side: int, centre: tuple[float, float], angle: float,
    emotion: str | None = None,
) -> PastedFace:
    """`face` enlarged to `side` px, turned clockwise on screen by `angle` degrees (so CropFrame(angle)
    levels it again), pasted with its centre at `centre` (in place)."""
    import cv2

    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    # getRotationMatrix2D turns counter-clockwise for a positive angle: -angle turns clockwise
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), -angle, 1.0)
    matrix[:, 2] += np.array(centre) - side / 2
    height, width = canvas.shape[:2]
    warped = cv2.warpAffine(big, matrix, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.full((side, side), 255, np.uint8), matrix, (width, height))
    canvas[mask > 127] = warped[mask > 127]
    return PastedFace(float(centre[0]), float(centre[1]), side, float(angle), emotion)


def composite(
    rng: np.random.Generator, faces: list[tuple[np.ndarray, str | None]], size: tuple[int, int] = (640, 480),
    sides: tuple[int, int] = (60, 200), max_angle: float = 30.0,
) -> tuple[np.ndarray, list[PastedFace]]:
    """A background with each of `faces` pasted at a random side, angle and place, apart from the others
    (a face that finds no free place after 50 tries is left out)."""
    width, height = size
    canvas = background(rng, width, height)
    placed: list[PastedFace] = []
    for face, emotion in faces:
        for _ in range(50):
            side = int(rng.integers(*sides))
            reach = side * 0.75  # the turned square's half-diagonal, with a margin
            if width - 2 * reach < 1 or height - 2 * reach < 1:
                continue
            cx, cy = rng.uniform(reach, width - reach), rng.uniform(reach, height - reach)
            if all(max(abs(cx - p.cx), abs(cy - p.cy)) > 0.75 * (side + p.side) for p in placed):
                angle = float(rng.uniform(-max_angle, max_angle))
                placed.append(paste(canvas, face, side, (cx, cy), angle, emotion))
                break
    return canvas, placed


def make_clip(
    path: Path, faces: list[np.ndarray], seconds: float = 3.0, fps: float = 10.0,
    size: tuple[int, int] = (320, 240), fourcc: str = "mp4v", side: int = 96,
) -> Path:
    """A real video file (OpenCV's writer; mp4v in .mp4 or MJPG in .avi both read back with the wheel's
    FFmpeg): `faces` side by side on a still background, drifting right by a pixel a frame."""
    import cv2

    width, height = size
    rng = np.random.default_rng(0)
    still = background(rng, width, height)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path}")
    try:
        for index in range(round(seconds * fps)):
            canvas = still.copy()
            for k, face in enumerate(faces):
                centre = (side * 0.75 + k * (side * 1.5) + index, height / 2)
                paste(canvas, face, side, centre, 0.0)
            writer.write(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()
    return path
