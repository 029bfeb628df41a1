"""Decoding: every format and mode a user may upload, and every kind of bad input."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from faceemo.errors import DataError
from faceemo.images import MAX_PIXELS, ImageError, decode_image
from tests.predict_helpers import png_header_only


def _bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _gradient(width: int = 64, height: int = 48) -> np.ndarray:
    """An RGB image whose left half is red and right half blue (so rotations and colours show)."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:, : width // 2] = (200, 0, 0)
    rgb[:, width // 2 :] = (0, 0, 200)
    return rgb


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"lossless": True}), ("BMP", {}), ("TIFF", {})],
)
def test_rgb_formats_decode_to_rgb_and_gray(fmt, options):
    decoded = decode_image(_bytes(Image.fromarray(_gradient()), fmt, **options), "x")
    assert decoded.rgb.shape == (48, 64, 3) and decoded.rgb.dtype == np.uint8
    assert decoded.gray.shape == (48, 64) and decoded.gray.dtype == np.uint8
    assert decoded.format == fmt
    left, right = decoded.rgb[24, 5], decoded.rgb[24, 60]
    assert left[0] > 150 and left[2] < 60 and right[2] > 150 and right[0] < 60


def test_exif_orientation_is_applied():
    # stored 64x48 with orientation 6 ("rotate 90 clockwise to display"): shown 48 wide, 64 high
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _bytes(Image.fromarray(_gradient()), "JPEG", exif=exif.tobytes())
    decoded = decode_image(data, "phone.jpg")
    assert decoded.rgb.shape == (64, 48, 3)
    # the stored left (red) half is now on top
    assert decoded.rgb[5, 24, 0] > 150 and decoded.rgb[60, 24, 2] > 150


def test_rgba_is_composited_on_white():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[:, :20] = (0, 0, 0, 255)  # opaque black
    rgba[:, 20:] = (0, 0, 0, 0)  # fully transparent
    decoded = decode_image(_bytes(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded.mode == "RGBA"
    assert decoded.gray[10, 5] == 0 and decoded.gray[10, 35] == 255


def test_16bit_png_is_scaled_by_its_full_range():
    values = np.full((32, 32), 65535, np.uint16)
    values[:, :16] = 32896  # 50.2% of the range
    data = _bytes(Image.fromarray(values), "PNG")
    decoded = decode_image(data)
    assert decoded.mode.startswith("I")
    assert decoded.gray[0, 0] == 128 and decoded.gray[0, 31] == 255


def test_gif_first_frame_and_palette():
    first = Image.new("P", (40, 40), 0)
    first.putpalette([255, 255, 255] + [0, 0, 0] * 255)  # index 0 white
    second = Image.new("P", (40, 40), 1)
    second.putpalette([255, 255, 255, 0, 0, 0] + [0, 0, 0] * 254)  # index 1 black
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second], duration=100)
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 2
    decoded = decode_image(buffer.getvalue(), "anim.gif")
    assert decoded.format == "GIF" and decoded.mode == "P"
    assert decoded.gray.min() == 255  # the white first frame, not the black second one


def test_cmyk_tiff():
    cmyk = Image.new("CMYK", (40, 30), (0, 255, 255, 0))  # pure red in CMYK
    decoded = decode_image(_bytes(cmyk, "TIFF"), "scan.tif")
    assert decoded.mode == "CMYK" and decoded.rgb.shape == (30, 40, 3)
    assert tuple(decoded.rgb[0, 0]) == (255, 0, 0)


def test_paths_pil_images_arrays_and_file_objects(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(_gradient()).save(path)
    from_path = decode_image(path)
    assert from_path.name == "a.png"
    with open(path, "rb") as handle:
        assert np.array_equal(decode_image(handle).rgb, from_path.rgb)
    assert np.array_equal(decode_image(Image.open(path)).rgb, from_path.rgb)
    gray = decode_image(np.full((30, 30), 7, np.uint8))
    assert gray.gray.shape == (30, 30) and gray.gray[0, 0] == 7 and gray.rgb.shape == (30, 30, 3)
    wide = decode_image(np.full((30, 30), 1000, np.uint16))
    assert wide.gray[0, 0] == round(1000 / 65535 * 255)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"just some text, not an image\n" * 3, "not an image"),
        (b"", "empty"),
        (png_header_only(100_000, 100_000), "decompression bomb"),  # 10 gigapixels: Pillow's own guard
        (png_header_only(9_000, 9_000), "megapixels"),  # 81 MP: below Pillow's error, above ours
        (png_header_only(2_000, 50), "aspect ratio"),
        (png_header_only(20, 20), "too small"),
    ],
    ids=["text", "zero-bytes", "bomb-10GP", "bomb-81MP", "aspect-40-to-1", "tiny"],
)
def test_bad_inputs_get_a_clear_error(data, reason):
    with pytest.raises(ImageError, match=reason) as caught:
        decode_image(data, "upload.png")
    assert isinstance(caught.value, DataError)
    assert str(caught.value).startswith("upload.png: ")


def test_bomb_is_refused_before_decoding():
    assert 9_000 * 9_000 > MAX_PIXELS  # the 81 MP header above really is over our limit
    # a real (tiny) image whose header was patched to claim a huge size: refused by size, not by decoding
    data = bytearray(_bytes(Image.new("L", (30, 30), 0), "PNG"))
    data[16:24] = struct.pack(">II", 50_000, 40_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    with pytest.raises(ImageError, match="before decoding"):
        decode_image(bytes(data), "patched.png")


def test_truncated_jpeg():
    rng = np.random.default_rng(0)
    data = _bytes(Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)), "JPEG")
    with pytest.raises(ImageError, match="truncated"):
        decode_image(data[: len(data) // 2], "cut.jpg")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        decode_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="not a file"):
        decode_image(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        decode_image(tmp_path / "empty.jpg")


def test_bad_arrays():
    with pytest.raises(ImageError, match="not an image"):
        decode_image(np.zeros((30, 30, 2), np.uint8))
    with pytest.raises(ImageError, match="aspect"):
        decode_image(np.zeros((30, 900), np.uint8))
