"""The layout docs/architecture.md describes, checked: the library imports no page or pipeline code and
no Streamlit, and SQL text lives only in the store, the warehouse module and warehouse/*.sql."""

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
