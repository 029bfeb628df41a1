"""Warehouse records of training runs: `runs` and `history` rows from a model's sidecar metadata."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from faceemo import store


def write_run(con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> str | None:
    """Insert (or replace) the run and per-epoch history described by a sidecar; returns the run id."""
    run_id = meta.get("run_id")
    history = meta.get("history") or []
    if not run_id:
        return None
    started = meta.get("created_at")
    finished = None
    if started:
        finished = dt.datetime.fromisoformat(started) + dt.timedelta(
            seconds=float(meta.get("train_seconds") or 0)
        )
    rows = [
        (int(row["epoch"]), metric, float(value))
        for row in history
        for metric, value in row.items()
        if metric != "epoch" and value is not None
    ]
    store.write_run(
        con, run_id, meta["model_id"], started, finished,
        json.dumps(meta.get("config") or {}, default=str), rows,
    )
    return run_id
