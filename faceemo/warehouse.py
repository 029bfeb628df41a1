"""The DuckDB warehouse: schema migrations, safe writes, read-only access and named queries.

Writes are copy-on-write: a pipeline copies the warehouse to a temporary file beside it, works on that
copy, and atomically renames it over the original only when it finished. So

* a killed or failed pipeline leaves the previous warehouse untouched (the temp file is swept later);
* the dashboard never waits on a writer: it holds a read-only connection to the old file, and picks up
  the new one on its next rerun (pages key their cached connection on the file's identity);
* two pipelines never interleave: writers take an exclusive lock file, the second one waits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from faceemo.errors import WarehouseError
from faceemo.paths import QUERIES_DIR, SCHEMA_DIR, resolve_db

FILL_COMMAND = "python -m pipelines ingest"


def schema_files() -> list[Path]:
    """Versioned schema files, applied in name order (NNN_name.sql)."""
    return sorted(SCHEMA_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def apply_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the schema files this warehouse has not seen yet; returns the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for path in schema_files():
        if path.stem in done:
            continue
        con.execute(path.read_text())
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [path.stem])
        applied.append(path.stem)
    return applied


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Schema versions this warehouse has not applied yet (works on a read-only connection)."""
    done: set[str] = set()
    if has_table(con, "schema_migrations"):
        with _cursor(con) as cursor:
            done = {row[0] for row in cursor.execute("SELECT version FROM schema_migrations").fetchall()}
    return [path.stem for path in schema_files() if path.stem not in done]


def migrate(db: str | os.PathLike | None = None) -> list[str]:
    """Bring an existing warehouse's schema up to date (views the pages need); returns what was applied.

    A no-op that publishes nothing when the schema is current.
    """
    con = connect_readonly(db)
    try:
        if not pending_migrations(con):
            return []
    finally:
        con.close()
    with writing(db) as con:
        return apply_schema(con)


def _lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _sweep_temp_files(db: Path) -> None:
    for stale in db.parent.glob(db.name + ".tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


@contextlib.contextmanager
def writing(db: str | os.PathLike | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a private copy of the warehouse, published atomically on success.

    Creates the warehouse (and its folder) when it does not exist yet.
    """
    db = resolve_db(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_path(db), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another pipeline that is writing {db} ...", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        _sweep_temp_files(db)
        tmp = db.with_name(f"{db.name}.tmp-{os.getpid()}")
        if db.exists():
            shutil.copy2(db, tmp)
        con = duckdb.connect(str(tmp))
        try:
            apply_schema(con)
            yield con
            con.execute("CHECKPOINT")
            con.close()
            os.replace(tmp, db)
            dir_fd = os.open(db.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            con.close()
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise


def connect_readonly(db: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection; a clear WarehouseError when the file is missing or unreadable."""
    db = resolve_db(db)
    if not db.exists():
        raise WarehouseError(f"no warehouse at {db}: fill it with `{FILL_COMMAND}`")
    # Attached into a private in-memory database rather than `duckdb.connect(path)`: DuckDB caches one
    # instance per path in a process, which would keep serving the old file after a pipeline publishes.
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{sql_string(db)}' AS warehouse (READ_ONLY)")
        con.execute("USE warehouse")
        return con
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"cannot open the warehouse {db}: {exc}") from exc


def sql_string(path: Path) -> str:
    """`path` inside a SQL string literal (its quotes doubled)."""
    return str(path).replace("'", "''")


def file_identity(db: str | os.PathLike | None = None) -> tuple[int, int] | None:
    """(inode, mtime_ns) of the warehouse file, or None if missing: changes whenever a pipeline publishes."""
    try:
        st = resolve_db(db).stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


@contextlib.contextmanager
def _cursor(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of its own on `con`, closed afterwards: the one way every read here reaches DuckDB.

    A DuckDB connection runs one call at a time ("connection is busy with another call" from a second
    thread); a cursor is a new connection to the same database instance, so threads sharing `con` (the
    dashboard's sessions) never collide.
    """
    cursor = con.cursor()
    try:
        # A cursor does not inherit `USE warehouse` (connect_readonly attaches the file under that
        # name), so select it again.
        if cursor.execute(
            "SELECT count(*) FROM duckdb_databases() WHERE database_name = 'warehouse'"
        ).fetchone()[0]:
            cursor.execute("USE warehouse")
        yield cursor
    finally:
        cursor.close()


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    with _cursor(con) as cursor:
        return bool(
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchone()[0]
        )


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in `table`, 0 when the table does not exist (an older or empty warehouse)."""
    if not has_table(con, table):
        return 0
    with _cursor(con) as cursor:
        return int(cursor.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def query_sql(name: str) -> str:
    """The text of a named query, warehouse/queries/<name>.sql."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.exists():
        raise WarehouseError(f"unknown query {name!r} (no {path})")
    return path.read_text()


def query(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pd.DataFrame:
    """Run a named query with `$name` parameters and return a data frame."""
    sql = query_sql(name)
    with _cursor(con) as cursor:
        return cursor.execute(sql, params or None).df()


RESULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def result_view_name(name: str) -> str:
    """The view of an attached result set: results_<name> (lower case, '-' as '_')."""
    if not RESULT_NAME.match(name):
        raise WarehouseError(
            f"--name {name!r}: use 1 to 40 letters, digits, '_' or '-', starting with a letter"
        )
    return "results_" + name.lower().replace("-", "_")


class WarehouseChanged(WarehouseError):
    """The file was replaced while it was being opened: ask for the current version again."""


class Reader:
    """A read-only warehouse version that many threads share (the dashboard's sessions).

    Its connection is private and has no public way to run SQL: the only reads are the methods below,
    and each runs on a cursor of its own (see `_cursor`). It keeps reading the file it opened even after
    a pipeline publishes a new one, so whoever holds it sees one version, never a mix.
    """

    def __init__(self, db: str | os.PathLike | None = None, identity: tuple[int, int] | None = None) -> None:
        """Open `db`; with `identity`, WarehouseChanged unless that exact file version was opened."""
        self.path = resolve_db(db)
        if identity is not None and file_identity(self.path) != identity:
            raise WarehouseChanged(f"{self.path} is no longer the version asked for")  # replaced or removed
        self._con = connect_readonly(self.path)
        # stat after the ATTACH: a file swapped in meanwhile has another identity, never a wrong label
        opened = file_identity(self.path)
        if identity is not None and opened != identity:
            self._con.close()
            raise WarehouseChanged(f"{self.path} changed while it was opened")
        self.identity = opened

    def query(self, name: str, **params: object) -> pd.DataFrame:
        """A named query (warehouse/queries/<name>.sql) as a data frame."""
        return query(self._con, name, **params)

    def has_table(self, table: str) -> bool:
        return has_table(self._con, table)

    def row_count(self, table: str) -> int:
        """Rows in `table`, 0 when it does not exist."""
        return row_count(self._con, table)

    def close(self) -> None:
        self._con.close()


def wait_for_unlock(db: str | os.PathLike | None = None, timeout: float = 0.0) -> bool:
    """True when no pipeline is writing `db` (waits up to `timeout` seconds)."""
    lock_file = _lock_path(resolve_db(db))
    if not lock_file.exists():
        return True
    deadline = time.monotonic() + timeout
    with open(lock_file, "a+") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(lock, fcntl.LOCK_UN)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.1)
