"""Options shared by the pipeline steps."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default=None,
        help="warehouse file (default: $FACEEMO_DB, else warehouse/faceemo.duckdb)",
    )


def add_data_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--data", default=None,
        help=f"{what}: an archive or a folder (default: $FACEEMO_DATA, else ../shared/data)",
    )


def add_model_argument(parser: argparse.ArgumentParser, task: str, flag: str = "--model") -> None:
    parser.add_argument(flag, default=None, help=f"{task} model id (default: the production one)")


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed, for repeatable runs (default 0)")


def add_time_budget_argument(parser: argparse.ArgumentParser, default: float | None, help: str) -> None:
    parser.add_argument("--time-budget", type=float, default=default, metavar="MINUTES", help=help)


def add_init_from_argument(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--init-from", default=None, metavar="MODEL", help=help)


def print_model_result(
    name: str, keras_path: Path, scores: dict[str, dict[str, float]], **extra: Any
) -> None:
    """The emotion steps' last stdout line: one JSON object with the model, its file and its figures."""
    metrics = {u: {k: s[k] for k in ("accuracy", "macro_f1")} for u, s in scores.items()}
    print(json.dumps({"model": name, "path": str(keras_path), "metrics": metrics, **extra}))
