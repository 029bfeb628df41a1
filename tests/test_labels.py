import pytest

from faceemo.keypoints import FLIP_PERMUTATION, KEYPOINTS
from faceemo.labels import EMOTIONS, emotion_of, label_of


def test_fer2013_integer_order_is_not_alphabetical():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert [label_of(e) for e in sorted(EMOTIONS)] == [0, 1, 2, 3, 6, 4, 5]
    assert emotion_of(6) == "neutral" and label_of(" Happy ") == 3
    assert label_of("Happiness") == 3 and label_of("surprised") == 5 and label_of("fearful") == 2


@pytest.mark.parametrize("bad", ["contempt", ""])
def test_unknown_emotion_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="unknown emotion"):
        label_of(bad)


def test_label_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        emotion_of(7)


def test_flip_swaps_left_and_right_names():
    pairs = {KEYPOINTS[i]: KEYPOINTS[j] for i, j in enumerate(FLIP_PERMUTATION)}
    assert pairs["left_eye_center"] == "right_eye_center"
    assert pairs["mouth_right_corner"] == "mouth_left_corner"
    assert pairs["nose_tip"] == "nose_tip"
    assert sorted(FLIP_PERMUTATION) == list(range(len(KEYPOINTS)))
