"""Detection on real FER-2013 faces (read from the shared archive at test time), framing, crops."""

from __future__ import annotations

import numpy as np
import pytest

from faceemo import detect
from tests.conftest import FER_ARCHIVE, require_file
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face


@pytest.fixture(scope="module")
def fer_faces() -> list[np.ndarray]:
    archive = require_file(FER_ARCHIVE)
    return [fer_face(archive, member) for member in FER_HAPPY_FACES]


@pytest.mark.parametrize("which", range(len(FER_HAPPY_FACES)))
def test_finds_a_real_face_where_it_was_pasted(fer_faces, which):
    canvas, (x, y, side) = face_on_canvas(fer_faces[which], at=(220, 120))
    boxes = detect.detect_faces(canvas)
    assert len(boxes) == 1, boxes
    box = boxes[0]
    centre = np.array([box.x + box.w / 2, box.y + box.h / 2])
    assert np.abs(centre - np.array([x + side / 2, y + side / 2])).max() < 0.15 * side
    assert 0.6 * side < box.w < 1.2 * side


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def test_fer_framing_reproduces_the_fer_crop(fer_faces):
    """Cropping the detected face like FER-2013 gives back (nearly) the original 48x48 image, closer than
    the bare Haar box or a loose crop would (per face the Haar box varies, so compare the means)."""
    scores: dict[str, list[float]] = {"fer": [], "haar": [], "loose": []}
    for face in fer_faces:
        canvas, _ = face_on_canvas(face, at=(200, 100))
        (box,) = detect.detect_faces(canvas)
        frames = {
            "fer": detect.fer_frame(box),
            "haar": detect.CropFrame(box.x, box.y, box.w),
            "loose": detect.CropFrame(box.x - box.w // 4, box.y - box.w // 4, box.w + box.w // 2),
        }
        for name, frame in frames.items():
            scores[name].append(_correlation(detect.crop(canvas, frame, 48), face))
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    assert means["fer"] > 0.8, means
    assert means["fer"] > means["haar"] and means["fer"] > means["loose"], means


def test_several_faces_are_sorted_left_to_right(fer_faces):
    import cv2

    left, _ = face_on_canvas(fer_faces[0], size=(320, 320), at=(64, 64))
    right, _ = face_on_canvas(fer_faces[1], size=(320, 320), at=(64, 64))
    canvas = cv2.hconcat([left, right])
    boxes = detect.detect_faces(canvas)
    assert len(boxes) == 2, boxes
    assert boxes[0].x < 320 <= boxes[1].x


def test_large_photos_are_shrunk_for_detection_and_boxes_map_back(fer_faces):
    canvas, (x, y, side) = face_on_canvas(fer_faces[0], size=(2400, 1800), at=(1000, 700), scale=16)
    (box,) = detect.detect_faces(canvas, max_side=800)
    assert abs(box.x + box.w / 2 - (x + side / 2)) < 0.15 * side
    assert 0.6 * side < box.w < 1.2 * side


def test_blank_and_noise_images_have_no_face():
    assert detect.detect_faces(np.full((480, 640), 128, np.uint8)) == []
    noise = np.random.default_rng(1).integers(0, 256, (240, 320), dtype=np.uint8)
    assert detect.detect_faces(noise) == []


def test_frame_maps_points_both_ways():
    frame = detect.CropFrame(x0=100, y0=50, side=192)
    points = np.array([[0.0, 0.0], [47.5, 20.25], [95.0, 95.0]])
    back = frame.to_crop(frame.to_image(points, 96), 96)
    assert np.allclose(back, points)
    # the centre of the crop is the centre of the frame
    assert np.allclose(frame.to_image(np.array([[47.5, 47.5]]), 96), [[100 + 95.5, 50 + 95.5]])


def test_fer_frame_is_a_slightly_larger_square_around_the_box():
    frame = detect.fer_frame(detect.Box(100, 100, 95, 95))
    assert frame.side == 100
    assert abs(frame.x0 + frame.side / 2 - 147.5) <= 1


def test_crop_at_the_border_repeats_edge_pixels():
    gray = np.zeros((100, 100), np.uint8)
    gray[:, 0] = 200  # a bright left edge column
    crop = detect.crop(gray, detect.CropFrame(-50, 0, 100), 100)
    assert crop.shape == (100, 100)
    assert (crop[:, :50] == 200).all() and (crop[:, 60:] == 0).all()


def test_whole_image_frame_pads_the_short_side():
    frame = detect.whole_image_frame(200, 100)
    assert frame == detect.CropFrame(0, -50, 200)
    crop = detect.crop(np.full((100, 200), 90, np.uint8), frame, 48)
    assert crop.shape == (48, 48) and (crop == 90).all()


def test_non_max_suppression_prefers_frontal_then_larger():
    kept = detect.non_max_suppression(
        [
            (1, (10.0, 10.0, 100.0, 100.0)),  # profile, overlaps the frontal one
            (2, (15.0, 15.0, 90.0, 90.0)),  # frontal
            (2, (40.0, 60.0, 20.0, 10.0)),  # small box inside (a mouth)
            (2, (300.0, 10.0, 80.0, 80.0)),  # another face
        ]
    )
    assert kept == [(15.0, 15.0, 90.0, 90.0), (300.0, 10.0, 80.0, 80.0)]


def test_profile_modes(fer_faces):
    canvas, _ = face_on_canvas(fer_faces[0])
    boxes = {mode: detect.detect_faces(canvas, profile=mode) for mode in detect.PROFILE_MODES}
    assert len(boxes["never"]) == 1
    assert boxes["fallback"] == boxes["never"]  # a frontal face was found: the profile pass is skipped
    assert len(boxes["always"]) == 1  # a profile hit on the same face is merged into the frontal box
    with pytest.raises(ValueError, match="profile must be one of"):
        detect.detect_faces(canvas, profile="sometimes")
