"""Read FER-2013 (Kaggle image folders as a zip or folder, or fer2013.csv) into the warehouse.
Running it again on the same source changes nothing; a file that is not a readable image is skipped
and listed at the end.

Default source: fer2013.zip in the data folder (--data, else $FACEEMO_DATA, else ../shared/data).
Idempotent: a source already ingested (same sha256) changes nothing. Atomic: the data set's rows are
replaced in a private copy of the warehouse that is published only when the step finished.
Unreadable images are skipped and listed in the summary; the step fails only when none is readable.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.common import add_data_argument, add_db_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_argument(parser, "FER-2013 source (fer2013.zip, its extracted folder, or fer2013.csv)")
    add_db_argument(parser)
    parser.add_argument(
        "--dataset", default="fer2013", help="data set name in the warehouse (default: fer2013)"
    )
    parser.add_argument("--force", action="store_true", help="re-ingest even when the source is unchanged")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from faceemo import quality, warehouse
    from faceemo.ingest import ingest
    from faceemo.paths import FER2013_ARCHIVE, resolve_archive

    source = resolve_archive(args.data, FER2013_ARCHIVE)

    def progress(items, total):
        return tqdm(items, total=total, desc="ingest", unit="img", file=sys.stderr,
                    disable=args.quiet, mininterval=0.5)

    result = ingest(source, db=args.db, dataset=args.dataset, force=args.force, progress=progress)
    out = sys.stdout
    if result.status == "up-to-date":
        print(f"already up to date: {result.dataset} from {result.source} (sha256 {result.sha256[:12]}…, "
              f"{result.n_images:,} images) is in {result.db}; nothing changed", file=out)
        return 0
    print(f"ingested {result.n_images:,} images of {result.dataset} from {result.source} "
          f"({result.layout}, {result.kind}; sha256 {result.sha256}) in {result.seconds:.1f} s", file=out)
    print(f"warehouse: {result.db} ({result.db.stat().st_size / 1e6:.1f} MB)", file=out)
    print("\nimages per usage and emotion:", file=out)
    print(result.counts.to_string(), file=out)
    if result.n_converted:
        print(f"\n{result.n_converted:,} images were converted to 8-bit gray and/or resized to 48x48",
              file=out)
    if result.skipped:
        print(f"\nskipped {len(result.skipped):,} unreadable files (listed on the Overview page):", file=out)
        for item in result.skipped[:10]:
            print(f"  {item.file}: {item.reason}", file=out)
        if len(result.skipped) > 10:
            print(f"  ... and {len(result.skipped) - 10:,} more", file=out)
        print(f"warning: {len(result.skipped):,} files skipped", file=sys.stderr)
    for table, n in result.dropped.items():
        print(f"removed {n:,} rows of {table} that pointed at faces which changed or are gone", file=out)
    con = warehouse.connect_readonly(result.db)
    try:
        print("\n" + "\n".join(quality.summary(con, result.dataset).lines()), file=out)
    finally:
        con.close()
    return 0
