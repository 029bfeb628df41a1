"""Training-time augmentation of uint8 faces, in the input pipeline (numpy).

Mirror, then one random affine warp (rotation, scale, shift) resampled ONCE with edge reflection,
then random erasing. Resampling a 48x48 face once keeps train and test faces alike (chained rotate /
zoom / translate layers blur it visibly). Done on the host rather than as Keras layers because
(1) the train step then holds nothing but the model, so XLA can compile it (measured faster on this
CPU), and (2) it draws from the batch iterator's numpy generator, which is seeded per epoch, so a
resumed run sees exactly the faces an uninterrupted one would. Plain numpy (no OpenCV), so a training
pack runs wherever Keras and numpy do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Augmentation:
    """Ranges at strength 1; `scaled(s)` multiplies every range by s (0 = no augmentation)."""

    rotation_deg: float = 10.0
    scale: float = 0.1  # +-10 % zoom
    shift_px: float = 4.0  # +-4 px: with a model that centre-crops 40 px, a random 40-px crop
    erase_p: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.2)
    flip: bool = True

    def scaled(self, strength: float) -> Augmentation:
        s = max(0.0, float(strength))
        return Augmentation(
            rotation_deg=self.rotation_deg * s,
            scale=self.scale * s,
            shift_px=self.shift_px * s,
            erase_p=min(1.0, self.erase_p * s),
            erase_area=self.erase_area,
            flip=self.flip and s > 0,
        )

    def describe(self) -> str:
        if not (self.flip or self.rotation_deg or self.scale or self.shift_px or self.erase_p):
            return "no augmentation"
        return (
            f"mirror, rotation ±{self.rotation_deg:.3g}°, zoom ±{100 * self.scale:.3g} %, "
            f"shift ±{self.shift_px:.3g} px (one bilinear resample, reflected edges), random erasing "
            f"(p {self.erase_p:.2g}, {100 * self.erase_area[0]:.3g}–{100 * self.erase_area[1]:.3g} % of "
            "the face, noise fill)"
        )


def augment_faces(pixels: np.ndarray, rng: np.random.Generator, aug: Augmentation) -> np.ndarray:
    """A randomly augmented copy of uint8 (B, H, W) faces."""
    out = np.array(pixels, dtype=np.uint8, copy=True)
    n, h, w = out.shape
    if aug.flip:
        mirror = rng.random(n) < 0.5
        out[mirror] = out[mirror, :, ::-1]
    if aug.rotation_deg or aug.scale or aug.shift_px:
        angles = np.radians(rng.uniform(-aug.rotation_deg, aug.rotation_deg, n))
        scales = 1.0 + rng.uniform(-aug.scale, aug.scale, n)
        shifts = rng.uniform(-aug.shift_px, aug.shift_px, (n, 2))
        out = _warp(out, angles, scales, shifts)
    if aug.erase_p:
        for i in np.flatnonzero(rng.random(n) < aug.erase_p):
            area = rng.uniform(*aug.erase_area) * h * w
            aspect = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
            eh = int(min(h, round(math.sqrt(area * aspect))))
            ew = int(min(w, round(math.sqrt(area / aspect))))
            top, left = int(rng.integers(0, h - eh + 1)), int(rng.integers(0, w - ew + 1))
            out[i, top : top + eh, left : left + ew] = rng.integers(0, 256, (eh, ew), dtype=np.uint8)
    return out


def _reflect(index: np.ndarray, size: int) -> np.ndarray:
    """Reflect out-of-range pixel indices back into 0..size-1 without repeating the edge (OpenCV's
    BORDER_REFLECT_101)."""
    period = 2 * (size - 1)
    index = np.abs(index) % period
    return np.where(index > size - 1, period - index, index)


def _warp(faces: np.ndarray, angles: np.ndarray, scales: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Rotate by `angles` (radians, counter-clockwise) and scale about the centre, then shift by
    `shifts` (dx, dy px): one bilinear resample of every face, vectorised over the batch."""
    n, h, w = faces.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    # output (x, y) samples the input at R(-angle) / scale @ ((x, y) - centre - shift) + centre
    dx = xs[None] - cx - shifts[:, 0, None, None]
    dy = ys[None] - cy - shifts[:, 1, None, None]
    cos, sin = (np.cos(angles) / scales)[:, None, None], (np.sin(angles) / scales)[:, None, None]
    src_x = cos * dx - sin * dy + cx
    src_y = sin * dx + cos * dy + cy
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    xa, xb = _reflect(x0, w), _reflect(x0 + 1, w)
    ya, yb = _reflect(y0, h), _reflect(y0 + 1, h)
    batch = np.arange(n)[:, None, None]
    f = faces.astype(np.float64)
    top = f[batch, ya, xa] * (1 - fx) + f[batch, ya, xb] * fx
    bottom = f[batch, yb, xa] * (1 - fx) + f[batch, yb, xb] * fx
    return np.clip(np.rint(top * (1 - fy) + bottom * fy), 0, 255).astype(np.uint8)
