"""The study's distance measures, per-emotion statistics and the comparison with its findings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from faceemo import warehouse
from faceemo.keypoints import COLUMNS, KEYPOINTS
from faceemo.labels import EMOTIONS
from faceemo.landmark_stats import MEASURES, DistanceSet, LandmarkSet, mean_faces
from tests.landmark_factories import add_landmarks

ALL = {"usages": ["Training", "PublicTest", "PrivateTest"], "emotions": list(EMOTIONS)}


def one_face(**points: tuple[float, float]) -> dict[str, float]:
    row = {c: 0.0 for c in COLUMNS}
    for name, (x, y) in points.items():
        row[f"{name}_x"], row[f"{name}_y"] = x, y
    return row


def view_distances(tmp_path, faces: list[dict[str, float]]) -> pd.DataFrame:
    """The warehouse view face_distances over hand-made landmark rows (image ids 0, 1, ...)."""
    frame = pd.DataFrame(faces)
    frame.insert(0, "image_id", range(len(frame)))
    frame.insert(0, "model_id", "hand")
    db = tmp_path / "distances.duckdb"
    with warehouse.writing(db) as con:
        con.register("hand_made", frame)
        con.execute("INSERT INTO landmarks BY NAME SELECT * FROM hand_made")
    con = warehouse.connect_readonly(db)
    try:
        return con.execute("SELECT * FROM face_distances ORDER BY image_id").df()
    finally:
        con.close()


def normalized(frame: pd.DataFrame, **kwargs) -> DistanceSet:
    """A DistanceSet from per-face pixel measures, normalized as distances_per_face.sql does."""
    frame = frame.copy()
    for m in MEASURES:
        frame[f"{m}_max"] = frame[m] / frame[m].max()
        frame[f"{m}_iod"] = frame[m] / frame["inter_ocular"].where(frame["inter_ocular"] > 0)
    return DistanceSet(frame, **kwargs)


def test_distance_view_on_hand_made_points(tmp_path):
    symmetric = one_face(
        left_eye_center=(66, 40), right_eye_center=(30, 40), nose_tip=(48, 64),
        mouth_center_bottom_lip=(48, 80),
    )
    # an asymmetric face: the measure averages the two eye-to-nose distances
    asymmetric = one_face(left_eye_center=(60, 40), right_eye_center=(30, 40), nose_tip=(30, 80))
    eyes_together = one_face(nose_tip=(3, 4))  # inter-ocular 0: no scale-free figure
    d = view_distances(tmp_path, [symmetric, asymmetric, eyes_together])
    assert d.loc[0, "eye_nose"] == pytest.approx(30.0)  # both eyes: a 18-24-30 triangle
    assert d.loc[0, "nose_mouth"] == pytest.approx(16.0)
    assert d.loc[0, "inter_ocular"] == pytest.approx(36.0)
    assert d.loc[0, "eye_nose_iod"] == pytest.approx(30 / 36)
    assert d.loc[0, "nose_mouth_iod"] == pytest.approx(16 / 36)
    assert d.loc[1, "eye_nose"] == pytest.approx((50 + 40) / 2)
    assert d.loc[2, "eye_nose"] == pytest.approx(5.0) and pd.isna(d.loc[2, "eye_nose_iod"])


def test_sql_measures_match_python(images_db):
    add_landmarks(images_db)
    con = warehouse.connect_readonly(images_db)
    try:
        sql = warehouse.query(con, "distances_per_face", model_id="lmk_test", **ALL)
        points = warehouse.query(con, "landmarks_points", model_id="lmk_test", **ALL)
        summary = warehouse.query(con, "distances_summary", model_id="lmk_test", **ALL)
        envelope_sql = warehouse.query(con, "landmarks_stats", model_id="lmk_test", **ALL)
        only_train = warehouse.query(
            con, "distances_per_face", model_id="lmk_test", usages=["Training"], emotions=["happy"]
        )
    finally:
        con.close()
    points = points[~points["is_blank"]].reset_index(drop=True)

    def xy(keypoint: str) -> np.ndarray:
        return points[[f"{keypoint}_x", f"{keypoint}_y"]].to_numpy(np.float64)

    # an independent numpy reference of the SQL measures
    nose, left, right = xy("nose_tip"), xy("left_eye_center"), xy("right_eye_center")
    python = pd.DataFrame({
        "emotion": points["emotion"],
        "eye_nose": (np.linalg.norm(left - nose, axis=1) + np.linalg.norm(right - nose, axis=1)) / 2,
        "nose_mouth": np.linalg.norm(nose - xy("mouth_center_bottom_lip"), axis=1),
        "inter_ocular": np.linalg.norm(left - right, axis=1),
    })
    python = normalized(python).frame
    assert len(sql) == len(python) > 0
    measures = ("eye_nose", "nose_mouth", "inter_ocular", "eye_nose_max", "nose_mouth_max", "nose_mouth_iod")
    for column in measures:
        np.testing.assert_allclose(sql[column], python[column], rtol=1e-5)
    assert set(only_train["usage"]) == {"Training"} and set(only_train["emotion"]) == {"happy"}
    by_emotion = python.groupby("emotion")["eye_nose"].mean()
    np.testing.assert_allclose(
        summary.set_index("emotion")["eye_nose_mean"], by_emotion[summary["emotion"]], rtol=1e-5
    )
    envelope = LandmarkSet(points).envelope().set_index(["emotion", "keypoint"])
    envelope_sql = envelope_sql.set_index(["emotion", "keypoint"]).loc[envelope.index]
    for column in ("mean_x", "mean_y", "min_x", "max_y", "std_x", "n"):
        np.testing.assert_allclose(envelope_sql[column], envelope[column], rtol=1e-5)


def test_landmark_set_describe_and_shapes():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(0, 96, size=(20, 30)), columns=list(COLUMNS))
    frame.insert(0, "emotion", ["happy"] * 10 + ["sad"] * 10)
    lm = LandmarkSet(frame)
    assert lm.emotions == ["happy", "sad"] and lm.points().shape == (20, 15, 2)
    described = lm.describe()
    assert described.loc["happy", ("nose_tip_x", "max")] == frame.loc[:10, "nose_tip_x"].iloc[:10].max()
    shapes = lm.mean_shapes()
    assert len(shapes) == 2 * len(KEYPOINTS)
    happy_nose = shapes.query("emotion == 'happy' and keypoint == 'nose_tip'")
    assert happy_nose["mean_x"].iloc[0] == pytest.approx(frame["nose_tip_x"][:10].mean())
    with pytest.raises(ValueError):
        LandmarkSet(frame.drop(columns=["nose_tip_x"]))


def study_like(shift: dict[str, tuple[float, float]], n: int = 60, seed: int = 0) -> DistanceSet:
    """Per-face measures around 30 / 16 px, shifted per emotion by (eye_nose, nose_mouth)."""
    rng = np.random.default_rng(seed)
    rows = []
    for emotion in EMOTIONS:
        de, dm = shift.get(emotion, (0.0, 0.0))
        for _ in range(n):
            rows.append(
                (emotion, 30 + de + rng.normal(0, 1), 16 + dm + rng.normal(0, 1), 36 + rng.normal(0, 0.5))
            )
    frame = pd.DataFrame(rows, columns=["emotion", "eye_nose", "nose_mouth", "inter_ocular"])
    return normalized(frame, n_boot=400)


def test_summary_intervals_bracket_the_mean_and_are_reproducible():
    d = study_like({"disgust": (3, 0)})
    summary = d.summary()
    assert len(summary) == 7 * 6
    assert (summary["ci_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci_high"]).all()
    row = summary.query("emotion == 'angry' and variant == 'eye_nose'").iloc[0]
    # the 95% interval of a mean of 60 values with sd 1 is about ±0.25
    assert 0.3 < row["ci_high"] - row["ci_low"] < 0.7
    assert set(summary["scale"]) == {"px", "÷ max (as the study)", "÷ inter-ocular"}
    again = study_like({"disgust": (3, 0)}).summary()
    pd.testing.assert_frame_equal(summary, again)


def test_kruskal_wallis_and_effect_sizes():
    d = study_like({"disgust": (3, 0), "happy": (-3, 0)})
    result = d.kruskal("eye_nose")
    groups = [d.frame.loc[d.frame["emotion"] == e, "eye_nose"] for e in EMOTIONS]
    h, p = stats.kruskal(*groups)
    assert result.h == pytest.approx(h) and result.p == pytest.approx(p)
    assert result.n == 420 and result.k == 7 and result.dof == 6
    assert result.epsilon_squared == pytest.approx(h / 419)
    assert result.eta_squared_h == pytest.approx((h - 6) / 413)
    assert result.p < 1e-10 and result.magnitude in ("medium", "large")
    flat = study_like({}).kruskal("nose_mouth")
    assert flat.p > 0.01 and flat.magnitude == "negligible"
    assert len(d.kruskal_table()) == 6


def test_comparison_with_the_study():
    agreeing = study_like({"disgust": (3, 0), "happy": (-3, -3), "surprise": (0, 4)}).study_comparison()
    assert len(agreeing) == 12
    assert (agreeing["verdict"] == "agrees").all(), agreeing
    assert (agreeing["p_study_claim"] > 0.95).all()
    disagreeing = study_like({"fear": (3, 0), "happy": (-3, -3), "surprise": (0, 4)}).study_comparison()
    eye_nose_px = disagreeing.query("measure == 'Eye–nose' and scale == 'px' and claim == 'largest'").iloc[0]
    assert eye_nose_px["ours"] == "fear" and eye_nose_px["verdict"] == "disagrees: largest is fear"
    assert eye_nose_px["p_study_claim"] < 0.05
    # disgust and angry tied at the top: whichever leads, the verdict says it is not clear
    tied = {"disgust": (2, 0), "angry": (2, 0), "happy": (-3, -3), "surprise": (0, 4)}
    row = study_like(tied).study_comparison().query("measure == 'Eye–nose' and scale == 'px'").iloc[0]
    assert 0.05 < row["p_study_claim"] < 0.95
    assert row["verdict"].startswith(("agrees, but not clearly", "too close to call")), row["verdict"]


def test_mean_faces():
    frame = pd.DataFrame(
        {
            "emotion": ["happy", "happy", "sad"],
            "pixels": [bytes([0] * 2304), bytes([100] * 2304), bytes([7] * 2304)],
        }
    )
    faces = mean_faces(frame)
    assert list(faces) == ["happy", "sad"]
    np.testing.assert_allclose(faces["happy"], 50.0)
    assert faces["sad"].shape == (48, 48)


def test_box_stats():
    d = normalized(
        pd.DataFrame(
            {
                "emotion": ["happy"] * 5,
                "eye_nose": [1.0, 2.0, 3.0, 4.0, 100.0],
                "nose_mouth": 1.0,
                "inter_ocular": 2.0,
            }
        )
    )
    row = d.box_stats().query("variant == 'eye_nose'").iloc[0]
    assert (row["q1"], row["median"], row["q3"]) == (2.0, 3.0, 4.0)
    assert row["low"] == 1.0 and row["high"] == 4.0 and row["outliers"] == 1


def test_bootstrap_intervals_match_scipy():
    """Our shared-resample bootstrap gives scipy.stats.bootstrap's percentile intervals (up to resampling
    noise); see DistanceSet._boot for why ours is kept."""
    d = study_like({"disgust": (3, 0)}, n=200)
    summary = d.summary().set_index(["emotion", "variant"])
    for emotion, variant in (("disgust", "eye_nose"), ("happy", "nose_mouth_iod")):
        values = d.frame.loc[d.frame["emotion"] == emotion, variant].to_numpy()
        ci = stats.bootstrap(
            (values,), np.mean, n_resamples=4000, method="percentile", random_state=1, vectorized=True
        ).confidence_interval
        ours = summary.loc[(emotion, variant)]
        width = ci.high - ci.low
        assert ours["ci_low"] == pytest.approx(ci.low, abs=0.15 * width)
        assert ours["ci_high"] == pytest.approx(ci.high, abs=0.15 * width)


def read(db, name: str, **params) -> pd.DataFrame:
    """One named query on a read-only connection of its own."""
    reader = warehouse.Reader(db)
    try:
        return reader.query(name, **params)
    finally:
        reader.close()


def describe_per_emotion(faces: pd.DataFrame) -> pd.DataFrame:
    """The old queries' statistics, computed by pandas: one row per emotion and keypoint."""
    rows = []
    for emotion, group in faces.groupby("emotion"):
        for name in KEYPOINTS:
            row = {"emotion": emotion, "keypoint": name, "n": len(group)}
            for axis in ("x", "y"):
                v = group[f"{name}_{axis}"].astype(np.float64)
                row |= {f"mean_{axis}": v.mean(), f"std_{axis}": v.std(), f"min_{axis}": v.min(),
                        f"max_{axis}": v.max(), f"q25_{axis}": v.quantile(0.25),
                        f"q75_{axis}": v.quantile(0.75)}
            rows.append(row)
    return pd.DataFrame(rows).set_index(["emotion", "keypoint"]).sort_index()


def test_keypoint_stats_macro_gives_both_queries_the_old_figures(images_db):
    # landmarks_stats (warehouse faces) and results_landmarks_stats (an attached result set, frame_*
    # columns) both call the macro keypoint_stats of 050_macros.sql
    add_landmarks(images_db)
    points = read(images_db, "landmarks_points", model_id="lmk_test", **ALL)
    stats = read(images_db, "landmarks_stats", model_id="lmk_test", **ALL)
    points = points[~points["is_blank"]]
    expected = describe_per_emotion(points)
    got = stats.set_index(["emotion", "keypoint"])
    assert list(got.index) == sorted(got.index) and list(got.index) == list(expected.index)
    for column in expected.columns:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-5, err_msg=column)

    results = points[["emotion", *COLUMNS]].rename(columns={c: f"frame_{c}" for c in COLUMNS})
    results["status"] = "ok"
    with warehouse.writing(images_db) as con:
        con.register("frame", results)
        con.execute("CREATE TABLE results_hand AS SELECT * FROM frame")
        con.execute("INSERT INTO results_hand (status, emotion) VALUES ('failed', NULL)")
    happy = read(images_db, "results_landmarks_stats", view="results_hand", emotions=["happy"])
    every = read(images_db, "results_landmarks_stats", view="results_hand", emotions=list(EMOTIONS))
    assert set(happy["emotion"]) == {"happy"} and set(happy["keypoint"]) == set(KEYPOINTS)
    every = every.set_index(["emotion", "keypoint"])
    assert list(every.index) == list(expected.index)
    for column in expected.columns:
        np.testing.assert_allclose(every[column], expected[column], rtol=1e-5, err_msg=column)
