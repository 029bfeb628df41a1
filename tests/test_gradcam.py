"""Grad-CAM on the production emotion model (through the registry): the map depends on the face, is not
uniform, and overlays on the crop."""

from __future__ import annotations

import numpy as np

from faceemo import gradcam
from faceemo.model_store import resolve_model
from tests.composites import fer_faces
from tests.conftest import FER_ARCHIVE, require_file


def test_heatmaps_depend_on_the_face_and_are_not_uniform():
    info = resolve_model(None, "emotion")
    faces = np.stack([face for face, _ in fer_faces(require_file(FER_ARCHIVE), n=2, seed=4)])
    maps = gradcam.heatmaps(faces, info)
    assert maps.shape == (2, 48, 48) and maps.min() >= 0 and maps.max() <= 1
    for heat in maps:
        assert heat.max() == 1.0 and heat.std() > 0.05  # a peak, not a flat map
    assert np.abs(maps[0] - maps[1]).mean() > 0.05  # two faces, two different maps
    picture = gradcam.overlay(faces[0], maps[0], size=120)
    assert picture.size == (120, 120) and picture.mode == "RGB"


def test_an_ensemble_explains_with_the_mean_of_its_members_maps(tmp_path):
    from faceemo.emotion.ensemble import average
    from faceemo.model_store import ModelInfo, load_keras_model

    info = resolve_model(None, "emotion")
    model = load_keras_model(info)
    pair_path = tmp_path / "emotion_pair.keras"
    average([model, model], "emotion_pair").save(pair_path)
    pair = ModelInfo("emotion_pair", "emotion", "ensemble", 0, 48, pair_path)
    faces = np.stack([face for face, _ in fer_faces(require_file(FER_ARCHIVE), n=2, seed=4)])
    # two identical members: the ensemble's map is the member's map
    np.testing.assert_allclose(gradcam.heatmaps(faces, pair), gradcam.heatmaps(faces, info), atol=1e-4)
