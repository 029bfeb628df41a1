"""Figures for the data foundation: full ingest time of fer2013.zip, warehouse size, and each page's
render time through AppTest on the full warehouse.

    python benchmarks/ingest_and_pages.py [--data PATH] [--db PATH] [--repeat N]

Without --db it ingests into a fresh temporary warehouse (so the ingest is timed from scratch) and
then times the second, idempotent run too. Page times: the first render (cold caches, includes
imports such as TensorFlow for model pages) and the best of --repeat warm renders of a fresh AppTest.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faceemo.ingest import ingest  # noqa: E402
from faceemo.paths import FER2013_ARCHIVE, resolve_archive  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--db", default=None, help="reuse this warehouse (skips the timed fresh ingest)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}")
    source = resolve_archive(args.data, FER2013_ARCHIVE)
    tmp = None
    if args.db:
        db = Path(args.db).resolve()
    else:
        tmp = tempfile.TemporaryDirectory(prefix="faceemo-bench-")
        db = Path(tmp.name) / "faceemo.duckdb"
        start, cpu = time.perf_counter(), time.process_time()
        result = ingest(source, db=db)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"full ingest of {source} ({source.stat().st_size / 1e6:.1f} MB): {took:.1f} s wall, "
              f"{cpu:.1f} s CPU, for {result.n_images:,} faces ({result.n_images / took:,.0f} faces/s), "
              f"{len(result.skipped)} skipped; load average {os.getloadavg()[0]:.1f}")
        start = time.perf_counter()
        again = ingest(source, db=db)
        print(f"second run ({again.status}): {time.perf_counter() - start:.2f} s")
    print(f"warehouse file: {db.stat().st_size / 1e6:.1f} MB")

    os.environ["FACEEMO_DB"] = str(db)
    from tests.pages_helpers import PAGES, open_page

    print(f"\n{'page':<26}{'first (s)':>10}{'warm best (s)':>15}  state")
    for page in PAGES:
        start = time.perf_counter()
        app = open_page(page, timeout=300)
        first = time.perf_counter() - start
        warm = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            app = open_page(page, timeout=300)
            warm.append(time.perf_counter() - start)
        state = "exception: " + app.exception[0].message[:60] if app.exception else "ok"
        if not app.exception and app.warning:
            state = "warning: " + app.warning[0].value[:60].replace("\n", " ")
        print(f"{page:<26}{first:>10.2f}{min(warm):>15.2f}  {state}")
    print("\n(page times include running streamlit_app.py once and switching to the page, as a user's "
          "first visit does; 'first' has cold query caches)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
