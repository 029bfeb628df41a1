"""The train-landmarks and landmarks steps on generated data, with models in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faceemo import model_store, warehouse
from faceemo.keypoints import COLUMNS
from faceemo.paths import REPO_ROOT
from pipelines.__main__ import main
from tests.landmark_factories import make_68_zip

NO_TF_CHECK = (
    "import sys; from pipelines.__main__ import main; rc = main(['landmarks']); "
    "heavy = [m for m in ('tensorflow', 'keras', 'cv2') if m in sys.modules]; "
    "print('heavy:', heavy); sys.exit(rc or (3 if heavy else 0))"
)


@pytest.fixture
def tiny_model(tmp_path, monkeypatch):
    """A committed (untrained) tiny landmark model as the production one, in a temp models folder."""
    import keras

    from faceemo.landmarks import card
    from faceemo.landmarks.model import build

    folder = tmp_path / "models"
    monkeypatch.setenv("FACEEMO_MODELS", str(folder))
    model = build("lmk_tiny", mean_shape=np.tile([[48.0, 40.0]], (15, 1)))
    meta = {
        "model_id": "lmk_tiny_test",
        "task": "landmarks",
        "architecture": "lmk_tiny",
        "params": model.count_params(),
        "input_size": 96,
        "trained_on": "nothing",
        "split": "none",
        "selected_on": "none",
        "best_epoch": 0,
        "epochs": 0,
        "train_seconds": 0.0,
        "device": "cpu",
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "created_at": "2025-01-01T00:00:00",
        "command": "test",
    }
    report = {"overall": 1.0, "n": 1, **{c.rsplit("_", 1)[0]: 1.0 for c in COLUMNS}}
    card.save_model(model, folder, meta, {"none": report}, [])
    model_store.set_production("landmarks", "lmk_tiny_test", folder)
    return folder


def _landmark_rows(db) -> list[tuple]:
    con = warehouse.connect_readonly(db)
    try:
        return con.execute("SELECT * FROM landmarks ORDER BY image_id").fetchall()
    finally:
        con.close()


def test_landmarks_step_fills_the_table_once(images_db, tiny_model, capsys):
    assert main(["landmarks", "--batch-size", "16"]) == 0
    rows = _landmark_rows(images_db)
    con = warehouse.connect_readonly(images_db)
    faces = warehouse.row_count(con, "images")
    registered = con.execute(
        "SELECT task, architecture FROM models WHERE model_id = 'lmk_tiny_test'"
    ).fetchall()
    con.close()
    assert len(rows) == faces and registered == [("landmarks", "lmk_tiny_test")[:1] + ("lmk_tiny",)]
    values = np.array([r[2:] for r in rows], np.float64)
    np.testing.assert_allclose(values[:, 0::2], 48.0, atol=1e-3)  # the untrained model's mean shape
    assert "predicted" in capsys.readouterr().out

    # A second run changes nothing, does not write, and imports neither TensorFlow nor Keras.
    identity = warehouse.file_identity(images_db)
    env = {**os.environ, "FACEEMO_DB": str(images_db), "FACEEMO_MODELS": str(tiny_model)}
    done = subprocess.run(
        [sys.executable, "-c", NO_TF_CHECK],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing to do" in done.stdout and "heavy: []" in done.stdout
    assert warehouse.file_identity(images_db) == identity


def test_landmarks_step_predicts_only_new_faces(images_db, tiny_model):
    assert main(["landmarks"]) == 0
    before = _landmark_rows(images_db)
    with warehouse.writing(images_db) as con:
        con.execute(
            "INSERT INTO images SELECT image_id + 1000, dataset, split, usage, emotion, label, "
            "'new_' || file_name, source_file, sha256, width, height, pixels, mean, std, is_blank, ingest_id "
            "FROM images WHERE image_id = 0"
        )
    assert main(["landmarks"]) == 0
    after = _landmark_rows(images_db)
    assert len(after) == len(before) + 1 and after[: len(before)] == before


def test_landmarks_step_errors(db_path, tiny_model, tmp_path, monkeypatch, capsys):
    assert main(["landmarks"]) == 2
    assert "no warehouse" in capsys.readouterr().err
    with warehouse.writing(db_path):
        pass  # an empty warehouse: schema, no faces
    assert main(["landmarks"]) == 2
    assert "no faces" in capsys.readouterr().err
    assert main(["landmarks", "--model", "nope"]) == 2
    assert "no landmarks model 'nope'" in capsys.readouterr().err
    monkeypatch.setenv("FACEEMO_MODELS", str(tmp_path / "empty"))
    assert main(["landmarks"]) == 2
    assert "train-landmarks" in capsys.readouterr().err


def _train_one_epoch(archive: Path, out: Path, name: str, *options: str) -> int:
    """train-landmarks for one epoch on `archive`, uncached, into `out` as `name`."""
    return main([
        "train-landmarks", "--data", str(archive), "--epochs", "1", "--out", str(out), "--name", name,
        "--cache", "none", *options,
    ])


def test_train_landmarks_step_on_a_generated_zip(tmp_path, monkeypatch, capsys):
    archive = make_68_zip(tmp_path / "kp.zip", people=tuple(f"P_{i}" for i in range(30)), frames=1)
    out = tmp_path / "models"
    assert _train_one_epoch(archive, out, "lmk_gen", "--architecture", "lmk_tiny", "--time-budget", "1") == 0
    meta = json.loads((out / "lmk_gen.json").read_text())
    assert meta["task"] == "landmarks" and meta["input_size"] == 96 and meta["params"] > 0
    assert {"held-out people", "test split (all)"} <= set(meta["metrics"])
    assert json.loads((out / "production.json").read_text()) == {"landmarks": "lmk_gen"}
    card_text = (out / "lmk_gen.md").read_text()
    assert "held-out people" in card_text and "by person" in card_text
    assert "RMSE held-out people" in capsys.readouterr().out

    # Continue training it, and commit it with the mirror averaging built in.
    rc = _train_one_epoch(
        archive, out, "lmk_gen2", "--init-from", str(out / "lmk_gen.keras"), "--flip-tta", "--no-production"
    )
    assert rc == 0
    meta2 = json.loads((out / "lmk_gen2.json").read_text())
    assert meta2["architecture"] == "lmk_tiny+flip_tta" and meta2["base_architecture"] == "lmk_tiny"
    assert meta2["epochs"] == 2 and meta2["init_from"].endswith("lmk_gen.keras")
    assert (
        meta2["metrics_without_flip_tta"]["held-out people"]["n"] == meta["metrics"]["held-out people"]["n"]
    )
    assert "--flip-tta" in meta2["command"]
    assert json.loads((out / "production.json").read_text()) == {"landmarks": "lmk_gen"}


def test_train_landmarks_step_rejects_bad_data(tmp_path, capsys):
    bad = tmp_path / "kp.zip"
    bad.write_bytes(b"nope")
    assert main(["train-landmarks", "--data", str(bad), "--cache", "none"]) == 2
    assert "not a readable zip" in capsys.readouterr().err
    assert main(["train-landmarks", "--data", str(tmp_path / "missing.zip")]) == 2


def test_landmarks_step_redoes_a_model_whose_file_changed(images_db, tiny_model):
    import keras

    assert main(["landmarks"]) == 0
    before = _landmark_rows(images_db)
    path = tiny_model / "lmk_tiny_test.keras"
    model = keras.models.load_model(path, compile=False)
    dense = model.layers[-2]
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, bias + 0.1])  # every prediction moves by 0.1 * 48 px
    model.save(path)
    assert main(["landmarks"]) == 0
    after = _landmark_rows(images_db)
    assert len(after) == len(before)
    np.testing.assert_allclose(
        np.array([r[2:] for r in after]) - np.array([r[2:] for r in before]), 4.8, atol=1e-3
    )
