"""Readers for the landmark data sets a user may bring.

* the 68-point zip (Udacity / YouTube Faces, `face_keypoints_68.zip`): `training_frames_keypoints.csv`
  and `test_frames_keypoints.csv` (name + x0,y0..x67,y67) with the images in `training/` and `test/`.
  The images are PNG data under `.jpg` names, so they are opened by content, never by extension;
  points may lie outside the image; the given split is by frame (people appear in both).
* Kaggle "Facial Keypoints Detection" `training.csv`: 30 keypoint columns + `Image` (9216 pixels,
  space-separated); missing keypoints are empty cells → NaN.
* Kaggle "face images with marked landmark points": `face_images.npz` (key `face_images`, 96x96xN)
  + `facial_keypoints.csv` (the 30 columns, N rows).

Every reader raises DataError with what is wrong and what was expected.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from faceemo.errors import DataError
from faceemo.keypoints import COLUMNS, FRAME_SIZE, NUM_KEYPOINTS

ZIP_SPLITS = {"training": "training_frames_keypoints.csv", "test": "test_frames_keypoints.csv"}
NPZ_NAME = "face_images.npz"
NPZ_KEYPOINTS = "facial_keypoints.csv"
KAGGLE_CSV = "training.csv"


def person_of(name: str) -> str:
    """The person in a frame name: the part before the last `_` ('Luis_Fonsi_21.jpg' → 'Luis_Fonsi')."""
    stem = Path(name).stem
    return stem.rsplit("_", 1)[0] if "_" in stem else stem


@dataclass
class Face68:
    """One face of the 68-point set: the full grayscale image and its points in that image's pixels."""

    name: str
    split: str  # 'training' | 'test' (the archive's own split, by frame)
    image: np.ndarray  # uint8 (H, W)
    points: np.ndarray  # float64 (68, 2), x, y

    @property
    def person(self) -> str:
        return person_of(self.name)


@dataclass
class Keypoints15:
    """96x96 faces with the 15 Kaggle keypoints, NaN where a keypoint is missing."""

    images: np.ndarray  # uint8 (N, 96, 96)
    keypoints: np.ndarray  # float32 (N, 15, 2)
    source: str = ""
    persons: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise DataError(f"no landmark archive at {path}: pass --data PATH to face_keypoints_68.zip")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path} is not a readable zip archive ({exc}); download it again") from None


def _read_points_csv(archive: zipfile.ZipFile, member: str, where: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(archive.read(member)))
    except (zipfile.BadZipFile, OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {member} in {where}: {exc}") from None
    if frame.shape[1] != 1 + 68 * 2:
        raise DataError(
            f"{member} in {where} has {frame.shape[1]} columns; expected a name then 136 numbers "
            "(x0,y0,...,x67,y67)"
        )
    values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        row = int(values.isna().any(axis=1).to_numpy().argmax())
        raise DataError(f"{member} in {where}: row {row + 2} has a missing or non-numeric coordinate")
    frame.iloc[:, 1:] = values
    return frame


def iter_68_zip(path: str | Path, splits: tuple[str, ...] = ("training", "test")) -> Iterator[Face68]:
    """Faces of a 68-point zip, one at a time (images vary from 74 to 450 px a side)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    with _open_zip(path) as archive:
        members = set(archive.namelist())
        missing = [ZIP_SPLITS[s] for s in splits if ZIP_SPLITS[s] not in members]
        if missing:
            raise DataError(
                f"{path} is not a 68-point keypoint archive: it lacks {', '.join(missing)} "
                f"(expected {', '.join(ZIP_SPLITS.values())} and the training/ and test/ folders)"
            )
        for split in splits:
            frame = _read_points_csv(archive, ZIP_SPLITS[split], path)
            for row in frame.itertuples(index=False):
                name = str(row[0])
                member = f"{split}/{name}"
                if member not in members:
                    raise DataError(f"{path}: {ZIP_SPLITS[split]} names {name} but there is no {member}")
                try:
                    # Opened by content: the files are PNG data under .jpg names.
                    with Image.open(io.BytesIO(archive.read(member))) as img:
                        image = np.asarray(img.convert("L"), np.uint8)
                except (UnidentifiedImageError, OSError, zipfile.BadZipFile) as exc:
                    raise DataError(f"{path}: cannot decode {member} ({exc})") from None
                points = np.asarray(row[1:], np.float64).reshape(68, 2)
                yield Face68(name=name, split=split, image=image, points=points)


def count_68_zip(path: str | Path, splits: tuple[str, ...] = ("training", "test")) -> int:
    """How many faces `iter_68_zip` will yield (reads only the CSVs)."""
    path = Path(path)
    with _open_zip(path) as archive:
        total = 0
        for split in splits:
            if ZIP_SPLITS[split] not in archive.namelist():
                raise DataError(f"{path} lacks {ZIP_SPLITS[split]}: not a 68-point keypoint archive")
            total += len(_read_points_csv(archive, ZIP_SPLITS[split], path))
        return total


def _keypoint_frame(frame: pd.DataFrame, where: str) -> np.ndarray:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where} lacks the keypoint columns {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}"
            f" (expected the 30 Kaggle columns {COLUMNS[0]} ... {COLUMNS[-1]})"
        )
    values = frame[list(COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float32)
    return values.reshape(-1, NUM_KEYPOINTS, 2)


def read_kaggle_csv(path: str | Path) -> Keypoints15:
    """Kaggle `training.csv`: 30 keypoint columns (empty → NaN) and `Image`, 9216 pixels per row."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"no Kaggle keypoints CSV at {path}")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path} as CSV: {exc}") from None
    if "Image" not in frame.columns:
        raise DataError(f"{path} has no `Image` column: expected Kaggle's training.csv layout")
    keypoints = _keypoint_frame(frame, str(path))
    pixels = FRAME_SIZE * FRAME_SIZE
    images = np.empty((len(frame), FRAME_SIZE, FRAME_SIZE), np.uint8)
    for i, text in enumerate(frame["Image"].astype(str)):
        try:
            values = np.array(text.split(), dtype=np.float32)
        except ValueError:
            raise DataError(f"{path}: row {i + 2} has a non-numeric pixel in `Image`") from None
        if values.size != pixels or values.min(initial=0) < 0 or values.max(initial=0) > 255:
            raise DataError(
                f"{path}: row {i + 2} has {values.size} pixels; expected {pixels} values in 0..255 "
                f"(a {FRAME_SIZE}x{FRAME_SIZE} face)"
            )
        images[i] = np.rint(values).astype(np.uint8).reshape(FRAME_SIZE, FRAME_SIZE)
    return Keypoints15(images=images, keypoints=keypoints, source=str(path))


def read_npz_pair(npz_path: str | Path, csv_path: str | Path | None = None) -> Keypoints15:
    """`face_images.npz` (key `face_images`, 96x96xN) + `facial_keypoints.csv` (30 columns, N rows)."""
    npz_path = Path(npz_path)
    csv_path = Path(csv_path) if csv_path else npz_path.with_name(NPZ_KEYPOINTS)
    for p in (npz_path, csv_path):
        if not p.exists():
            raise DataError(f"missing {p}: the pair is {NPZ_NAME} + {NPZ_KEYPOINTS} in one folder")
    try:
        with np.load(npz_path) as bundle:
            if "face_images" not in bundle.files:
                raise DataError(f"{npz_path} has no array 'face_images' (it has {', '.join(bundle.files)})")
            stack = np.asarray(bundle["face_images"])
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {npz_path} as a numpy .npz: {exc}") from None
    if stack.ndim != 3 or stack.shape[:2] != (FRAME_SIZE, FRAME_SIZE):
        raise DataError(f"{npz_path}: face_images has shape {stack.shape}; expected (96, 96, N)")
    try:
        frame = pd.read_csv(csv_path)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {csv_path} as CSV: {exc}") from None
    keypoints = _keypoint_frame(frame, str(csv_path))
    if len(keypoints) != stack.shape[2]:
        raise DataError(f"{csv_path} has {len(keypoints)} rows but {npz_path} holds {stack.shape[2]} images")
    images = np.clip(np.rint(np.moveaxis(stack, 2, 0)), 0, 255).astype(np.uint8)
    return Keypoints15(images=images, keypoints=keypoints, source=str(npz_path))


def read_keypoints15(path: str | Path) -> Keypoints15:
    """A 15-keypoint set: Kaggle `training.csv`, a `face_images.npz` (+ its CSV), or a folder with either."""
    path = Path(path)
    if path.is_dir():
        if (path / KAGGLE_CSV).exists():
            return read_kaggle_csv(path / KAGGLE_CSV)
        if (path / NPZ_NAME).exists():
            return read_npz_pair(path / NPZ_NAME)
        raise DataError(f"{path} holds neither {KAGGLE_CSV} nor {NPZ_NAME} + {NPZ_KEYPOINTS}")
    if path.suffix == ".npz":
        return read_npz_pair(path)
    if path.suffix == ".csv":
        return read_kaggle_csv(path)
    raise DataError(f"{path}: unknown landmark format (expected a .zip, {KAGGLE_CSV} or {NPZ_NAME})")
