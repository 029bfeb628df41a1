"""Pictures of predictions: the photo with a labelled box per face, and a face crop with its landmarks.

Pure Pillow (no Streamlit), so the page, the tests and anyone else draw the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from faceemo.labels import COLOURS, DISPLAY_NAMES

NO_EMOTION_COLOUR = "#17becf"


def face_label(result) -> str:
    """'1 Happy 87%' (or '1' without an emotion model)."""
    label = str(result.index + 1)
    if result.emotion is not None:
        label += f" {DISPLAY_NAMES[result.emotion]} {result.confidence:.0%}"
    return label


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        return ImageFont.load_default()


def annotate_image(rgb: np.ndarray, results: Sequence) -> Image.Image:
    """The photo with each face's box, number, emotion and confidence (and landmarks when predicted)."""
    image = Image.fromarray(rgb).convert("RGB")
    draw = ImageDraw.Draw(image)
    scale = max(image.size) / 640
    width = max(2, round(2 * scale))
    font = _font(max(12, round(16 * scale)))
    for result in results:
        colour = COLOURS.get(result.emotion or "", NO_EMOTION_COLOUR)
        x, y, w, h = result.box
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=colour, width=width)
        text = face_label(result)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        label_w, label_h = right - left + 2 * width, bottom - top + 2 * width
        ty = y - label_h if y >= label_h else min(y + h, image.height - label_h)  # above the box if room
        draw.rectangle([x, ty, x + label_w, ty + label_h], fill=colour)
        draw.text((x + width - left, ty + width - top), text, fill="white", font=font)
        points = result.landmarks_image
        if points is not None:
            radius = max(1.5, 1.5 * scale)
            for px, py in points:
                draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill="#00ff66")
    return image


def draw_landmarks(crop: np.ndarray, points: np.ndarray | None, size: int = 288) -> Image.Image:
    """A gray face crop enlarged to `size` px with its landmarks (given in the crop's pixels) as dots."""
    base = Image.fromarray(crop).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
    if points is None:
        return base
    draw = ImageDraw.Draw(base)
    scale = size / crop.shape[0]
    radius = max(2.0, size / 96)
    for px, py in (np.asarray(points, dtype=np.float64) + 0.5) * scale:
        draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill="#00ff66", outline="black")
    return base
