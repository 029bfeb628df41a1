"""train-emotion, export-pack and evaluate end to end on a generated warehouse (tiny real runs)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from faceemo import model_store, warehouse
from faceemo.paths import REPO_ROOT
from pipelines import evaluate
from pipelines.__main__ import main
from tests.emotion_helpers import make_models_warehouse
from tests.factories import make_images_warehouse

# Keras 3.15 on TensorFlow converts variables with np.array(x) internally (numpy 2 deprecation noise).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("FACEEMO_MODELS", str(folder))
    return folder


def _rows(db, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_train_then_evaluate_into_the_warehouse(db_path, models, capsys) -> None:
    model_id = make_models_warehouse(db_path, models)
    for suffix in (".keras", ".json", ".md"):
        assert (models / f"{model_id}{suffix}").exists()
    meta = json.loads((models / f"{model_id}.json").read_text())
    assert meta["task"] == "emotion" and meta["architecture"] == "vgg_fer" and meta["epochs"] == 2
    assert {"PublicTest", "PrivateTest"} == set(meta["metrics"])
    assert meta["backend"] == "tensorflow" and meta["device"]
    card = (models / f"{model_id}.md").read_text()
    assert "| PrivateTest | report (held out) |" in card and "## Training" in card
    # the model row, the run and its history (2 epochs x metrics)
    assert _rows(db_path, "SELECT architecture, params FROM models") == [("vgg_fer", meta["params"])]
    assert _rows(db_path, "SELECT count(DISTINCT epoch) FROM history")[0][0] == 2
    # 7 probabilities for every PublicTest/PrivateTest face, metrics per split
    n_test = _rows(db_path, "SELECT count(*) FROM images WHERE usage <> 'Training'")[0][0]
    assert _rows(db_path, "SELECT count(*) FROM predictions WHERE NOT tta")[0][0] == n_test
    sums = _rows(db_path, "SELECT min(angry+disgust+fear+happy+sad+surprise+neutral) FROM predictions")[0][0]
    assert sums == pytest.approx(1.0, abs=1e-4)
    usages = _rows(db_path, "SELECT DISTINCT usage FROM metrics WHERE metric = 'accuracy' ORDER BY 1")
    assert usages == [("PrivateTest",), ("PublicTest",)]
    # the accuracy stored equals the accuracy derived from the stored predictions
    derived = _rows(
        db_path,
        "SELECT avg((p.label = i.label)::INT) FROM predictions p JOIN images i USING (image_id) "
        "WHERE i.usage = 'PrivateTest' AND NOT p.tta",
    )[0][0]
    stored = _rows(db_path, "SELECT value FROM metrics WHERE usage='PrivateTest' AND metric='accuracy'")[0][0]
    assert stored == pytest.approx(derived)
    capsys.readouterr()

    # idempotent: a second run is a no-op; --force replaces the rows (same counts)
    args = argparse.Namespace(model=None, tta=False, force=False, batch_size=64, db=str(db_path))
    assert evaluate.run(args) == 0
    assert "up to date" in capsys.readouterr().err
    args.force = True
    assert evaluate.run(args) == 0
    assert _rows(db_path, "SELECT count(*) FROM predictions WHERE NOT tta")[0][0] == n_test
    assert _rows(db_path, "SELECT count(*) FROM models")[0][0] == 1


def test_evaluate_noop_imports_no_tensorflow(db_path, models) -> None:
    make_models_warehouse(db_path, models)
    code = (
        "import sys; from pipelines.__main__ import main; rc = main(['evaluate']); "
        "assert rc == 0, rc; bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stderr


def test_evaluate_tta_and_a_new_model_file(db_path, models, capsys) -> None:
    model_id = make_models_warehouse(db_path, models)
    assert _rows(db_path, "SELECT count(DISTINCT tta) FROM predictions")[0][0] == 2
    assert _rows(db_path, "SELECT count(*) FROM evaluations")[0][0] == 2
    # a changed model file (same id) is re-evaluated and re-registered
    info = model_store.resolve_model(model_id, "emotion")
    old_sha = model_store.sha256_of(info.path)
    model = model_store.load_keras_model(info)
    model.layers[-1].set_weights([w * 0 for w in model.layers[-1].get_weights()])
    model.save(info.path)
    assert main(["evaluate"]) == 0
    assert _rows(db_path, "SELECT sha256 FROM models")[0][0] != old_sha
    assert "emotion_tiny" in capsys.readouterr().err


def test_evaluate_errors(db_path, models, capsys) -> None:
    assert main(["evaluate"]) == 0  # no committed model: nothing to do, says so
    assert "nothing to evaluate" in capsys.readouterr().err
    (models / "m.json").write_text(
        '{"model_id": "m", "task": "emotion", "architecture": "vgg_fer", "params": 1, "input_size": 48}'
    )
    (models / "m.keras").write_bytes(b"not a model")
    assert main(["evaluate"]) == 2  # a model but no warehouse
    assert "ingest" in capsys.readouterr().err
    assert main(["evaluate", "--model", "nope"]) == 2
    assert "no emotion model 'nope'" in capsys.readouterr().err


def _tiny_pack_run(pack: Path, out: Path, checkpoints: Path) -> list[str]:
    """train-emotion's options for one epoch of a 4-wide vgg_fer on an exported pack."""
    return [
        "--model-arch", "vgg_fer", "--width", "4", "--epochs", "1", "--batch-size", "8",
        "--pack", str(pack), "--out", str(out), "--checkpoint-dir", str(checkpoints),
    ]


def test_train_from_a_pack_without_the_warehouse(db_path, models, tmp_path, capsys) -> None:
    make_images_warehouse(db_path, per_class=3)
    pack = tmp_path / "faces.npz"
    assert main(["export-pack", "--db", str(db_path), "--out", str(pack)]) == 0
    db_path.unlink()  # the GPU machine has no warehouse
    out = tmp_path / "out"
    assert main(["train-emotion", *_tiny_pack_run(pack, out, tmp_path / "ck"), "--name", "from_pack"]) == 0
    meta = json.loads((out / "from_pack.json").read_text())
    assert set(meta["metrics"]) == {"PublicTest"}  # the pack held Training + PublicTest only
    assert "pack faces.npz" in meta["trained_on"] and meta["history"]
    assert not db_path.exists()  # nothing written to a warehouse


def test_train_errors(db_path, models, capsys) -> None:
    assert main(["train-emotion", "--model-arch", "vgg_fer", "--epochs", "1"]) == 2
    assert "ingest" in capsys.readouterr().err  # missing warehouse
    make_images_warehouse(db_path, per_class=1, usages=("Training",))
    with warehouse.writing(db_path) as con:  # the factory adds one PublicTest duplicate: drop it
        con.execute("DELETE FROM images WHERE usage <> 'Training'")
    assert main(["train-emotion", "--model-arch", "vgg_fer"]) == 2
    assert "PublicTest" in capsys.readouterr().err  # nothing to select on
    assert main(["train-emotion", "--model-arch", "study_cnn", "--width", "8"]) == 2
    assert "--width applies to vgg_fer, vgg_gap, resnet_fer only" in capsys.readouterr().err
    assert main(["train-emotion", "--model-arch", "vgg_fer", "--epochs", "0"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["train-emotion", "--model-arch", "resnet"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train-emotion", "--model-arch", "vgg_fer", "--optimizer", "rmsprop"])
    # a second cycle starts from a committed model of the same architecture and width, or says why not
    assert main(["train-emotion", "--model-arch", "vgg_gap", "--init-from", "nope"]) == 2
    assert "no emotion model 'nope'" in capsys.readouterr().err
    (models / "emotion_vgg_gap.json").write_text(
        json.dumps(
            {
                "model_id": "emotion_vgg_gap",
                "task": "emotion",
                "architecture": "vgg_gap",
                "params": 1,
                "input_size": 48,
                "model_options": {},
            }
        )
    )
    (models / "emotion_vgg_gap.keras").write_bytes(b"")
    assert main(["train-emotion", "--model-arch", "resnet_fer", "--init-from", "emotion_vgg_gap"]) == 2
    assert "same --model-arch and --width" in capsys.readouterr().err


BLOCKED_RUN = """
import importlib.abc, runpy, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("duckdb", "pandas", "streamlit", "cv2"):
            raise ImportError(name + " is not installed on the GPU machine")
sys.meta_path.insert(0, Block())
sys.argv = ["train_emotion"] + sys.argv[1:]
runpy.run_module("pipelines.train_emotion", run_name="__main__")
"""


def test_pack_run_needs_no_duckdb_nor_pandas(images_db, tmp_path) -> None:
    """What the GPU machine runs: the standalone step on a pack, with DuckDB and pandas unimportable."""
    pack = tmp_path / "faces.npz"
    assert main(["export-pack", "--out", str(pack)]) == 0
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", BLOCKED_RUN, *_tiny_pack_run(pack, out, tmp_path / "ck")]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "emotion_vgg_fer_w4.keras").exists() and (out / "emotion_vgg_fer_w4.md").exists()


def test_an_ensemble_is_one_model_averaging_its_members(db_path, models, capsys) -> None:
    import keras
    import numpy as np

    from tests.emotion_helpers import drawn_faces

    first = make_models_warehouse(db_path, models)
    # a second member: the first with another output layer, under its own id
    info = model_store.resolve_model(first, "emotion")
    other = keras.models.load_model(info.path, compile=False)
    other.layers[-1].set_weights([w[::-1] for w in other.layers[-1].get_weights()])
    # ... stored as float16, the first as float32: the ensemble keeps each as its file has it
    from faceemo.emotion.storage import with_dtype

    with_dtype(other, "float16").save(models / "emotion_other.keras")
    (models / "emotion_other.json").write_text(
        json.dumps({**info.meta, "model_id": "emotion_other", "weights_dtype": "float16"})
    )

    assert main(["ensemble-emotion", first, "emotion_other", "--name", "emotion_pair"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result["metrics"]) == {"PublicTest", "PrivateTest"} and set(result["metrics_tta"]) == {
        "PublicTest",
        "PrivateTest",
    }
    pair = model_store.resolve_model("emotion_pair", "emotion")
    raw = keras.models.load_model(pair.path, compile=False)
    inner = [m for m in raw.layers if isinstance(m, keras.Model)]
    assert ["float16" in {str(w.dtype) for w in m.weights} for m in inner] == [False, True]
    assert pair.meta["weights_dtype"] == "as each member's file: emotion_tiny float32, emotion_other float16"
    assert pair.architecture == "ensemble" and [m["model_id"] for m in pair.meta["members"]] == [
        first,
        "emotion_other",
    ]
    card = pair.card_path.read_text()
    assert "## Members" in card and "ensemble-emotion emotion_tiny emotion_other --name emotion_pair" in card
    # one file, loaded like any model: its probabilities are the mean of its members'
    x = drawn_faces(2).x()
    members = [
        model_store.load_keras_model(model_store.resolve_model(m, "emotion"))
        for m in (first, "emotion_other")
    ]
    expected = np.mean([np.asarray(m.predict(x, verbose=0)) for m in members], axis=0)
    got = np.asarray(model_store.load_keras_model(pair).predict(x, verbose=0))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert _rows(db_path, "SELECT architecture FROM models WHERE model_id = 'emotion_pair'") == [
        ("ensemble",)
    ]
    assert main(["evaluate", "--model", "emotion_pair"]) == 0
    assert _rows(db_path, "SELECT count(*) FROM predictions WHERE model_id = 'emotion_pair'")[0][0] > 0

    # evaluating every model: the members first, then the pair as the mean of theirs, not run again ...
    capsys.readouterr()
    assert main(["evaluate", "--force", "--tta"]) == 0
    err = capsys.readouterr().err
    for mode in ("", " (TTA)"):
        assert f"emotion_pair{mode}: the mean of its members' probabilities" in err
    # ... the same numbers as the ensemble run on the faces
    from faceemo.emotion.data import from_warehouse
    from faceemo.emotion.inference import predict_proba
    from faceemo.labels import EMOTIONS

    faces = from_warehouse(db_path, ("PublicTest", "PrivateTest"))
    for tta in (False, True):
        stored = _rows(
            db_path,
            f"SELECT {', '.join(EMOTIONS)} FROM predictions WHERE model_id = 'emotion_pair' AND tta = {tta} "
            "ORDER BY image_id",
        )
        order = np.argsort(faces.image_id)
        direct = predict_proba(model_store.load_keras_model(pair), faces.pixels, tta=tta)[order]
        np.testing.assert_allclose(np.asarray(stored), direct, atol=1e-5)
    # the members' stored probabilities serve when the pair alone is evaluated again
    assert main(["evaluate", "--model", "emotion_pair", "--force"]) == 0
    assert "emotion_pair: the mean of its members' probabilities" in capsys.readouterr().err
    # a member file changed since the ensemble was made: the ensemble runs itself
    other.layers[-1].set_weights([w * 2 for w in other.layers[-1].get_weights()])
    with_dtype(other, "float16").save(models / "emotion_other.keras")
    assert main(["evaluate", "--force"]) == 0
    assert "the mean of its members'" not in capsys.readouterr().err

    # fewer than two models, an unknown one, or the ensemble named like a member: a clear error
    assert main(["ensemble-emotion", first, "--name", "x"]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["ensemble-emotion", first, "nope", "--name", "x"]) == 2
    assert "no emotion model 'nope'" in capsys.readouterr().err
    assert main(["ensemble-emotion", first, "emotion_other", "--name", first]) == 2
    assert "pick a new id" in capsys.readouterr().err


def test_select_ranks_means_by_accuracy_then_fewer_members() -> None:
    import numpy as np

    from faceemo.emotion.ensemble import select
    from faceemo.errors import ModelError

    labels = np.array([0, 1, 2])
    one_hot = np.eye(7, dtype=np.float32)

    def probs(*classes):
        return np.stack([one_hot[c] for c in classes])

    # a and b each right on two faces; together they tie face 2 between classes 2 and 3 (argmax: 2)
    candidates = {"a": probs(0, 1, 3), "b": probs(0, 5, 2), "c": probs(4, 4, 4)}
    ranked = select(candidates, labels, max_members=3)
    assert ranked[0] == (("a", "b"), 1.0)
    assert [combo for combo, _ in ranked] == [("a", "b"), ("a", "b", "c"), ("a", "c"), ("b", "c")]
    # on a tie the fewer members win, then the order given
    tied = select({"x": probs(0, 1, 2), "y": probs(0, 1, 2), "z": probs(0, 1, 2)}, labels)
    assert [combo for combo, _ in tied][:4] == [("x", "y"), ("x", "z"), ("y", "z"), ("x", "y", "z")]
    assert len(select(candidates, labels, max_members=2)) == 3
    with pytest.raises(ModelError, match="at least two"):
        select(candidates, labels, max_members=1)


def test_ensemble_select_keeps_the_best_publictest_mean(db_path, models, capsys) -> None:
    import itertools

    import keras
    import numpy as np

    from faceemo.emotion.data import from_warehouse
    from faceemo.emotion.inference import predict_proba

    first = make_models_warehouse(db_path, models)
    info = model_store.resolve_model(first, "emotion")
    # two more candidates: the first with its output layer changed
    for k, change in enumerate((lambda w: w[::-1], lambda w: np.roll(w, 1, axis=-1)), start=1):
        variant = keras.models.load_model(info.path, compile=False)
        variant.layers[-1].set_weights([change(w) for w in variant.layers[-1].get_weights()])
        variant.save(models / f"emotion_v{k}.keras")
        (models / f"emotion_v{k}.json").write_text(json.dumps({**info.meta, "model_id": f"emotion_v{k}"}))
    ids = [first, "emotion_v1", "emotion_v2"]

    assert main(["ensemble-emotion", *ids, first, "--select", "--name", "emotion_best"]) == 0
    # the members are the best plain PublicTest mean of two or three, computed here on its own
    public = from_warehouse(db_path, ("PublicTest",))
    probabilities = {
        m: predict_proba(model_store.load_keras_model(model_store.resolve_model(m, "emotion")), public.pixels)
        for m in ids
    }
    scored = [
        (combo, np.mean(np.mean([probabilities[m] for m in combo], 0).argmax(1) == public.labels))
        for size in (2, 3)
        for combo in itertools.combinations(ids, size)
    ]
    best = max(accuracy for _, accuracy in scored)
    expected = next(combo for combo, accuracy in scored if accuracy == best)
    chosen = model_store.resolve_model("emotion_best", "emotion")
    assert [m["model_id"] for m in chosen.meta["members"]] == list(expected)
    assert chosen.meta["selection"]["ranking"][0] == {"members": list(expected), "public_accuracy": best}
    assert chosen.meta["selection"]["combinations"] == 4
    card = chosen.card_path.read_text()
    assert "## Selection" in card and "4 combinations" in card
    command = "ensemble-emotion emotion_tiny emotion_v1 emotion_v2 --name emotion_best --select --max-members"
    assert f"{command} 3" in card
    assert "best of 4 combinations" in capsys.readouterr().err
    # at most two members: three pairs
    assert main(["ensemble-emotion", *ids, "--select", "--max-members", "2", "--name", "emotion_pair2"]) == 0
    assert len(model_store.resolve_model("emotion_pair2", "emotion").meta["members"]) == 2
    assert main(["ensemble-emotion", *ids, "--select", "--max-members", "1", "--name", "x"]) == 2
    assert "--max-members must be 2 or more" in capsys.readouterr().err


def test_distillation_mixes_the_teachers_probabilities_into_the_targets(
    db_path, models, tmp_path, capsys
) -> None:
    """--teacher: the teacher is scored once on the Training faces (cached beside the checkpoints, reused
    on a resume even in another order), and every training target is the labels/teacher mix."""
    import numpy as np

    from faceemo.emotion import data
    from faceemo.emotion.batches import FaceBatches
    from faceemo.emotion.distill import TEACHER_FILE, mixed_targets, teacher_probabilities
    from faceemo.emotion.inference import predict_proba
    from faceemo.errors import ModelError

    teacher = make_models_warehouse(db_path, models)
    ckpt = tmp_path / "ck"
    run = [
        "train-emotion", "--model-arch", "vgg_gap", "--width", "4", "--epochs", "1", "--batch-size", "8",
        "--checkpoint-dir", str(ckpt), "--name", "student", "--teacher", teacher, "--teacher-weight", "0.3",
    ]
    assert main(run) == 0
    assert f"distilling from {teacher} (weight 0.3" in capsys.readouterr().err
    faces = data.training_filter(data.from_warehouse(db_path).of_usage("Training"))
    teacher_model = model_store.load_keras_model(model_store.resolve_model(teacher, "emotion"))
    expected = predict_proba(teacher_model, faces.pixels)
    with np.load(ckpt / TEACHER_FILE) as cache:
        np.testing.assert_allclose(cache["probs"], expected, atol=1e-3)  # stored as float16
        assert str(cache["teacher"]) == teacher
    card = model_store.resolve_model("student", "emotion")
    assert card.meta["config"]["teacher"] == teacher
    assert f"0.7 x the label + 0.3 x the probabilities of `{teacher}`" in card.card_path.read_text()

    # the cache serves the same faces in another order without the teacher (the GPU box has none) ...
    reordered = faces.subset(np.arange(len(faces))[::-1])
    (models / f"{teacher}.json").rename(tmp_path / "hidden.json")
    np.testing.assert_allclose(teacher_probabilities(teacher, reordered, ckpt), expected[::-1], atol=1e-3)
    # ... but not other faces, nor another teacher's name: those need the teacher itself
    with pytest.raises(ModelError, match="no emotion model"):
        teacher_probabilities(teacher, faces.subset(np.arange(len(faces) - 1)), ckpt)
    with pytest.raises(ModelError, match="no emotion model 'other'"):
        teacher_probabilities("other", faces, ckpt)

    # the batches carry the mixed targets, the class weights still follow the labels
    targets = mixed_targets(faces.labels, expected, 0.3)
    np.testing.assert_allclose(targets.sum(1), 1.0, atol=1e-5)
    weights = np.linspace(0.5, 2.0, 7).astype(np.float32)
    batches = FaceBatches(faces.pixels, faces.labels, 4, targets=targets, sample_weights=weights)
    _, y, w = batches[0]
    np.testing.assert_allclose(y, 0.7 * np.eye(7)[faces.labels[:4]] + 0.3 * expected[:4], atol=1e-6)
    np.testing.assert_array_equal(w, weights[faces.labels[:4]])
    assert not np.allclose(y, np.eye(7)[faces.labels[:4]])

    assert main([*run[:-2], "--teacher-weight", "0"]) == 2
    assert "teacher weight must be in (0, 1]" in capsys.readouterr().err


def test_evaluate_removes_models_whose_file_is_gone(db_path, models, capsys) -> None:
    """A model retired from models/ leaves the warehouse at the next evaluate (which the dashboard script
    runs), so the Models page lists only loadable models; the others keep every row."""
    import shutil

    kept = make_models_warehouse(db_path, models)
    for suffix in (".keras", ".md"):
        shutil.copy2(models / f"{kept}{suffix}", models / f"emotion_gone{suffix}")
    meta = json.loads((models / f"{kept}.json").read_text())
    gone_meta = {**meta, "model_id": "emotion_gone", "run_id": None}
    (models / "emotion_gone.json").write_text(json.dumps(gone_meta))
    assert main(["evaluate"]) == 0
    count = "SELECT count(*) FROM {} WHERE model_id = '{}'"
    tables = ("models", "predictions", "metrics", "evaluations")
    before = {t: _rows(db_path, count.format(t, kept))[0][0] for t in tables}
    assert all(before.values()) and _rows(db_path, count.format("predictions", "emotion_gone"))[0][0] > 0
    capsys.readouterr()

    for suffix in (".keras", ".json", ".md"):
        (models / f"emotion_gone{suffix}").unlink()
    assert main(["evaluate"]) == 0
    err = capsys.readouterr().err
    assert "emotion_gone: its file" in err and "is gone" in err and "up to date" in err
    for table in tables:
        assert _rows(db_path, count.format(table, "emotion_gone"))[0][0] == 0, table
    assert {t: _rows(db_path, count.format(t, kept))[0][0] for t in tables} == before
    assert _rows(db_path, "SELECT count(*) FROM history")[0][0] > 0  # the kept model's training curve
    assert main(["evaluate"]) == 0 and "is gone" not in capsys.readouterr().err  # nothing left to remove
