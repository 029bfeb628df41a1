"""The dashboard under many users: page time p50/p95 per page and the error count for 1, 5 and 10
concurrent users, with real headless Chromium against `streamlit run` on the full warehouse.

    python benchmarks/dashboard_load.py [--db PATH] [--users 1 5 10] [--before REF]

Every user (a browser context of its own, so a Streamlit session of its own) opens the dashboard, takes
one emotion out of the sidebar filter, visits every page in turn and uploads one photo on Predict; all
users of a level start at the same time (tests/dashboard_driver.py). A page's time runs from the click
in the sidebar to its script run having finished. Before the levels, one unmeasured user warms the
caches (TensorFlow import, model load, first queries), as a dashboard that has been up a while has.

--before REF also measures the dashboard as it was at git revision REF (extracted with `git archive`
into a temp folder; the repository is not touched), in the same run, on the same warehouse and models;
--after REF measures REF instead of the working tree. Both servers run throughout and the levels
alternate between them, so a change in the machine's load hits both alike. Besides page times it
prints the server's CPU seconds per user step, which a busy machine does not inflate.
Needs Debian's chromium and the playwright package (not Playwright's browser download).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faceemo.paths import REPO_ROOT, models_dir, resolve_db  # noqa: E402
from tests.conftest import FER_ARCHIVE  # noqa: E402
from tests.dashboard_driver import (  # noqa: E402
    PAGES,
    UPLOAD,
    UserRun,
    chromium_path,
    run_users,
    serve_dashboard,
)

STEPS = ["open", "filter", *(link for link, _ in PAGES), UPLOAD]


def _photo(folder: Path) -> Path:
    from PIL import Image

    from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face

    canvas, _ = face_on_canvas(fer_face(FER_ARCHIVE, FER_HAPPY_FACES[0]))
    photo = folder / "portrait.png"
    Image.fromarray(canvas).save(photo)
    return photo


def _extract(ref: str, folder: Path) -> Path:
    """The tree of git revision `ref` in `folder` (git archive: read-only on the repository)."""
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", ref], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


@dataclass
class Level:
    """One tree at one number of users: every user's run and the server's CPU seconds meanwhile."""

    runs: list[UserRun] = field(default_factory=list)
    server_cpu: float = 0.0


def measure(trees: list[tuple[str, Path]], env: dict[str, str], levels: list[int], single_rounds: int,
            photo: Path, timeout_ms: float, work: Path) -> dict[str, dict[int, Level]]:
    """{tree: {users: Level}}. Every tree's server runs throughout; the levels alternate between trees
    (1 user before, 1 user after, 5 before, ...) so a change in the machine's load hits both alike."""
    results: dict[str, dict[int, Level]] = {label: {} for label, _ in trees}
    with contextlib.ExitStack() as stack:
        servers = {}
        for label, app_dir in trees:
            log = work / f"streamlit-{label.split()[0]}.log"
            servers[label] = (stack.enter_context(serve_dashboard(log, env, app_dir=app_dir)), log)
            start = time.perf_counter()
            warm = run_users(servers[label][0].url, 1, photo, timeout_ms)
            print(f"[{label}] warm-up user: {time.perf_counter() - start:.0f} s, "
                  f"errors {warm[0].errors or 0}", flush=True)
        for users in levels:
            for label, _ in trees:
                server = servers[label][0]
                level = results[label][users] = Level()
                cpu = server.cpu_seconds()
                for _ in range(single_rounds if users == 1 else 1):
                    start = time.perf_counter()
                    level.runs += run_users(server.url, users, photo, timeout_ms)
                    print(f"[{label}] {users} user(s): {time.perf_counter() - start:.0f} s, "
                          f"load average {os.getloadavg()[0]:.1f}", flush=True)
                level.server_cpu = server.cpu_seconds() - cpu
        for label, (_, log) in servers.items():
            print(f"[{label}] server log: {log.read_text().count('Traceback')} traceback(s)", flush=True)
    return results


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{np.percentile(values, 50):.1f} / {np.percentile(values, 95):.1f}"


def report(label: str, results: dict[int, Level]) -> None:
    levels = list(results)
    width = 22
    print(f"\n== {label}: page time p50 / p95 (s) ==")
    print(f"{'page':<18}" + "".join(f"{f'{n} user(s)':>{width}}" for n in levels))
    for step in STEPS:
        row = [[run.seconds[step] for run in results[n].runs if step in run.seconds] for n in levels]
        print(f"{step:<18}" + "".join(f"{_cell(values):>{width}}" for values in row))
    pages = [link for link, _ in PAGES] + [UPLOAD]
    pooled = [[run.seconds[s] for run in results[n].runs for s in pages if s in run.seconds] for n in levels]
    print(f"{'all pages':<18}" + "".join(f"{_cell(values):>{width}}" for values in pooled))
    loads = [len(results[n].runs) * len(STEPS) for n in levels]
    errors = [sum(len(run.errors) for run in results[n].runs) for n in levels]
    counts = [f"{e} of {n}" for e, n in zip(errors, loads, strict=True)]
    print(f"{'errors':<18}" + "".join(f"{c:>{width}}" for c in counts))
    # CPU seconds the server spent per step a user took: independent of how loaded the machine is
    cpu = [f"{results[n].server_cpu / max(len(results[n].runs) * len(STEPS), 1):.2f}" for n in levels]
    print(f"{'server CPU/step':<18}" + "".join(f"{c:>{width}}" for c in cpu))
    for n in levels:
        for run in results[n].runs:
            for error in run.errors[:3]:
                print(f"  {n} users, user {run.user}: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="the warehouse (default: $FACEEMO_DB or warehouse/)")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--single-rounds", type=int, default=3,
                        help="rounds of the 1-user level (one user gives one sample per page)")
    parser.add_argument("--before", default=None, metavar="REF", help="also measure git revision REF")
    parser.add_argument("--after", default=None, metavar="REF",
                        help="measure git revision REF instead of the working tree")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one step may take")
    args = parser.parse_args()
    if chromium_path() is None:
        print("Debian's chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2

    db = resolve_db(args.db)
    env = {"FACEEMO_DB": str(db), "FACEEMO_MODELS": str(models_dir())}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"warehouse {db} ({db.stat().st_size / 1e6:.0f} MB), models {env['FACEEMO_MODELS']}")
    with tempfile.TemporaryDirectory(prefix="faceemo-load-") as tmp:
        work = Path(tmp)
        photo = _photo(work)
        trees = []
        if args.before:
            before = work / "before"
            before.mkdir()
            trees.append((f"before ({args.before})", _extract(args.before, before)))
        if args.after:
            after = work / "after"
            after.mkdir()
            trees.append((f"after ({args.after})", _extract(args.after, after)))
        else:
            trees.append(("after (working tree)" if args.before else "working tree", REPO_ROOT))
        results = measure(trees, env, args.users, args.single_rounds, photo, args.timeout * 1000, work)
    for label, result in results.items():
        report(label, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
