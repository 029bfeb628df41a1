"""Options shared by the pipeline steps."""

from __future__ import annotations

import argparse


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
