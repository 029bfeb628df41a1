"""Real headless Chromium users of the real dashboard: for tests/test_browser.py and
benchmarks/dashboard_load.py (one home for starting `streamlit run` and for what a user does).

Drives Debian's chromium through Playwright's Python package (never `playwright install`: its browser
download host is unreachable here). Each user is a browser context of its own, so a Streamlit session of
its own; all users share one Chromium process and run at the same time on one asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from faceemo.paths import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
STARTUP_SECONDS = 120
# (sidebar title, st.title of the page); Overview is the default page
PAGES = (
    ("Overview", "Overview"),
    ("Class balance", "Class balance"),
    ("Data quality", "Data quality"),
    ("Models", "Models"),
    ("Landmarks", "Landmarks"),
    ("Distances", "Distances"),
    ("Video", "Video"),
    ("Predict", "Predict"),  # last: the upload step uploads on this page
)
UPLOAD = "Predict: upload"  # the timing name of the photo upload step


def chromium_path() -> str | None:
    """Debian's chromium, or None when it is not installed."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DashboardFailed(RuntimeError):
    """`streamlit run` exited or did not answer its health check in time."""


@dataclass(frozen=True)
class Dashboard:
    """A running `streamlit run`: where to reach it, and its process (for its CPU time)."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far, all its threads (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve_dashboard(
    log: Path, env: dict[str, str] | None = None, app_dir: Path = REPO_ROOT
) -> Iterator[Dashboard]:
    """`streamlit run streamlit_app.py` of `app_dir` on a free localhost port, always terminated.
    `env` is added to this process's environment (FACEEMO_DB, FACEEMO_MODELS ...)."""
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=app_dir, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, server, log)
        yield Dashboard(f"http://127.0.0.1:{port}", server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def _wait_healthy(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DashboardFailed(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise DashboardFailed(f"streamlit did not start within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@dataclass
class UserRun:
    """What one user saw: seconds per page (in visiting order) and the problems met on the way."""

    user: int
    seconds: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def _settled(page, title: str, timeout_ms: float) -> None:
    """Wait until `title`'s page is drawn and its script run has finished."""
    await page.locator("h1").filter(has_text=title).first.wait_for(timeout=timeout_ms)
    await page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=timeout_ms
    )


async def _problems(page) -> list[str]:
    """Exception boxes and tracebacks on the page (Streamlit draws an uncaught exception as stException)."""
    found = []
    for box in await page.locator('[data-testid="stException"]').all():
        found.append((await box.inner_text())[:300].replace("\n", " "))
    if not found and "Traceback (most recent call last)" in await page.content():
        found.append("a traceback in the page")
    return found


async def run_user(browser, url: str, user: int, photo: Path, timeout_ms: float) -> UserRun:
    """One user: open the dashboard, take one emotion out of the sidebar filter, visit every page in
    turn, and upload `photo` on Predict. A failure ends this user's run and is reported, not raised."""
    run = UserRun(user)
    context = await browser.new_context(viewport={"width": 1400, "height": 1600})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    step = "open"
    try:
        start = time.perf_counter()
        await page.goto(url, wait_until="domcontentloaded")
        await _settled(page, PAGES[0][1], timeout_ms)
        run.seconds["open"] = time.perf_counter() - start
        run.errors += [f"open: {p}" for p in await _problems(page)]

        step = "filter"
        # Backspace in the emotion multiselect drops its last chosen emotion: every page then reruns
        # with a filter of this session's own.
        start = time.perf_counter()
        await page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"] input').first.click()
        await page.keyboard.press("Backspace")
        await page.keyboard.press("Escape")
        await page.wait_for_timeout(300)
        await _settled(page, PAGES[0][1], timeout_ms)
        run.seconds["filter"] = time.perf_counter() - start

        for link, title in PAGES:
            step = link
            start = time.perf_counter()
            await page.locator('[data-testid="stSidebarNav"] a').filter(has_text=link).first.click()
            await _settled(page, title, timeout_ms)
            run.seconds[link] = time.perf_counter() - start
            run.errors += [f"{link}: {p}" for p in await _problems(page)]

        step = UPLOAD
        start = time.perf_counter()
        await page.locator('input[type="file"]').set_input_files(str(photo))
        await page.get_by_text("Face 1:").first.wait_for(timeout=timeout_ms)
        await _settled(page, "Predict", timeout_ms)
        run.seconds[UPLOAD] = time.perf_counter() - start
        run.errors += [f"{UPLOAD}: {p}" for p in await _problems(page)]
    except Exception as exc:  # noqa: BLE001 - a timeout or a crash is this user's error, counted
        run.errors.append(f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        with contextlib.suppress(Exception):
            run.errors += [f"{step}: {p}" for p in await _problems(page)]
    finally:
        await context.close()
    return run


async def _run_users(url: str, users: int, photo: Path, timeout_ms: float) -> list[UserRun]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            return list(
                await asyncio.gather(*(run_user(browser, url, u, photo, timeout_ms) for u in range(users)))
            )
        finally:
            await browser.close()


def run_users(url: str, users: int, photo: Path, timeout_ms: float = 300_000) -> list[UserRun]:
    """`users` users at the same time, each through every page (see run_user)."""
    return asyncio.run(_run_users(url, users, photo, timeout_ms))
