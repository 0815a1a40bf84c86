"""Tests for synth.effects: logit(AUC) and its sampling variance by every route, by hand."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from synth.effects import (
    expit,
    logit,
    var_auc_hanley_mcneil,
    var_auc_newcombe,
    var_logit_from_ci,
    var_logit_from_se,
    var_logit_from_var_auc,
)

HAND_RTOL = 1e-9
"""Hand-worked formulas are the same arithmetic in a different order: only rounding differs."""

Z95_RTOL = 1e-6
"""Hand-worked CI example uses the printed z = 1.959964; the code uses the exact normal quantile."""


# ---------------------------------------------------------------------------------------------
# Logit-AUC helpers
# ---------------------------------------------------------------------------------------------


def test_hanley_mcneil_by_hand() -> None:
    # AUC 0.8, 40 positives, 60 negatives.
    a, n1, n2 = 0.8, 40, 60
    q1 = a / (2 - a)  # 0.666...
    q2 = 2 * a * a / (1 + a)  # 0.711...
    expected = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2)
    assert expected == pytest.approx(0.00224815, abs=1e-8)  # 5.395556 / 2400
    assert var_auc_hanley_mcneil(a, n1, n2) == pytest.approx(expected, rel=HAND_RTOL)
    assert var_logit_from_var_auc(a, expected) == pytest.approx(expected / 0.16**2, rel=HAND_RTOL)


def test_newcombe_by_hand() -> None:
    # AUC 0.8, 40 positives, 60 negatives: N/2 - 1 = 49.
    expected = 0.8 * 0.2 * (1 + 49 * 0.2 / 1.2 + 49 * 0.8 / 1.8) / (40 * 60)
    assert expected == pytest.approx(0.00206296, abs=1e-8)  # 0.16 * 30.944444 / 2400
    assert var_auc_newcombe(0.8, 40, 60) == pytest.approx(expected, rel=HAND_RTOL)
    # Newcombe's formula depends on n_pos and n_neg only through N and their product.
    assert var_auc_newcombe(0.8, 60, 40) == pytest.approx(expected, rel=HAND_RTOL)


def test_var_logit_from_ci_by_hand() -> None:
    # AUC 0.75 (95 % CI 0.65 to 0.83).
    expected = ((math.log(0.83 / 0.17) - math.log(0.65 / 0.35)) / (2 * 1.959964)) ** 2
    assert expected == pytest.approx(0.0608032, abs=1e-7)
    assert var_logit_from_ci(0.75, 0.65, 0.83) == pytest.approx(expected, rel=Z95_RTOL)
    # A 90 % interval of the same width implies a larger variance.
    assert var_logit_from_ci(0.75, 0.65, 0.83, level=0.90) > expected


def test_var_logit_from_se_by_hand() -> None:
    # AUC 0.8 with SE 0.04: (0.04 / 0.16)^2 = 0.0625.
    assert var_logit_from_se(0.8, 0.04) == pytest.approx(0.0625, rel=HAND_RTOL)


def test_logit_expit_round_trip() -> None:
    p = np.array([0.1, 0.5, 0.8, 0.99])
    assert logit(0.5) == 0.0
    assert logit(0.8) == pytest.approx(math.log(4.0), rel=HAND_RTOL)
    assert expit(logit(p)) == pytest.approx(p, rel=1e-12)
    assert logit(np.array([0.0, 1.0])).tolist() == [-np.inf, np.inf]


def test_helpers_propagate_nan() -> None:
    auc = np.array([0.8, np.nan, 0.7, 0.75])
    lo = np.array([0.7, 0.6, np.nan, 0.65])
    hi = np.array([0.9, 0.8, 0.8, 0.83])
    n_pos = np.array([40, 40, np.nan, 30])
    n_neg = np.array([60, 60, 50, 70])
    for out in (
        var_logit_from_ci(auc, lo, hi),
        var_logit_from_se(auc, np.array([0.04, 0.05, 0.05, np.nan])),
        var_auc_hanley_mcneil(auc, n_pos, n_neg),
        var_auc_newcombe(auc, n_pos, n_neg),
        var_logit_from_var_auc(auc, np.array([0.002, 0.002, 0.002, np.nan])),
        logit(auc),
        expit(auc),
    ):
        assert isinstance(out, np.ndarray)
        assert out.shape == (4,)
        assert np.isnan(out[1])  # the AUC is NaN
        assert np.isfinite(out[0])
    assert np.isnan(var_logit_from_ci(auc, lo, hi)).tolist() == [False, True, True, False]
    assert np.isnan(var_auc_hanley_mcneil(auc, n_pos, n_neg)).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert np.isnan(var_auc_newcombe(auc, n_pos, n_neg)).tolist() == [False, True, True, False]
    assert np.isnan(logit(auc)).tolist() == [False, True, False, False]
    assert math.isnan(var_logit_from_se(float("nan"), 0.04))


def test_helpers_keep_series_index_and_scalars_stay_float() -> None:
    studies = pd.DataFrame(
        {"auc": [0.8, 0.7, np.nan], "n_pos": [40, 25, 30], "n_neg": [60, 75, 30]},
        index=["smith2020", "lee2021", "khan2022"],
    )
    var = var_auc_newcombe(studies["auc"], studies["n_pos"], studies["n_neg"])
    assert isinstance(var, pd.Series)
    assert var.index.tolist() == studies.index.tolist()
    assert var["smith2020"] == pytest.approx(var_auc_newcombe(0.8, 40, 60), rel=HAND_RTOL)
    assert np.isnan(var["khan2022"])
    assert isinstance(var_auc_hanley_mcneil(0.8, 40, 60), float)
    assert isinstance(logit(0.3), float)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: var_logit_from_se(1.2, 0.04), r"auc = 1\.2"),
        (lambda: var_logit_from_se(0.8, -0.04), r"se = -0\.04"),
        (lambda: var_auc_hanley_mcneil([0.8, 0.7], [40, 0], [60, 50]), r"n_pos\[1\] = 0\.0"),
        (lambda: var_auc_newcombe(0.8, 40, 0), r"n_neg = 0\.0"),
        (lambda: var_logit_from_ci(0.8, 0.9, 0.7), r"ci_low = 0\.9"),
        (lambda: var_logit_from_ci(0.8, 0.7, 1.0), r"ci_high = 1\.0"),
        (lambda: logit(-0.1), r"p = -0\.1"),
    ],
    ids=["auc>1", "se<0", "n_pos=0", "n_neg=0", "ci reversed", "ci_high=1", "p<0"],
)
def test_helpers_reject_out_of_range(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
