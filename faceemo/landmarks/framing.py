"""FER-2013-like framing: a square box around a face's 68 points, cropped to 96x96 grayscale.

The box was set from FER-2013 itself: in the mean FER-2013 face (48x48, upscaled x2) the eyes sit at
y ≈ 33 px, about 34 px apart, and the mouth at y ≈ 77 px; the whole face, little background, the chin at
or just below the bottom edge. For the 68-point faces that is a square of side 1.15 × the points' extent
(the larger of width and height), centred horizontally on the extent, with the extent's top (the brows)
0.18 of the side below the box's top.

Coordinates use pixel centres (pixel i is centred at i), as OpenCV's warpAffine does, so that a point
keeps its place on the face through every crop, resize and flip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceemo.keypoints import FRAME_SIZE

BOX_SCALE = 1.15  # box side / extent of the 68 points
BOX_TOP = 0.18  # gap above the brows, as a fraction of the side


@dataclass(frozen=True)
class CropSquare:
    """A square in image pixels: centre (cx, cy) and side."""

    cx: float
    cy: float
    side: float

    @property
    def left(self) -> float:
        return self.cx - self.side / 2

    @property
    def top(self) -> float:
        return self.cy - self.side / 2


def fer_box(points68: np.ndarray, scale: float = BOX_SCALE, top: float = BOX_TOP) -> CropSquare:
    """The FER-like square box of one face's 68 points (x, y)."""
    points68 = np.asarray(points68, np.float64)
    x0, y0 = points68.min(axis=0)
    x1, y1 = points68.max(axis=0)
    side = max(x1 - x0, y1 - y0) * scale
    if side <= 0:
        raise ValueError("the points have no extent")
    return CropSquare(cx=(x0 + x1) / 2, cy=y0 - top * side + side / 2, side=side)


def crop_matrix(box: CropSquare, size: int = FRAME_SIZE, context: float = 1.0) -> np.ndarray:
    """2x3 affine taking image pixel centres to a size x size crop of the box widened by `context`.

    The box edges map to the crop edges (a pixel-centre x maps to (x + 0.5 - left) * scale - 0.5).
    """
    side = box.side * context
    scale = size / side
    left, top = box.cx - side / 2, box.cy - side / 2
    return np.array(
        [[scale, 0.0, (0.5 - left) * scale - 0.5], [0.0, scale, (0.5 - top) * scale - 0.5]], np.float64
    )


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to (..., 2) points; NaN stays NaN."""
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The image under the affine, size x size, bilinear, edges replicated (no black borders)."""
    import cv2

    return cv2.warpAffine(
        image,
        matrix.astype(np.float64),
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def crop_face(
    image: np.ndarray, points: np.ndarray, box: CropSquare, size: int = FRAME_SIZE, context: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Crop `box` (widened by `context`) to size x size and move `points` with it."""
    matrix = crop_matrix(box, size, context)
    if matrix[0, 0] < 0.5:
        # Strong downscale: shrink first so bilinear sampling does not alias.
        import cv2

        factor = int(1 / matrix[0, 0])
        height, width = image.shape[:2]
        small_w, small_h = max(1, width // factor), max(1, height // factor)
        small = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
        sx, sy = small_w / width, small_h / height
        pre = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])
        matrix_small = np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(pre)
        return warp(small, matrix_small[:2], size), transform_points(points, matrix)
    return warp(image, matrix, size), transform_points(points, matrix)


def upscale_fer(pixels48: np.ndarray, size: int = FRAME_SIZE) -> np.ndarray:
    """A 48x48 FER-2013 face resized to size x size (bilinear, pixel centres aligned)."""
    import cv2

    return cv2.resize(np.asarray(pixels48, np.uint8), (size, size), interpolation=cv2.INTER_LINEAR)
