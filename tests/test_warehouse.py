import threading
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

from faceemo import warehouse
from faceemo.errors import WarehouseError


def test_schema_is_applied_once(db_path):
    with warehouse.writing(db_path) as con:
        first = con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    with warehouse.writing(db_path) as con:
        assert warehouse.apply_schema(con) == []
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == first
    assert first == len(warehouse.schema_files())


def test_failed_write_leaves_previous_state(images_db):
    before = warehouse.row_count(warehouse.connect_readonly(images_db), "images")
    with pytest.raises(RuntimeError), warehouse.writing(images_db) as con:
        con.execute("DELETE FROM images")
        raise RuntimeError("killed halfway")
    con = warehouse.connect_readonly(images_db)
    assert warehouse.row_count(con, "images") == before > 0
    assert not list(images_db.parent.glob("*.tmp-*"))


def test_reader_keeps_working_while_a_writer_publishes(images_db):
    reader = warehouse.connect_readonly(images_db)
    n = reader.execute("SELECT count(*) FROM images").fetchone()[0]
    with warehouse.writing(images_db) as con:
        con.execute("DELETE FROM images WHERE usage = 'Training'")
    # the open reader still sees its (old) file; a new reader sees the published one
    assert reader.execute("SELECT count(*) FROM images").fetchone()[0] == n
    assert warehouse.connect_readonly(images_db).execute("SELECT count(*) FROM images").fetchone()[0] < n


def test_missing_warehouse_is_a_clear_error(db_path):
    with pytest.raises(WarehouseError, match="pipelines ingest"):
        warehouse.connect_readonly(db_path)


def test_readonly_connection_cannot_write(images_db):
    con = warehouse.connect_readonly(images_db)
    with pytest.raises(duckdb.Error):
        con.execute("DELETE FROM images")


def test_reader_has_no_public_way_to_run_sql(images_db):
    # the dashboard's shared object: reads go through its methods, each on a cursor of its own
    reader = warehouse.Reader(images_db)
    public = {name for name in dir(reader) if not name.startswith("_")}
    assert public == {"close", "has_table", "identity", "path", "query", "row_count"}
    assert reader.identity == warehouse.file_identity(images_db)


def test_reader_refuses_a_version_that_is_gone(images_db):
    old = warehouse.file_identity(images_db)
    with warehouse.writing(images_db) as con:
        con.execute("DELETE FROM images WHERE usage = 'Training'")
    with pytest.raises(warehouse.WarehouseChanged):
        warehouse.Reader(images_db, old)  # opening the path now gives the new file: never label it old
    current = warehouse.file_identity(images_db)
    images_db.unlink()
    with pytest.raises(warehouse.WarehouseChanged):
        warehouse.Reader(images_db, current)  # removed: the page starts over and says how to fill it


def test_one_reader_shared_by_many_threads(images_db):
    # the bug of issue 13: has_table/row_count on the shared connection while another thread queried
    # raised "connection is busy with another call"
    reader = warehouse.Reader(images_db)
    expected = reader.row_count("images")

    def work(i: int) -> None:
        for _ in range(30):
            assert reader.has_table("images") and not reader.has_table("no_such_table")
            assert reader.row_count("images") == expected
            assert len(reader.query("overview_counts", dataset="fer2013")) > 0

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))


def test_concurrent_readers_see_old_or_new_never_a_mix(images_db):
    """Readers keep querying while a writer publishes new versions: every read of two tables in one
    version agrees (the dashboard's pages each read one pinned version), and nothing raises."""
    with warehouse.writing(images_db) as con:
        con.execute("CREATE TABLE version_marker (version INTEGER)")  # version k holds k rows
    total = warehouse.row_count(warehouse.connect_readonly(images_db), "images")
    per_version = 3  # faces each publish removes
    versions = 5
    readers: dict[tuple[int, int], warehouse.Reader] = {}
    lock = threading.Lock()
    done = threading.Event()
    seen: set[int] = set()
    errors: list[BaseException] = []

    def reader_for_now() -> warehouse.Reader | None:
        # what views.common does: one Reader per file identity, shared by every session
        identity = warehouse.file_identity(images_db)
        with lock:
            if identity not in readers:
                try:
                    readers[identity] = warehouse.Reader(images_db, identity)
                except warehouse.WarehouseChanged:
                    return None  # swapped while opening: ask again
            return readers[identity]

    def read_loop() -> None:
        try:
            while not done.is_set():
                reader = reader_for_now()
                if reader is None:
                    continue
                version = reader.row_count("version_marker")
                assert reader.row_count("images") == total - per_version * version
                counts = reader.query("overview_counts", dataset="fer2013")
                assert int(counts["images"].sum()) == total - per_version * version
                seen.add(version)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=read_loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for version in range(1, versions + 1):
            time.sleep(0.05)
            with warehouse.writing(images_db) as con:
                con.execute(
                    f"DELETE FROM images WHERE image_id IN "
                    f"(SELECT image_id FROM images ORDER BY image_id LIMIT {per_version})"
                )
                con.execute("INSERT INTO version_marker VALUES (?)", [version])
        time.sleep(0.2)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors[0]
    assert len(seen) >= 2  # the readers did see versions change under them
