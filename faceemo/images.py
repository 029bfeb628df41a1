"""Decode any photo a user may hand us into 8-bit RGB (for display) and 8-bit gray (for the models).

Formats: whatever Pillow reads — JPEG, PNG, WebP, BMP, TIFF, GIF (first frame) among them. The EXIF
orientation is applied; alpha is composited on white; 16-bit and float images are scaled to 8 bits;
palette, CMYK, 1-bit and the rest are converted. Every bad input raises `ImageError` with a message
that says what is wrong: not an image, empty, truncated, too large (decompression bomb), too small,
or an absurd aspect ratio. Sizes are checked from the header, *before* the pixels are decoded.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from faceemo.errors import DataError

# A 64-megapixel photo (9248x6936, the largest phone cameras) decodes; anything larger is refused
# before decoding. Pillow's own bomb guard (Image.MAX_IMAGE_PIXELS, ~89 MP) would only warn below 2x.
MAX_PIXELS = 64_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024  # an uncompressed 64 MP RGB TIFF is ~190 MiB
MAX_ASPECT = 20.0  # longer side / shorter side: a banner or a line of pixels holds no face
MIN_SIDE = 24  # half a FER-2013 face: below this there is nothing to find

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


class ImageError(DataError):
    """An input that is not a usable image; the message says why."""


@dataclass(frozen=True)
class DecodedImage:
    """A decoded photo: RGB for display, gray (ITU-R 601 luma, as FER-2013) for the models."""

    rgb: np.ndarray  # (H, W, 3) uint8
    gray: np.ndarray  # (H, W) uint8
    name: str  # file name or a label for in-memory input
    format: str  # Pillow's format name ('JPEG', 'PNG', ...) or 'array'
    mode: str  # the source's Pillow mode before conversion ('RGB', 'I;16', 'P', ...)

    @property
    def width(self) -> int:
        return int(self.gray.shape[1])

    @property
    def height(self) -> int:
        return int(self.gray.shape[0])


def decode_image(source: object, name: str | None = None) -> DecodedImage:
    """Decode a path, raw bytes, a binary file object, a PIL image or a numpy array.

    Raises ImageError (a DataError) with a clear reason for anything that is not a usable image.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source, name or "array")
    if isinstance(source, Image.Image):
        return _from_pil(source, name or "image", check_header=True)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or path.name
        if not path.exists():
            raise ImageError(f"{label}: no such file ({path})")
        if not path.is_file():
            raise ImageError(f"{label}: not a file ({path})")
        size = path.stat().st_size
        _check_byte_size(size, label)
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "upload"
        data = bytes(source)
        _check_byte_size(len(data), label)
    elif hasattr(source, "read"):
        label = name or str(getattr(source, "name", "upload"))
        data = source.read(MAX_FILE_BYTES + 1)
        _check_byte_size(len(data), label)
    else:
        raise ImageError(f"cannot read an image from a {type(source).__name__}")
    return _from_bytes(data, label)


def _check_byte_size(size: int, label: str) -> None:
    if size == 0:
        raise ImageError(f"{label}: the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise ImageError(
            f"{label}: the file is {size / 2**20:.0f} MiB; "
            f"images up to {MAX_FILE_BYTES // 2**20} MiB are read"
        )


def _from_bytes(data: bytes, label: str) -> DecodedImage:
    try:
        # Pillow raises DecompressionBombError itself above 2x its limit; below that it only warns,
        # and our own (smaller) limit is checked from the header right after.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageError(
            f"{label}: the image header claims more than {MAX_PIXELS / 1e6:.0f} megapixels "
            "(refused before decoding: a decompression bomb or a huge scan)"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{label}: not an image this app can read (expected JPEG, PNG, WebP, BMP, TIFF or GIF)"
        ) from None
    except Exception as exc:  # a damaged header: Pillow raises all sorts (SyntaxError, struct.error...)
        raise ImageError(f"{label}: damaged image header ({exc})") from None
    with image:
        return _from_pil(image, label, check_header=True)


def _check_dimensions(width: int, height: int, label: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{label}: {width}x{height} is {width * height / 1e6:.0f} megapixels; at most "
            f"{MAX_PIXELS / 1e6:.0f} are decoded (refused before decoding: a decompression bomb or a huge "
            "scan — shrink it first)"
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"{label}: {width}x{height} is too small; a face needs at least {MIN_SIDE} pixels a side"
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ImageError(
            f"{label}: {width}x{height} has an aspect ratio above {MAX_ASPECT:.0f}:1; that is not a photo "
            "of a face (crop it first)"
        )


def _from_pil(image: Image.Image, label: str, check_header: bool) -> DecodedImage:
    if check_header:
        _check_dimensions(*image.size, label)
    fmt = image.format or "image"
    try:
        image.seek(0)  # animated GIF/WebP/multi-page TIFF: the first frame
    except EOFError:
        pass
    source_mode = image.mode
    try:
        image.load()
    except OSError as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else "damaged"
        raise ImageError(f"{label}: the {fmt} file is {reason} and cannot be decoded ({exc})") from None
    except Exception as exc:
        raise ImageError(f"{label}: the {fmt} file is damaged and cannot be decoded ({exc})") from None
    try:
        image = ImageOps.exif_transpose(image)  # phones store portrait shots sideways + an EXIF tag
    except Exception:  # a broken EXIF block: keep the pixels as stored rather than refuse the photo
        pass
    rgb = _to_rgb(image)
    # Rotation by EXIF swaps the sides; the limits are symmetric, so no second check is needed.
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    return DecodedImage(rgb=rgb, gray=np.ascontiguousarray(gray), name=label, format=fmt, mode=source_mode)


def _to_rgb(image: Image.Image) -> np.ndarray:
    """8-bit RGB pixels of any Pillow mode."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return np.repeat(_scale_to_8bit(np.asarray(image), mode)[..., None], 3, axis=2)
    if (mode == "P" and "transparency" in image.info) or mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparent -> white
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGB


def _scale_to_8bit(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit, 32-bit integer and float gray to 0..255.

    16-bit data is scaled by its full range (65535 -> 255), so a dark 16-bit photo stays dark; 32-bit
    integers and floats have no fixed range: values in 0..1 (floats), 0..255 or 0..65535 are taken as
    such, anything else is stretched from its minimum to its maximum.
    """
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if mode.startswith("I;16"):
        scaled = values / 65535.0 * 255.0
    elif mode == "F" and low >= 0.0 and high <= 1.0:
        scaled = values * 255.0
    elif low >= 0.0 and high <= 255.0:
        scaled = values
    elif low >= 0.0 and high <= 65535.0:
        scaled = values / 65535.0 * 255.0
    else:
        scaled = (values - low) / max(high - low, 1e-12) * 255.0
    return np.clip(np.nan_to_num(np.rint(scaled)), 0, 255).astype(np.uint8)


def _from_array(array: np.ndarray, label: str) -> DecodedImage:
    """A numpy image: (H, W) gray or (H, W, 3|4) RGB(A); uint8, or another dtype scaled like 16-bit."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(
            f"{label}: an array of shape {array.shape} is not an image (H,W), (H,W,3) or (H,W,4)"
        )
    height, width = array.shape[:2]
    _check_dimensions(width, height, label)
    if array.dtype != np.uint8:
        mode = "I;16" if array.dtype == np.uint16 else ("F" if array.dtype.kind == "f" else "I")
        array = _scale_to_8bit(array, mode)
    if array.ndim == 2:
        image = Image.fromarray(array, "L")
    else:
        image = Image.fromarray(array, "RGB" if array.shape[2] == 3 else "RGBA")
    rgb = _to_rgb(image)
    gray = np.asarray(Image.fromarray(rgb).convert("L")) if array.ndim == 3 else array
    return DecodedImage(rgb=rgb, gray=np.ascontiguousarray(gray), name=label, format="array", mode=image.mode)


def is_image_path(path: Path) -> bool:
    """True for a file whose extension is one of IMAGE_EXTENSIONS (case-insensitive)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS
