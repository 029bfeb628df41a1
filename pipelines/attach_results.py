"""Attach a folder of Ray results to the warehouse, so the dashboard's pages can pick it like a data set.
DIR is what `predict ... --engine ray --out DIR` or `landmarks --engine ray --out DIR` wrote. Its Parquet
files are read where they are, never copied: partitions a running job adds later show too, and moving or
deleting DIR makes the pages say so. Attaching NAME again replaces it (e.g. after moving DIR).
"""

from __future__ import annotations

import argparse
import sys

from pipelines.common import add_db_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="the folder of results (the --out of a Ray run)")
    parser.add_argument(
        "--name", required=True,
        help="what the pages call this result set: letters, digits, '_' or '-' (e.g. affectnet_val)",
    )
    add_db_argument(parser)


def run(args: argparse.Namespace) -> int:
    from faceemo import store, warehouse
    from faceemo.paths import resolve_db
    from faceemo.scale import PART_GLOB, describe_results

    warehouse.result_view_name(args.name)  # a bad name fails before anything is read
    found = describe_results(args.folder)
    db = resolve_db(args.db)
    with warehouse.writing(db) as con:
        store.attach_result_set(
            con, args.name, found["path"], PART_GLOB, kind=found["job"].get("kind"),
            partitions=found["partitions"], expected=found["expected"], rows=found["rows"], job=found["job"],
        )
    expected = found["expected"]
    complete = (
        "all complete" if expected == found["partitions"]
        else f"of {expected}: the job is still running or was stopped" if expected
        else "job record missing"
    )
    print(
        f"attach-results: {args.name} = {found['path']} ({found['rows']:,} rows in {found['partitions']} "
        f"partition(s), {complete}) in {db}"
    )
    if expected and found["partitions"] < expected:
        print("note: the pages read the folder as it is; later partitions show once written", file=sys.stderr)
    return 0
