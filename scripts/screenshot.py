"""Screenshot of a dashboard page, for the README: `python scripts/screenshot.py [--page models]`.

Starts `streamlit run streamlit_app.py` on a free local port over the warehouse (--db, else $FACEEMO_DB,
else warehouse/faceemo.duckdb), opens the page in Debian's headless Chromium (driven by Playwright; its own
browser download is not needed), waits until the page has drawn and writes a compact PNG
(default docs/img/dashboard.png). Rerun it after a model or page changes: the picture never goes stale.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# one home for starting the dashboard and Chromium: the browser tests' driver
from tests.dashboard_driver import CHROMIUM_ARGS, DashboardFailed, chromium_path, serve_dashboard  # noqa: E402

# What each page shows once it has drawn (the text waited for).
READY = {
    "models": "Per-class precision, recall and F1",
    "landmarks": "mean points",
    "distances": "Per-emotion table",
    "class_balance": "Sample faces",
    "data_quality": "Duplicate groups",
}


def chromium() -> str:
    path = chromium_path()
    if path is None:
        sys.exit("error: Debian's chromium is not installed (apt-get install chromium)")
    return path


def settle(page, ready_text: str, timeout_ms: int = 300_000) -> None:
    """Wait until `ready_text` is on the page, Streamlit has stopped running and the charts are drawn."""
    page.get_by_text(ready_text).first.wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(2500)  # Vega draws after the script finished


def compact_png(png: bytes, out: Path, colours: int = 128) -> int:
    """Write `png` as a palette PNG (a dashboard has few colours): a fraction of the size. Returns bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="models", choices=sorted(READY), help="the page (default models)")
    parser.add_argument("--db", default=None, help="warehouse (default: $FACEEMO_DB, else the project's)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "dashboard.png"), help="PNG to write")
    parser.add_argument("--width", type=int, default=1400, help="browser width in pixels (default 1400)")
    parser.add_argument("--height", type=int, default=1000, help="browser height in pixels (default 1000)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    env = {"FACEEMO_DB": str(Path(args.db).resolve())} if args.db else {}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "streamlit.log"
        try:
            with serve_dashboard(log, env) as dashboard, sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium(), args=CHROMIUM_ARGS, headless=True
                )
                try:
                    page = browser.new_page(viewport={"width": args.width, "height": args.height})
                    page.goto(f"{dashboard.url}/{args.page}", wait_until="domcontentloaded", timeout=120_000)
                    settle(page, READY[args.page])
                    size = compact_png(page.screenshot(), Path(args.out))
                finally:
                    browser.close()
        except DashboardFailed as exc:
            sys.exit(f"error: the dashboard did not start: {exc}")
    print(f"wrote {args.out} ({size / 1024:.0f} KB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
