"""Tests for synth.meta: agreement with R's metafor on the BCG trials, one tau² path, bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import RESULTS, metafor_ref
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from synth.meta import (
    METHODS,
    EggerResult,
    Heterogeneity,
    MetaRegressionResult,
    PooledResult,
    TooFewStudiesError,
    _estimate_tau2,
    egger_test,
    meta_regression,
    pool,
)

METAFOR_ATOL = 1e-4
"""Agreement with metafor. The reference is transcribed to 6 decimals (4 for I², z and p), and
metafor stops early: REML at a change in tau² below 1e-5 and PM by uniroot() with tolerance
eps^0.25 ≈ 1.2e-4 on tau² (its PM tau² 0.318094 vs the exact root 0.318068), which moves
estimates and bounds by up to ~5e-5. Our iterations run to 1e-10."""

PM_I2_ATOL = 1e-3
"""I² (percent) for Paule-Mandel only. metafor's uniroot() stops at tau² = 0.3180937, 2.5e-5 above
the exact root 0.3180685 that statsmodels and we find; I² = 100 tau² / (tau² + s²) has slope
~22 percentage points per unit tau² here, so I² differs by 6e-4 (92.3303 vs 92.3309).
test_pm_i2_difference_is_metafors_root_tolerance shows that metafor's tau² reproduces its I²."""

R2_ATOL = 0.01
"""R² (percent) is transcribed to 2 decimals (±0.005) and computed by metafor from its
early-stopped residual tau² (0.076355 vs 0.076348 here), which shifts R² by a further ~0.002."""

HAND_RTOL = 1e-9
"""Hand-worked formulas are the same arithmetic in a different order: only rounding differs."""

POOL_QUANTITIES = ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2")


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    """BCG vaccine trials as in metafor's dat.bcg (first line of the file is a comment)."""
    return pd.read_csv(RESULTS / "dat_bcg.csv", skiprows=1)


POOL_CASES = [(m, t) for t in ("z", "knha") for m in ("REML", "DL", "PM")]


# ---------------------------------------------------------------------------------------------
# Agreement with metafor
# ---------------------------------------------------------------------------------------------


def test_reference_files_are_complete(bcg: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert len(bcg) == 13
    assert {"yi", "vi", "ablat"} <= set(bcg.columns)
    for method, test in POOL_CASES:
        expected = metafor_ref(reference, "pool", method, test)
        wanted = POOL_QUANTITIES if test == "z" else POOL_QUANTITIES[:6]
        assert set(wanted) <= set(expected), (method, test)


@pytest.mark.parametrize(("method", "test"), POOL_CASES)
def test_pool_matches_metafor(
    bcg: pd.DataFrame, reference: pd.DataFrame, method: str, test: str
) -> None:
    res = pool(bcg["yi"], bcg["vi"], method=method, knapp_hartung=(test == "knha"))
    expected = metafor_ref(reference, "pool", method, test)
    # tau² and I² do not depend on the test, so the KH rows of the table leave them blank.
    if test == "knha":
        expected |= {
            q: v for q, v in metafor_ref(reference, "pool", method, "z").items()
            if q in ("tau2", "i2")
        }
    got = {q: getattr(res, q) for q in POOL_QUANTITIES}
    for quantity in POOL_QUANTITIES:
        atol = PM_I2_ATOL if (method, quantity) == ("PM", "i2") else METAFOR_ATOL
        assert got[quantity] == pytest.approx(expected[quantity], abs=atol), quantity
    assert res.k == 13
    assert res.method == method
    assert res.knapp_hartung is (test == "knha")


@pytest.mark.parametrize(("method", "test"), POOL_CASES)
def test_summary_frame_matches_metafor(
    bcg: pd.DataFrame, reference: pd.DataFrame, method: str, test: str
) -> None:
    res = pool(bcg["yi"], bcg["vi"], method=method, knapp_hartung=(test == "knha"))
    frame = res.summary_frame()
    expected = metafor_ref(reference, "pool", method, test)
    assert len(frame) == 1
    for quantity in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert frame.loc[0, quantity] == pytest.approx(expected[quantity], abs=METAFOR_ATOL)


def test_fixed_effect_matches_metafor(bcg: pd.DataFrame, reference: pd.DataFrame) -> None:
    res = pool(bcg["yi"], bcg["vi"], method="FE")
    expected = metafor_ref(reference, "pool", "FE", "z")
    assert res.estimate == pytest.approx(expected["estimate"], abs=METAFOR_ATOL)
    assert res.se == pytest.approx(expected["se"], abs=METAFOR_ATOL)
    assert res.q == pytest.approx(expected["q"], abs=METAFOR_ATOL)
    assert res.q_df == int(expected["q_df"])
    assert res.tau2 == 0.0
    # metafor's I² for a fixed-effect model is the Q-based max(0, 100 (Q - df) / Q).
    assert res.i2 == pytest.approx(100 * (res.q - res.q_df) / res.q, rel=HAND_RTOL)
    # Without tau² the prediction interval is the confidence interval.
    assert (res.pi_low, res.pi_high) == (res.ci_low, res.ci_high)


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
def test_q_is_the_same_for_every_method(
    bcg: pd.DataFrame, reference: pd.DataFrame, method: str
) -> None:
    res = pool(bcg["yi"], bcg["vi"], method=method)
    q = metafor_ref(reference, "pool", "FE", "z")["q"]
    assert res.q == pytest.approx(q, abs=METAFOR_ATOL)
    assert res.q_df == 12
    assert res.q_pvalue < 1e-20


def test_meta_regression_matches_metafor(bcg: pd.DataFrame, reference: pd.DataFrame) -> None:
    res = meta_regression(bcg["yi"], bcg["vi"], bcg["ablat"])
    expected = metafor_ref(reference, "metareg_ablat", "REML", "z")
    assert isinstance(res, MetaRegressionResult)
    assert res.terms == ("intercept", "ablat")
    assert res.coef[0] == pytest.approx(expected["intercept"], abs=METAFOR_ATOL)
    assert res.se[0] == pytest.approx(expected["intercept_se"], abs=METAFOR_ATOL)
    assert res.coef[1] == pytest.approx(expected["slope"], abs=METAFOR_ATOL)
    assert res.se[1] == pytest.approx(expected["slope_se"], abs=METAFOR_ATOL)
    assert res.tau2 == pytest.approx(expected["tau2"], abs=METAFOR_ATOL)
    assert res.r2 == pytest.approx(expected["r2"], abs=R2_ATOL)
    # tau² of the intercept-only model is the REML tau² of pool().
    assert res.tau2_null == pytest.approx(pool(bcg["yi"], bcg["vi"]).tau2, rel=HAND_RTOL)
    frame = res.summary_frame()
    assert list(frame.columns) == ["term", "estimate", "se", "z", "pvalue", "ci_low", "ci_high"]
    assert frame["z"].tolist() == pytest.approx(list(np.array(res.coef) / np.array(res.se)))
    assert res.qe_df == 11
    assert res.qm_df == 1
    assert res.qm == pytest.approx(res.z[1] ** 2, rel=HAND_RTOL)


def test_egger_matches_metafor(bcg: pd.DataFrame, reference: pd.DataFrame) -> None:
    res = egger_test(bcg["yi"], bcg["vi"])
    expected = metafor_ref(reference, "regtest", "REML", "z")
    assert isinstance(res, EggerResult)
    assert res.z == pytest.approx(expected["z"], abs=METAFOR_ATOL)
    assert res.pvalue == pytest.approx(expected["pvalue"], abs=METAFOR_ATOL)
    assert res.z == pytest.approx(res.slope / res.slope_se, rel=HAND_RTOL)
    assert res.k == 13


# ---------------------------------------------------------------------------------------------
# Internal consistency (independent of the transcribed numbers)
# ---------------------------------------------------------------------------------------------


def test_dl_agrees_with_statsmodels(bcg: pd.DataFrame) -> None:
    sm_res = combine_effects(bcg["yi"].to_numpy(), bcg["vi"].to_numpy(), method_re="chi2")
    res = pool(bcg["yi"], bcg["vi"], method="DL")
    kh = pool(bcg["yi"], bcg["vi"], method="DL", knapp_hartung=True)
    assert res.tau2 == pytest.approx(sm_res.tau2, rel=HAND_RTOL)
    assert res.estimate == pytest.approx(sm_res.mean_effect_re, rel=HAND_RTOL)
    assert res.se == pytest.approx(sm_res.sd_eff_w_re, rel=HAND_RTOL)
    assert kh.se == pytest.approx(sm_res.sd_eff_w_re_hksj, rel=HAND_RTOL)


def test_pm_solves_its_estimating_equation(bcg: pd.DataFrame) -> None:
    y, v = bcg["yi"].to_numpy(), bcg["vi"].to_numpy()
    res = pool(y, v, method="PM")
    w = 1 / (v + res.tau2)
    assert np.sum(w * (y - res.estimate) ** 2) == pytest.approx(len(y) - 1, abs=1e-8)
    # Hence the Knapp-Hartung factor is exactly 1 for PM.
    assert pool(y, v, method="PM", knapp_hartung=True).se == pytest.approx(res.se, rel=1e-9)


def test_reml_maximises_the_restricted_likelihood(bcg: pd.DataFrame) -> None:
    y, v = bcg["yi"].to_numpy(), bcg["vi"].to_numpy()

    def neg_restricted_loglik(tau2: float) -> float:
        w = 1 / (v + tau2)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + tau2)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    best = optimize.minimize_scalar(
        neg_restricted_loglik, bounds=(0, 5), method="bounded", options={"xatol": 1e-10}
    )
    assert pool(y, v, method="REML").tau2 == pytest.approx(best.x, abs=1e-7)


def test_meta_regression_pm_and_dl_solve_their_equations(bcg: pd.DataFrame) -> None:
    y, v, x = bcg["yi"].to_numpy(), bcg["vi"].to_numpy(), bcg["ablat"].to_numpy()
    pm = meta_regression(y, v, x, method="PM")
    fitted = pm.coef[0] + pm.coef[1] * x
    assert np.sum((y - fitted) ** 2 / (v + pm.tau2)) == pytest.approx(11, abs=1e-8)
    assert sum(pm.weights) == pytest.approx(100.0)
    dl = meta_regression(y, v, x, method="DL")
    fe = meta_regression(y, v, x, method="FE")
    w = 1 / v
    xw = np.column_stack([np.ones_like(x), x])
    xwx = xw.T @ (xw * w[:, None])
    xw2x = xw.T @ (xw * w[:, None] ** 2)
    trace_p = np.sum(w) - np.trace(np.linalg.solve(xwx, xw2x))  # tr(P) at tau2 = 0
    assert dl.tau2 == pytest.approx(max(0.0, (fe.qe - 11) / trace_p), rel=1e-9)
    assert fe.tau2 == 0.0
    assert pm.terms == ("intercept", "x")


def test_meta_regression_reports_the_coefficient_covariance(bcg: pd.DataFrame) -> None:
    res = meta_regression(bcg["yi"], bcg["vi"], bcg["ablat"])
    w = 1 / (bcg["vi"].to_numpy() + res.tau2)
    design = np.column_stack([np.ones(len(w)), bcg["ablat"].to_numpy()])
    expected = np.linalg.inv(design.T @ (design * w[:, None]))  # (X'WX)^-1, metafor's vb
    assert np.array(res.cov) == pytest.approx(expected, rel=HAND_RTOL)
    assert np.sqrt(np.diag(res.cov)).tolist() == pytest.approx(list(res.se), rel=HAND_RTOL)


@pytest.mark.parametrize("method", METHODS)
def test_one_tau2_path_for_pooling_and_meta_regression(bcg: pd.DataFrame, method: str) -> None:
    """pool() and the intercept-only model of meta_regression() share one tau² estimator."""
    y, v = bcg["yi"].to_numpy(), bcg["vi"].to_numpy()
    tau2 = _estimate_tau2(y, v, np.ones((len(y), 1)), method)
    assert pool(y, v, method=method).tau2 == tau2
    assert meta_regression(y, v, bcg["ablat"], method=method).tau2_null == tau2


def test_pm_i2_difference_is_metafors_root_tolerance(
    bcg: pd.DataFrame, reference: pd.DataFrame
) -> None:
    expected = metafor_ref(reference, "pool", "PM", "z")
    w = 1 / bcg["vi"].to_numpy()
    typical = (len(w) - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    metafor_tau2 = expected["tau2"]
    assert 100 * metafor_tau2 / (metafor_tau2 + typical) == pytest.approx(
        expected["i2"], abs=METAFOR_ATOL
    )
    ours = pool(bcg["yi"], bcg["vi"], method="PM")
    assert 0 < metafor_tau2 - ours.tau2 < 1.22e-4  # uniroot's tol = .Machine$double.eps^0.25


def test_i2_uses_the_typical_within_study_variance(bcg: pd.DataFrame) -> None:
    v = bcg["vi"].to_numpy()
    res = pool(bcg["yi"], v, method="REML")
    w = 1 / v
    typical = (len(v) - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    assert res.i2 == pytest.approx(100 * res.tau2 / (res.tau2 + typical), rel=HAND_RTOL)


def test_result_objects(bcg: pd.DataFrame) -> None:
    res = pool(bcg["yi"].tolist(), bcg["vi"].to_numpy(), method="dl")  # case-insensitive name
    assert isinstance(res, PooledResult)
    assert res.method == "DL"
    assert res.heterogeneity == Heterogeneity(
        tau2=res.tau2, i2=res.i2, q=res.q, df=res.q_df, pvalue=res.q_pvalue
    )
    assert sum(res.weights) == pytest.approx(100.0)
    assert len(res.weights) == 13
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0  # type: ignore[misc]
    frame = res.summary_frame()
    assert list(frame.columns) == [
        "method",
        "knapp_hartung",
        "k",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pi_low",
        "pi_high",
        "tau2",
        "i2",
        "q",
        "q_df",
        "q_pvalue",
        "alpha",
        "ci_method",
        "pi_distribution",
        "pi_note",
    ]
    assert frame["ci_low"].dtype == float and frame["ci_high"].dtype == float
    wider = res.summary_frame(alpha=0.01)
    assert wider.loc[0, "ci_low"] < frame.loc[0, "ci_low"]
    assert wider.loc[0, "pi_high"] > frame.loc[0, "pi_high"]
    assert wider.loc[0, "alpha"] == 0.01
    assert res.pvalue == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(res.statistic) / 2**0.5))))


def test_homogeneous_studies_truncate_tau2_at_zero() -> None:
    y = [0.10, 0.11, 0.09, 0.10]
    v = [0.04, 0.05, 0.03, 0.06]
    fe = pool(y, v, method="FE")
    for method in ("REML", "DL", "PM"):
        res = pool(y, v, method=method)
        assert res.tau2 == 0.0, method
        assert res.i2 == 0.0, method
        assert res.estimate == pytest.approx(fe.estimate, rel=HAND_RTOL), method


# ---------------------------------------------------------------------------------------------
# Bad input: one case per error
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1])
def test_too_few_studies(k: int) -> None:
    with pytest.raises(TooFewStudiesError, match=rf"k >= 2 .*k = {k}") as info:
        pool([0.1] * k, [0.01] * k)
    assert isinstance(info.value, ValueError)
    assert (info.value.k, info.value.needed) == (k, 2)


def test_egger_needs_three_studies() -> None:
    with pytest.raises(TooFewStudiesError, match="k = 2"):
        egger_test([0.1, 0.2], [0.01, 0.02])


def test_meta_regression_needs_more_studies_than_coefficients() -> None:
    with pytest.raises(TooFewStudiesError, match="k = 2"):
        meta_regression([0.1, 0.2], [0.01, 0.02], [1.0, 2.0])


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="method='SJ' is not allowed; use one of: "
                       "'REML', 'DL', 'PM', 'FE'"):
        pool([0.1, 0.2], [0.01, 0.02], method="SJ")
    assert METHODS == ("REML", "DL", "PM", "FE")


@pytest.mark.parametrize(
    ("vi", "match"),
    [
        ([0.01, 0.0, 0.02], r"vi\[1\] = 0\.0"),
        ([0.01, 0.02, -0.5], r"vi\[2\] = -0\.5"),
        ([np.nan, 0.02, 0.03], r"vi\[0\] = nan"),
        ([0.01, np.inf, 0.03], r"vi\[1\] = inf"),
    ],
    ids=["zero", "negative", "nan", "inf"],
)
def test_bad_variance_names_position_and_value(vi: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pool([0.1, 0.2, 0.3], vi)


def test_bad_effect_size_names_position() -> None:
    with pytest.raises(ValueError, match=r"yi\[2\] = nan"):
        pool([0.1, 0.2, np.nan], [0.01, 0.02, 0.03])


def test_length_mismatch() -> None:
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        pool([0.1, 0.2, 0.3], [0.01, 0.02])


def test_bad_alpha() -> None:
    with pytest.raises(ValueError, match="alpha=1.5"):
        pool([0.1, 0.2], [0.01, 0.02], alpha=1.5)


def test_collinear_moderators() -> None:
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.0, 6.0, 8.0]})
    with pytest.raises(ValueError, match="full column rank"):
        meta_regression([0.1, 0.2, 0.3, 0.5], [0.01, 0.02, 0.03, 0.01], x)


def test_missing_moderator_names_the_cell() -> None:
    with pytest.raises(ValueError, match=r"X\[1, 'ablat'\] = nan"):
        ablat = pd.Series([1, np.nan, 3, 4], name="ablat")
        meta_regression([0.1, 0.2, 0.3, 0.5], [0.01, 0.02, 0.03, 0.01], ablat)


# --- prediction-interval distribution and guard (issue 17) ---------------------------------


@pytest.mark.parametrize(("distribution", "df"), [("z", None), ("t(k-1)", 12), ("t(k-2)", 11)])
def test_pi_distribution_sets_the_quantile(bcg: pd.DataFrame, distribution: str,
                                           df: int | None) -> None:
    res = pool(bcg["yi"], bcg["vi"], method="REML", pi_distribution=distribution)
    crit = stats.norm.isf(0.025) if df is None else stats.t.isf(0.025, df)
    half = crit * np.sqrt(res.se**2 + res.tau2)
    assert (res.pi_low, res.pi_high) == pytest.approx((res.estimate - half, res.estimate + half))
    assert res.pi_df == df
    assert res.summary_frame()["pi_low"].iloc[0] == pytest.approx(res.pi_low)


def test_pi_distribution_ci_follows_knapp_hartung(bcg: pd.DataFrame) -> None:
    plain = pool(bcg["yi"], bcg["vi"], knapp_hartung=True)
    explicit = pool(bcg["yi"], bcg["vi"], knapp_hartung=True, pi_distribution="t(k-1)")
    assert plain.pi_df == 12
    assert plain.pi_low == pytest.approx(explicit.pi_low)
    assert plain.summary_frame()["ci_method"].iloc[0] == "Knapp-Hartung t(k-1)"
    assert plain.summary_frame()["pi_distribution"].iloc[0] == "t, df = 12"
    assert pool(bcg["yi"], bcg["vi"]).summary_frame()["ci_method"].iloc[0] == "Wald z"


def test_pi_guard_needs_three_studies() -> None:
    res = pool([0.1, 0.5], [0.04, 0.05])
    assert np.isnan(res.pi_low) and np.isnan(res.pi_high)
    assert "k = 2 < 3" in res.pi_note
    frame = res.summary_frame()
    assert np.isnan(frame["pi_low"].iloc[0]) and frame["pi_note"].iloc[0] == res.pi_note
    assert np.isfinite(pool([0.1, 0.5], [0.04, 0.05], pi_min_k=2).pi_low)
    assert pool([0.1, 0.5, 0.3], [0.04, 0.05, 0.02]).pi_note == ""


def test_pi_t_k_minus_2_needs_a_degree_of_freedom() -> None:
    res = pool([0.1, 0.5], [0.04, 0.05], pi_distribution="t(k-2)", pi_min_k=2)
    assert np.isnan(res.pi_low)


@pytest.mark.parametrize("bad", [{"pi_distribution": "t"}, {"pi_min_k": 1}, {"pi_min_k": 2.5}])
def test_pi_options_are_checked(bcg: pd.DataFrame, bad: dict) -> None:
    with pytest.raises(ValueError, match="allowed|must be one of"):
        pool(bcg["yi"], bcg["vi"], **bad)
