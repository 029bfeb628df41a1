"""Small FER-2013-shaped sources for the reader and ingest tests: image folders (on disk or zipped)
and fer2013.csv files, built from the drawn faces of tests/factories.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from faceemo.labels import EMOTIONS, LABEL_OF
from tests.factories import drawn_face

SPLIT_USAGES = {"train": ("Training",), "test": ("PublicTest", "PrivateTest"), "valid": ("PublicTest",)}


def image_bytes(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode a uint8 array (gray 2-D or RGB 3-D) as an image file's bytes. PNG keeps pixels exact."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def fer_files(
    splits: tuple[str, ...] = ("train", "test"),
    per_class: int = 2,
    emotions: tuple[str, ...] = EMOTIONS,
    prefixed: bool = True,
    folder_case: str = "lower",
) -> dict[str, bytes]:
    """{relative path: bytes} in the Kaggle layout `<split>/<emotion>/<Usage>_<id>.png`.

    With `prefixed`, names carry the Usage prefix (test/ alternates PublicTest and PrivateTest).
    """
    files: dict[str, bytes] = {}
    n = 0
    for split in splits:
        for emotion in emotions:
            folder = emotion.capitalize() if folder_case == "title" else emotion
            for k in range(per_class):
                usages = SPLIT_USAGES[split]
                usage = usages[k % len(usages)]
                name = f"{usage}_{10_000 + n}.png" if prefixed else f"img{n:05d}.png"
                files[f"{split}/{folder}/{name}"] = image_bytes(drawn_face(emotion, seed=n))
                n += 1
    return files


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def write_zip(path: Path, files: dict[str, bytes], wrapper: str = "", compression: int = zipfile.ZIP_STORED,
              dir_entries: bool = True) -> Path:
    """A zip of `files` (optionally under one wrapper folder), with directory entries like Kaggle's."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        if dir_entries:
            folders = sorted({str(Path(rel).parent) for rel in files} | {rel.split("/")[0] for rel in files})
            for folder in folders:
                archive.writestr(f"{wrapper}{folder}/", b"")
        for rel, data in files.items():
            archive.writestr(f"{wrapper}{rel}", data)
    return path


def csv_text(rows: list[tuple[object, object, object]], header: str = "emotion,pixels,Usage") -> str:
    lines = [header]
    for label, pixels, usage in rows:
        if not isinstance(pixels, str):  # a str is written as given (to make bad rows)
            pixels = " ".join(str(int(v)) for v in np.asarray(pixels).ravel())
        text = pixels
        lines.append(f"{label},{text},{usage}")
    return "\n".join(lines) + "\n"


def fer_csv_rows(per_class: int = 1) -> list[tuple[int, np.ndarray, str]]:
    """Rows (label, 48x48 pixels, Usage): `per_class` faces per emotion and usage."""
    rows = []
    n = 0
    for usage in ("Training", "PublicTest", "PrivateTest"):
        for emotion in EMOTIONS:
            for _ in range(per_class):
                rows.append((LABEL_OF[emotion], drawn_face(emotion, seed=100 + n), usage))
                n += 1
    return rows


def corrupt_member(zip_path: Path, member: str) -> None:
    """Flip bytes inside a stored member's data so that its CRC check fails on extraction."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(member)
    data = bytearray(zip_path.read_bytes())
    # local header: 30 bytes + name + extra, then the member's data
    name_len = int.from_bytes(data[info.header_offset + 26: info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 20, start + 40):
        data[i] ^= 0xFF
    zip_path.write_bytes(bytes(data))
