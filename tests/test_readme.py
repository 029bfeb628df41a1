"""The README is a short front door whose model figures come from the model cards, never typed."""

from __future__ import annotations

import re
import subprocess
import sys

from faceemo.paths import REPO_ROOT

README = REPO_ROOT / "README.md"
SCREENSHOT = REPO_ROOT / "docs" / "img" / "dashboard.png"


def test_readme_is_short_and_links_resolve():
    text = README.read_text()
    assert len(text.encode()) <= 6 * 1024
    assert "scripts/dashboard.sh" in text and "scripts/test.sh" in text  # the two commands
    for target in re.findall(r"\]\((?!https?://)([^)#]+)", text):
        assert (REPO_ROOT / target).exists(), f"README links to a missing {target}"
    for name in ("architecture", "pipelines", "models", "benchmarks"):
        assert f"docs/{name}.md" in text


def test_readme_names_the_data_sources():
    text = README.read_text()
    for link in ("kaggle.com/datasets/msambare/fer2013", "arxiv.org/abs/1307.0414",
                 "github.com/udacity/P1_Facial_Keypoints", "wolf/ytfaces"):
        assert link in text, link
    assert "Terms" in text or "terms" in text


def test_readme_model_figures_match_the_cards():
    done = subprocess.run(
        [sys.executable, "scripts/readme_figures.py", "--check"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_generator_lists_every_committed_model(tmp_path):
    """A new model (and a new production choice) shows up without touching the generator."""
    import json
    import shutil

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    try:
        import readme_figures
    finally:
        sys.path.pop(0)
    for path in (REPO_ROOT / "models").glob("emotion_*.json"):
        shutil.copy(path, tmp_path / path.name)
        (tmp_path / path.with_suffix(".keras").name).write_bytes(b"stand-in")
    meta = json.loads(next(tmp_path.glob("emotion_*.json")).read_text())
    meta |= {"model_id": "emotion_new", "params": 4_200_000,
             "metrics": {"PrivateTest": {"accuracy": 0.7012, "macro_f1": 0.6543}},
             "metrics_tta": {"PrivateTest": {"accuracy": 0.7234, "macro_f1": 0.68}}}
    (tmp_path / "emotion_new.json").write_text(json.dumps(meta))
    (tmp_path / "emotion_new.keras").write_bytes(b"stand-in")
    (tmp_path / "production.json").write_text(json.dumps({"emotion": "emotion_new"}))
    table = readme_figures.render(tmp_path)
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    new = (
        "| [emotion_new](models/emotion_new.md) (production) | 4.20M | 70.12% / 65.43% | 72.34% / 68.00% "
        "| – / –"
    )
    assert rows[0].startswith(new), rows
    assert len(rows) == 1 + len(list((REPO_ROOT / "models").glob("emotion_*.json")))


def test_screenshot_is_there_and_small():
    assert SCREENSHOT.exists(), "make it with: python scripts/screenshot.py"
    assert SCREENSHOT.stat().st_size < 300 * 1024
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
