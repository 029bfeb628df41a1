"""The layout docs/architecture.md describes, checked: the library imports no page or pipeline code and
no Streamlit; SQL text lives only in the store, the warehouse module and warehouse/*.sql; and every write
and every named read outside the dashboard goes through faceemo/store.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from faceemo.paths import REPO_ROOT

CODE_DIRS = ("faceemo", "pipelines", "views", "scripts", "benchmarks")
SQL_HOMES = {"faceemo/store.py", "faceemo/warehouse.py"}
SQL = re.compile(r"^\s*(SELECT|INSERT|DELETE|CREATE|UPDATE|ALTER|DROP|WITH)\s", re.MULTILINE)


def python_files(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (REPO_ROOT / d).rglob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", python_files("faceemo"), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_the_library_imports_no_pages_pipelines_or_streamlit(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(ast.parse(path.read_text()))}
    assert not roots & {"streamlit", "views", "pipelines"}


def test_sql_text_lives_only_in_the_store_and_the_warehouse_module() -> None:
    offenders = []
    for path in python_files(*CODE_DIRS):
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel in SQL_HOMES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, offenders


# what only the store (and the warehouse module's connection, migration and query runner) may call
DB_CALLS = {"execute", "executemany", "sql", "register", "unregister", "from_df", "append"}


def _db_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        if node.func.attr in DB_CALLS and isinstance(owner, ast.Name) and owner.id in {"con", "cursor"}:
            found.append((node.lineno, f"{owner.id}.{node.func.attr}"))
        elif node.func.attr == "query" and isinstance(owner, ast.Name) and owner.id == "warehouse":
            found.append((node.lineno, "warehouse.query"))
    return found


def test_every_write_and_named_read_goes_through_the_store() -> None:
    """Pipelines, library, scripts and benchmarks reach the warehouse's rows only through faceemo/store.py
    (the dashboard reads through views/common.py: tests/test_views_access.py)."""
    offenders = [
        f"{path.relative_to(REPO_ROOT).as_posix()}:{line}: {call}"
        for path in python_files("faceemo", "pipelines", "scripts", "benchmarks")
        if path.relative_to(REPO_ROOT).as_posix() not in SQL_HOMES
        for line, call in _db_calls(ast.parse(path.read_text()))
    ]
    assert not offenders, "\n".join(offenders)


def test_the_warehouse_module_writes_no_rows() -> None:
    """faceemo/warehouse.py connects, migrates and runs named queries; the rows are written by the store."""
    tree = ast.parse((REPO_ROOT / "faceemo" / "warehouse.py").read_text())
    writes = [
        f"line {node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and re.match(r"\s*(INSERT|DELETE|UPDATE)\s", node.value)
        and "schema_migrations" not in node.value
    ]
    assert not writes, writes


# data work a page must leave to faceemo.analytics (DataFrame methods that group, reshape, join, sort,
# sample, aggregate, summarise, map values or look rows up by a key); pages only draw the results
FRAME_WORK = {
    "groupby", "merge", "join", "pivot", "pivot_table", "melt", "agg", "aggregate", "value_counts",
    "crosstab",
    "transform", "apply", "sort_values", "nlargest", "nsmallest", "stack", "unstack", "explode", "resample",
    "rolling", "expanding", "describe", "sample", "drop_duplicates", "cumsum", "quantile",
    "sum", "mean", "median", "std", "var", "min", "max", "count", "nunique", "unique", "idxmax", "idxmin",
    "map", "set_index", "reindex",
}
PANDAS_FUNCTIONS = {"concat", "merge", "crosstab", "pivot", "pivot_table", "melt", "cut", "qcut"}


def _frame_work(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, owner = node.func.attr, node.func.value
        if isinstance(owner, ast.Name) and owner.id == "pd":
            if name in PANDAS_FUNCTIONS:
                found.append((node.lineno, f"pd.{name}"))
        elif name in FRAME_WORK and not isinstance(owner, ast.Constant):
            found.append((node.lineno, f".{name}()"))  # "sep".join(...), "text".count("x") are text
    return found


@pytest.mark.parametrize(
    "path", [*python_files("views"), REPO_ROOT / "streamlit_app.py"], ids=lambda p: p.name
)
def test_pages_leave_data_work_to_the_analytics_layer(path: Path) -> None:
    """No page groups, joins, reshapes, sorts or aggregates a frame: faceemo/analytics.py does, and the
    page draws its result (docs/architecture.md)."""
    offenders = [f"{path.name}:{line}: {call}" for line, call in _frame_work(ast.parse(path.read_text()))]
    assert not offenders, "\n".join(offenders)


def test_the_data_work_check_sees_a_groupby() -> None:
    page = "counts = frame.groupby('emotion')['n'].sum()\ntable = pd.concat([a, b])\nline = ', '.join(x)\n"
    assert sorted(_frame_work(ast.parse(page))) == [(1, ".groupby()"), (1, ".sum()"), (2, "pd.concat")]


def test_the_data_work_check_sees_lookups_means_and_mapped_values() -> None:
    page = (
        "row = models.set_index('model_id').loc[m]\n"
        "f1 = per_class['F1'].mean()\n"
        "names = frame['emotion'].map(DISPLAY_NAMES)\n"
        "n = 'a-b'.count('-') + max(1, len(x))\n"  # text and builtins are not data work
    )
    assert sorted(_frame_work(ast.parse(page))) == [(1, ".set_index()"), (2, ".mean()"), (3, ".map()")]
