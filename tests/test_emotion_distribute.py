"""Data-parallel training on this CPU split into 2 logical devices (MirroredStrategy on TensorFlow).

The split must happen before TensorFlow initialises its devices, so the run is a fresh subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from faceemo.paths import REPO_ROOT

SCRIPT = """
import json, sys
from faceemo.emotion import tf_engine
tf_engine.split_cpu(2)
from faceemo.emotion import distribute
from faceemo.emotion.training import TrainConfig, train
from tests.emotion_helpers import drawn_faces
assert distribute.device_count("data-parallel") == 2
config = TrainConfig("vgg_fer", epochs=2, batch_size=8, distribute="data-parallel", optimizer="adam",
                     learning_rate=3e-3, augment=0.0, model_options={"width": 4}, verbose=0)
result = train(config, drawn_faces(4), drawn_faces(1, "PublicTest", seed=3))
x = drawn_faces(1).x()
probs = result.model.predict(x, verbose=0)
print(json.dumps({"replicas": result.replicas, "epochs": result.epochs_run, "shape": list(probs.shape),
                  "losses": [row["loss"] for row in result.history]}))
"""


def test_data_parallel_on_two_logical_cpus() -> None:
    env = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    import os

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and result["epochs"] == 2 and result["shape"] == [7, 7]
    assert all(loss == loss for loss in result["losses"])  # finite, not NaN
