"""Diagnostic accuracy: 2x2 tables (reported and reconstructed), the representative row, pooling
by aim, subgroups, meta-regression, Deeks' test, leave-one-out, Fagan and the RevMan export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, RESULTS, ROOT, line_of

import synth
from synth import dta
from synth.errors import ReviewDataError
from synth.review import Review

GEPNET = ROOT / "data" / "gepnet-public"
TOL_DEEKS = 1e-8
"""Deeks' weighted regression is closed-form: R's lm() to rounding."""


@pytest.fixture(scope="module")
def demo():
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def cells(demo):
    return dta.representative_cells(demo)


@pytest.fixture(scope="module")
def auditc() -> pd.DataFrame:
    raw = pd.read_csv(RESULTS / "dta_auditc.csv")
    return raw.rename(columns=str.lower).assign(label=[f"Study {i}" for i in range(1, 15)])


def _perf(**cols) -> pd.DataFrame:
    base = {"study_id": "s1", "aim": "grade", "target": "t", "model": "radiomics",
            "cohort": "training", "auc": np.nan}
    return pd.DataFrame([base | cols])


def _review(perf: pd.DataFrame, studies: pd.DataFrame) -> Review:
    return Review(name="test", path=Path("."), studies=studies, performance=perf)


def _studies(ids) -> pd.DataFrame:
    return pd.DataFrame({"study_id": ids, "first_author": [f"Au {i}" for i in ids],
                         "year": 2020, "modality": "CT", "n_patients": 100})


# --- 2x2 tables ---------------------------------------------------------------------------


def test_reported_cells_are_kept():
    t = dta.two_by_two(_perf(tp=8, fn=2, fp=3, tn=17))
    assert t.loc[0, ["tp", "fn", "fp", "tn"]].tolist() == [8, 2, 3, 17]
    assert t.loc[0, "cells"] == "reported" and t.loc[0, "problem"] is None
    assert t.loc[0, "youden"] == pytest.approx(0.8 + 17 / 20 - 1)


def test_cells_reconstructed_from_sensitivity_specificity_and_classes():
    t = dta.two_by_two(_perf(sensitivity=0.85, specificity=0.7, positives=20, negatives=30))
    assert t.loc[0, ["tp", "fn", "fp", "tn"]].tolist() == [17, 3, 9, 21]
    assert t.loc[0, "cells"] == "reconstructed" and t.loc[0, "problem"] is None


def test_cells_reconstructed_from_n_and_prevalence():
    t = dta.two_by_two(_perf(sensitivity=0.8, specificity=0.9, n=50, prevalence=0.4))
    assert t.loc[0, ["tp", "fn", "fp", "tn"]].tolist() == [16, 4, 3, 27]


def test_cells_reconstructed_from_n_and_positives():
    t = dta.two_by_two(_perf(sensitivity=0.8, specificity=0.9, n=50, positives=20))
    assert t.loc[0, ["tp", "fn", "fp", "tn"]].tolist() == [16, 4, 3, 27]


def test_reconstruction_that_does_not_reproduce_is_reported_with_its_place():
    # 0.83 of 20 positives: TP = 17 gives 0.85, not 0.83 at two decimals
    t = dta.two_by_two(_perf(sensitivity=0.83, specificity=0.7, positives=20, negatives=30))
    assert t.loc[0, "problem"].startswith("performance.csv:2:sensitivity: 0.83 — ")
    assert "2 decimals" in t.loc[0, "problem"]


def test_reported_cells_that_contradict_a_reported_sensitivity_are_reported():
    t = dta.two_by_two(_perf(tp=8, fn=2, fp=3, tn=17, sensitivity=0.9))
    assert t.loc[0, "problem"].startswith("performance.csv:2:sensitivity: 0.9 — reported TP")


def test_a_prevalence_that_does_not_reproduce_is_reported():
    t = dta.two_by_two(_perf(sensitivity=0.8, specificity=0.9, n=50, prevalence=0.33))
    assert "performance.csv:2:prevalence" in t.loc[0, "problem"]


def test_rows_without_enough_information_have_no_table():
    t = dta.two_by_two(_perf(auc=0.8, sensitivity=0.8, positives=20))
    assert t.loc[0, "cells"] == "none" and np.isnan(t.loc[0, "tp"])


# --- data: load-time rules -------------------------------------------------------------------


def test_demo_rows_reconstruct_without_problems(demo):
    t = dta.two_by_two(demo.performance)
    assert set(t["cells"]) == {"reported", "reconstructed", "none"}
    assert t["problem"].isna().all()


def test_a_row_without_auc_or_table_is_rejected(demo_copy, edit):
    perf = demo_copy / "performance.csv"
    row = line_of(perf, "demo01,grade")
    edit(perf, "training,0.8,,,,193", "training,,,,,193")
    with pytest.raises(ReviewDataError, match=f"performance.csv:{row}:auc: .*an AUC or a 2×2"):
        synth.load_review(demo_copy)


def test_a_row_with_a_table_but_no_auc_loads(demo_copy, edit):
    perf = demo_copy / "performance.csv"
    edit(perf, "training,0.88,,,,89,29,60,27,17,2,43", "training,,,,,89,29,60,27,17,2,43")
    assert synth.load_review(demo_copy).performance["auc"].isna().sum() == 1


def test_incomplete_cells_are_rejected(demo_copy, edit):
    perf = demo_copy / "performance.csv"
    row = line_of(perf, "demo02,differential diagnosis,NET liver metastasis vs other,radiomics")
    edit(perf, "89,29,60,27,17,2,43", "89,29,60,27,17,2,")
    with pytest.raises(ReviewDataError, match=f"performance.csv:{row}:tn: .*given together"):
        synth.load_review(demo_copy)


def test_cells_that_disagree_with_the_classes_are_rejected(demo_copy, edit):
    perf = demo_copy / "performance.csv"
    row = line_of(perf, "demo02,differential diagnosis,NET liver metastasis vs other,radiomics")
    edit(perf, "89,29,60,27,17,2,43", "89,29,60,26,17,2,43")
    with pytest.raises(ReviewDataError, match=f"performance.csv:{row}:tp: .*tp \\+ fn = "):
        synth.load_review(demo_copy)


# --- representative row ------------------------------------------------------------------


def test_representative_row_follows_the_auc_rule_ranked_by_youden():
    perf = pd.concat([
        _perf(cohort="training", tp=9, fn=1, fp=1, tn=9, n=20),
        _perf(cohort="external validation", tp=7, fn=3, fp=3, tn=7, n=20),
        _perf(cohort="external validation", tp=8, fn=2, fp=2, tn=8, n=20),
    ], ignore_index=True)
    rv = _review(perf, _studies(["s1"]))
    chosen = dta.representative_cells(rv)
    assert len(chosen) == 1 and chosen.loc[0, "performance_row"] == 3  # lowest Youden
    assert dta.representative_cells(rv, tie="highest").loc[0, "performance_row"] == 4
    assert dta.representative_cells(rv, rule="best").loc[0, "performance_row"] == 2


def test_demo_has_two_aims_with_enough_studies(cells):
    assert cells.groupby("aim").size().to_dict() == {"differential diagnosis": 17, "grade": 14}
    assert not cells.duplicated(["study_id", "aim"]).any()


# --- pooling -----------------------------------------------------------------------------


def test_pool_by_aim_and_pooled_table(cells):
    poolings = dta.pool_by_aim(cells)
    assert set(poolings) == {"grade", "differential diagnosis"}
    table = dta.pooled_table(poolings)
    grade = table[table["aim"] == "grade"].set_index("quantity")
    assert grade.loc["sensitivity", "ci_low"] < grade.loc["sensitivity", "estimate"] \
        < grade.loc["sensitivity", "ci_high"]
    for q in ("SROC AUC", "SROC partial AUC", "Zhou-Dendukuri I2 (%)", "HSROC Lambda", "rho",
              "LR+", "LR-", "DOR", "tau2 sensitivity", "FPR range low"):
        assert np.isfinite(grade.loc[q, "estimate"]), q


def test_an_aim_with_too_few_studies_has_a_note(cells):
    few = cells[cells["aim"] == "grade"].head(2)
    pooling = dta.pool_by_aim(few)["grade"]
    assert pooling.fit is None and "k >= 3" in pooling.note
    table = dta.pooled_table({"grade": pooling})
    assert table["quantity"].tolist() == ["note"]


def test_forest_frame_has_studies_and_pooled_row(cells):
    p = dta.pool_by_aim(cells)["grade"]
    frame = p.forest_frame()
    assert len(frame) == p.k + 1 and frame.iloc[-1]["label"] == "Pooled"
    study = frame.iloc[:-1]
    assert (study["sens_low"] <= study["sensitivity"]).all()
    assert (study["sensitivity"] <= study["sens_high"]).all()


def test_sroc_frame_spans_the_observed_fpr_range(cells):
    p = dta.pool_by_aim(cells)["grade"]
    curve = p.sroc_frame()
    lo, hi = p.fit.observed_fpr_range()
    assert curve["fpr"].min() == pytest.approx(max(lo, 0.01))
    assert curve["fpr"].max() == pytest.approx(min(hi, 0.99))


def test_sroc_frame_starts_at_fpr_001_when_a_study_has_no_false_positive(cells):
    p = dta.pool_by_aim(cells)["differential diagnosis"]
    assert p.fit.observed_fpr_range()[0] == 0
    assert p.sroc_frame()["fpr"].min() == pytest.approx(0.01)


def test_zero_rule_and_method_reach_the_fit(cells):
    p = dta.pool_by_aim(cells, method="ML", zero_rule="single")["grade"]
    assert (p.fit.method, p.fit.zero_rule) == ("ML", "single")


# --- subgroups and meta-regression ------------------------------------------------------------


def test_subgroup_pooling_internal_against_external(cells):
    r = dta.subgroup_pooling(cells, aim="grade")
    assert r.groups == dta.SUBGROUPS
    assert r.test is not None and r.test.df == 2 and 0 <= r.test.pvalue <= 1
    table = r.summary_frame()
    assert {"internal validation", "external validation", "difference"} <= set(table["group"])


def test_subgroup_without_enough_studies_says_so(cells):
    grade = cells[cells["aim"] == "grade"]
    external = grade[grade["cohort"] == "external validation"].head(2)
    r = dta.subgroup_pooling(pd.concat([grade[grade["cohort"] != "external validation"],
                                        external]), aim="grade")
    assert r.test is None and "external validation has fewer than 3" in r.note
    assert r.poolings["external validation"].fit is None
    assert "note" in set(dta.subgroup_table({"grade": r})["quantity"])


def test_subgroup_unknown_column(cells):
    with pytest.raises(ValueError, match="by='site' is not a column"):
        dta.subgroup_pooling(cells, aim="grade", by="site")


def test_subgroups_by_aim_and_table(cells):
    results = dta.subgroups_by_aim(cells)
    assert set(results) <= {"grade", "differential diagnosis"} and results
    assert "LR test p" in set(dta.subgroup_table(results)["quantity"])


def test_meta_regression_with_lr_test(cells):
    r = dta.meta_regression(cells, aim="grade", covariate="modality")
    table = r.summary_frame()
    assert set(table["term"]) >= {"intercept"}
    assert r.test.df == 2 * (r.fit.p - 1)
    assert r.fit.method == "REML"


def test_meta_regression_unknown_covariate(cells):
    with pytest.raises(ValueError, match="covariate='colour' is not a column"):
        dta.meta_regression(cells, aim="grade", covariate="colour")


def test_meta_regression_table_notes_aims_it_cannot_fit(cells):
    table = dta.meta_regression_table(cells.assign(const="x"), covariate="const")
    assert table["note"].str.contains("one level").all()


# --- Deeks, leave-one-out, Fagan, export -------------------------------------------------------


def test_deeks_matches_r_on_auditc(auditc):
    ref = pd.read_csv(RESULTS / "dta_auditc_ref.csv").query("analysis == 'deeks'")
    r = dict(zip(ref["quantity"], ref["value"], strict=True))
    t = dta.deeks_test(auditc)
    assert t.slope == pytest.approx(r["slope"], abs=TOL_DEEKS)
    assert t.se == pytest.approx(r["se"], abs=TOL_DEEKS)
    assert t.pvalue == pytest.approx(r["pvalue"], abs=TOL_DEEKS)
    assert t.df == 12 and t.note is None


def test_deeks_needs_ten_studies(auditc):
    t = dta.deeks_test(auditc.head(9))
    assert np.isnan(t.pvalue) and "9 studies, fewer than the 10" in t.note
    assert len(t.points) == 9


def test_deeks_tests_and_table(cells):
    tests = dta.deeks_tests(dta.pool_by_aim(cells))
    table = dta.deeks_table(tests)
    assert list(table["aim"]) == list(tests) and table["pvalue"].notna().all()


def test_leave_one_out(cells):
    p = dta.pool_by_aim(cells)["grade"]
    loo = dta.leave_one_out(p)
    assert len(loo) == p.k and (loo["k"] == p.k - 1).all()
    assert loo["sensitivity"].between(0, 1).all()
    assert set(dta.leave_one_out_table(dta.pool_by_aim(cells))["aim"]) == {
        "grade", "differential diagnosis"}


def test_fagan_post_test_probabilities(cells):
    p = dta.pool_by_aim(cells)["grade"]
    f = dta.fagan(0.3, p)
    odds = 0.3 / 0.7 * f.lr_positive
    assert f.post_positive == pytest.approx(odds / (1 + odds))
    assert f.post_negative < 0.3 < f.post_positive


@pytest.mark.parametrize("pretest", [0, 1, 1.5])
def test_fagan_rejects_a_bad_pretest(cells, pretest):
    with pytest.raises(ValueError, match="pretest="):
        dta.fagan(pretest, dta.pool_by_aim(cells)["grade"])


def test_fagan_without_fit(cells):
    pooling = dta.pool_by_aim(cells[cells["aim"] == "grade"].head(2))["grade"]
    with pytest.raises(ValueError, match="no pooled fit"):
        dta.fagan(0.3, pooling)


def test_revman_table_layout(cells):
    out = dta.revman_table(cells)
    assert list(out.columns) == ["author", "year", "TP", "FN", "FP", "TN", "aim"]
    one = dta.revman_table(cells[cells["aim"] == "grade"])
    assert list(one.columns) == ["author", "year", "TP", "FN", "FP", "TN"]
    assert (one[["TP", "FN", "FP", "TN"]] >= 0).all().all()


def test_review_without_2x2_data_gets_one_note():
    rv = synth.load_review(GEPNET)
    cells = dta.representative_cells(rv)
    assert cells.empty
    note = dta.data_note(rv, cells)
    assert "no performance row has a 2x2 table" in note and "\n" not in note


def test_data_note_counts_tables(demo, cells):
    note = dta.data_note(demo, cells)
    assert "reconstructed 2x2 tables" in note and "grade: 14" in note


def test_leave_one_out_stops_at_max_k(cells):
    p = dta.pool_by_aim(cells)["grade"]
    loo = dta.leave_one_out(p, max_k=5)
    assert len(loo) == 1 and loo.loc[0, "note"].startswith("no leave-one-out: 14 studies")
