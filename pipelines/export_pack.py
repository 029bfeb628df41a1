"""Export faces from the warehouse into a compact pack (.npz) for training on another machine.
`train-emotion --pack FILE` trains from it without a warehouse (e.g. on a rented GPU box).

The pack holds 48x48 uint8 pixels, labels, usage, image ids and the blank/test-duplicate flags the
trainer filters on; `train-emotion --pack FILE` reads it with numpy alone. The exporter reports the
pack's size and says how to make a large one smaller.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from faceemo.errors import DataError
from faceemo.paths import REPO_ROOT
from pipelines.common import add_db_argument

DEFAULT_PACK = REPO_ROOT / "packs" / "fer2013.npz"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_db_argument(parser)
    parser.add_argument(
        "--out", default=str(DEFAULT_PACK), help=f"pack file (default {DEFAULT_PACK.relative_to(REPO_ROOT)})"
    )
    parser.add_argument(
        "--usage",
        default="Training,PublicTest",
        help="comma-separated usages to export (default Training,PublicTest: fit + selection)",
    )


def run(args: argparse.Namespace) -> int:
    from faceemo.emotion import data
    from faceemo.paths import resolve_db

    usages = tuple(u.strip() for u in args.usage.split(",") if u.strip())
    if not usages:
        raise DataError("--usage names no usage")
    faces = data.from_warehouse(args.db, usages)
    missing = [u for u in usages if u not in faces.counts()]
    if missing:
        raise DataError(f"the warehouse has no {', '.join(missing)} faces")
    out = Path(args.out).expanduser().resolve()
    source = resolve_db(args.db)
    meta = {
        "source": source.name,
        "usages": list(usages),
        "exported_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    print(f"writing {len(faces)} faces to {out} ...", file=sys.stderr)
    data.write_pack(faces, out, meta)
    size = out.stat().st_size
    counts = ", ".join(f"{u} {n}" for u, n in faces.counts().items())
    print(f"done: {out} ({size / 2**20:.1f} MiB compressed; {counts})", file=sys.stderr)
    if size > data.GPU_CALL_LIMIT_BYTES:
        print(
            f"note: the pack is {size / 2**20:.1f} MiB; to copy less, export fewer usages "
            "(e.g. --usage Training,PublicTest)",
            file=sys.stderr,
        )
    return 0
