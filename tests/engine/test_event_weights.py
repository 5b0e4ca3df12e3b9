"""Event weights: type weight x value, log-scaled on request, clipped, always finite."""

import numpy as np
import pytest

from recommender.engine.data import Events, event_weights


def test_linear_weights_are_clipped_both_ways() -> None:
    weights = event_weights(
        np.array([2.0, 8.0, -4.0]), np.array([3.0, 1e12, 1e12]), scale="linear", max_weight=100.0
    )
    assert weights.dtype == np.float32
    assert weights.tolist() == [6.0, 100.0, -100.0]


def test_log_scale_keeps_the_sign_and_order() -> None:
    weights = event_weights(
        np.ones(4), np.array([0.0, 1.0, 1e6, -1e6]), scale="log", max_weight=100.0
    )
    assert weights[0] == 0.0
    assert weights[1] == pytest.approx(np.log(2.0))
    assert weights[2] == pytest.approx(np.log1p(1e6))
    assert weights[3] == -weights[2]


def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        event_weights(np.ones(1), np.ones(1), scale="sqrt", max_weight=1.0)


def test_events_refuse_a_non_finite_weight() -> None:
    ids = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="finite"):
        Events(ids, ids, np.array([np.nan], dtype=np.float32), np.zeros(1))
