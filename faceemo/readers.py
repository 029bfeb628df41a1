"""Readers for FER-2013-style data: Kaggle image folders (a zip or an extracted folder) and fer2013.csv.

Every reader yields the same thing: a `FaceRecord` per readable image (48x48 8-bit grayscale pixels plus
where it came from) and a `Skipped` per file it could not use, streaming (a zip is never extracted).

Accepted inputs (`open_source(path)`):

* a zip or a folder with the Kaggle image-folder layout `<split>/<emotion>/<file>`: split folders
  `train/`, `test/` and `valid/` (MMA FACIAL EXPRESSION), at the top or inside one wrapper folder;
  emotion folder names are matched case-insensitively through `faceemo.labels` only;
* the original `fer2013.csv` (columns emotion, pixels, Usage) as a file, inside a zip, or in a folder.

Rules (documented in the README too):

* Usage comes from the file-name prefix `Training_` / `PublicTest_` / `PrivateTest_` where present,
  else from the split folder: train -> Training, valid -> PublicTest, test -> PrivateTest.
  CSV rows carry their Usage; their split is train for Training and test for the two test usages.
* Images of any mode and size are converted to 8-bit grayscale (Pillow's ITU-R 601 luma for colour),
  and, when not already 48x48, centre-cropped to a square and resized to 48x48 (Lanczos): faces keep
  their proportions instead of being squashed.
* `sha256` is the hash of the source file's bytes (for a CSV row: of its 2304 pixel bytes), so
  byte-identical files share a hash, as the data README counts them.
* A file that is not a decodable image (or a CSV row with a bad label, Usage or pixel list) is
  skipped and reported with its reason; the reader fails only when nothing readable is left.
  A *damaged archive* (a zip member whose bytes fail their CRC check) is an error: the download is
  broken and should be fetched again, so nothing is ingested from it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageOps

from faceemo.errors import DataError
from faceemo.files import file_sha256
from faceemo.labels import EMOTIONS, LABEL_OF, USAGES, emotion_of
from faceemo.pixels import FACE_SIZE

# Bump when the reader changes what it stores for the same source (the ingest step then re-ingests).
READER_VERSION = 1

IMAGE_SPLITS: tuple[str, ...] = ("train", "valid", "test")
SPLIT_USAGE: dict[str, str] = {"train": "Training", "valid": "PublicTest", "test": "PrivateTest"}
USAGE_SPLIT: dict[str, str] = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
CSV_NAME = "fer2013.csv"
CSV_COLUMNS = ("emotion", "pixels", "usage")
_IGNORED_TOP = {"__macosx"}


@dataclass(frozen=True)
class FaceRecord:
    """One readable face: 48x48 uint8 pixels and where it came from."""

    split: str  # folder split: train | valid | test
    usage: str  # Training | PublicTest | PrivateTest
    emotion: str  # lower-case name (faceemo.labels)
    label: int  # FER-2013 integer label
    file_name: str  # not unique alone: identify by split + emotion + file name
    source_file: str  # path inside the archive/folder, or 'fer2013.csv:<row>'
    sha256: str
    pixels: np.ndarray  # (48, 48) uint8
    source_width: int
    source_height: int

    @property
    def converted(self) -> bool:
        """True when the source was not already a 48x48 image (it was cropped/resized)."""
        return (self.source_width, self.source_height) != (FACE_SIZE, FACE_SIZE)


@dataclass(frozen=True)
class Skipped:
    """A file (or CSV row) that was not ingested, and why."""

    file: str
    reason: str


Item = FaceRecord | Skipped


def to_face(image: Image.Image) -> np.ndarray:
    """Any Pillow image as a (48, 48) uint8 grayscale face (centre-crop to square, then resize)."""
    image = ImageOps.exif_transpose(image)
    if image.mode != "L":
        image = image.convert("L")
    if image.size != (FACE_SIZE, FACE_SIZE):
        image = ImageOps.fit(image, (FACE_SIZE, FACE_SIZE), method=Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).copy()


def face_from_image_bytes(data: bytes) -> tuple[np.ndarray, int, int]:
    """Decode image bytes to a 48x48 gray face; returns (pixels, source width, source height).

    Raises ValueError with a short reason when the bytes are not a readable image.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decode now: a truncated or corrupt file fails here, not later
            width, height = image.size
            return to_face(image), width, height
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError, ...)
        reason = str(exc) or type(exc).__name__
        raise ValueError(f"not a readable image ({reason})") from exc


# ---------------------------------------------------------------------------------------------------
# Sources


class Source:
    """An opened data source. Iterate it for `FaceRecord` / `Skipped` items."""

    layout: str = ""  # 'image-folders' | 'csv'
    kind: str = ""  # 'zip' | 'folder' | 'file'

    def __init__(self, path: Path) -> None:
        self.path = path

    def fingerprint(self) -> str:
        """sha256 identifying the source's content (the archive's bytes; for a folder, its files)."""
        return file_sha256(self.path)

    def size_bytes(self) -> int:
        return self.path.stat().st_size

    def expected(self) -> int | None:
        """How many items iteration will yield, when known up front (for a progress bar)."""
        return None

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError

    def close(self) -> None:
        """Release open files."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class _Entry:
    """A file of an image-folder layout, relative to the layout's root (split/emotion/name)."""

    parts: tuple[str, ...]
    read: Callable[[], bytes]
    is_dir: bool = False  # folders matter for the layout check (an empty emotion folder still counts)

    @property
    def rel(self) -> str:
        return "/".join(self.parts)


def _usage_of(file_name: str, split: str) -> str:
    prefix = file_name.split("_", 1)[0].lower() if "_" in file_name else ""
    for usage in USAGES:
        if prefix == usage.lower():
            return usage
    return SPLIT_USAGE[split]


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.lower() in _IGNORED_TOP


def _find_root(paths: list[tuple[str, ...]], where: Path) -> tuple[str, ...]:
    """The prefix holding the split folders: the top, or one wrapper folder (e.g. `archive/`)."""

    def splits_at(prefix: tuple[str, ...]) -> set[str]:
        n = len(prefix)
        return {
            p[n].lower() for p in paths
            if len(p) > n + 1 and p[:n] == prefix and p[n].lower() in IMAGE_SPLITS
        }

    if splits_at(()):
        return ()
    tops = sorted({p[0] for p in paths if len(p) > 1 and not _hidden(p[0])})
    if len(tops) == 1 and splits_at((tops[0],)):
        return (tops[0],)
    found = ", ".join(sorted({p[0] + ("/" if len(p) > 1 else "") for p in paths if not _hidden(p[0])})[:8])
    raise DataError(
        f"wrong layout in {where}: no train/ or test/ folder (found: {found or 'nothing'}); expected "
        f"train/<emotion>/<image> and test/<emotion>/<image> (valid/ optional), or {CSV_NAME}"
    )


class _ImageFolders(Source):
    """The Kaggle image-folder layout, from any list of entries (zip members or files on disk)."""

    layout = "image-folders"

    def _entries(self) -> list[_Entry]:
        raise NotImplementedError

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._planned: tuple[list[tuple[str, str, _Entry]], list[Skipped]] | None = None

    def _plan(self) -> tuple[list[tuple[str, str, _Entry]], list[Skipped]]:
        """Validate the layout and list (split, emotion, entry) to read; raises DataError on a bad layout."""
        if self._planned is not None:
            return self._planned
        entries = [e for e in self._entries() if e.parts and not any(_hidden(p) for p in e.parts)]
        root = _find_root([e.parts for e in entries], self.path)
        plan: list[tuple[str, str, _Entry]] = []
        skipped: list[Skipped] = []
        for entry in entries:
            if entry.parts[: len(root)] != root:
                continue  # outside the layout root (e.g. a README beside the folders)
            parts = entry.parts[len(root):]
            split = parts[0].lower()
            if split not in IMAGE_SPLITS or len(parts) < 2:
                continue  # another top-level folder or file: not part of the data
            if len(parts) == 2 and not entry.is_dir:
                skipped.append(Skipped(entry.rel, f"not inside an emotion folder of {parts[0]}/"))
                continue
            emotion = parts[1].lower()
            if emotion not in LABEL_OF:
                raise DataError(
                    f"unknown class folder '{parts[0]}/{parts[1]}' in {self.path}; "
                    f"class folders must be named one of {', '.join(EMOTIONS)}"
                )
            if entry.is_dir:
                continue
            if len(parts) > 3:
                skipped.append(Skipped(entry.rel, "nested below the emotion folder"))
                continue
            plan.append((split, emotion, entry))
        plan.sort(key=lambda item: (IMAGE_SPLITS.index(item[0]), LABEL_OF[item[1]], item[2].parts[-1]))
        if not plan:
            raise DataError(f"no image files in the split folders of {self.path}")
        self._planned = (plan, skipped)
        return plan, skipped

    def expected(self) -> int | None:
        plan, skipped = self._plan()
        return len(plan) + len(skipped)

    def _read(self, entry: _Entry) -> bytes:
        return entry.read()

    def __iter__(self) -> Iterator[Item]:
        plan, skipped = self._plan()
        yield from skipped
        seen: dict[tuple[str, str, str], str] = {}
        n_faces = 0
        first_problem = skipped[0] if skipped else None
        for split, emotion, entry in plan:
            file_name = entry.parts[-1]
            key = (split, emotion, file_name)
            if key in seen:  # e.g. both Happy/ and happy/ folders hold the same name
                yield Skipped(entry.rel, f"same split, emotion and file name as {seen[key]}")
                continue
            seen[key] = entry.rel
            try:
                data = self._read(entry)
                pixels, width, height = face_from_image_bytes(data)
            except OSError as exc:
                problem = Skipped(entry.rel, f"cannot read the file ({exc.strerror or exc})")
            except ValueError as exc:
                problem = Skipped(entry.rel, str(exc))
            else:
                problem = None
            if problem is not None:
                first_problem = first_problem or problem
                yield problem
                continue
            n_faces += 1
            yield FaceRecord(
                split=split, usage=_usage_of(file_name, split), emotion=emotion, label=LABEL_OF[emotion],
                file_name=file_name, source_file=entry.rel, sha256=hashlib.sha256(data).hexdigest(),
                pixels=pixels, source_width=width, source_height=height,
            )
        if n_faces == 0:
            example = f"{first_problem.file}: {first_problem.reason}" if first_problem else "none"
            raise DataError(
                f"no readable image in {self.path}: all {len(plan) + len(skipped)} files were skipped "
                f"(e.g. {example})"
            )


class ZipImageFolders(_ImageFolders):
    kind = "zip"

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        super().__init__(path)
        self.archive = archive

    def _entries(self) -> list[_Entry]:
        return [
            _Entry(
                tuple(PurePosixPath(info.filename.replace("\\", "/")).parts),  # zips made on Windows
                lambda info=info: self.archive.read(info),
                is_dir=info.is_dir(),
            )
            for info in self.archive.infolist()
        ]

    def _read(self, entry: _Entry) -> bytes:
        try:
            return entry.read()
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise DataError(
                f"the archive {self.path} is damaged: cannot extract {entry.rel} ({exc}); "
                "download it again"
            ) from exc

    def close(self) -> None:
        self.archive.close()


class DirImageFolders(_ImageFolders):
    kind = "folder"

    def _entries(self) -> list[_Entry]:
        return [
            _Entry(file.relative_to(self.path).parts, file.read_bytes, is_dir=file.is_dir())
            for file in sorted(self.path.rglob("*"))
        ]

    def fingerprint(self) -> str:
        """sha256 over the sorted relative paths and content hashes of every file under the folder."""
        digest = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(self.path).as_posix().encode() + b"\0")
            digest.update(file_sha256(file).encode() + b"\n")
        return digest.hexdigest()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


class CsvSource(Source):
    """The original fer2013.csv: emotion (0..6), pixels (2304 space-separated 0..255), Usage."""

    layout = "csv"

    def __init__(
        self, path: Path, kind: str, open_stream: Callable[[], io.BufferedIOBase], name: str
    ) -> None:
        super().__init__(path)
        self.kind = kind
        self._open = open_stream
        self.name = name  # what source_file names: 'fer2013.csv' (or the member's name in a zip)
        self._archive: zipfile.ZipFile | None = None

    def __iter__(self) -> Iterator[Item]:
        n_faces = n_rows = 0
        with self._open() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader, None)
                if header is None:
                    raise DataError(f"{self.path}: {self.name} is empty")
                columns = {name.strip().lower(): i for i, name in enumerate(header)}
                missing = [c for c in CSV_COLUMNS if c not in columns]
                if missing:
                    raise DataError(
                        f"{self.path}: {self.name} is not a FER-2013 CSV: missing column(s) "
                        f"{', '.join(missing)} (expected emotion,pixels,Usage; found {','.join(header)[:80]})"
                    )
                col_e, col_p, col_u = (columns[c] for c in CSV_COLUMNS)
                for row_no, row in enumerate(reader):
                    n_rows += 1
                    item = self._row(row_no, row, col_e, col_p, col_u)
                    n_faces += isinstance(item, FaceRecord)
                    yield item
            except (UnicodeDecodeError, csv.Error) as exc:
                raise DataError(f"{self.path}: {self.name} is not a readable CSV text file ({exc})") from exc
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise DataError(f"the archive {self.path} is damaged ({exc}); download it again") from exc
        if n_faces == 0:
            raise DataError(f"no readable row in {self.path} ({n_rows} rows, all skipped)")

    def _row(self, row_no: int, row: list[str], col_e: int, col_p: int, col_u: int) -> Item:
        where = f"{self.name}:{row_no}"
        try:
            label = int(row[col_e])
            emotion = emotion_of(label)
        except (IndexError, ValueError):
            return Skipped(where, f"bad emotion label {row[col_e] if len(row) > col_e else ''!r}")
        given = row[col_u].strip().lower() if len(row) > col_u else ""
        usage = next((u for u in USAGES if given == u.lower()), None)
        if usage is None:
            return Skipped(where, f"unknown Usage {row[col_u] if len(row) > col_u else ''!r}")
        try:
            values = np.array(row[col_p].split(), dtype=np.int32)
        except (IndexError, ValueError):
            return Skipped(where, "pixels are not integers")
        if values.size != FACE_SIZE * FACE_SIZE:
            return Skipped(where, f"{values.size} pixel values, expected {FACE_SIZE * FACE_SIZE}")
        if values.min() < 0 or values.max() > 255:
            return Skipped(where, "pixel values outside 0..255")
        pixels = values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE)
        return FaceRecord(
            split=USAGE_SPLIT[usage], usage=usage, emotion=emotion, label=label,
            file_name=f"{usage}_row{row_no}", source_file=where,
            sha256=hashlib.sha256(pixels.tobytes()).hexdigest(), pixels=pixels,
            source_width=FACE_SIZE, source_height=FACE_SIZE,
        )

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()


# ---------------------------------------------------------------------------------------------------
# Opening a path


def _looks_like_csv(path: Path) -> bool:
    if path.suffix.lower() == ".csv":
        return True
    with open(path, "rb") as handle:
        head = handle.read(256).lower()
    return head.startswith(b"emotion,") or head.startswith(b"\xef\xbb\xbfemotion,")


def _csv_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """A fer2013.csv (or the only .csv) at the top or one folder down in a zip."""
    csvs = [
        i for i in archive.infolist()
        if not i.is_dir() and i.filename.lower().endswith(".csv") and i.filename.count("/") <= 1
        and not _hidden(PurePosixPath(i.filename).parts[0])
    ]
    named = [i for i in csvs if PurePosixPath(i.filename).name.lower() == CSV_NAME]
    return (named or (csvs if len(csvs) == 1 else [None]))[0]


def _open_zip(path: Path) -> Source:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path} is not a zip archive or is truncated ({exc})") from exc
    names = [tuple(PurePosixPath(i.filename).parts) for i in archive.infolist()]
    has_splits = any(
        len(p) > 1 and (p[0].lower() in IMAGE_SPLITS or (len(p) > 2 and p[1].lower() in IMAGE_SPLITS))
        for p in names
    )
    member = None if has_splits else _csv_member(archive)
    if member is not None:
        source = CsvSource(path, "zip", lambda: archive.open(member), PurePosixPath(member.filename).name)
        source._archive = archive
        return source
    return ZipImageFolders(path, archive)


def open_source(path: str | Path) -> Source:
    """Open a FER-2013 source (zip, folder, or CSV), checking what can be checked without reading it all.

    Raises DataError naming the problem: missing path, not a zip, wrong layout, unknown class folder.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"no such file or folder: {path}")
    path = path.resolve()
    if path.is_dir():
        for candidate in (path / CSV_NAME, path / "fer2013.zip"):
            if candidate.is_file() and not any((path / s).is_dir() for s in IMAGE_SPLITS):
                return open_source(candidate)
        source: Source = DirImageFolders(path)
        source.expected()  # validates the layout now (wrong layout, unknown class folder)
        return source
    if not path.is_file():
        raise DataError(f"{path} is neither a file nor a folder")
    if zipfile.is_zipfile(path):
        source = _open_zip(path)
        if isinstance(source, ZipImageFolders):
            try:
                source.expected()
            except DataError:
                source.close()
                raise
        return source
    if _looks_like_csv(path):
        return CsvSource(path, "file", lambda: open(path, "rb"), path.name)
    raise DataError(
        f"{path} is not a zip archive (or it is truncated) nor a fer2013.csv; give the Kaggle FER-2013 "
        "zip, its extracted folder, or fer2013.csv"
    )
