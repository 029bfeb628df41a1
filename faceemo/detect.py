"""Find faces in a photo and crop each one the way FER-2013 framed its faces.

Detector: OpenCV's Haar cascades as bundled by `opencv-python-headless` 4.x (`cv2.data.haarcascades`):
nothing to download at run time, a well-kept package, fast on a CPU. The frontal cascade (alt2: fewer
false positives than `default` on FER faces) runs first; when it finds nothing, the profile cascade (and
its mirror image, since it only knows faces turned one way) looks for faces seen from the side.
Overlapping boxes are merged by non-maximum suppression, frontal boxes winning. (OpenCV 5 dropped the
cascades.) This is the `haar` detector of faceemo.detectors, where YuNet is the default.

Framing: FER-2013 faces are tight square crops. Measured on 400 FER-2013 test faces pasted on a larger
canvas, the alt2 box is 0.95 of the FER frame's side (median) with the same centre, so a Haar box is
enlarged by 1/0.95 and squared around its centre; at the photo's border the edge pixels are repeated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from faceemo.errors import ModelError

FRONTAL_CASCADE = "haarcascade_frontalface_alt2.xml"
PROFILE_CASCADE = "haarcascade_profileface.xml"

FER_SCALE = 1.0 / 0.95  # FER frame side / Haar box side (median over 400 FER-2013 test faces)
FER_SHIFT_Y = 0.01  # the FER frame's centre lies this fraction of the box side below the Haar centre

DETECT_MAX_SIDE = 1280  # photos are shrunk to this for detection (boxes mapped back): 20x faster on 12 MP
MIN_FACE = 24  # smallest face side, in pixels of the (shrunk) detection image
PROFILE_MODES = ("fallback", "always", "never")


class Box(NamedTuple):
    """A face box in pixels of the original image (after EXIF rotation): top-left x, y, width, height."""

    x: int
    y: int
    w: int
    h: int


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class CropFrame:
    """The square of the original image a face crop was taken from (it may reach past the borders).

    `angle` (degrees) turns the square about its centre: the crop is the image turned counter-clockwise
    (as seen on screen) by `angle`, so a face whose eye line descends by `angle` to the right comes out
    level (faceemo.align). 0 is the plain axis-aligned square.
    """

    x0: int
    y0: int
    side: int
    angle: float = 0.0

    def _rotation(self) -> np.ndarray:
        """Crop directions -> image directions (y down): clockwise on screen by `angle`."""
        t = np.deg2rad(self.angle)
        return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])

    def _centre(self) -> np.ndarray:
        return np.array([self.x0, self.y0]) + self.side / 2 - 0.5  # in pixel-index coordinates

    def to_image(self, points: np.ndarray, size: int) -> np.ndarray:
        """Map (..., 2) x,y points of a `size`x`size` crop back to original image pixels."""
        scale = self.side / size
        # pixel centres: crop pixel p covers original [x0 + p*scale, x0 + (p+1)*scale) before turning
        offsets = (np.asarray(points, dtype=np.float64) + 0.5) * scale - self.side / 2
        if self.angle:
            offsets = offsets @ self._rotation().T
        return offsets + self._centre()

    def to_crop(self, points: np.ndarray, size: int) -> np.ndarray:
        """The inverse of to_image: original image pixels to a `size`x`size` crop's pixels."""
        scale = self.side / size
        offsets = np.asarray(points, dtype=np.float64) - self._centre()
        if self.angle:
            offsets = offsets @ self._rotation()  # the inverse of a rotation is its transpose
        return (offsets + self.side / 2) / scale - 0.5


@functools.lru_cache(maxsize=4)
def _cascade(file_name: str):
    import cv2

    path = cv2.data.haarcascades + file_name
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ModelError(
            f"OpenCV's Haar cascade {path} is missing: install opencv-python-headless 4.x "
            "(OpenCV 5 no longer ships the cascades)"
        )
    return cascade


def detect_faces(
    gray: np.ndarray,
    *,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_face: int = MIN_FACE,
    max_side: int = DETECT_MAX_SIDE,
    profile: str = "fallback",
) -> list[Box]:
    """Face boxes in a uint8 gray image, left to right, overlapping detections merged.

    profile: 'fallback' (default) runs the profile cascades only when no frontal face was found — they
    cost ~4x the frontal pass on a 640x480 photo; 'always' also looks for side faces next to frontal
    ones; 'never' skips them.
    """
    if profile not in PROFILE_MODES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_MODES)}, not {profile!r}")
    import cv2

    height, width = gray.shape[:2]
    shrink = min(1.0, max_side / max(height, width))
    small = gray if shrink == 1.0 else cv2.resize(
        gray, (round(width * shrink), round(height * shrink)), interpolation=cv2.INTER_AREA
    )
    small = cv2.equalizeHist(small)  # Haar features are contrast-sensitive: normalise dim/flat photos
    options = {"scaleFactor": scale_factor, "minSize": (min_face, min_face)}

    found: list[tuple[int, tuple[float, float, float, float]]] = []  # (priority, box in small px)
    for rect in _detect(_cascade(FRONTAL_CASCADE), small, min_neighbors, options):
        found.append((2, rect))
    if profile == "always" or (profile == "fallback" and not found):
        # profile faces give more false alarms than frontal ones: ask for one more neighbour
        profile_cascade = _cascade(PROFILE_CASCADE)
        for rect in _detect(profile_cascade, small, min_neighbors + 1, options):
            found.append((1, rect))
        mirrored = np.ascontiguousarray(small[:, ::-1])
        for x, y, w, h in _detect(profile_cascade, mirrored, min_neighbors + 1, options):
            found.append((1, (small.shape[1] - x - w, y, w, h)))

    kept = non_max_suppression(found)
    boxes = []
    for x, y, w, h in kept:
        box = Box(round(x / shrink), round(y / shrink), round(w / shrink), round(h / shrink))
        boxes.append(Box(box.x, box.y, min(box.w, width - box.x), min(box.h, height - box.y)))
    return sorted(boxes, key=lambda b: (b.x, b.y))


def _detect(cascade, image: np.ndarray, min_neighbors: int, options: dict) -> list[tuple]:
    rects = cascade.detectMultiScale(image, minNeighbors=min_neighbors, **options)
    return [tuple(float(v) for v in r) for r in (rects if len(rects) else [])]


def non_max_suppression(
    candidates: list[tuple[int, tuple[float, float, float, float]]], max_overlap: float = 0.4
) -> list[tuple[float, float, float, float]]:
    """Greedy NMS over (priority, (x, y, w, h)): higher priority, then larger boxes first; a box is
    dropped when its intersection covers more than `max_overlap` of the smaller of the two boxes
    (intersection-over-minimum also drops a small box found inside a big one, e.g. a mouth)."""
    order = sorted(candidates, key=lambda c: (-c[0], -c[1][2] * c[1][3]))
    kept: list[tuple[float, float, float, float]] = []
    for _, (x, y, w, h) in order:
        for kx, ky, kw, kh in kept:
            ix = max(0.0, min(x + w, kx + kw) - max(x, kx))
            iy = max(0.0, min(y + h, ky + kh) - max(y, ky))
            if ix * iy > max_overlap * min(w * h, kw * kh):
                break
        else:
            kept.append((x, y, w, h))
    return kept


def fer_frame(
    box: Box, scale: float = FER_SCALE, shift_y: float = FER_SHIFT_Y, angle: float = 0.0
) -> CropFrame:
    """The FER-2013-like square around a detector's box: enlarged by `scale`, same centre moved down by
    `shift_y` of the box height (defaults: the Haar calibration; other detectors pass their own, see
    faceemo.detectors), turned by `angle` degrees (CropFrame.angle) about the box centre."""
    side = max(box.w, box.h) * scale
    t = np.deg2rad(angle)
    down = shift_y * box.h  # "down" in the face's own frame: turned with it
    cx = box.x + box.w / 2 - np.sin(t) * down
    cy = box.y + box.h / 2 + np.cos(t) * down
    return CropFrame(round(cx - side / 2), round(cy - side / 2), max(1, round(side)), float(angle))


def whole_image_frame(width: int, height: int) -> CropFrame:
    """The whole image as one face: the centred square that holds all of it (the short side is padded)."""
    side = max(width, height)
    return CropFrame((width - side) // 2, (height - side) // 2, side)


def crop(gray: np.ndarray, frame: CropFrame, size: int) -> np.ndarray:
    """The `size`x`size` uint8 crop of `frame`; parts past the border repeat the edge pixels."""
    if frame.angle:
        return _turned_crop(gray, frame, size)
    import cv2

    height, width = gray.shape[:2]
    x0, y0, side = frame.x0, frame.y0, frame.side
    left, top = max(0, x0), max(0, y0)
    right, bottom = min(width, x0 + side), min(height, y0 + side)
    if right <= left or bottom <= top:
        raise ValueError(f"crop frame {frame} lies outside the {width}x{height} image")
    patch = gray[top:bottom, left:right]
    pads = (top - y0, y0 + side - bottom, left - x0, x0 + side - right)
    if any(pads):
        patch = cv2.copyMakeBorder(patch, *pads, cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(patch), (size, size), interpolation=interpolation)


def _turned_crop(gray: np.ndarray, frame: CropFrame, size: int) -> np.ndarray:
    """crop() of a turned frame: the axis-aligned square that holds the turned one is cut and shrunk
    first (area averaging, as for a level crop), then turned and cut to `size` in one resample."""
    import cv2

    outer_side = int(np.ceil(frame.side * 1.5)) + 2  # holds the square turned by any angle (sqrt 2)
    cx, cy = frame.x0 + frame.side / 2, frame.y0 + frame.side / 2
    outer = CropFrame(round(cx - outer_side / 2), round(cy - outer_side / 2), outer_side)
    shrink = min(1.0, 2 * size / frame.side)  # keep twice the output resolution for the turn
    patch_side = max(size, round(outer_side * shrink))
    patch = crop(gray, outer, patch_side)
    k = patch_side / outer_side  # patch pixels per image pixel
    # the frame's centre in patch pixel-index coordinates
    centre = ((cx - outer.x0) * k - 0.5, (cy - outer.y0) * k - 0.5)
    matrix = cv2.getRotationMatrix2D(centre, frame.angle, size / (frame.side * k))
    matrix[:, 2] += np.array([(size - 1) / 2, (size - 1) / 2]) - np.array(centre)
    return cv2.warpAffine(
        patch, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
