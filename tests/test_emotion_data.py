"""Faces from the warehouse and from a pack: the pack round-trip, filters, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from faceemo.emotion import data
from faceemo.errors import DataError, WarehouseError
from pipelines.__main__ import main
from tests.emotion_helpers import drawn_faces


def test_pixel_codec_is_exact_and_compresses() -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)  # worst case: incompressible
    faces = drawn_faces(3).pixels
    for pixels in (noise, faces):
        back = data.decompress_faces(data.compress_faces(pixels), len(pixels))
        assert back.dtype == np.uint8 and np.array_equal(back, pixels)
    ramps = np.add.outer(np.arange(48), np.arange(48)).astype(np.uint8)[None].repeat(20, 0)
    assert data.compress_faces(ramps).size < ramps.size / 20  # the 2-D difference of a ramp is ~constant


def test_warehouse_faces_and_flags(images_db) -> None:
    faces = data.from_warehouse(images_db)
    assert faces.pixels.shape[1:] == (48, 48) and faces.pixels.dtype == np.uint8
    assert faces.counts() == {"Training": 29, "PublicTest": 29, "PrivateTest": 28}
    # the blank frame and the Training face duplicated into PublicTest are flagged and filtered
    training = faces.of_usage("Training")
    assert ((training.flags & data.FLAG_BLANK) > 0).sum() == 1
    assert ((training.flags & data.FLAG_TEST_DUPLICATE) > 0).sum() == 1
    assert len(data.training_filter(training)) == 27
    assert len(data.training_filter(training, keep_blank=True, keep_test_duplicates=True)) == 29
    only = data.from_warehouse(images_db, ("PublicTest",))
    assert set(only.counts()) == {"PublicTest"}


def test_pack_round_trip(images_db, tmp_path) -> None:
    pack = tmp_path / "faces.npz"
    assert main(["export-pack", "--out", str(pack), "--usage", "Training,PublicTest,PrivateTest"]) == 0
    direct = data.from_warehouse(images_db)
    packed, meta = data.read_pack(pack)
    assert meta["codec"] == data.PIXEL_CODEC and meta["counts"] == direct.counts()
    for name in ("pixels", "labels", "usage", "image_id", "flags"):
        assert np.array_equal(getattr(packed, name), getattr(direct, name)), name
    public, _ = data.read_pack(pack, ("PublicTest",))
    assert set(public.counts()) == {"PublicTest"}


def test_pack_and_warehouse_errors(tmp_path, db_path, capsys) -> None:
    with pytest.raises(DataError, match="export-pack"):
        data.read_pack(tmp_path / "missing.npz")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, meta=np.array('{"format": "other"}'))
    with pytest.raises(DataError, match="not a faceemo pack"):
        data.read_pack(foreign)
    with pytest.raises(DataError, match="unknown usage"):
        data.read_pack(foreign, ("Validation",))
    with pytest.raises(WarehouseError, match="ingest"):
        data.from_warehouse(db_path)  # no warehouse file at all
    assert main(["export-pack", "--out", str(tmp_path / "x.npz")]) == 2
    assert "ingest" in capsys.readouterr().err


def test_limit_and_class_weights() -> None:
    faces = drawn_faces(10)
    small = data.stratified_limit(faces, 21)
    assert len(small) == 21 and set(small.labels) == set(range(7))
    labels = np.array([0] * 90 + [1] * 10)
    weights = data.class_weights(labels)
    assert weights[1] == pytest.approx(3 * weights[0])  # sqrt(90 / 10)
    assert weights[labels].mean() == pytest.approx(1.0)
