"""`python -m pipelines STEP --help` speaks to a user: every option explains itself, no internals leak."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from faceemo.paths import REPO_ROOT
from pipelines.__main__ import build_parser

# Words that belong to the developers' notes, not to a user's help screen.
INTERNALS = ("64 MiB", "GPU machine", "DuckDB", "device call", "named query", "sidecar", "`landmarks` table")


def _steps() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


STEPS = _steps()


@pytest.mark.parametrize("step", list(STEPS))
def test_every_option_has_help(step):
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in STEPS[step]._actions
        if not (action.help and action.help.strip()) and action.help != argparse.SUPPRESS
    ]
    assert not missing, f"`{step}` options without help text: {missing}"


@pytest.mark.parametrize("step", list(STEPS))
def test_help_speaks_to_a_user(step):
    text = STEPS[step].format_help()
    leaked = [word for word in INTERNALS if word in text]
    assert not leaked, f"`{step} --help` mentions {leaked}"


def test_help_runs_from_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "evaluate", "--help"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--tta" in done.stdout and "test-time augmentation" in done.stdout
