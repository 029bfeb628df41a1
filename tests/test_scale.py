"""The Ray engine (faceemo.scale, `--engine ray`, attach-results) on a real local Ray.

One Ray for the module (ray.init(num_cpus=2)); a few hundred generated faces; the tiny real Keras models
of tests/predict_helpers. The Parquet rows are compared with the single-process path: same faces and
models give the same labels and probabilities within 1e-5.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from faceemo import warehouse
from faceemo.keypoints import COLUMNS
from faceemo.labels import EMOTIONS
from faceemo.scale import RESULT_COLUMNS
from pipelines.__main__ import main
from tests.conftest import FER_ARCHIVE, require_file
from tests.factories import drawn_face, make_images_warehouse
from tests.pages_helpers import all_text, open_page
from tests.predict_helpers import FER_HAPPY_FACES, face_on_canvas, fer_face, tiny_models_folder

PROBABILITY_TOLERANCE = 1e-5
POINT_TOLERANCE = 0.011  # both paths round landmarks to 0.01 px


@pytest.fixture(scope="module")
def ray_local():
    """A real local Ray with 2 CPUs, shared by every test here."""
    import ray

    from faceemo.scale import init_ray

    init_ray(num_cpus=2)  # ray.init(num_cpus=2), quiet, tried again on an overloaded machine
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """$FACEEMO_MODELS -> the tiny stand-in models, for the whole module."""
    folder = tiny_models_folder(tmp_path_factory.getbasetemp(), "both")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEEMO_MODELS", str(folder))
        yield folder


@pytest.fixture(scope="module")
def crops(tmp_path_factory) -> Path:
    """200 generated 48x48 faces as PNG files in nested folders, plus a text file named .jpg and an
    empty .png: 202 inputs."""
    root = tmp_path_factory.mktemp("crops")
    for i in range(200):
        folder = root / EMOTIONS[i % 7]
        folder.mkdir(exist_ok=True)
        Image.fromarray(drawn_face(EMOTIONS[i % 7], seed=i)).save(folder / f"face_{i:03d}.png")
    (root / "text.jpg").write_text("not an image")
    (root / "empty.png").write_bytes(b"")
    return root


def _compare(ray_rows: pd.DataFrame, local_rows: pd.DataFrame) -> None:
    """Ray's face rows against the local engine's (`file` there is `source` here)."""
    faces = ray_rows[ray_rows["status"] == "ok"].rename(columns={"source": "file"})
    merged = faces.merge(local_rows, on=["file", "face"], suffixes=("_ray", "_local"), validate="1:1")
    assert len(merged) == len(local_rows) == len(faces)
    assert (merged["emotion_ray"] == merged["emotion_local"]).all()
    for name in EMOTIONS:
        assert np.abs(merged[f"{name}_ray"] - merged[f"{name}_local"]).max() <= PROBABILITY_TOLERANCE
    for name in COLUMNS:
        assert np.abs(merged[f"{name}_ray"] - merged[f"{name}_local"]).max() <= POINT_TOLERANCE, name
    for name in ("box_x", "box_y", "box_w", "box_h"):
        assert (merged[f"{name}_ray"] == merged[f"{name}_local"]).all()


class Interrupted(Exception):
    """Stands in for a kill: raised by the driver once the first partition is written."""


def test_files_match_the_local_path_and_bad_files_are_rows(ray_local, models, crops, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["predict", str(crops), "--whole-image", "--engine", "ray", "--out", str(out),
                 "--batch-size", "32", "--concurrency", "1"])
    err = capsys.readouterr().err
    assert code == 1, err  # two bad files, each a row
    assert "202 input(s) in 1 partition(s)" in err and "200 face(s), 0 with no face, 2 failed" in err, err

    rows = pd.read_parquet(out)
    assert list(rows.columns) == list(RESULT_COLUMNS)
    assert len(rows) == 202 and rows["source"].is_unique
    failed = rows[rows["status"] == "failed"].set_index("source")["reason"]
    assert {Path(s).name for s in failed.index} == {"text.jpg", "empty.png"}
    assert "not an image" in failed[str(crops / "text.jpg")] and "empty" in failed[str(crops / "empty.png")]
    assert rows.loc[rows["status"] == "ok", "whole_image"].all()

    local = tmp_path / "local.parquet"
    assert main(["predict", str(crops), "--whole-image", "--out", str(local)]) == 1
    _compare(rows, pd.read_parquet(local))


@pytest.fixture(scope="module")
def warehouse_run(ray_local, models, tmp_path_factory):
    """A generated warehouse of 212 faces and its local `landmarks` run; then `landmarks --engine ray`
    into a Parquet folder, stopped after its first partition and run again: (db, out, resume)."""
    from faceemo.inference import load_models
    from faceemo.paths import resolve_db
    from faceemo.scale import JobOptions, run_job, warehouse_inputs

    root = tmp_path_factory.mktemp("warehouse_run")
    db = make_images_warehouse(root / "faceemo.duckdb", per_class=10)
    assert main(["landmarks", "--db", str(db)]) == 0
    out = root / "results"
    con = warehouse.connect_readonly(resolve_db(db))
    try:
        faces = pa.Table.from_pandas(warehouse.query(con, "scale_faces"), preserve_index=False)
    finally:
        con.close()
    options = JobOptions(out=out, batch_size=16, concurrency=2, partition_size=64)

    def stop(part: int) -> None:
        raise Interrupted(part)

    with pytest.raises(Interrupted):
        run_job(warehouse_inputs(faces), load_models(), options, on_partition=stop)
    first = sorted(out.glob("part-*.parquet"))
    assert len(first) == 1 and not list(out.glob(".part-*")), "one complete partition, no half-written one"
    stamp = first[0].stat().st_mtime_ns

    with pytest.MonkeyPatch.context() as patch:  # the resumed run's own output, apart from pytest's
        stream = io.StringIO()
        patch.setattr(sys, "stderr", stream)
        code = main(["landmarks", "--db", str(db), "--engine", "ray", "--out", str(out),
                     "--batch-size", "32", "--partition-size", "64", "--concurrency", "1"])
    return db, out, {"code": code, "err": stream.getvalue(), "first": first[0], "stamp": stamp}


def test_a_stopped_job_resumes_where_it_stopped(warehouse_run, capsys):
    db, out, resume = warehouse_run
    assert resume["code"] == 0, resume["err"]
    err = resume["err"]
    assert "212 input(s) in 4 partition(s)" in err and "wrote 3" in err and "1 already complete" in err, err
    assert resume["first"].stat().st_mtime_ns == resume["stamp"], "the complete partition was not redone"
    assert sorted(int(p.stem[-5:]) for p in out.glob("part-*.parquet")) == [0, 1, 2, 3]
    assert main(["landmarks", "--db", str(db), "--engine", "ray", "--out", str(out),
                 "--partition-size", "64"]) == 0
    assert "wrote 0, 4 already complete" in capsys.readouterr().err


def test_warehouse_faces_match_the_local_steps(warehouse_run):
    from faceemo.inference import load_models, predict_faces, prepare

    db, out, _ = warehouse_run
    rows = pd.read_parquet(out).sort_values("image_id").reset_index(drop=True)
    con = warehouse.connect_readonly(db)
    try:
        faces = con.execute("SELECT image_id, pixels FROM images ORDER BY image_id").fetchall()
        table = con.execute("SELECT * FROM landmarks ORDER BY image_id").df()
    finally:
        con.close()
    assert len(rows) == len(faces) == 212 and (rows["status"] == "ok").all()
    assert rows["image_id"].tolist() == [f[0] for f in faces]

    # the landmarks step's table, in the 96x96 frame of the crop
    for name in COLUMNS:
        assert np.abs(rows[f"frame_{name}"].to_numpy() - table[name].to_numpy()).max() <= 1e-3, name

    # the emotions of the single-process library path on the same faces
    prepared = [prepare(np.frombuffer(p, np.uint8).reshape(48, 48), whole_image=True) for _, p in faces]
    results = [r[0] for r in predict_faces(prepared, load_models(), batch_size=100)]
    expected = np.array([[r.probabilities[e] for e in EMOTIONS] for r in results])
    assert np.abs(rows[list(EMOTIONS)].to_numpy() - expected).max() <= PROBABILITY_TOLERANCE
    assert rows["emotion"].tolist() == [r.emotion for r in results]


def test_attach_results_view_reads_the_parquet_in_place(warehouse_run, tmp_path, capsys):
    db, out, _ = warehouse_run
    db = shutil.copy(db, tmp_path / "faceemo.duckdb")
    assert main(["attach-results", str(out), "--name", "wh_run", "--db", str(db)]) == 0
    assert "212 rows in 4 partition(s), all complete" in capsys.readouterr().out
    reader = warehouse.Reader(db)
    try:
        listing = reader.query("results_list")
        assert listing["name"].tolist() == ["wh_run"] and listing["path"][0] == str(out.resolve())
        status = reader.query("results_status", view="results_wh_run").set_index("status")
        assert status.loc["ok", "rows"] == 212
        balance = reader.query(
            "results_balance", view="results_wh_run", label="wh_run", emotions=list(EMOTIONS)
        )
        assert balance["images"].sum() == 212 and abs(balance["percent"].sum() - 100) < 1e-9
        stats = reader.query("results_landmarks_stats", view="results_wh_run", emotions=list(EMOTIONS))
        assert set(stats["keypoint"]) == {c[:-2] for c in COLUMNS[::2]}
        assert stats.groupby("emotion")["n"].first().sum() == 212
    finally:
        reader.close()

    # read in place, never copied: the view follows the folder (here, a copy of it attached again)
    folder = shutil.copytree(out, tmp_path / "copy")
    assert main(["attach-results", str(folder), "--name", "wh_run", "--db", str(db)]) == 0
    (folder / "part-00003.parquet").unlink()  # the last 20 faces
    reader = warehouse.Reader(db)
    try:
        assert reader.query("results_list")["path"].tolist() == [str(folder)]
        assert reader.query("results_status", view="results_wh_run")["rows"].sum() == 192
    finally:
        reader.close()
    assert "clashes" in _error(["attach-results", str(folder), "--name", "wh-run", "--db", str(db)], capsys)


def test_pages_pick_an_attached_result_set(warehouse_run, monkeypatch, tmp_path):
    db, out, _ = warehouse_run
    copy = tmp_path / "faceemo.duckdb"
    shutil.copy(db, copy)  # this test moves a folder away: keep the module's warehouse as it is
    moved = tmp_path / "results"
    shutil.copytree(out, moved)
    assert main(["attach-results", str(moved), "--name", "moved", "--db", str(copy)]) == 0
    monkeypatch.setenv("FACEEMO_DB", str(copy))

    app = open_page("class_balance")
    app.sidebar.selectbox(key="balance_source").set_value("moved").run()
    assert not app.exception, app.exception
    assert app.get("vega_lite_chart") and app.dataframe, "the predicted class balance, as a chart and a table"
    assert "Result set **moved**" in all_text(app) and "212" in str(app.metric[0].value)

    app = open_page("landmarks")
    app.sidebar.selectbox(key="landmarks_source").set_value("moved").run()
    assert not app.exception, app.exception
    assert len(app.get("vega_lite_chart")) >= 2 and app.dataframe
    app.sidebar.multiselect(key="emotion_filter").set_value(["happy", "sad"]).run()
    assert not app.exception, app.exception

    shutil.rmtree(moved)  # the Parquet folder is gone: a clear message, no crash
    app = open_page("class_balance")
    app.sidebar.selectbox(key="balance_source").set_value("moved").run()
    assert not app.exception, app.exception
    text = all_text(app)
    assert "cannot be read" in text and "not there any more" in text and "attach-results" in text


def test_parquet_table_of_photos_detects_like_the_local_path(ray_local, models, tmp_path, capsys):
    """Photos (faces on a canvas, a blank one, a broken one) as image bytes in a Parquet table."""
    archive = require_file(FER_ARCHIVE)
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, member in enumerate(FER_HAPPY_FACES):
        canvas, _ = face_on_canvas(fer_face(archive, member))
        Image.fromarray(canvas).save(photos / f"photo_{i}.png")
    Image.new("RGB", (320, 240), (120, 130, 140)).save(photos / "blank.png")
    names = sorted(p.name for p in photos.iterdir())
    table = pa.table({
        "path": [str(photos / n) for n in names] + ["broken.png"],
        "image": [(photos / n).read_bytes() for n in names] + [b"\x89PNG broken"],
    })
    pq.write_table(table, tmp_path / "photos.parquet")

    out = tmp_path / "out"
    code = main(["predict", str(tmp_path / "photos.parquet"), "--engine", "ray", "--out", str(out),
                 "--concurrency", "1", "--batch-size", "2"])
    assert code == 1, capsys.readouterr().err
    rows = pd.read_parquet(out)
    status = rows.groupby("status")["source"].apply(set).to_dict()
    assert status["no_face"] == {str(photos / "blank.png")} and status["failed"] == {"broken.png"}
    assert rows.loc[rows["status"] == "no_face", "reason"].tolist() == ["no face found"]
    local = tmp_path / "local.parquet"
    main(["predict", str(photos), "--out", str(local)])
    _compare(rows, pd.read_parquet(local))


def _error(argv: list[str], capsys) -> str:
    """The one line of a failed step (exit 2)."""
    capsys.readouterr()
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_bad_input_is_one_line_and_exit_2(models, crops, tmp_path, capsys, monkeypatch):
    def error(argv: list[str]) -> str:
        return _error(argv, capsys)

    one = str(crops / "happy" / "face_003.png")
    assert "needs --out DIR" in error(["predict", one, "--engine", "ray"])
    assert "only with --engine ray" in error(["predict", one, "--concurrency", "2"])
    assert "only with --engine ray" in error(["landmarks", "--out", str(tmp_path)])
    assert "--batch-size must be at least 1" in error(
        ["predict", one, "--engine", "ray", "--out", str(tmp_path / "o"), "--batch-size", "0"])
    table = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1]}), table)
    assert "not both" in error(["predict", str(table), one, "--engine", "ray", "--out", str(tmp_path / "o")])
    assert "which column holds the images" in error(
        ["predict", str(table), "--engine", "ray", "--out", str(tmp_path / "o")])
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "_job.json").write_text(json.dumps({"version": 1, "inputs": 5}))
    assert "holds another job" in error(["predict", one, "--engine", "ray", "--out", str(taken)])
    assert json.loads((taken / "_job.json").read_text())["inputs"] == 5, "nothing lost"

    assert "no such folder" in error(["attach-results", str(tmp_path / "nope"), "--name", "x"])
    assert "no complete partition" in error(["attach-results", str(taken), "--name", "x"])
    assert "--name" in error(["attach-results", str(taken), "--name", "1 bad"])

    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    assert "pip install 'faceemo[ray]'" in error(
        ["predict", one, "--engine", "ray", "--out", str(tmp_path / "o")])
