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
