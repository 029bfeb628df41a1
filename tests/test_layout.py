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


def _registered_pages() -> list[str]:
    """The views modules streamlit_app.py registers as pages (st.Page(module.render, ...) via page())."""
    tree = ast.parse((REPO_ROOT / "streamlit_app.py").read_text())
    return [
        node.args[0].id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "page"
        and node.args and isinstance(node.args[0], ast.Name)
    ]


def _calls_streamlit(node: ast.AST) -> bool:
    return any(
        isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        and isinstance(root := _root(call.func), ast.Name) and root.id == "st"
        for call in ast.walk(node)
    )


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def _import_time_work(tree: ast.Module) -> list[str]:
    """Top-level statements that would draw or compute when the module is imported: anything but imports,
    definitions (decorators such as st.cache_data define, they do not draw), the docstring and UPPER_CASE
    constants that call no Streamlit."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        constant = all(isinstance(t, ast.Name) and t.id.isupper() for t in targets)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and constant and not _calls_streamlit(node):
            continue
        found.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0][:60]}")
    return found


def test_the_app_registers_every_page_module() -> None:
    pages = _registered_pages()
    assert pages == [
        "overview", "class_balance", "data_quality", "models", "landmarks", "distances", "predict", "video"
    ]


@pytest.mark.parametrize("path", python_files("views"), ids=lambda p: p.name)
def test_views_modules_do_nothing_when_imported(path: Path) -> None:
    """A page is a render() function that streamlit_app.py registers (st.Page(module.render)); importing
    a views module draws nothing and computes nothing."""
    tree = ast.parse(path.read_text())
    assert not _import_time_work(tree), _import_time_work(tree)
    if path.stem in _registered_pages():
        renders = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "render"]
        assert renders and not renders[0].args.args, f"{path.name} has no render() without arguments"


def test_the_import_check_sees_a_page_script() -> None:
    script = "import streamlit as st\nX = 3\nst.title('Models')\nrows = load('models')\nY = st.columns(2)\n"
    found = [line.split(":")[0] for line in _import_time_work(ast.parse(script))]
    assert found == ["line 3", "line 4", "line 5"]
