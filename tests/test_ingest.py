"""The ingest step: into a real DuckDB file, idempotent, atomic, with clear failures; and the real
FER-2013 archive counted exactly as the data README says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from faceemo import quality, store, warehouse
from faceemo.errors import DataError
from faceemo.ingest import ingest
from faceemo.labels import EMOTIONS
from faceemo.paths import REPO_ROOT
from faceemo.pixels import face_from_blob
from tests.archive_factories import corrupt_member, fer_files, image_bytes, write_folder, write_zip
from tests.conftest import FER_ARCHIVE, require_file
from tests.factories import drawn_face

# The data README's table: usage -> counts in EMOTIONS order (angry disgust fear happy sad surprise neutral)
README_COUNTS = {
    "Training": [3995, 436, 4097, 7215, 4830, 3171, 4965],
    "PublicTest": [467, 56, 496, 895, 653, 415, 607],
    "PrivateTest": [491, 55, 528, 879, 594, 416, 626],
}
FER_SHA256 = "18b836746e820e4407c22cc447d98809391d6383b75c8a38045e6af82ac74b91"


def rows(db, sql="SELECT * EXCLUDE (ingest_id) FROM images ORDER BY image_id"):
    con = warehouse.connect_readonly(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def small_zip(tmp_path):
    files = fer_files(per_class=2)
    files["test/happy/PublicTest_broken.jpg"] = b"not an image"
    files["train/neutral/Training_blank.png"] = image_bytes(np.full((48, 48), 128, np.uint8))
    return write_zip(tmp_path / "fer2013.zip", files)


def test_ingest_writes_faces_stats_and_an_ingests_row(small_zip, db_path):
    result = ingest(small_zip, db=db_path)
    assert result.status == "ingested" and result.n_images == 29
    assert [s.file for s in result.skipped] == ["test/happy/PublicTest_broken.jpg"]
    assert int(result.counts.loc["total", "total"]) == 29
    con = warehouse.connect_readonly(db_path)
    ingests = con.execute("SELECT * FROM ingests").df()
    assert len(ingests) == 1
    row = ingests.iloc[0]
    assert row.source_sha256 == result.sha256 and row.source_bytes == small_zip.stat().st_size
    assert (row.layout, row.source_kind, row.n_images, row.n_skipped) == ("image-folders", "zip", 29, 1)
    assert json.loads(row.skipped)[0]["file"] == "test/happy/PublicTest_broken.jpg"
    faces = con.execute("SELECT emotion, pixels, mean, std, is_blank, file_name FROM images").df()
    for face in faces.itertuples():
        pixels = face_from_blob(face.pixels)
        assert face.mean == pytest.approx(pixels.mean(), abs=1e-3)
        assert face.std == pytest.approx(pixels.std(), abs=1e-3)
        assert face.is_blank == (face.file_name == "Training_blank.png")
    assert set(faces["emotion"]) == set(EMOTIONS)


def test_second_run_changes_nothing(small_zip, db_path):
    ingest(small_zip, db=db_path)
    identity, before = warehouse.file_identity(db_path), rows(db_path)
    again = ingest(small_zip, db=db_path)
    assert again.status == "up-to-date" and again.n_images == 29 and len(again.skipped) == 1
    assert warehouse.file_identity(db_path) == identity  # not even republished
    assert rows(db_path) == before


def test_forced_or_changed_source_keeps_ids_of_unchanged_faces_and_drops_stale_predictions(tmp_path, db_path):
    files = fer_files(per_class=2)
    ingest(write_folder(tmp_path / "v1", files), db=db_path)
    forced = ingest(tmp_path / "v1", db=db_path, force=True)
    assert forced.status == "ingested"
    ids = dict(rows(db_path, "SELECT source_file, image_id FROM images"))
    # a prediction for every face, then one face changes and one is removed
    with warehouse.writing(db_path) as con:
        con.execute("INSERT INTO predictions SELECT 'm', image_id, false, label, .1, .1, .1, .1, .1, .1, .4 "
                    "FROM images")
    changed, removed = "train/happy/Training_10006.png", "test/sad/PublicTest_10022.png"
    files[changed] = image_bytes(drawn_face("happy", seed=1234))
    del files[removed]
    result = ingest(write_folder(tmp_path / "v2", files), db=db_path)
    assert result.status == "ingested" and result.dropped == {"predictions": 2}
    new_ids = dict(rows(db_path, "SELECT source_file, image_id FROM images"))
    assert removed not in new_ids and new_ids[changed] != ids[changed]
    assert {k: v for k, v in new_ids.items() if k != changed} == {
        k: v for k, v in ids.items() if k not in (changed, removed)}
    predicted = {r[0] for r in rows(db_path, "SELECT image_id FROM predictions")}
    assert predicted == set(new_ids.values()) - {new_ids[changed]}


def test_failure_midway_keeps_the_previous_warehouse(tmp_path, db_path, monkeypatch):
    ingest(write_zip(tmp_path / "old.zip", fer_files(per_class=1)), db=db_path)
    identity, before = warehouse.file_identity(db_path), rows(db_path)

    # 1) a damaged member late in the archive, after several batches were written to the copy
    files = fer_files(per_class=3)
    bad = write_zip(tmp_path / "bad.zip", files)
    corrupt_member(bad, "test/neutral/PrivateTest_10040.png")
    with pytest.raises(DataError, match="damaged"):
        ingest(bad, db=db_path, batch_size=4)
    assert warehouse.file_identity(db_path) == identity and rows(db_path) == before

    # 2) any failure after N rows were inserted
    calls = {"n": 0}
    real_insert = store.append_images

    def failing_insert(con, table):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full (simulated)")
        real_insert(con, table)

    monkeypatch.setattr(store, "append_images", failing_insert)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest(write_zip(tmp_path / "new.zip", fer_files(per_class=3)), db=db_path, batch_size=4)
    assert warehouse.file_identity(db_path) == identity and rows(db_path) == before
    assert not list(db_path.parent.glob("*.tmp-*"))


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines", "ingest", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_fails_in_one_line_on_a_missing_path(tmp_path):
    done = run_cli("--data", "/nonexistent", "--db", str(tmp_path / "w.duckdb"))
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["error: no such file or folder: /nonexistent"]
    assert not (tmp_path / "w.duckdb").exists()


def test_cli_prints_a_summary_then_already_up_to_date(small_zip, tmp_path):
    db = str(tmp_path / "w.duckdb")
    first = run_cli("--data", str(small_zip), "--db", db)
    assert first.returncode == 0, first.stderr
    assert "ingested 29 images" in first.stdout and "Training" in first.stdout
    assert "PublicTest_broken.jpg" in first.stdout and "1 files skipped" in first.stderr
    second = run_cli("--data", str(small_zip), "--db", db)
    assert second.returncode == 0 and second.stdout.startswith("already up to date")


def test_killed_ingest_leaves_the_previous_warehouse_intact(images_db):
    require_file(FER_ARCHIVE)
    identity, before = warehouse.file_identity(images_db), rows(images_db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "ingest", "--data", str(FER_ARCHIVE), "--db", str(images_db)],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TQDM_MININTERVAL": "0"},
    )
    try:
        line = ""
        while "img" not in line:  # wait until tqdm reports faces being read into the copy
            line = proc.stderr.read(40)
            assert line or proc.poll() is None, "the ingest ended before it could be killed"
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert list(images_db.parent.glob("*.tmp-*")), "killed while writing its private copy"
    assert warehouse.file_identity(images_db) == identity and rows(images_db) == before
    warehouse.connect_readonly(images_db).execute("SELECT count(*) FROM images").fetchone()


# --- the real archive ------------------------------------------------------------------------------


def test_real_archive_counts_equal_the_data_readme(fer_db):
    con = warehouse.connect_readonly(fer_db)
    counts = con.execute("SELECT usage, emotion, count(*) FROM images GROUP BY ALL").fetchall()
    got = {(u, e): n for u, e, n in counts}
    for usage, numbers in README_COUNTS.items():
        assert [got[(usage, e)] for e in EMOTIONS] == numbers, usage
    assert sum(got.values()) == 35887
    splits = dict(con.execute("SELECT split, count(*) FROM images GROUP BY split").fetchall())
    assert splits == {"train": 28709, "test": 7178}
    assert con.execute("SELECT count(*) FROM images WHERE split = 'train' AND usage <> 'Training'"
                       ).fetchone()[0] == 0
    ingest_row = con.execute("SELECT source_sha256, source_bytes, n_skipped FROM ingests").fetchall()
    assert ingest_row == [(FER_SHA256, 71463429, 0)]


def test_real_archive_file_name_collisions(fer_db):
    con = warehouse.connect_readonly(fer_db)
    found = con.execute(
        "SELECT file_name, list(emotion ORDER BY emotion), count(DISTINCT sha256) FROM images "
        "GROUP BY file_name HAVING count(*) > 1 ORDER BY file_name"
    ).fetchall()
    assert found == [
        ("Training_52789098.jpg", ["neutral", "surprise"], 2),
        ("Training_8475486.jpg", ["angry", "surprise"], 2),
    ]


def test_real_archive_duplicates_and_blank_frames(fer_db):
    con = warehouse.connect_readonly(fer_db)
    summary = quality.summary(con)
    assert (summary.duplicate_groups, summary.duplicate_files) == (1516, 3369)
    assert (summary.cross_split_groups, summary.conflicting_groups) == (531, 57)
    assert summary.within_split_groups == 1516 - 531
    assert (summary.blank_images, summary.name_collisions) == (12, 2)
    blank_groups = con.execute(
        "SELECT count(DISTINCT sha256), count(*) FROM images WHERE is_blank").fetchone()
    assert blank_groups == (1, 12)  # the one group of 12 identical blank frames


def test_real_archive_again_is_up_to_date(fer_db):
    identity = warehouse.file_identity(fer_db)
    result = ingest(FER_ARCHIVE, db=fer_db)
    assert result.status == "up-to-date" and result.n_images == 35887
    assert warehouse.file_identity(fer_db) == identity


def test_a_warehouse_from_before_the_ingest_details_is_upgraded(db_path):
    import duckdb

    con = duckdb.connect(str(db_path))  # what the skeleton's 001_images.sql created
    con.execute("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    con.execute("CREATE TABLE ingests (ingest_id INTEGER PRIMARY KEY, dataset VARCHAR NOT NULL, "
                "source_path VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL, source_bytes BIGINT, "
                "layout VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, "
                "n_images INTEGER NOT NULL, n_skipped INTEGER NOT NULL DEFAULT 0, skipped VARCHAR)")
    con.execute("INSERT INTO schema_migrations VALUES ('001_images', now())")
    con.close()
    with warehouse.writing(db_path):
        pass
    columns = {r[0] for r in rows(db_path, "SELECT column_name FROM information_schema.columns "
                                           "WHERE table_name = 'ingests'")}
    assert {"source_kind", "reader_version", "n_converted"} <= columns
