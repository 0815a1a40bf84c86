"""Tests for synth.regression: meta-regression and Egger's test per aim, and their loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, metafor_ref
from test_auc import METAFOR_ATOL, _review, _row, bcg_frame

import synth
from synth import appraisal, auc, instruments, meta, quality, regression

HAND_RTOL = 1e-9
"""Covariance by hand: the same (X'WX)^-1 in a different order, only rounding differs."""


@pytest.fixture(scope="module")
def demo() -> synth.Review:
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def bcg_table() -> pd.DataFrame:
    return bcg_frame()


def test_meta_regression_matches_metafor(bcg_table, reference) -> None:
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="year")
    expected = metafor_ref(reference, "metareg_ablat", "REML", "z")
    assert fit.result is not None and fit.reason == ""
    assert fit.result.coef[0] == pytest.approx(expected["intercept"], abs=METAFOR_ATOL)
    assert fit.result.coef[1] == pytest.approx(expected["slope"], abs=METAFOR_ATOL)
    table = regression.meta_regression_table([fit])
    assert table["term"].tolist() == ["intercept", "year"]
    assert fit.data["weight"].sum() == pytest.approx(100)


def test_egger_matches_metafor(bcg_table, reference) -> None:
    test = regression.small_study_test(bcg_table, aim="grade")
    expected = metafor_ref(reference, "regtest", "REML", "z")
    assert test.egger is not None
    assert test.egger.z == pytest.approx(expected["z"], abs=METAFOR_ATOL)
    assert test.egger.pvalue == pytest.approx(expected["pvalue"], abs=METAFOR_ATOL)
    assert test.summary_frame().loc[0, "note"] == ""


def test_analyses_say_why_they_cannot_run(bcg_table) -> None:
    few = bcg_table.iloc[:2]
    fit = regression.fit_meta_regression(few, aim="grade", moderator="year")
    assert fit.result is None and "too few studies" in fit.reason
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="cohort")
    assert fit.result is None and "cohort type is the same for all 13" in fit.reason
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="rqs", quality=None)
    assert fit.result is None and "no quality data (quality.csv)" in fit.reason
    assert regression.meta_regression_table([fit]).loc[0, "note"] == fit.reason
    test = regression.small_study_test(few, aim="grade", min_k=3)
    assert test.egger is None and "k = 2 < 3" in test.reason
    assert test.summary_frame().loc[0, "note"] == test.reason


def test_rqs_meta_regression_on_demo(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    consensus = quality.rater_scores(quality.score(demo.quality), rater="consensus")
    rqs = consensus.set_index("study_id")["percent"]
    fit = regression.fit_meta_regression(table, aim="grade", moderator="rqs",
                                         quality=rqs.to_frame("rqs"))
    assert fit.result is not None
    assert fit.k == int(table.loc[table["aim"] == "grade", "poolable"].sum())
    assert fit.data["x"].between(0, 100).all()
    assert fit.data.set_index("study_id")["x"].to_dict() == rqs[fit.data["study_id"]].to_dict()


def _consensus_metrics(review: synth.Review) -> pd.Series:
    """METRICS scores of the consensus rater, straight from the instrument's scoring."""
    scores = instruments.metrics_scores(review.appraisals["METRICS"])
    return scores[scores["rater"] == "consensus"].set_index("study_id")["score"]


def test_metrics_moderator_equals_meta_regression_on_the_same_x(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    metrics = _consensus_metrics(demo)
    fit = regression.fit_meta_regression(table, aim="grade", moderator="metrics",
                                         quality=appraisal.study_quality(demo))
    used = table[(table["aim"] == "grade") & table["poolable"]]
    x = used["study_id"].map(metrics)
    assert x.notna().all() and fit.k == len(used)
    expected = meta.meta_regression(used["logit_auc"], used["var_logit"],
                                    pd.DataFrame({"metrics": x.to_numpy(dtype=float)}))
    assert fit.result is not None
    assert np.allclose(fit.result.coef, expected.coef, rtol=1e-10)
    assert fit.result.tau2 == pytest.approx(expected.tau2, rel=1e-10)
    # weighted least squares by hand at the fitted tau²: (X'WX)^-1 X'Wy, W = 1 / (v + tau²)
    design = np.column_stack([np.ones(len(x)), x.to_numpy(dtype=float)])
    w = 1.0 / (used["var_logit"].to_numpy() + fit.result.tau2)
    xtw = design.T * w
    beta = np.linalg.solve(xtw @ design, xtw @ used["logit_auc"].to_numpy())
    assert np.allclose(fit.result.coef, beta, rtol=1e-8)
    assert np.allclose(fit.result.cov, np.linalg.inv(xtw @ design), rtol=HAND_RTOL)
    assert fit.summary_frame()["term"].tolist() == ["intercept", "metrics"]


def test_rqs2_moderator_reads_its_column_of_the_quality_table(bcg_table) -> None:
    scores = pd.Series(np.linspace(20.0, 80.0, len(bcg_table)), index=bcg_table["study_id"])
    quality_table = pd.DataFrame({"rqs2": scores})
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="rqs2",
                                         quality=quality_table)
    expected = meta.meta_regression(bcg_table["logit_auc"], bcg_table["var_logit"],
                                    pd.DataFrame({"rqs2": scores.to_numpy()}))
    assert np.allclose(fit.result.coef, expected.coef, rtol=1e-10)
    assert fit.data["x"].tolist() == scores.tolist()


@pytest.mark.parametrize(("moderator", "filename"), [("metrics", "metrics.csv"),
                                                      ("rqs2", "rqs2.csv"),
                                                      ("rqs", "quality.csv")])
def test_a_quality_moderator_without_its_file_is_a_note_not_an_error(bcg_table, moderator,
                                                                     filename) -> None:
    other = pd.DataFrame({"year": pd.Series([50.0], index=["x"])})  # no column of that name
    for quality_table in (None, other):
        fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator=moderator,
                                             quality=quality_table)
        assert fit.result is None and f"no quality data ({filename})" in fit.reason
    row = regression.meta_regression_table([fit]).iloc[0]
    assert row["note"] == fit.reason and row["k"] == 0


def test_demo_meta_regressions_cover_the_quality_moderators_it_has(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    fits = regression.meta_regressions(table, aims=["grade"], quality=appraisal.study_quality(
        demo), min_k_per_moderator=3)
    assert list(fits) == list(regression.MODERATORS) == ["year", "cohort", "rqs", "metrics",
                                                          "rqs2"]
    assert fits["metrics"][0].result is not None and fits["rqs"][0].result is not None
    assert "no quality data (rqs2.csv)" in fits["rqs2"][0].reason  # the demo has no RQS 2.0


def test_a_study_without_a_quality_score_is_left_out(bcg_table) -> None:
    scores = pd.Series(np.linspace(20.0, 80.0, len(bcg_table)), index=bcg_table["study_id"])
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="metrics",
                                         quality=scores.iloc[2:].to_frame("metrics"))
    assert fit.result is not None and fit.k == len(bcg_table) - 2
    assert set(fit.data["study_id"]) == set(scores.index[2:])


def test_fit_carries_the_covariance_of_its_band(bcg_table) -> None:
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="year")
    assert fit.cov_intercept_slope == fit.result.cov[0][1]
    # the fitted covariance: (X'WX)^-1 with random-effects weights, metafor's vcov
    w = 1 / (fit.data["var_logit"].to_numpy() + fit.result.tau2)
    design = np.column_stack([np.ones(len(w)), fit.data["x"].to_numpy(dtype=float)])
    expected = np.linalg.inv(design.T @ (design * w[:, None]))
    assert fit.cov_intercept_slope == pytest.approx(expected[0, 1], rel=HAND_RTOL)
    table = regression.meta_regression_table([fit])
    assert (table["cov_intercept_slope"] == fit.cov_intercept_slope).all()
    # the band a figure draws is intercept + slope x ± z sqrt(var0 + x² var1 + 2x cov01)
    line = fit.fitted(points=5)
    x = line["x"].to_numpy()
    se0, se1 = fit.result.se
    band = 1.959963984540054 * np.sqrt(se0**2 + x**2 * se1**2 + 2 * x * expected[0, 1])
    centre = fit.result.coef[0] + fit.result.coef[1] * x
    assert line["estimate"].to_numpy() == pytest.approx(centre, rel=HAND_RTOL)
    assert (line["ci_high"] - line["estimate"]).to_numpy() == pytest.approx(band, rel=1e-7)
    assert x[[0, -1]].tolist() == [fit.data["x"].min(), fit.data["x"].max()]


def test_no_fit_has_no_covariance(bcg_table) -> None:
    fit = regression.fit_meta_regression(bcg_table.iloc[:2], aim="grade", moderator="year")
    assert np.isnan(fit.cov_intercept_slope)
    assert np.isnan(regression.meta_regression_table([fit]).loc[0, "cov_intercept_slope"])
    assert fit.fitted().empty


def test_cohort_fit_gives_one_fitted_mean_per_cohort() -> None:
    rows = [_row(f"s{i}", cohort, "radiomics", value, auc_se=0.05)
            for i, (cohort, value) in enumerate([
                ("training", 0.90), ("training", 0.86), ("internal validation", 0.80),
                ("internal validation", 0.84), ("external validation", 0.75),
                ("external validation", 0.78)])]
    table = auc.study_variances(auc.representative_auc(_review(rows)))
    fit = regression.fit_meta_regression(table, aim="grade", moderator="cohort",
                                         min_k_per_moderator=1)
    means = fit.fitted()
    assert means["x"].tolist() == ["training", "internal validation", "external validation"]
    coef = fit.result.coef
    assert means["estimate"].tolist() == pytest.approx([coef[0], coef[0] + coef[1],
                                                        coef[0] + coef[2]])
    assert (means["ci_low"] < means["estimate"]).all()


def test_meta_regressions_fit_every_moderator_for_every_aim_with_studies(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    rqs = quality.rater_scores(quality.score(demo.quality), rater="consensus").set_index(
        "study_id")["percent"]
    aims = demo.vocabulary.aim_names
    quality_table = rqs.to_frame("rqs")
    fits = regression.meta_regressions(table, aims=aims, moderators=["year", "rqs"],
                                       quality=quality_table)
    with_studies = [a for a in aims if (table["aim"] == a).any()]
    assert list(fits) == ["year", "rqs"]
    for moderator, panel in fits.items():
        assert [f.aim for f in panel] == with_studies
        assert {f.moderator for f in panel} == {moderator}
        for f in panel:
            one = regression.fit_meta_regression(table, aim=f.aim, moderator=moderator,
                                                 quality=quality_table)
            assert f.reason == one.reason
            assert (f.result is None) == (one.result is None)
            if f.result is not None:
                assert f.result.coef == one.result.coef
    stacked = regression.meta_regression_table(fits)
    assert stacked.equals(regression.meta_regression_table(fits["year"] + fits["rqs"]))
    assert regression.meta_regressions(table, aims=["response"], moderators=["year"])[
        "year"][0].aim == "response"
    with pytest.raises(ValueError, match="moderators='age' is not allowed"):
        regression.meta_regressions(table, moderators=["age"])
    empty = regression.meta_regression_table({"year": []})
    assert empty.empty and "cov_intercept_slope" in empty.columns


def test_small_study_tests_run_every_aim_with_studies(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    aims = list(reversed(demo.vocabulary.aim_names))
    tests = regression.small_study_tests(table, aims=aims)
    assert [t.aim for t in tests] == [a for a in aims if (table["aim"] == a).any()]  # as given
    assert [t.aim for t in regression.small_study_tests(table)] == sorted(set(table["aim"]))
    for t in tests:
        one = regression.small_study_test(table, aim=t.aim)
        assert t.reason == one.reason and t.k == one.k
        assert (t.egger is None) == (one.egger is None)
    assert regression.egger_table(tests)["aim"].tolist() == [t.aim for t in tests]
    assert regression.egger_table([]).empty
    without = table[table["aim"] != "grade"]
    assert "grade" not in [t.aim for t in regression.small_study_tests(without)]


def test_funnel_limits_are_the_pseudo_95_percent_limits(bcg_table) -> None:
    test = regression.small_study_test(bcg_table, aim="grade")
    low, high = test.funnel_limits([0.0, 0.5])
    assert low.tolist() == pytest.approx([test.centre, test.centre - 1.959963984540054 * 0.5])
    assert high.tolist() == pytest.approx([test.centre, test.centre + 1.959963984540054 * 0.5])


def test_egger_guard_needs_ten_studies(bcg_table) -> None:
    nine = regression.small_study_test(bcg_table.iloc[:9], aim="grade")
    assert nine.egger is None and nine.reason == "not run: k = 9 < 10 (min_k; Sterne et al. 2011)"
    assert np.isfinite(nine.centre)  # the funnel is still drawn
    assert regression.egger_table([nine]).loc[0, "note"] == nine.reason
    assert regression.small_study_test(bcg_table.iloc[:9], aim="grade", min_k=3).egger is not None
    assert regression.small_study_test(bcg_table, aim="grade").egger is not None


def test_meta_regression_guard_needs_ten_studies_per_moderator(bcg_table) -> None:
    fit = regression.fit_meta_regression(bcg_table.iloc[:9], aim="grade", moderator="year")
    assert fit.result is None and fit.reason.startswith("not run: k = 9 < 10")
    assert regression.meta_regression_table([fit]).loc[0, "note"] == fit.reason
    ok = regression.fit_meta_regression(bcg_table.iloc[:9], aim="grade", moderator="year",
                                        min_k_per_moderator=3)
    assert ok.result is not None


def test_cohort_guard_counts_every_cohort_term() -> None:
    rows = [_row(f"s{i}", cohort, "radiomics", 0.8 + i / 100, auc_se=0.05)
            for i, cohort in enumerate(["training", "internal validation",
                                        "external validation"] * 5)]
    table = auc.study_variances(auc.representative_auc(_review(rows)))
    fit = regression.fit_meta_regression(table, aim="grade", moderator="cohort")
    assert fit.result is None and "k = 15 < 20" in fit.reason


@pytest.mark.parametrize("bad", [0, 2.5, True])
def test_guard_thresholds_are_checked(bcg_table, bad) -> None:
    with pytest.raises(ValueError, match="allowed"):
        regression.fit_meta_regression(bcg_table, aim="grade", moderator="year",
                                       min_k_per_moderator=bad)
    with pytest.raises(ValueError, match="allowed"):
        regression.small_study_test(bcg_table, aim="grade", min_k=bad)
