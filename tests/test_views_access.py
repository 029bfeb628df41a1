"""The dashboard's sessions share one warehouse object: no page may run SQL on it directly.

Every read goes through views.common (load / read / row_count), which reaches DuckDB through
warehouse.Reader, whose reads each open a cursor of their own. These checks keep a new page, or a new
helper in faceemo/warehouse.py, from running a query on the shared connection (issue 13).
"""

from __future__ import annotations

import ast
import re

import pytest

from faceemo.paths import REPO_ROOT

DASHBOARD_FILES = sorted((REPO_ROOT / "views").glob("*.py")) + [REPO_ROOT / "streamlit_app.py"]
FORBIDDEN = {
    r"\.execute\(": "runs SQL on a connection",
    r"\.cursor\(": "opens a cursor on a connection",
    r"\.sql\(": "runs SQL on a connection",
    r"^\s*(import duckdb|from duckdb)": "uses DuckDB directly",
    r"connect_readonly|duckdb\.connect": "opens a connection of its own",
    r"warehouse\.(query|has_table|row_count)\(": "queries a connection instead of a Reader",
    r"\._con\b": "reaches into a Reader's private connection",
}
# the functions of faceemo/warehouse.py that may call .execute on something other than a fresh cursor:
# migrations (the writes live in faceemo/store.py) and the setup of a connection no one else holds yet
WAREHOUSE_OWNERS = {"apply_schema", "writing", "connect_readonly", "_cursor"}


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_pages_read_only_through_views_common(path):
    text = path.read_text()
    problems = [
        f"{path.name}:{n}: {why}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        for pattern, why in FORBIDDEN.items()
        if re.search(pattern, line) and not (path.name == "common.py" and "Reader(" in line)
    ]
    assert not problems, "\n".join(problems)


def test_warehouse_reads_run_on_their_own_cursor():
    tree = ast.parse((REPO_ROOT / "faceemo" / "warehouse.py").read_text())
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or node.name in WAREHOUSE_OWNERS:
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in {"execute", "sql"}
                and not (isinstance(call.func.value, ast.Name) and call.func.value.id == "cursor")
            ):
                problems.append(f"{node.name}() line {call.lineno}: .{call.func.attr} not on its own cursor")
    assert not problems, "\n".join(problems)
