"""Interval helpers of the pooling functions (synth.intervals)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synth import intervals


def test_critical_value_and_p_value_are_normal_or_t() -> None:
    assert intervals.critical_value(0.05, None) == pytest.approx(stats.norm.isf(0.025))
    assert intervals.critical_value(0.05, 4) == pytest.approx(stats.t.isf(0.025, 4))
    assert intervals.two_sided_p(1.96, None) == pytest.approx(0.05, abs=1e-4)
    assert intervals.two_sided_p(2.0, 4) == pytest.approx(2 * stats.t.sf(2.0, 4))


@pytest.mark.parametrize(("distribution", "kh", "df"), [
    ("ci", False, None), ("ci", True, 9), ("z", True, None), ("t(k-1)", False, 9),
    ("t(k-2)", False, 8)])
def test_pi_df(distribution: str, kh: bool, df: int | None) -> None:
    assert intervals.pi_df(distribution, 10, kh) == df


def test_prediction_interval_and_its_guard() -> None:
    low, high = intervals.prediction_interval(1.0, 0.3, 0.16, 0.05, None, 5, 3)
    half = stats.norm.isf(0.025) * 0.5
    assert (low, high) == pytest.approx((1 - half, 1 + half))
    assert all(np.isnan(intervals.prediction_interval(1.0, 0.3, 0.16, 0.05, None, 2, 3)))
    assert all(np.isnan(intervals.prediction_interval(1.0, 0.3, 0.16, 0.05, 0, 5, 3)))
    assert intervals.pi_note(2, 3).startswith("no prediction interval: k = 2 < 3")
    assert intervals.pi_note(3, 3) == ""


def test_labels() -> None:
    assert intervals.pi_label("ci", None) == "z"
    assert intervals.pi_label("t(k-2)", 11) == "t(k-2): t, df = 11"


@pytest.mark.parametrize("bad", [0, 1.5, True, "3"])
def test_check_min_k(bad) -> None:
    with pytest.raises(ValueError, match="allowed: a whole number ≥ 2"):
        intervals.check_min_k("pi_min_k", bad, 2)


@pytest.mark.parametrize("bad", [0, 1, -0.1, "0.05"])
def test_check_alpha(bad) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        intervals.check_alpha(bad)
