"""Tests for synth.auc: representative AUC rule, ranges, variance routes, pooling, notebook 03."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, RESULTS, ROOT, metafor_ref

import synth
from synth import auc
from synth.effects import expit, var_auc_newcombe
from synth.review import Review

AIMS = ("grade", "differential diagnosis", "response", "outcome")
"""The aims the demo and gepnet-public reviews declare, in their review.yaml order."""
MODALITIES = ("CT", "MRI", "PET", "multiple")

GEPNET = ROOT / "data" / "gepnet-public"

METAFOR_ATOL = 1e-4
"""As in test_meta.py: metafor's numbers are transcribed to 6 decimals and stop early."""

HAND_RTOL = 1e-6
"""Hand-worked variances are typed to 7 significant digits."""


# ---------------------------------------------------------------------------------------------
# Small hand-made reviews
# ---------------------------------------------------------------------------------------------

_PERF_COLUMNS = ["study_id", "aim", "target", "model", "model_name", "primary", "cohort", "auc",
                 "ci_low",
                 "ci_high", "auc_se", "n", "positives", "negatives", "source", "notes"]


def _review(rows: list[dict], studies: list[dict] | None = None, quality=None) -> Review:
    """A Review from performance rows (missing columns empty) and optional study rows."""
    perf = pd.DataFrame([{c: r.get(c) for c in _PERF_COLUMNS} for r in rows])
    for col in ("auc", "ci_low", "ci_high", "auc_se"):
        perf[col] = perf[col].astype("Float64")
    for col in ("n", "positives", "negatives"):
        perf[col] = perf[col].astype("Int64")
    ids = list(dict.fromkeys(perf["study_id"]))
    base = {sid: {"study_id": sid, "first_author": f"Author {sid}", "year": 2020,
                  "modality": "CT", "n_patients": 100} for sid in ids}
    for extra in studies or []:
        base[extra["study_id"]] |= extra
    st = pd.DataFrame(list(base.values()))
    st["year"] = st["year"].astype("Int64")
    st["n_patients"] = st["n_patients"].astype("Int64")
    return Review(name="test", path=Path("."), studies=st, performance=perf, quality=quality)


def _row(study: str, cohort: str, model: str, value: float, **kw) -> dict:
    return {"study_id": study, "aim": kw.pop("aim", "grade"), "target": "G1 vs G2/3",
            "model": model, "cohort": cohort, "auc": value, **kw}


@pytest.fixture(scope="module")
def demo() -> synth.Review:
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def bcg_table() -> pd.DataFrame:
    return bcg_frame()


def bcg_frame() -> pd.DataFrame:
    """The BCG trials as a study_variances()-shaped table (effects as 'logit AUC')."""
    bcg = pd.read_csv(RESULTS / "dat_bcg.csv", skiprows=1)
    return pd.DataFrame({
        "study_id": [f"t{i:02d}" for i in range(len(bcg))], "aim": "grade",
        "first_author": "Trial", "year": bcg["ablat"].astype(float),
        "cohort": "training", "auc": expit(bcg["yi"]), "logit_auc": bcg["yi"],
        "var_logit": bcg["vi"], "se_logit": np.sqrt(bcg["vi"]),
        "variance_route": "reported SE", "poolable": True, "not_pooled_reason": "",
    })


# ---------------------------------------------------------------------------------------------
# The seed review's ranges, computed from data/demo
# ---------------------------------------------------------------------------------------------


def test_demo_reproduces_the_published_ranges(demo: synth.Review) -> None:
    assert demo.vocabulary.aim_names == AIMS
    reps = auc.representative_auc(demo, aims=demo.vocabulary.aim_names)
    ranges = auc.auc_ranges(reps, aims=demo.vocabulary.aim_names).set_index("aim")
    assert list(ranges.index) == list(AIMS)
    assert ranges.loc["grade", "auc_range"] == "0.74–0.96"
    assert ranges.loc["differential diagnosis", "auc_range"] == "0.80–0.99"
    assert ranges.loc["outcome", "auc_range"] == "0.77"
    assert (ranges.loc["grade", "auc_min"], ranges.loc["grade", "auc_max"]) == (0.74, 0.96)
    assert ranges.loc["outcome", "n_studies"] == 1
    assert ranges["n_studies"].sum() == len(reps) == 45
    # every study once per aim, and the chosen row is the one in performance.csv
    assert not reps.duplicated(["study_id", "aim"]).any()
    perf = demo.performance
    chosen = perf.iloc[reps["performance_row"].to_numpy() - 2]
    assert chosen["auc"].to_numpy(dtype=float) == pytest.approx(reps["auc"].to_numpy(float))
    assert (chosen["study_id"].to_numpy() == reps["study_id"].to_numpy()).all()


def test_best_rule_gives_wider_optimistic_ranges(demo: synth.Review) -> None:
    default = auc.auc_ranges(auc.representative_auc(demo)).set_index("aim")
    best = auc.auc_ranges(auc.representative_auc(demo, rule="best")).set_index("aim")
    assert (best["auc_median"] >= default["auc_median"]).all()
    assert (best["auc_median"] > default["auc_median"]).any()


# ---------------------------------------------------------------------------------------------
# Representative AUC: the rule on edge cases
# ---------------------------------------------------------------------------------------------


def test_only_training_is_used_when_nothing_else_is_reported() -> None:
    rv = _review([_row("a", "training", "radiomics", 0.9)])
    reps = auc.representative_auc(rv)
    assert reps.loc[0, "cohort"] == "training"
    assert reps.loc[0, "selection"] == "only AUC reported"
    assert reps.loc[0, "n_candidates"] == 1


def test_external_beats_internal_beats_training_and_radiomics_beats_combined() -> None:
    rv = _review([
        _row("a", "training", "radiomics", 0.95),
        _row("a", "internal validation", "radiomics", 0.90),
        _row("a", "external validation", "combined", 0.88),
        _row("a", "external validation", "radiomics", 0.81),
        _row("a", "external validation", "clinical", 0.70),
        _row("b", "training", "combined", 0.93),
        _row("b", "internal validation", "clinical", 0.75),
        _row("b", "internal validation", "combined", 0.85),
        _row("c", "training", "single feature", 0.70),
        _row("c", "training", "deep learning", 0.80),
        _row("c", "training", "combined", 0.85),
    ])
    reps = auc.representative_auc(rv).set_index("study_id")
    assert reps.loc["a", ["cohort", "model", "auc"]].tolist() == [
        "external validation", "radiomics", 0.81]
    assert reps.loc["a", "performance_row"] == 5
    assert reps.loc["a", "n_candidates"] == 5
    assert reps.loc["a", "selection"] == "external validation, radiomics (of 5 AUCs)"
    assert reps.loc["b", ["cohort", "model"]].tolist() == ["internal validation", "combined"]
    assert reps.loc["c", "model"] == "deep learning"


def test_tie_goes_to_larger_n_then_lowest_then_file_order() -> None:
    rows = [
        _row("a", "internal validation", "radiomics", 0.93, n=40),
        _row("a", "internal validation", "radiomics", 0.86, n=40),
        _row("a", "internal validation", "radiomics", 0.99),  # unknown n: last
        _row("b", "training", "radiomics", 0.80, n=50),
        _row("b", "training", "radiomics", 0.90, n=120),  # larger n wins over lower AUC
        _row("c", "training", "radiomics", 0.75),
        _row("c", "training", "radiomics", 0.75),  # identical: first in the file
    ]
    rv = _review(rows)
    lowest = auc.representative_auc(rv).set_index("study_id")
    assert lowest.loc["a", "auc"] == 0.86
    assert "3 such rows: larger n, then lowest" in lowest.loc["a", "selection"]
    assert lowest.loc["b", "auc"] == 0.90
    assert lowest.loc["c", "performance_row"] == 7
    highest = auc.representative_auc(rv, tie="highest").set_index("study_id")
    assert highest.loc["a", "auc"] == 0.93
    first = auc.representative_auc(rv, tie="first").set_index("study_id")
    assert first.loc["a", "performance_row"] == 2
    assert first.loc["b", "auc"] == 0.90


def test_best_rule_takes_the_highest_and_breaks_equal_aucs_by_cohort() -> None:
    rv = _review([
        _row("a", "training", "radiomics", 0.95),
        _row("a", "external validation", "combined", 0.95),
        _row("a", "internal validation", "radiomics", 0.90),
    ])
    reps = auc.representative_auc(rv, rule="best")
    assert reps.loc[0, ["cohort", "auc"]].tolist() == ["external validation", 0.95]
    assert reps.loc[0, "selection"] == "highest of 3 AUCs"


def test_study_labels_come_from_the_review() -> None:
    rv = _review([_row("a", "training", "radiomics", 0.9), _row("b", "training", "radiomics", 0.8),
                  _row("c", "training", "radiomics", 0.7)],
                 studies=[{"study_id": "a", "first_author": "Gu"},
                          {"study_id": "b", "first_author": "Gu"},
                          {"study_id": "c", "first_author": "Li", "year": 2021}])
    reps = auc.representative_auc(rv).set_index("study_id")
    assert reps["label"].to_dict() == rv.study_labels.to_dict() == {
        "a": "Gu 2020a", "b": "Gu 2020b", "c": "Li 2021"}


def test_custom_orders_and_aims() -> None:
    rv = _review([
        _row("a", "training", "radiomics", 0.95),
        _row("a", "external validation", "radiomics", 0.80),
        _row("a", "external validation", "combined", 0.85, aim="outcome"),
        _row("a", "external validation", "radiomics", 0.70, aim="outcome"),
    ])
    reps = auc.representative_auc(rv, cohort_order=["training"], model_order=["combined"])
    assert reps["auc"].tolist() == [0.95, 0.85]
    only = auc.representative_auc(rv, aims=["outcome"])
    assert only["aim"].tolist() == ["outcome"]


@pytest.mark.parametrize(("kw", "message"), [
    ({"rule": "newest"}, "rule='newest' is not allowed; use one of: 'validation', 'best'"),
    ({"tie": "median"}, "tie='median'"),
    ({"aims": ["grade", "grade"]}, "aims=\\['grade', 'grade'\\] repeats a value"),
    ({"aims": []}, "aims is empty"),
    ({"cohort_order": ["external"]}, "cohort_order='external'"),
    ({"model_order": ["radiomics", "radiomics"]}, "repeats a value"),
])
def test_bad_options_are_named(kw: dict, message: str) -> None:
    rv = _review([_row("a", "training", "radiomics", 0.9)])
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        auc.representative_auc(rv, **kw)


# ---------------------------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------------------------


def test_ranges_keep_empty_aims_and_count_by_cohort() -> None:
    rv = _review([
        _row("a", "training", "radiomics", 0.70),
        _row("b", "external validation", "radiomics", 0.90),
        _row("c", "internal validation", "radiomics", 0.80),
        _row("d", "internal validation", "radiomics", 0.997, aim="outcome"),
    ], studies=[{"study_id": "c", "n_patients": None}, {"study_id": "d", "modality": "MRI"}])
    reps = auc.representative_auc(rv)
    assert auc.auc_ranges(reps)["aim"].tolist() == ["grade", "outcome"]  # None: present, sorted
    ranges = auc.auc_ranges(reps, aims=AIMS)
    assert ranges["aim"].tolist() == list(AIMS)
    grade = ranges.iloc[0]
    assert grade["n_studies"] == 3
    assert grade["n_patients"] == 200 and grade["n_patients_unknown"] == 1
    assert grade["auc_median"] == 0.80
    assert grade["auc_q1"] == pytest.approx(0.75) and grade["auc_q3"] == pytest.approx(0.85)
    assert grade["auc_range"] == "0.70–0.90"
    assert (grade["n_training"], grade["n_internal_validation"],
            grade["n_external_validation"]) == (1, 1, 1)
    response = ranges.set_index("aim").loc["response"]
    assert response["n_studies"] == 0 and response["auc_range"] == "no studies"
    assert response["n_patients"] == 0
    assert ranges.set_index("aim").loc["outcome", "auc_range"] == "0.997"
    by_mod = auc.auc_ranges(reps, by="modality", aims=AIMS, modalities=MODALITIES)
    assert len(by_mod) == len(AIMS) * len(MODALITIES)
    assert by_mod["modality"].tolist()[:4] == list(MODALITIES)
    assert auc.auc_ranges(reps, by="modality")["modality"].unique().tolist() == ["CT", "MRI"]
    assert by_mod["n_studies"].sum() == 4
    cell = by_mod.set_index(["aim", "modality"]).loc[("outcome", "MRI")]
    assert cell["n_studies"] == 1


# ---------------------------------------------------------------------------------------------
# Variance routes (hand-worked)
# ---------------------------------------------------------------------------------------------


def _variances(rows: list[dict], **kw) -> pd.DataFrame:
    return auc.study_variances(auc.representative_auc(_review(rows)), **kw).set_index(
        "study_id")


def test_variance_routes_hand_worked() -> None:
    t = _variances([
        # SE: (0.04 / (0.8 * 0.2))^2 = 0.25^2 = 0.0625; SE wins over the CI and the counts
        _row("se", "training", "radiomics", 0.8, auc_se=0.04, ci_low=0.7, ci_high=0.88,
             positives=30, negatives=50),
        # CI: logit(0.88) = 1.992430, logit(0.7) = 0.847298, difference 1.145132;
        # / (2 x 1.959964) = 0.292131; squared 0.08534049
        _row("ci", "training", "radiomics", 0.8, ci_low=0.7, ci_high=0.88, positives=30,
             negatives=50),
        # Hanley-McNeil, A = 0.8, 30 positives, 50 negatives: Q1 = 0.8/1.2 = 0.666667,
        # Q2 = 1.28/1.8 = 0.711111; var(A) = (0.16 + 29 x 0.026667 + 49 x 0.071111) / 1500
        # = 4.417778 / 1500 = 0.002945185; / (0.8 x 0.2)^2 = 0.1150463
        _row("hm", "training", "radiomics", 0.8, positives=30, negatives=50),
        # the same with negatives given as n - positives
        _row("hm_n", "training", "radiomics", 0.8, n=80, positives=30),
        _row("none", "training", "radiomics", 0.8, n=80),
        _row("one", "training", "radiomics", 1.0, auc_se=0.01),
        # a CI reaching 1 cannot be used; the counts can
        _row("ci1", "training", "radiomics", 0.8, ci_low=0.7, ci_high=1.0, positives=30,
             negatives=50),
    ])
    assert t.loc["se", "var_logit"] == pytest.approx(0.0625, rel=HAND_RTOL)
    assert t.loc["ci", "var_logit"] == pytest.approx(0.08534049, rel=HAND_RTOL)
    assert t.loc["hm", "var_logit"] == pytest.approx(0.1150463, rel=HAND_RTOL)
    assert t.loc["hm_n", "var_logit"] == pytest.approx(0.1150463, rel=HAND_RTOL)
    assert t.loc["ci1", "var_logit"] == pytest.approx(0.1150463, rel=HAND_RTOL)
    assert t["variance_route"].to_dict() == {
        "se": "reported SE", "ci": "reported CI", "hm": "Hanley-McNeil",
        "hm_n": "Hanley-McNeil", "none": "none", "one": "none", "ci1": "Hanley-McNeil"}
    assert t.loc["se", "logit_auc"] == pytest.approx(math.log(4))
    assert t.loc["se", "se_logit"] == pytest.approx(0.25)
    assert t["poolable"].to_dict() == {"se": True, "ci": True, "hm": True, "hm_n": True,
                                       "none": False, "one": False, "ci1": True}
    assert "no SE, CI or positives/negatives" in t.loc["none", "not_pooled_reason"]
    assert "no finite logit" in t.loc["one", "not_pooled_reason"]
    assert np.isnan(t.loc["one", "logit_auc"])
    assert t.loc["ci", "not_pooled_reason"] == ""


def test_newcombe_by_name() -> None:
    t = _variances([_row("a", "training", "radiomics", 0.8, positives=30, negatives=50)],
                   variance="newcombe")
    assert t.loc["a", "variance_route"] == "Newcombe"
    # Newcombe method 4, N = 80: 0.16 x (1 + 39 x 0.2/1.2 + 39 x 0.8/1.8) / 1500 = 0.002648889
    assert t.loc["a", "var_logit"] == pytest.approx(0.002648889 / 0.0256, rel=HAND_RTOL)
    assert t.loc["a", "var_logit"] == pytest.approx(var_auc_newcombe(0.8, 30, 50) / 0.0256)
    with pytest.raises(ValueError, match="variance='delong'"):
        _variances([_row("a", "training", "radiomics", 0.8)], variance="delong")


# ---------------------------------------------------------------------------------------------
# Pooling through pool_by_aim reproduces metafor (BCG trials as stand-in effects)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_pooled_frame_matches_metafor(bcg_table, reference, method: str, test: str) -> None:
    pooling = auc.pool_by_aim(bcg_table, method=method, knapp_hartung=test == "knha")["grade"]
    row = pooling.pooled_frame().iloc[0]
    expected = metafor_ref(reference, "pool", method, test)
    assert row["k"] == 13 and row["k_shown"] == 13
    assert row["estimate_logit"] == pytest.approx(expected["estimate"], abs=METAFOR_ATOL)
    assert row["se_logit"] == pytest.approx(expected["se"], abs=METAFOR_ATOL)
    for ours, theirs in (("ci_low", "ci_low"), ("ci_high", "ci_high"), ("pi_low", "pi_low"),
                         ("pi_high", "pi_high")):
        assert row[ours] == pytest.approx(expit(expected[theirs]), abs=METAFOR_ATOL)
    assert row["auc_pooled"] == pytest.approx(expit(expected["estimate"]), abs=METAFOR_ATOL)
    if test == "z":
        assert row["tau2"] == pytest.approx(expected["tau2"], abs=METAFOR_ATOL)


def test_pooled_table_lists_every_aim_and_method(bcg_table) -> None:
    table = auc.pooled_table(bcg_table, aims=AIMS)
    assert list(zip(table["aim"], table["method"], strict=True)) == [
        (a, m) for a in AIMS for m in ("REML", "DL", "PM")]
    assert table.loc[table["aim"] == "response", "note"].eq("no pooled estimate: no studies").all()
    assert table.loc[table["aim"] == "response", "auc_pooled"].isna().all()
    for col in ("aim", "method", "k", "estimate_logit", "se_logit", "tau2", "i2",
                "auc_pooled", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert col in table.columns


def test_a_reported_90_percent_ci_gives_its_variance_by_the_normal_quantile_at_0_90() -> None:
    """var = ((logit(0.9) - logit(0.7)) / (2 z))²: z = 1.644854 at 0.90, 1.959964 at 0.95."""
    rows = [_row("ci90", "training", "radiomics", 0.8, ci_low=0.7, ci_high=0.9),
            _row("ci95", "training", "radiomics", 0.8, ci_low=0.7, ci_high=0.9)]
    reps = auc.representative_auc(_review(rows))
    assert reps["ci_level"].tolist() == [0.95, 0.95]  # no ci_level column: 95 %
    reps["ci_level"] = [0.90, 0.95]
    t = auc.study_variances(reps).set_index("study_id")
    width = math.log(0.9 / 0.1) - math.log(0.7 / 0.3)
    assert t.loc["ci90", "var_logit"] == pytest.approx((width / (2 * 1.6448536)) ** 2, rel=1e-6)
    assert t.loc["ci95", "var_logit"] == pytest.approx((width / (2 * 1.9599640)) ** 2, rel=1e-6)
    assert set(t["variance_route"]) == {"reported CI"}
    shown = auc.pool_by_aim(t.reset_index()).get("grade").study_intervals()
    # drawn at 95 %: the 95 % CI as reported, the 90 % CI widened from its variance
    assert shown["ci_source"].tolist() == ["derived from CI", "reported"]
    assert shown["ci_shown_low"].iloc[0] < 0.7 < shown["ci_shown_high"].iloc[0]


def test_fewer_than_two_poolable_gives_no_estimate_with_reason() -> None:
    t = auc.study_variances(auc.representative_auc(_review([
        _row("a", "training", "radiomics", 0.8, auc_se=0.05),
        _row("b", "training", "radiomics", 0.9),
        _row("c", "training", "radiomics", 0.7, auc_se=0.05, aim="outcome"),
        _row("d", "training", "radiomics", 0.75, auc_se=0.06, aim="outcome"),
        _row("e", "training", "radiomics", 0.7, aim="outcome"),
    ])))
    assert list(auc.pool_by_aim(t)) == ["grade", "outcome"]  # None: the aims present, sorted
    poolings = auc.pool_by_aim(t, aims=["outcome", "response", "grade"])
    assert list(poolings) == ["outcome", "response", "grade"]  # the order given
    grade = poolings["grade"]
    assert grade.result is None and grade.k_pooled == 0 and grade.k_shown == 2
    assert grade.reason.startswith("only 1 of 2 studies with a variance")
    assert poolings["response"].reason == "no studies"
    outcome = poolings["outcome"]
    assert outcome.result is not None and outcome.k_pooled == 2 and outcome.k_shown == 3
    note = outcome.pooled_frame().loc[0, "note"]
    assert note.startswith("1 of 3 studies not pooled (no variance")
    studies = auc.studies_table(poolings).set_index("study_id")
    assert not studies.loc["a", "pooled"] and studies.loc["a", "poolable"]
    assert studies.loc["a", "not_pooled_reason"] == "no pooled estimate for this aim"
    assert studies.loc[["c", "d"], "pooled"].all() and not studies.loc["e", "pooled"]
    assert studies.loc[["c", "d"], "weight"].sum() == pytest.approx(100)
    for col in ("study_id", "aim", "cohort", "auc", "logit_auc", "var_logit", "pooled"):
        assert col in studies.reset_index().columns


def test_summary_frame_is_the_forest_table(bcg_table) -> None:
    pooling = auc.pool_by_aim(bcg_table)["grade"]
    frame = pooling.summary_frame()
    assert frame["kind"].tolist() == ["study"] * 13 + ["pooled"]
    pooled = frame.iloc[-1]
    assert pooled["auc"] == pytest.approx(expit(pooling.result.estimate))
    assert pooled["pi_low"] < pooled["ci_low"] < pooled["auc"] < pooled["ci_high"]
    assert frame.loc[frame["kind"] == "study", "weight"].sum() == pytest.approx(100)
    study = frame.iloc[0]
    assert study["ci_low"] < study["auc"] < study["ci_high"]


def test_forest_table_shows_reported_intervals_and_flags_derived_ones() -> None:
    t = auc.study_variances(auc.representative_auc(_review([
        # SE and CI reported: the variance comes from the SE, the reported CI is shown
        _row("se_ci", "training", "radiomics", 0.8, auc_se=0.04, ci_low=0.70, ci_high=0.88),
        _row("ci", "training", "radiomics", 0.8, ci_low=0.62, ci_high=0.90),
        _row("se", "training", "radiomics", 0.8, auc_se=0.04),
        _row("counts", "training", "radiomics", 0.8, positives=30, negatives=50),
        _row("none", "training", "radiomics", 0.8),
    ])))
    pooling = auc.pool_by_aim(t)["grade"]
    frame = pooling.summary_frame().set_index("study_id")
    assert frame.loc[["se_ci", "ci"], ["ci_low", "ci_high"]].to_numpy().tolist() == [
        [0.70, 0.88], [0.62, 0.90]]
    assert frame["ci_source"].to_dict() == {
        "se_ci": "reported", "ci": "reported", "se": "derived from SE",
        "counts": "derived from counts", "none": "none", "": "pooled"}
    assert frame["ci_derived"].to_dict() == {
        "se_ci": False, "ci": False, "se": True, "counts": True, "none": False, "": False}
    # derived: expit(logit(0.8) ± 1.959964 x 0.25), the SE of logit(AUC) from SE 0.04
    z = 1.959963984540054
    assert frame.loc["se", "ci_low"] == pytest.approx(expit(math.log(4) - z * 0.25))
    assert frame.loc["se", "ci_high"] == pytest.approx(expit(math.log(4) + z * 0.25))
    assert np.isnan(frame.loc["none", "ci_low"])
    # auc_studies carries the same interval and flag; the reported columns stay as reported
    studies = auc.studies_table({"grade": pooling}).set_index("study_id")
    shown = frame.drop(index="").loc[studies.index]
    assert studies["ci_shown_low"].to_numpy() == pytest.approx(shown["ci_low"].to_numpy(),
                                                               nan_ok=True)
    assert studies["ci_shown_high"].to_numpy() == pytest.approx(shown["ci_high"].to_numpy(),
                                                                nan_ok=True)
    assert studies["ci_source"].tolist() == shown["ci_source"].tolist()
    assert studies["ci_derived"].tolist() == shown["ci_derived"].tolist()
    assert pd.isna(studies.loc["se", "ci_low"])  # the reported column stays empty
    # at another level than the reported 95 %, every interval is derived
    other = auc.pool_by_aim(t, alpha=0.1)["grade"].summary_frame().set_index("study_id")
    assert other.loc["ci", "ci_source"] == "derived from CI" and other.loc["ci", "ci_derived"]


# ---------------------------------------------------------------------------------------------
# The notebook on both shipped reviews
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory) -> Path:
    """Notebook 03 executed by papermill on copies of both shipped reviews (PNG only)."""
    import papermill as pm

    tmp = tmp_path_factory.mktemp("auc_run")
    for source in (DEMO, GEPNET):
        review = tmp / "data" / source.name
        shutil.copytree(source, review)
        out = tmp / "results" / source.name / "notebooks" / "03_auc_by_aim.ipynb"
        out.parent.mkdir(parents=True)
        pm.execute_notebook(
            str(ROOT / "notebooks" / "03_auc_by_aim.ipynb"), str(out),
            parameters={"review": str(review), "figures_dir": str(tmp / "figures"),
                        "results_dir": str(tmp / "results"), "formats": ["png"]},
            cwd=str(ROOT / "notebooks"), progress_bar=False)
    return tmp


def test_notebook_writes_the_tables_on_demo(notebook_run: Path) -> None:
    res = notebook_run / "results" / "demo"
    by_aim = pd.read_csv(res / "auc_by_aim.csv")
    assert by_aim["aim"].tolist() == list(AIMS)
    ranges = dict(zip(by_aim["aim"], by_aim["auc_range"], strict=True))
    assert ranges["grade"] == "0.74–0.96" and ranges["outcome"] == "0.77"
    studies = pd.read_csv(res / "auc_studies.csv")
    assert {"study_id", "aim", "cohort", "auc", "logit_auc", "var_logit",
            "pooled", "label", "ci_shown_low", "ci_shown_high", "ci_source",
            "ci_derived"} <= set(studies.columns)
    assert set(studies["ci_source"]) <= set(auc.CI_SOURCES)
    regression = pd.read_csv(res / "auc_meta_regression.csv")
    fitted = regression[regression["term"] == "intercept"]
    assert fitted["cov_intercept_slope"].notna().all() and len(fitted)
    pooled = pd.read_csv(res / "auc_pooled.csv")
    assert set(pooled["method"]) == {"REML", "DL", "PM"}
    for name in ("auc_by_aim", "auc_evidence_map", "forest_grade", "auc_funnel",
                 "auc_meta_regression_year", "auc_meta_regression_rqs"):
        assert (notebook_run / "figures" / "demo" / f"{name}.png").stat().st_size > 1000


def test_notebook_runs_on_gepnet_public_and_says_what_is_missing(notebook_run: Path) -> None:
    res = notebook_run / "results" / "gepnet-public"
    by_aim = pd.read_csv(res / "auc_by_aim.csv")
    assert by_aim["aim"].tolist() == list(AIMS)
    reg = pd.read_csv(res / "auc_meta_regression.csv", keep_default_na=False)
    assert reg.loc[reg["moderator"] == "rqs", "note"].str.contains("no quality data").all()
    assert not (notebook_run / "figures" / "gepnet-public" /
                "auc_meta_regression_rqs.png").exists()
    notebook = (res / "notebooks" / "03_auc_by_aim.ipynb").read_text(encoding="utf-8")
    assert "no pooled estimate" in notebook


# ---------------------------------------------------------------------------------------------
# Issue 17: the primary model, rows without an AUC, pooled-table provenance, guards and options
# ---------------------------------------------------------------------------------------------


def test_primary_row_is_preferred_over_the_tie_rule() -> None:
    rv = _review([
        _row("s", "external validation", "deep learning", 0.48),
        _row("s", "external validation", "deep learning", 0.77, primary="yes"),
        _row("s", "external validation", "deep learning", 0.64),
        _row("s", "internal validation", "deep learning", 0.80, primary="yes"),
    ])
    rep = auc.representative_auc(rv).iloc[0]
    assert rep["auc"] == 0.77 and bool(rep["primary"])
    assert rep["selection"].startswith("primary model; external validation")
    without = rv.performance.drop(columns="primary")
    plain = auc.select_representative(without, rv.studies).iloc[0]
    assert plain["auc"] == 0.48 and not plain["primary"]


def test_rule_best_ignores_the_primary_mark() -> None:
    rv = _review([_row("s", "training", "radiomics", 0.7, primary="yes"),
                  _row("s", "training", "radiomics", 0.9)])
    assert auc.representative_auc(rv, rule="best").loc[0, "auc"] == 0.9


def test_outcome_study_of_gepnet_public_is_represented_by_its_primary_model() -> None:
    rv = synth.load_review(ROOT / "data" / "gepnet-public")
    reps = auc.representative_auc(rv).set_index("study_id")
    assert reps.loc["song2021", "auc"] == pytest.approx(0.77)
    assert reps.loc["song2021", "cohort"] == "external validation"


def test_select_representative_skips_rows_without_the_value() -> None:
    rv = _review([_row("s", "external validation", "radiomics", 0.8),
                  _row("t", "training", "radiomics", 0.7)])
    perf = rv.performance.copy()
    perf.loc[0, "auc"] = pd.NA  # a row that carries only a 2x2 table
    out = auc.select_representative(perf, rv.studies)
    assert out["study_id"].tolist() == ["t"]
    assert out.loc[0, "performance_row"] == 3


def test_select_representative_ranks_ties_by_any_value_column() -> None:
    rv = _review([_row("s", "training", "radiomics", 0.8),
                  _row("s", "training", "radiomics", 0.7)])
    perf = rv.performance.assign(youden=[0.2, 0.5])
    out = auc.select_representative(perf, rv.studies, value="youden", tie="highest")
    assert out.loc[0, "auc"] == 0.7 and out.loc[0, "youden"] == 0.5
    assert "youden values" in out.loc[0, "selection"]
    with pytest.raises(ValueError, match="value"):
        auc.select_representative(perf, rv.studies, value="nope")


def test_pooled_table_states_estimator_ci_pi_and_variance_route(bcg_table) -> None:
    row = auc.pooled_table(bcg_table, methods=["REML"], aims=["grade"],
                           knapp_hartung=True, pi_distribution="t(k-2)").iloc[0]
    assert row["estimator"] == "REML"
    assert row["ci_method"] == "Knapp-Hartung t(k-1)"
    assert row["pi_distribution"] == "t(k-2): t, df = 11"
    assert row["variance_route"] == "reported SE: 13"
    assert row["n_training"] == 13
    assert "training-cohort" in row["note"]


def test_pi_t_k_minus_2_matches_the_reference(bcg_table) -> None:
    ref = pd.read_csv(RESULTS / "metafor_influence_bcg.csv", comment="#").query(
        "analysis == 'predict_tk2'").set_index("quantity")["value"].astype(float)
    p = auc.pool_by_aim(bcg_table, aims=["grade"], pi_distribution="t(k-2)")["grade"]
    s = p.result.summary_frame().iloc[0]
    assert s["pi_low"] == pytest.approx(ref["pi.lb"], abs=1e-4)
    assert s["pi_high"] == pytest.approx(ref["pi.ub"], abs=1e-4)


def test_pi_guard_in_pooled_table(bcg_table) -> None:
    two = bcg_table.iloc[:2]
    row = auc.pooled_table(two, methods=["REML"], aims=["grade"]).iloc[0]
    assert math.isnan(row["pi_low"]) and "k = 2 < 3" in row["note"]
    row3 = auc.pooled_table(two, methods=["REML"], aims=["grade"], pi_min_k=2).iloc[0]
    assert not math.isnan(row3["pi_low"])


def test_training_exclude_leaves_training_aucs_out(bcg_table) -> None:
    table = bcg_table.copy()
    table.loc[table.index[:3], "cohort"] = "internal validation"
    p = auc.pool_by_aim(table, aims=["grade"], training="exclude")["grade"]
    assert p.k_pooled == 3 and p.n_training_pooled == 0
    reasons = p.studies["not_pooled_reason"]
    assert (reasons == "training-cohort AUC left out (training='exclude')").sum() == 10
    assert p.pooled_frame().loc[0, "note"].startswith(
        "10 of 13 studies not pooled (training AUC left out)")
    with pytest.raises(ValueError, match="training"):
        auc.pool_by_aim(table, training="drop")



def test_rows_without_an_auc_are_ignored_downstream() -> None:
    rv = _review([_row("s", "external validation", "radiomics", None, primary="yes"),
                  _row("s", "training", "radiomics", 0.8, auc_se=0.05),
                  _row("t", "training", "radiomics", 0.7, auc_se=0.05),
                  _row("u", "internal validation", "radiomics", None)])
    reps = auc.representative_auc(rv)
    assert reps["study_id"].tolist() == ["s", "t"]
    assert reps.loc[0, "auc"] == 0.8 and reps.loc[0, "n_candidates"] == 1
    ranges = auc.auc_ranges(reps).set_index("aim")
    assert ranges.loc["grade", "n_studies"] == 2
    pooled = auc.pool_by_aim(auc.study_variances(reps))["grade"]
    assert pooled.k_pooled == 2
