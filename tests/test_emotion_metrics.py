"""Metrics maths on hand-made cases with known answers (no Keras)."""

from __future__ import annotations

import numpy as np
import pytest

from faceemo.emotion import metrics
from faceemo.emotion.data import Faces
from faceemo.emotion.evaluation import metric_rows, prediction_rows
from faceemo.labels import EMOTIONS


def test_confusion_counts_true_by_predicted() -> None:
    cm = metrics.confusion(np.array([0, 0, 1, 3]), np.array([0, 1, 1, 3]))
    assert cm.shape == (7, 7)
    assert cm[0, 0] == 1 and cm[0, 1] == 1 and cm[1, 1] == 1 and cm[3, 3] == 1
    assert cm.sum() == 4


def test_summary_known_answers() -> None:
    # angry: 2 true, 1 found; disgust: 1 true, found, plus a false alarm from angry; happy perfect.
    y_true = np.array([0, 0, 1, 3, 3])
    y_pred = np.array([0, 1, 1, 3, 3])
    s = metrics.summarize(y_true, y_pred)
    assert s["accuracy"] == pytest.approx(4 / 5)
    assert s["recall_angry"] == pytest.approx(0.5) and s["precision_angry"] == pytest.approx(1.0)
    assert s["recall_disgust"] == pytest.approx(1.0) and s["precision_disgust"] == pytest.approx(0.5)
    assert s["f1_angry"] == pytest.approx(2 / 3) and s["f1_disgust"] == pytest.approx(2 / 3)
    assert s["f1_happy"] == pytest.approx(1.0)
    # macro-F1 over the classes that occur (angry, disgust, happy), not over all seven
    assert s["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert s["recall_fear"] == 0.0 and s["n"] == 5


def test_perfect_and_all_wrong() -> None:
    y = np.arange(7).repeat(3)
    assert metrics.summarize(y, y)["macro_f1"] == pytest.approx(1.0)
    wrong = metrics.summarize(y, (y + 1) % 7)
    assert wrong["accuracy"] == 0.0 and wrong["macro_f1"] == 0.0


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="predictions"):
        metrics.confusion(np.array([0, 1]), np.array([0]))


def test_warehouse_rows_split_by_usage() -> None:
    faces = Faces(
        pixels=np.zeros((4, 48, 48), np.uint8),
        labels=np.array([0, 3, 3, 6], np.uint8),
        usage=np.array([1, 1, 2, 2], np.uint8),
        image_id=np.array([10, 11, 12, 13], np.int32),
        flags=np.zeros(4, np.uint8),
    )
    probs = np.full((4, 7), 0.01, np.float32)
    probs[[0, 1, 2, 3], [0, 3, 6, 6]] = 0.94  # one mistake: face 12 (happy) predicted neutral
    preds = prediction_rows("m", faces, probs, tta=False)
    assert list(preds.columns[:4]) == ["model_id", "image_id", "tta", "label"]
    assert list(preds.columns[4:]) == list(EMOTIONS)
    assert preds["label"].tolist() == [0, 3, 6, 6]
    rows = metric_rows("m", faces, probs, tta=True).set_index(["usage", "metric"])["value"]
    assert rows[("PublicTest", "accuracy")] == 1.0
    assert rows[("PrivateTest", "accuracy")] == 0.5
    assert rows[("PrivateTest", "recall_happy")] == 0.0


def test_metrics_agree_with_scipy_and_the_textbook_definitions() -> None:
    """Our numpy metrics against scipy's contingency table and sklearn's definitions, on random labels
    (sklearn is not a dependency: its formulas are written out here)."""
    from scipy.stats.contingency import crosstab

    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 6, 500)  # one class (neutral) never occurs: the zero-division case
    y_pred = np.where(rng.random(500) < 0.6, y_true, rng.integers(0, 7, 500))
    cm = metrics.confusion(y_true, y_pred)
    reference = crosstab(y_true, y_pred, levels=(range(7), range(7))).count
    np.testing.assert_array_equal(cm, reference)
    s = metrics.summarize(y_true, y_pred)
    f1s = []
    for label, emotion in enumerate(EMOTIONS):
        tp = np.sum((y_true == label) & (y_pred == label))
        predicted, actual = np.sum(y_pred == label), np.sum(y_true == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert s[f"precision_{emotion}"] == pytest.approx(precision)
        assert s[f"recall_{emotion}"] == pytest.approx(recall)
        assert s[f"f1_{emotion}"] == pytest.approx(f1)
        if predicted or actual:
            f1s.append(f1)
    assert s["accuracy"] == pytest.approx(np.mean(y_true == y_pred))
    assert s["macro_f1"] == pytest.approx(np.mean(f1s))
