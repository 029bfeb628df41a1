"""Keypoint-aware augmentation: one affine per face moves the image and its keypoints together.

Faces are stored as crops with some context around the FER-like box (so shifts, zoom-outs and rotations
show real surroundings, not black corners); each sample is warped straight from that crop to the 96x96
frame by base ∘ (rotation + scale about the centre) ∘ shift ∘ optional horizontal flip. A flip also swaps
the left/right keypoint names (faceemo.keypoints.FLIP_PERMUTATION). Photometric changes (brightness,
contrast, FER-like low resolution) touch pixels only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceemo.keypoints import FLIP_PERMUTATION, FRAME_SIZE


@dataclass(frozen=True)
class AugmentConfig:
    rotation: float = 15.0  # degrees, uniform ±
    scale: tuple[float, float] = (0.9, 1.1)
    shift: float = 6.0  # pixels of the 96 frame, uniform ±
    flip: float = 0.5  # probability of a horizontal flip
    brightness: float = 25.0  # added grey levels, uniform ±
    contrast: tuple[float, float] = (0.7, 1.3)
    lowres: float = 0.4  # probability of a 48x48 round trip (FER-2013 faces are 48x48 upscaled)


NO_AUGMENT = AugmentConfig(rotation=0, scale=(1, 1), shift=0, flip=0, brightness=0, contrast=(1, 1), lowres=0)


def base_matrix(src_size: int, context: float, out_size: int = FRAME_SIZE) -> np.ndarray:
    """Affine from a context crop (src_size px covering `context` × the box) to the box's out_size frame."""
    k = out_size * context / src_size
    offset = src_size * (1 - 1 / context) / 2  # where the box starts inside the crop (pixel edges)
    return np.array([[k, 0.0, (0.5 - offset) * k - 0.5], [0.0, k, (0.5 - offset) * k - 0.5]])


def _h(matrix: np.ndarray) -> np.ndarray:
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


def sample_matrix(
    rng: np.random.Generator,
    config: AugmentConfig,
    src_size: int,
    context: float,
    out_size: int = FRAME_SIZE,
) -> tuple[np.ndarray, bool]:
    """A random 2x3 affine (crop → out frame) and whether it flips."""
    import cv2

    centre = (out_size - 1) / 2
    angle = rng.uniform(-config.rotation, config.rotation) if config.rotation else 0.0
    scale = rng.uniform(*config.scale)
    rot = cv2.getRotationMatrix2D((centre, centre), angle, scale)
    rot[:, 2] += rng.uniform(-config.shift, config.shift, size=2) if config.shift else 0.0
    full = _h(rot) @ _h(base_matrix(src_size, context, out_size))
    flipped = bool(rng.random() < config.flip)
    if flipped:
        full = _h(np.array([[-1.0, 0.0, out_size - 1.0], [0.0, 1.0, 0.0]])) @ full
    return full[:2], flipped


def apply(
    image: np.ndarray, keypoints: np.ndarray, matrix: np.ndarray, flipped: bool, out_size: int = FRAME_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Warp one image (uint8 HxW) and its (15, 2) keypoints by `matrix`; a flip swaps left/right names."""
    import cv2

    out = cv2.warpAffine(
        image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    moved = np.asarray(keypoints, np.float64) @ matrix[:, :2].T + matrix[:, 2]
    if flipped:
        moved = moved[list(FLIP_PERMUTATION)]
    return out, moved


def photometric(image: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Brightness, contrast and FER-like low resolution; returns float32 in 0..255."""
    import cv2

    out = image
    if config.lowres and rng.random() < config.lowres:
        size = out.shape[0]
        small = cv2.resize(out, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    out = out.astype(np.float32)
    if config.contrast != (1, 1) or config.brightness:
        mean = out.mean()
        out = (out - mean) * rng.uniform(*config.contrast) + mean
        out += rng.uniform(-config.brightness, config.brightness)
    return np.clip(out, 0, 255)


def augment_batch(
    images: np.ndarray,
    keypoints: np.ndarray,
    rng: np.random.Generator,
    config: AugmentConfig,
    context: float,
    out_size: int = FRAME_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """(N, S, S) uint8 context crops + (N, 15, 2) keypoints in crop pixels → (N, 96, 96, 1) float32 and
    (N, 30) keypoints in the 96 frame (NaN stays NaN)."""
    n, src_size = len(images), images.shape[1]
    xs = np.empty((n, out_size, out_size, 1), np.float32)
    ys = np.empty((n, keypoints.shape[1] * 2), np.float32)
    for i in range(n):
        matrix, flipped = sample_matrix(rng, config, src_size, context, out_size)
        img, kps = apply(images[i], keypoints[i], matrix, flipped, out_size)
        xs[i, ..., 0] = photometric(img, rng, config)
        ys[i] = kps.reshape(-1)
    return xs, ys
