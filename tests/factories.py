"""Small generated data for tests: face-like 48x48 images and a warehouse holding them.

Nothing here comes from a real data set; the faces are drawn (an oval, two eyes, a mouth whose
curve depends on the emotion) so that models and pages have something with structure.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from faceemo import warehouse
from faceemo.labels import EMOTIONS, LABEL_OF

USAGE_SPLIT = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


def drawn_face(emotion: str, seed: int = 0, size: int = 48) -> np.ndarray:
    """A uint8 size x size grayscale face-like drawing; the mouth and brows vary with the emotion."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.full((size, size), 40.0)
    face = ((xx - 0.5) / 0.36) ** 2 + ((yy - 0.52) / 0.46) ** 2 < 1
    img[face] = 170
    for ex in (0.33, 0.67):  # eyes
        img[((xx - ex) / 0.07) ** 2 + ((yy - 0.4) / 0.04) ** 2 < 1] = 30
    curve = (LABEL_OF[emotion] - 3) * 0.04  # mouth curvature encodes the label
    mouth_y = 0.72 + curve * ((xx - 0.5) / 0.2) ** 2
    img[(np.abs(yy - mouth_y) < 0.03) & (np.abs(xx - 0.5) < 0.2)] = 60
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_images_warehouse(
    db: Path, per_class: int = 4, usages: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
) -> Path:
    """A warehouse with `per_class` drawn faces per emotion and usage, plus one blank frame and one
    byte-identical duplicate pair across train/test."""
    rows = []
    image_id = 0
    for usage in usages:
        for emotion in EMOTIONS:
            for _ in range(per_class):
                pixels = drawn_face(emotion, seed=image_id)
                rows.append((image_id, usage, emotion, f"{usage}_{1000 + image_id}.jpg", pixels))
                image_id += 1
    # a blank frame and a cross-split duplicate, as FER-2013 has
    blank = np.zeros((48, 48), np.uint8)
    rows.append((image_id, "Training", "neutral", f"Training_{1000 + image_id}.jpg", blank))
    image_id += 1
    rows.append((image_id, "PublicTest", "happy", f"PublicTest_{1000 + image_id}.jpg", rows[0][4].copy()))
    with warehouse.writing(db) as con:
        con.execute(
            "INSERT INTO ingests (ingest_id, dataset, source_path, source_sha256, source_bytes, layout, "
            "started_at, finished_at, n_images, n_skipped, skipped) VALUES "
            "(1, 'fer2013', 'generated', 'x', 0, 'image-folders', now(), now(), ?, 0, '[]')",
            [len(rows)],
        )
        for image_id, usage, emotion, name, pixels in rows:
            con.execute(
                "INSERT INTO images VALUES (?, 'fer2013', ?, ?, ?, ?, ?, ?, ?, 48, 48, ?, ?, ?, ?, 1)",
                [
                    image_id, USAGE_SPLIT[usage], usage, emotion, LABEL_OF[emotion], name,
                    f"{USAGE_SPLIT[usage]}/{emotion}/{name}", hashlib.sha256(pixels.tobytes()).hexdigest(),
                    pixels.tobytes(), float(pixels.mean()), float(pixels.std()), bool(pixels.std() < 2),
                ],
            )
    return db
