"""A real headless Chromium against the running dashboard: one user uploads a photo and sees the
probabilities chart; a few users at once go through every page without an error.

Drives Debian's /usr/bin/chromium through Playwright's Python package (never `playwright install`:
its browser download host is unreachable here), against `streamlit run streamlit_app.py` on a free
127.0.0.1 port, with a temp warehouse path and tiny stand-in models (see tests/dashboard_driver.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from faceemo.paths import REPO_ROOT
from tests.conftest import FER_ARCHIVE, require_file
from tests.dashboard_driver import (
    CHROMIUM_ARGS,
    PAGES,
    UPLOAD,
    DashboardFailed,
    chromium_path,
    run_users,
    serve_dashboard,
)
from tests.landmark_factories import add_landmarks
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face, tiny_models_folder

RENDER_MS = 150_000  # the first prediction imports TensorFlow and loads the models: slow on 2 shared cores
USERS_AT_ONCE = 3  # CI has 2 cores: enough sessions to collide, few enough to stay well under a minute

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_chromium() -> None:
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it with apt)")
    pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")


def _portrait(folder: Path) -> Path:
    canvas, _ = face_on_canvas(fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0]))
    photo = folder / "portrait.png"
    Image.fromarray(canvas).save(photo)
    return photo


def _serve(tmp_path: Path, models_root: Path, db: Path):
    env = {"FACEEMO_DB": str(db), "FACEEMO_MODELS": str(tiny_models_folder(models_root, "both"))}
    log = tmp_path / "streamlit.log"
    try:
        with serve_dashboard(log, env) as server:
            yield server.url, log
    except DashboardFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture
def dashboard(tmp_path, tmp_path_factory):
    """The real dashboard on a free localhost port, over an empty warehouse path; always terminated."""
    yield from _serve(tmp_path, tmp_path_factory.getbasetemp(), tmp_path / "faceemo.duckdb")


@pytest.fixture
def dashboard_with_data(images_db, tmp_path, tmp_path_factory):
    """The real dashboard over a generated warehouse with faces and landmarks (no emotion model rows:
    the Models page then shows how to fill them, which must not error either)."""
    add_landmarks(images_db, "lmk_test")
    yield from _serve(tmp_path, tmp_path_factory.getbasetemp(), images_db)


# What a user must never see in the terminal: the file watcher walking .venv, tracebacks, warnings.
LOG_NOISE = ("Inotify", "inotify", "Traceback", "Warning", "WARNING", "Error")


def _noise(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if any(word in line for word in LOG_NOISE)]


def test_config_turns_the_file_watcher_off():
    import tomllib

    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_dashboard_log_is_clean(dashboard):
    """`streamlit run` as a user starts it: the terminal shows the URL and nothing else."""
    url, log = dashboard
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.status == 200
    time.sleep(3)  # the watcher, when on, floods the log within a second of starting
    assert "Local URL" in log.read_text() or "URL" in log.read_text(), log.read_text()
    assert not _noise(log), "\n".join(_noise(log)[:20])


@contextmanager
def _browser_on(url: str, log: Path) -> Iterator:
    """A page of a headless Chromium opened at `url`; afterwards, no traceback on it and no noise in the
    dashboard's log (which is printed when anything fails)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True, timeout=60_000,
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(RENDER_MS)
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            yield page
            assert "Traceback" not in page.content()
            assert not _noise(log), "\n".join(_noise(log)[:20])
        except Exception:
            print(log.read_text()[-3000:])
            raise
        finally:
            browser.close()


def test_upload_a_photo_and_see_the_probabilities(dashboard, tmp_path):
    _require_chromium()
    url, log = dashboard
    photo = _portrait(tmp_path)
    with _browser_on(f"{url}/predict", log) as page:
        page.get_by_text("Predict", exact=True).first.wait_for()
        upload = page.locator('input[type="file"]')
        upload.wait_for(state="attached")
        upload.set_input_files(str(photo))
        page.get_by_text("Face 1:").first.wait_for()
        chart = page.locator(".vega-embed").first
        chart.wait_for(state="visible")
        assert chart.locator("canvas, svg").count() >= 1
        page.get_by_text("portrait.png").first.wait_for()
        # a rerun (ticking an option) and the same photo uploaded again: still listed once
        page.get_by_text("If no face is found, treat the whole image as one face").click()
        upload.set_input_files([str(photo), str(photo)])
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=RENDER_MS
        )
        page.wait_for_timeout(2000)
        assert page.locator("h3", has_text="portrait.png").count() == 1
        page.screenshot(path=str(tmp_path / "predict.png"), full_page=True)


def test_upload_a_clip_and_see_the_timeline(dashboard, tmp_path):
    """Issue 11: a clip made here from FER faces, uploaded on the Video page in a real browser."""
    _require_chromium()
    from tests.composites import make_clip

    url, log = dashboard
    faces = [fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0])]
    clip = make_clip(tmp_path / "clip.mp4", faces, seconds=1.0)
    with _browser_on(f"{url}/video", log) as page:
        page.get_by_text("Upload a short clip").first.wait_for()
        upload = page.locator('input[type="file"]')
        upload.wait_for(state="attached")
        upload.set_input_files(str(clip))
        page.get_by_text("Emotions over time").first.wait_for()
        page.locator(".vega-embed").first.wait_for(state="visible")
        page.get_by_text("Key frames").first.wait_for()


def test_users_at_once_through_every_page(dashboard_with_data, tmp_path):
    """Issue 13: sessions share the dashboard's cached warehouse; at the same time, each changes the
    emotion filter, visits every page and uploads a photo, and none meets an exception."""
    _require_chromium()
    url, log = dashboard_with_data
    runs = run_users(url, USERS_AT_ONCE, _portrait(tmp_path), timeout_ms=RENDER_MS)
    problems = [f"user {run.user}: {error}" for run in runs for error in run.errors]
    assert not problems, "\n".join(problems) + "\n" + log.read_text()[-3000:]
    for run in runs:
        assert set(run.seconds) >= {link for link, _ in PAGES} | {UPLOAD}, run.seconds
    assert "Traceback" not in log.read_text()


def test_screenshot_script_makes_a_small_png(images_db, tmp_path):
    """scripts/screenshot.py, which makes the README's picture, works (here on a generated warehouse)."""
    _require_chromium()
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, "scripts/screenshot.py", "--page", "data_quality", "--db", str(images_db),
         "--out", str(out), "--height", "700"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 300 * 1024
