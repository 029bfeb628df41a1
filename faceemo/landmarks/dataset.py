"""Training data for the landmark models: faces cropped FER-like with context, keypoints in crop pixels,
and a split by person (the 68-point archive's own split is by frame and leaks people)."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceemo.errors import DataError
from faceemo.files import atomic_save
from faceemo.keypoints import FRAME_SIZE
from faceemo.landmarks import framing, readers
from faceemo.landmarks.mapping import to_kaggle15

# The archive's coordinates put pixel c on [c, c+1) (its edges), ours put it at c (its centre, as OpenCV
# does). Measured, not assumed: with the edge coordinates taken as centres, a model trained with mirror
# augmentation was off by -0.8 px in x (and 0 in y) on held-out people, and its mirrored predictions by -2 px:
# a mirror maps an edge coordinate x to 96 - x, not 95 - x.
LABEL_OFFSET = 0.5
CONTEXT = 1.25  # crops keep 25% more than the box, so augmentation shows real surroundings
CROP_SIZE = 120  # = 96 * 1.25: the box is exactly the central 96x96 of the crop (an integer offset)
ROLES = ("train", "val", "heldout")


@dataclass
class LandmarkData:
    """Faces as context crops (N, S, S) uint8 with (N, 15, 2) keypoints in crop pixels (NaN = missing)."""

    images: np.ndarray
    keypoints: np.ndarray
    names: np.ndarray  # frame names ('' when the source has none)
    persons: np.ndarray  # person of each face ('' when unknown)
    splits: np.ndarray  # the source's own split: 'training' | 'test' (or 'all')
    context: float = CONTEXT

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, mask: np.ndarray) -> LandmarkData:
        return LandmarkData(
            self.images[mask],
            self.keypoints[mask],
            self.names[mask],
            self.persons[mask],
            self.splits[mask],
            self.context,
        )

    def frame96(self) -> tuple[np.ndarray, np.ndarray]:
        """The FER-like 96x96 faces, float32 (N, 96, 96, 1), and keypoints (N, 30) in that frame."""
        size = self.images.shape[1]
        inner = round(size / self.context)
        if inner != FRAME_SIZE:
            raise ValueError(f"crops of {size} px with context {self.context} do not hold a 96 frame")
        off = (size - inner) // 2
        x = self.images[:, off : off + inner, off : off + inner, None].astype(np.float32)
        y = (self.keypoints - off).reshape(len(self), -1).astype(np.float32)
        return x, y


def load_68(path: str | Path, limit: int | None = None, progress=None) -> LandmarkData:
    """The 68-point zip, each face cropped FER-like with context; points mapped 68 → 15.

    `limit`: at most that many faces from each of the archive's splits (quick trials).
    """
    path = Path(path)
    total = readers.count_68_zip(path)
    images, kps, names, persons, splits = [], [], [], [], []
    taken = {"training": 0, "test": 0}
    iterator = readers.iter_68_zip(path)
    bar = (
        progress(total=total if limit is None else min(total, 2 * limit), desc="faces") if progress else None
    )
    for face in iterator:
        if limit is not None and taken[face.split] >= limit:
            continue
        taken[face.split] += 1
        centred = face.points - LABEL_OFFSET
        box = framing.fer_box(centred)
        crop, points = framing.crop_face(face.image, centred, box, CROP_SIZE, CONTEXT)
        images.append(crop)
        kps.append(to_kaggle15(points))
        names.append(face.name)
        persons.append(face.person)
        splits.append(face.split)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if not images:
        raise DataError(f"{path} holds no faces")
    return LandmarkData(
        np.stack(images),
        np.stack(kps).astype(np.float32),
        np.array(names),
        np.array(persons),
        np.array(splits),
    )


def from_keypoints15(data: readers.Keypoints15) -> LandmarkData:
    """A 96x96 Kaggle-format set as LandmarkData (already framed: no context around the face)."""
    n = len(data)
    persons = np.array(data.persons) if data.persons else np.array([""] * n)
    return LandmarkData(
        data.images,
        data.keypoints.astype(np.float32),
        np.array([f"{i}" for i in range(n)]),
        persons,
        np.array(["all"] * n),
        context=1.0,
    )


def load_any(path: str | Path, limit: int | None = None, progress=None) -> LandmarkData:
    """The 68-point zip (or a folder holding it), Kaggle's training.csv, or the npz pair."""
    path = Path(path)
    if path.is_dir() and (path / "face_keypoints_68.zip").exists():
        path = path / "face_keypoints_68.zip"
    if path.suffix == ".zip":
        return load_68(path, limit=limit, progress=progress)
    data = from_keypoints15(readers.read_keypoints15(path))
    return data.subset(np.arange(len(data)) < limit) if limit else data


def _unit(key: str, seed: int) -> float:
    return zlib.crc32(f"{seed}:{key}".encode()) / 2**32


def assign_roles(
    data: LandmarkData, val_fraction: float = 0.1, heldout_fraction: float = 0.2, seed: int = 0
) -> np.ndarray:
    """'train' | 'val' | 'heldout' per face, drawn per person (a stable hash of the name), so no person
    is in two roles. Faces without a person (Kaggle formats) are assigned one by one."""
    roles = np.empty(len(data), dtype=object)
    for i, (person, name) in enumerate(zip(data.persons, data.names, strict=True)):
        u = _unit(person or f"face:{name}", seed)
        roles[i] = (
            "heldout" if u < heldout_fraction else "val" if u < heldout_fraction + val_fraction else "train"
        )
    return roles.astype(str)


def file_digest(path: str | Path) -> str:
    """A cheap identity for caching: name, size and modification time."""
    st = Path(path).stat()
    return hashlib.sha1(f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]


def load_cached(
    path: str | Path, cache_dir: Path | None, limit: int | None = None, progress=None
) -> LandmarkData:
    """load_any, memoised as an .npz in `cache_dir` (keyed on the file, the limit and the framing)."""
    if cache_dir is None or Path(path).is_dir():
        return load_any(path, limit, progress)
    key = f"{file_digest(path)}-{limit}-{framing.BOX_SCALE}-{framing.BOX_TOP}-{CROP_SIZE}-{LABEL_OFFSET}"
    cached = Path(cache_dir) / f"landmarks-{key}.npz"
    if cached.exists():
        with np.load(cached) as z:
            return LandmarkData(
                z["images"], z["keypoints"], z["names"], z["persons"], z["splits"], float(z["context"])
            )
    data = load_any(path, limit, progress)
    cached.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "images": data.images, "keypoints": data.keypoints, "names": data.names,
        "persons": data.persons, "splits": data.splits, "context": data.context,
    }
    atomic_save(cached, lambda tmp: np.savez(tmp, **arrays))
    return data
