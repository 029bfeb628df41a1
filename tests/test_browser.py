"""A real headless Chromium uploads a photo to the running dashboard and sees the probabilities chart.

Drives Debian's /usr/bin/chromium through Playwright's Python package (never `playwright install`:
its browser download host is unreachable here), against `streamlit run streamlit_app.py` on a free
127.0.0.1 port, with a temp warehouse path and tiny stand-in models.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from faceemo.paths import REPO_ROOT
from tests.conftest import FER_ARCHIVE, require_file
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face, tiny_models_folder

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STARTUP_SECONDS = 120
RENDER_MS = 150_000  # the first prediction imports TensorFlow and loads the models: slow on 2 shared cores

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit did not start within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def dashboard(tmp_path, tmp_path_factory):
    """The real dashboard on a free localhost port; always terminated."""
    port = _free_port()
    env = {
        **os.environ,
        "FACEEMO_DB": str(tmp_path / "faceemo.duckdb"),
        "FACEEMO_MODELS": str(tiny_models_folder(tmp_path_factory.getbasetemp(), "both")),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port),
    ]  # the rest (no file watcher, no usage statistics) comes from .streamlit/config.toml, as for users
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, server, log)
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


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


def test_upload_a_photo_and_see_the_probabilities(dashboard, tmp_path):
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it with apt)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    url, log = dashboard
    canvas, _ = face_on_canvas(fer_face(require_file(FER_ARCHIVE), FER_HAPPY_FACES[0]))
    photo = tmp_path / "portrait.png"
    Image.fromarray(canvas).save(photo)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS, headless=True, timeout=60_000,
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(RENDER_MS)
            page.goto(f"{url}/predict", wait_until="domcontentloaded", timeout=60_000)
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
            assert "Traceback" not in page.content()
            assert not _noise(log), "\n".join(_noise(log)[:20])
        except Exception:
            print(log.read_text()[-3000:])
            raise
        finally:
            browser.close()


def test_screenshot_script_makes_a_small_png(images_db, tmp_path):
    """scripts/screenshot.py, which makes the README's picture, works (here on a generated warehouse)."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it with apt)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, "scripts/screenshot.py", "--page", "data_quality", "--db", str(images_db),
         "--out", str(out), "--height", "700"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 300 * 1024
