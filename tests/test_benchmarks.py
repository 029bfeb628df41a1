"""The photo benchmark's own parts: which photos it reads, and the peer fer's face finding."""

from __future__ import annotations

from PIL import Image

from benchmarks import peer_fer, photo_eval
from tests.conftest import FER_ARCHIVE, require_file
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face


def test_photos_by_emotion_folder_with_aliases_and_skips(tmp_path, capsys):
    for folder, name in (("Happiness", "a.png"), ("happiness_extra", "b.png"), ("surprised", "c.jpg"),
                         ("contempt", "d.png"), ("sad", "e.png")):
        (tmp_path / folder).mkdir(exist_ok=True)
        Image.new("L", (60, 60), 90).save(tmp_path / folder / name)
    (tmp_path / "sad" / "notes.txt").write_text("not a photo")
    photos = photo_eval.labelled_photos(tmp_path)
    assert sorted((p.name, label) for p, label in photos) == [("a.png", 3), ("c.jpg", 5), ("e.png", 4)]
    err = capsys.readouterr().err
    assert "skipped contempt/" in err and "skipped happiness_extra/" in err
    assert "1 non-image file(s) in sad/" in err


def test_fer_finds_a_face_as_fer_does_and_nothing_on_a_blank():
    face = fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0])
    canvas, box = face_on_canvas(face)
    finder = peer_fer.FaceFinder()  # without fer installed: OpenCV's copy of the same cascade
    boxes, crops = finder.faces(canvas)
    assert len(boxes) == 1 and crops.shape == (1, peer_fer.INPUT, peer_fer.INPUT)
    x, y, w, h = boxes[0]
    assert w == h and abs(x + w / 2 - (box[0] + box[2] / 2)) < w / 4
    blank_boxes, blank_crops = finder.faces(canvas * 0 + 128)
    assert blank_boxes == [] and blank_crops.shape == (0, peer_fer.INPUT, peer_fer.INPUT)
