"""Leave-one-out, influence diagnostics and the summary of findings (synth.sensitivity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, RESULTS
from scipy import stats
from test_auc import bcg_frame

import synth
from synth import auc, sensitivity
from synth.effects import expit
from synth.meta import TooFewStudiesError, pool

METAFOR_ATOL = 1e-4

INFLUENCE = {"rstudent": "rstudent", "dffits": "dffits", "cook.d": "cook_d", "cov.r": "cov_r",
             "tau2.del": "tau2_del", "QE.del": "qe_del", "hat": "hat", "weight": "weight"}
LEAVE1OUT = {"estimate": "estimate", "se": "se", "ci.lb": "ci_low", "ci.ub": "ci_high",
             "tau2": "tau2", "I2": "i2", "Q": "q", "Qp": "q_pvalue"}


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    return pd.read_csv(RESULTS / "dat_bcg.csv", comment="#")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(RESULTS / "metafor_influence_bcg.csv", comment="#")


@pytest.fixture(scope="module")
def bcg_table() -> pd.DataFrame:
    return bcg_frame()


def _ref(ref: pd.DataFrame, analysis: str, quantity: str) -> np.ndarray:
    rows = ref[(ref["analysis"] == analysis) & (ref["quantity"] == quantity)]
    return rows.sort_values("study")["value"].to_numpy(dtype=float)


@pytest.mark.parametrize(("theirs", "ours"), LEAVE1OUT.items())
def test_leave_one_out_matches_metafor(bcg, ref, theirs, ours) -> None:
    out = sensitivity.leave_one_out(bcg["yi"], bcg["vi"])
    assert out[ours].to_numpy() == pytest.approx(_ref(ref, "leave1out", theirs),
                                                 abs=METAFOR_ATOL)


@pytest.mark.parametrize(("theirs", "ours"), INFLUENCE.items())
def test_influence_matches_metafor(bcg, ref, theirs, ours) -> None:
    out = sensitivity.influence(bcg["yi"], bcg["vi"])
    assert out[ours].to_numpy() == pytest.approx(_ref(ref, "influence", theirs),
                                                 abs=METAFOR_ATOL)


def test_influential_flag_and_baujat_match_metafor(bcg, ref) -> None:
    out = sensitivity.influence(bcg["yi"], bcg["vi"])
    assert out["influential"].tolist() == _ref(ref, "influence", "inf").astype(bool).tolist()
    assert out["baujat_x"].to_numpy() == pytest.approx(_ref(ref, "baujat", "x"),
                                                       abs=METAFOR_ATOL)
    assert out["baujat_y"].to_numpy() == pytest.approx(_ref(ref, "baujat", "y"),
                                                       abs=METAFOR_ATOL)


def test_an_outlier_is_flagged() -> None:
    y = [0.1, 0.12, 0.08, 0.11, 0.09, 2.5]
    out = sensitivity.influence(y, [0.01] * 6, labels=list("abcdef"))
    assert out.set_index("study")["influential"].to_dict() == dict.fromkeys("abcde", False) | {
        "f": True}


def test_leave_one_out_is_the_pool_without_the_study(bcg) -> None:
    out = sensitivity.leave_one_out(bcg["yi"], bcg["vi"], labels=bcg["author"], method="DL",
                                    knapp_hartung=True)
    alone = pool(bcg["yi"][1:], bcg["vi"][1:], method="DL", knapp_hartung=True)
    assert out.loc[0, "study"] == "Aronson"
    assert out.loc[0, "ci_low"] == pytest.approx(alone.ci_low)


def test_fewer_than_three_studies_raise() -> None:
    with pytest.raises(TooFewStudiesError):
        sensitivity.leave_one_out([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(TooFewStudiesError):
        sensitivity.influence([0.1, 0.2], [0.01, 0.02])


def _poolings(path=DEMO, **kw):
    rv = synth.load_review(path)
    return auc.pool_by_aim(auc.study_variances(auc.representative_auc(rv)), **kw)


def test_sensitivity_by_aim_on_demo() -> None:
    poolings = _poolings()
    out = sensitivity.sensitivity_by_aim(poolings)
    grade = out[out["aim"] == "grade"]
    assert len(grade) == poolings["grade"].k_pooled
    first = grade.iloc[0]
    used = poolings["grade"].studies.query("pooled")
    keep = used["study_id"] != first["study_id"]
    alone = pool(used.loc[keep, "logit_auc"], used.loc[keep, "var_logit"])
    assert first["auc_without"] == pytest.approx(expit(alone.estimate))
    skipped = out[out["aim"] == "outcome"].iloc[0]
    assert skipped["study_id"] == "" and "need k ≥ 3 (min_k)" in skipped["note"]


def test_sensitivity_min_k_is_a_guard() -> None:
    poolings = _poolings()
    out = sensitivity.sensitivity_by_aim(poolings, min_k=5)
    response = out[out["aim"] == "response"]
    assert len(response) == 1 and "k ≥ 5" in response.iloc[0]["note"]
    with pytest.raises(ValueError, match="allowed"):
        sensitivity.sensitivity_by_aim(poolings, min_k=2)


def test_summary_of_findings_shows_every_criterion() -> None:
    sof = sensitivity.summary_of_findings(_poolings()).set_index("aim")
    grade = sof.loc["grade"]
    assert grade["n_participants"] > 1000 and bool(grade["crit_participants"])
    assert grade["estimator"] == "REML" and grade["ci_method"] == "Wald z"
    crit = [c for c in sof.columns if c.startswith("crit_")]
    assert len(crit) == 9
    assert not grade["crit_no_excess_significance"]  # never tested, so never met
    assert grade["evidence_class"] == "highly suggestive"
    assert "not convincing: lacks" in grade["class_reason"]
    response = sof.loc["response"]
    assert response["small_study_note"] == "not tested: k = 4 < 10 (min_k_small_study)"
    assert not response["crit_no_small_study_effect"]
    assert sof.loc["outcome", "evidence_class"] == "not graded"
    assert sof["risk_of_bias_note"].str.startswith("not assessed").all()


def test_evidence_classes_follow_the_criteria() -> None:
    sof = sensitivity.summary_of_findings(_poolings(), min_participants=10_000).set_index("aim")
    assert (sof.loc[["grade", "differential diagnosis", "response"], "evidence_class"]
            == "weak").all()
    weak = sensitivity.summary_of_findings(_poolings()).set_index("aim").loc["response"]
    assert weak["evidence_class"] == "weak" and not weak["crit_participants"]


def test_not_significant_and_risk_of_bias_share() -> None:
    rows = [{"study_id": f"s{i}", "aim": "grade", "cohort": "training", "auc": a,
             "logit_auc": np.log(a / (1 - a)), "var_logit": 0.2, "poolable": True,
             "n": 50, "not_pooled_reason": "", "variance_route": "reported SE",
             "first_author": "A", "year": 2020} for i, a in enumerate([0.45, 0.55, 0.5])]
    poolings = auc.pool_by_aim(pd.DataFrame(rows), aims=["grade"])
    high = pd.Series({"s0": True, "s1": False, "s2": False})
    sof = sensitivity.summary_of_findings(poolings, high_risk_of_bias=high).iloc[0]
    assert sof["evidence_class"] == "not significant"
    assert sof["high_rob_share"] == pytest.approx(1 / 3)
    assert sof["n_participants"] == 150


def test_validation_subgroups_test_the_difference(bcg_table) -> None:
    table = bcg_table.copy()
    table["cohort"] = ["internal validation"] * 6 + ["external validation"] * 7
    out = sensitivity.validation_subgroups(table, aims=["grade"]).set_index("subgroup")
    fits = [pool(table.loc[table["cohort"] == c, "logit_auc"],
                            table.loc[table["cohort"] == c, "var_logit"])
            for c in ("internal validation", "external validation")]
    assert out.loc["internal validation", "k"] == 6
    assert out.loc["external validation", "auc_pooled"] == pytest.approx(expit(fits[1].estimate))
    w = np.array([1 / f.se**2 for f in fits])
    theta = np.array([f.estimate for f in fits])
    q_b = np.sum(w * (theta - np.sum(w * theta) / w.sum()) ** 2)
    diff = out.loc["difference"]
    assert diff["q_between"] == pytest.approx(q_b)
    assert diff["q_between_df"] == 1 and diff["n_subgroups"] == 2
    assert diff["q_between_pvalue"] == pytest.approx(stats.chi2.sf(q_b, 1))


def test_validation_subgroups_say_why_there_is_no_test(bcg_table) -> None:
    table = bcg_table.assign(cohort="external validation")
    diff = sensitivity.validation_subgroups(table, aims=["grade"]).set_index("subgroup").loc[
        "difference"]
    assert np.isnan(diff["q_between"])
    assert diff["note"].startswith("no test for subgroup differences: 1 of 2 subgroups")


def test_summary_of_findings_says_why_egger_cannot_run_when_every_se_is_equal(bcg_table) -> None:
    """Equal SEs leave Egger's regression without a slope: a note, never a failed notebook."""
    same_se = bcg_table.assign(var_logit=0.05, se_logit=np.sqrt(0.05))
    sof = sensitivity.summary_of_findings(auc.pool_by_aim(same_se, aims=["grade"]))
    grade = sof.set_index("aim").loc["grade"]
    assert np.isnan(grade["small_study_p"])
    assert grade["small_study_note"].startswith("not tested: ")
    assert "full column rank" in grade["small_study_note"]
    assert not grade["crit_no_small_study_effect"]


def test_max_k_bounds_the_refits_and_says_so() -> None:
    poolings = _poolings()
    k = poolings["grade"].k_pooled
    out = sensitivity.sensitivity_by_aim(poolings, max_k=k - 1)
    grade = out[out["aim"] == "grade"]
    assert len(grade) == 1 and grade["study_id"].iloc[0] == ""
    assert grade["note"].iloc[0].startswith(f"not analysed: {k} pooled studies, more than "
                                            f"max_k = {k - 1}")
    full = sensitivity.sensitivity_by_aim(poolings, max_k=None)
    assert (full["aim"] == "grade").sum() == k
