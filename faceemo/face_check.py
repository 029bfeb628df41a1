"""A second opinion on a face box: dlib's face detectors, asked whether a square holds a face.

YuNet (faceemo.detectors) finds faces well, but to it a few smooth blobs of clutter are faces too, and its
own second look cannot tell them apart: a different model can. dlib's max-margin object detector (Davis
King; a CNN trained on his own face data set) is slow over a whole photo (~8 µs a pixel on one core here)
but affordable on the small square around one doubtful box, and it disagrees with YuNet where YuNet is
wrong; dlib's HOG detector, fast but blinder, answers first where it is sure.

Both run in `dlib-bin` (dlib's own wheels, Boost licence); HOG's model is built into dlib, MMOD's weights
come inside the `face_recognition_models` package (MIT; `mmod_human_face_detector.dat`, 0.7 MB). Nothing
is downloaded; the other models that package ships are not used.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

CENTRE_REACH = 0.3  # a face counts when its centre is within this many expected sides of the square's ...
SIZE_RANGE = (0.5, 2.0)  # ... and its side within this range of the expected side


@functools.cache
def _models() -> tuple[Any, Any]:
    import dlib
    import face_recognition_models

    cnn = dlib.cnn_face_detection_model_v1(face_recognition_models.cnn_face_detector_model_location())
    return dlib.get_frontal_face_detector(), cnn


def _centred(rects: list[Any], size: int, expected: float) -> bool:
    """Whether one of dlib's rectangles is a face of about `expected` px side at the centre of a `size` px
    square."""
    for rect in rects:
        cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
        near = max(abs(cx - size / 2), abs(cy - size / 2)) < CENTRE_REACH * expected
        if near and SIZE_RANGE[0] < max(rect.width(), rect.height()) / expected < SIZE_RANGE[1]:
            return True
    return False


def is_face(square: np.ndarray, expected: float) -> bool:
    """Whether dlib finds a face of about `expected` px side at the centre of `square`: its fast HOG
    detector first (~5 ms; a third of YuNet's true doubtful boxes, none of its false ones, on PublicTest
    composites), else its MMOD CNN (~215 ms), each at its own threshold, 0."""
    hog, cnn = _models()
    square = np.ascontiguousarray(square)
    size = square.shape[0]
    if _centred(hog(square, 0), size, expected):
        return True
    return _centred([found.rect for found in cnn(square, 0)], size, expected)
