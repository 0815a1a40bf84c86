"""Appraisal analyses: summaries, bands, compliance, agreement, two instruments side by side,
QUADAS-2 tallies and the low-risk restriction, the moderator frame, and notebook 04's report.

Small frames are built here in the shapes synth.instruments makes (item_answers,
quadas2_judgements), with expected numbers worked out by hand; the demo checks the pieces fit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, ROOT
from sklearn.metrics import cohen_kappa_score

import synth
from synth import appraisal, auc, instruments, quality
from synth.meta import pool
from synth.runner import RunConfig, run
from synth.vocabulary import DEFAULT_VOCABULARY

CONSENSUS = DEFAULT_VOCABULARY.consensus


@pytest.fixture(scope="module")
def demo():
    return synth.load_review(DEMO)


def _answers(rows: list[tuple]) -> pd.DataFrame:
    """Long answers (study_id, rater, item, category, answer, points, applies, weight)."""
    frame = pd.DataFrame(rows, columns=["study_id", "rater", "item", "category", "answer"])
    frame["applies"] = frame["answer"] != "n/a"
    frame["points"] = frame["answer"].map({"yes": 1.0, "no": 0.0})
    frame["max_points"] = 1.0
    frame["label"] = frame["item"]
    return frame


# --- scores ----------------------------------------------------------------------------------

def test_score_summary_overall_row_by_hand():
    scores = pd.DataFrame({"study_id": list("abcd"), "percent": [10.0, 20.0, 30.0, 40.0]})
    row = appraisal.score_summary(scores).iloc[0]
    assert (row["group"], row["category"], row["n_studies"]) == ("overall", "all studies", 4)
    assert row["mean"] == 25 and row["median"] == 25
    assert row["sd"] == pytest.approx(np.std([10, 20, 30, 40], ddof=1))
    assert (row["q1"], row["q3"], row["min"], row["max"]) == (17.5, 32.5, 10, 40)


def test_score_summary_follows_the_aims_given_not_their_names():
    scores = pd.DataFrame({"study_id": list("abc"), "score": [10.0, 20.0, 60.0]})
    groups = pd.DataFrame({"study_id": list("abc"), "group": "aim",
                           "category": ["first aim", "second aim", "second aim"]})
    out = appraisal.score_summary(scores, groups, value="score",
                                  aims=("second aim", "first aim"))
    assert list(out["category"]) == ["all studies", "second aim", "first aim"]
    assert list(out["mean"]) == [30.0, 40.0, 10.0]
    only = appraisal.score_summary(scores, groups, value="score", aims=("first aim",))
    assert list(only["category"]) == ["all studies", "first aim"]


def test_band_counts_lower_limit_inclusive_last_band_closed():
    scores = pd.DataFrame({"study_id": list("abcdef"),
                           "score": [0.0, 19.9, 20.0, 59.9, 80.0, 100.0]})
    out = appraisal.band_counts(scores, instruments.METRICS_BANDS, value="score")
    assert list(out["band"]) == [b[0] for b in instruments.METRICS_BANDS]
    assert list(out["n_studies"]) == [2, 1, 1, 0, 2]
    assert out["percent_studies"].sum() == pytest.approx(100)


def test_rater_rows_names_the_raters_present():
    frame = pd.DataFrame({"study_id": ["a", "a"], "rater": ["A", "lead"]})
    assert len(appraisal.rater_rows(frame, rater="lead")) == 1
    with pytest.raises(ValueError, match="rater='B' has no rows; raters present: A, lead"):
        appraisal.rater_rows(frame, rater="B")


# --- items -----------------------------------------------------------------------------------

ITEMS = _answers([
    ("s1", "lead", "i1", "design", "yes"), ("s2", "lead", "i1", "design", "no"),
    ("s3", "lead", "i1", "design", "yes"),
    ("s1", "lead", "i2", "design", "n/a"), ("s2", "lead", "i2", "design", "yes"),
    ("s3", "lead", "i2", "design", "no"),
    ("s1", "lead", "i3", "testing", "n/a"), ("s2", "lead", "i3", "testing", "n/a"),
    ("s3", "lead", "i3", "testing", "n/a"),
])


def test_item_compliance_is_a_share_of_the_studies_the_item_applies_to():
    out = appraisal.item_compliance(ITEMS, rater="lead").set_index("item")
    assert list(out.index) == ["i1", "i2", "i3"]
    assert out.loc["i1", ["n_applicable", "n_met"]].tolist() == [3, 2]
    assert out.loc["i1", "percent_met"] == pytest.approx(200 / 3)
    assert out.loc["i2", ["n_applicable", "n_met", "percent_met"]].tolist() == [2, 1, 50.0]
    assert out.loc["i3", "n_applicable"] == 0 and np.isnan(out.loc["i3", "percent_met"])


def test_item_compliance_reads_words_when_there_are_no_points():
    words = ITEMS.drop(columns=["points", "applies", "max_points"])
    pd.testing.assert_frame_equal(appraisal.item_compliance(words, rater="lead"),
                                  appraisal.item_compliance(ITEMS, rater="lead"))


def test_category_compliance_pools_applicable_answers_and_weighs_them():
    weighted = ITEMS.assign(weight=ITEMS["item"].map({"i1": 0.1, "i2": 0.3, "i3": 0.2}))
    out = appraisal.category_compliance(weighted, rater="lead").set_index("category")
    assert out.loc["design", ["n_items", "n_applicable", "n_met"]].tolist() == [2, 5, 3]
    assert out.loc["design", "percent_met"] == pytest.approx(60)
    # (2 x 0.1 + 1 x 0.3) / (3 x 0.1 + 2 x 0.3)
    assert out.loc["design", "percent_weighted"] == pytest.approx(0.5 / 0.9 * 100)
    assert np.isnan(out.loc["testing", "percent_met"])
    assert "percent_weighted" not in appraisal.category_compliance(ITEMS, rater="lead")


def test_answer_table_sorts_by_score_and_leaves_inapplicable_cells_empty():
    scores = pd.DataFrame({"study_id": ["s1", "s2", "s3"], "score": [50.0, 90.0, 70.0]})
    labels = pd.Series({"s1": "Gu 2019", "s2": "Li 2020", "s3": "Wu 2021"})
    out = appraisal.answer_table(ITEMS, rater="lead", labels=labels, scores=scores,
                                 value="score")
    assert list(dict.fromkeys(out["label"])) == ["Li 2020", "Wu 2021", "Gu 2019"]
    cell = out.set_index(["study_id", "item"])["shade"]
    assert cell[("s2", "i2")] == 1.0 and cell[("s3", "i2")] == 0.0
    assert np.isnan(cell[("s1", "i2")])


def test_answer_table_shades_points_as_a_share_of_the_item_maximum():
    points = pd.DataFrame({"study_id": ["s1", "s2"], "rater": "lead", "item": "rqs2_01",
                           "answer": ["2", "1"], "points": [2.0, 1.0], "max_points": 2.0,
                           "applies": True})
    out = appraisal.answer_table(points, rater="lead")
    assert list(out["shade"]) == [1.0, 0.5]


# --- agreement -------------------------------------------------------------------------------

def _two_raters(x: list, y: list, item: str = "i1") -> pd.DataFrame:
    ids = [f"s{i}" for i in range(len(x))]
    return pd.DataFrame({"study_id": ids * 2, "rater": ["A"] * len(x) + ["B"] * len(y),
                         "item": item, "answer": x + y})


def test_kappa_per_item_matches_the_two_by_two_by_hand():
    # 4 yes-yes, 1 yes-no, 1 no-yes, 4 no-no: observed 0.8, chance 0.5, kappa 0.6
    x = ["yes"] * 5 + ["no"] * 5
    y = ["yes"] * 4 + ["no"] + ["yes"] + ["no"] * 4
    row = appraisal.item_agreement(_two_raters(x, y), raters=("A", "B")).iloc[0]
    assert row["kappa"] == pytest.approx(0.6)
    assert (row["n_studies"], row["n_agree"], row["percent_agreement"]) == (10, 8, 80.0)
    assert row["weights"] == "none" and row["ci_low"] < 0.6 < row["ci_high"] <= 1


def test_points_with_more_than_two_levels_get_a_linearly_weighted_kappa():
    x, y = [0, 1, 2, 2, 1, 0, 2, 1], [0, 2, 2, 1, 1, 0, 2, 0]
    answers = _two_raters([str(v) for v in x], [str(v) for v in y], item="rqs2_17").assign(
        points=[float(v) for v in x + y], max_points=2.0)
    row = appraisal.item_agreement(answers, raters=("A", "B")).iloc[0]
    assert row["weights"] == "linear"
    assert row["kappa"] == pytest.approx(cohen_kappa_score(x, y, weights="linear"))


def test_not_applicable_against_no_is_a_disagreement():
    out = appraisal.item_agreement(_two_raters(["n/a", "yes", "no"], ["no", "yes", "no"]),
                                   raters=("A", "B")).iloc[0]
    assert out["n_agree"] == 2 and out["levels"] == "n/a / no / yes"


def test_kappa_is_undefined_when_both_raters_never_vary():
    row = appraisal.item_agreement(_two_raters(["yes"] * 4, ["yes"] * 4),
                                   raters=("A", "B")).iloc[0]
    assert np.isnan(row["kappa"]) and row["percent_agreement"] == 100


@pytest.mark.parametrize("raters", [("A",), ("A", "A"), ("A", "B", "C")])
def test_agreement_needs_two_different_raters(raters):
    with pytest.raises(ValueError, match="give two different raters"):
        appraisal.item_agreement(_two_raters(["yes"], ["no"]), raters=raters)


def test_icc_of_totals_is_quality_icc_and_none_with_too_few_studies(demo):
    scores = instruments.appraisal_scores("METRICS", demo.appraisals["METRICS"])
    icc = appraisal.total_icc(scores, raters=("A", "B"), value="score")
    paired = quality.paired_scores(scores, raters=("A", "B"))
    assert icc == quality.icc_totals(paired, values="score")
    few = scores[scores["study_id"].isin(["demo01", "demo02"])]
    assert appraisal.total_icc(few, raters=("A", "B"), value="score") is None


# --- two instruments -------------------------------------------------------------------------

def test_compare_scores_by_hand():
    x = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "only x": 5.0})
    y = pd.Series({"a": 15.0, "b": 35.0, "c": 30.0, "d": 60.0, "only y": 5.0})
    res = appraisal.compare_scores(x, y, labels=pd.Series({"a": "Gu 2019"}))
    assert res.n == 4 and list(res.points["label"]) == ["Gu 2019", "b", "c", "d"]
    assert res.rho == pytest.approx(0.8)  # ranks 1 2 3 4 against 1 3 2 4
    assert res.mean_difference == pytest.approx(10.0)
    sd = np.std([5, 15, 0, 20], ddof=1)
    assert res.sd_difference == pytest.approx(sd)
    assert (res.loa_low, res.loa_high) == pytest.approx((10 - 1.96 * sd, 10 + 1.96 * sd))
    frame = res.summary_frame().iloc[0]
    assert (frame["x"], frame["y"], frame["mean_x"], frame["mean_y"]) == ("RQS", "METRICS",
                                                                          25.0, 35.0)
    assert "Spearman \u03c1 = 0.80" in res.text()


def test_compare_scores_with_too_few_studies_says_so():
    res = appraisal.compare_scores(pd.Series({"a": 1.0, "b": 2.0}),
                                   pd.Series({"a": 3.0, "b": 5.0}))
    assert np.isnan(res.rho) and res.text() == "2 studies scored by both: no correlation"


# --- QUADAS-2 --------------------------------------------------------------------------------

def _judgements() -> pd.DataFrame:
    """Four studies, two risk-of-bias domains and an overall, one applicability domain."""
    rob1 = ["low", "low", "high", "unclear"]
    rob2 = ["low", "unclear", "low", "low"]
    overall = ["low", "unclear", "high", "unclear"]
    app1 = ["low", "high", "low", "low"]
    rows = []
    for i, sid in enumerate(["s1", "s2", "s3", "s4"]):
        rows += [(sid, "lead", "Selection", "risk of bias", rob1[i]),
                 (sid, "lead", "Index test", "risk of bias", rob2[i]),
                 (sid, "lead", "Overall", "risk of bias", overall[i]),
                 (sid, "lead", "Selection", "applicability", app1[i]),
                 (sid, "other", "Selection", "risk of bias", "low")]
    return pd.DataFrame(rows, columns=["study_id", "rater", "domain", "kind", "judgement"])


def test_domain_codes_number_each_kind_in_order():
    codes = appraisal.domain_codes(_judgements())
    assert list(codes["code"]) == ["D1", "D2", "Overall", "A1"]


def test_risk_tallies_count_and_share_per_domain():
    out = appraisal.risk_tallies(_judgements(), rater="lead").set_index("code")
    assert out.loc["D1", ["n_studies", "n_low", "n_unclear", "n_high"]].tolist() == [4, 2, 1, 1]
    assert out.loc["D1", ["share_low", "share_unclear", "share_high"]].tolist() == [50, 25, 25]
    assert out.loc["A1", "kind"] == "applicability" and out.loc["A1", "n_high"] == 1
    assert not out["weighted"].any()


def test_risk_tallies_weighted_by_study_size_as_robvis():
    sizes = pd.Series({"s1": 100.0, "s2": 50.0, "s3": 30.0})  # s4 has no size
    out = appraisal.risk_tallies(_judgements(), rater="lead", weights=sizes).set_index("code")
    assert out.loc["D1", "share_low"] == pytest.approx(150 / 180 * 100)
    assert out.loc["D1", "share_high"] == pytest.approx(30 / 180 * 100)
    assert out.loc["D1", "share_unclear"] == 0
    assert out.loc["D1", "n_unweighted"] == 1 and out["weighted"].all()


def test_traffic_light_table_is_study_by_domain():
    labels = pd.Series({"s1": "Gu 2019"})
    out = appraisal.traffic_light_table(_judgements(), rater="lead", labels=labels, note="rule")
    assert list(out.columns) == ["study_id", "label", "D1", "D2", "Overall", "A1"]
    assert list(out["label"]) == ["Gu 2019", "s2", "s3", "s4"]
    assert list(out["D1"]) == ["low", "low", "high", "unclear"]
    assert out.attrs["domains"]["A1"] == ("applicability", "Selection")
    assert out.attrs["note"] == "rule"


@pytest.mark.parametrize("domain, expected", [("Selection", ["s1", "s2"]), ("D2", ["s1", "s3",
                                                                                  "s4"]),
                                               ("Overall", ["s1"])])
def test_low_risk_studies_by_domain_name_or_code(domain, expected):
    assert appraisal.low_risk_studies(_judgements(), domain=domain, rater="lead") == expected


def test_low_risk_studies_of_applicability():
    assert appraisal.low_risk_studies(_judgements(), domain="A1", rater="lead",
                                      kind="applicability") == ["s1", "s3", "s4"]


def test_low_risk_studies_unknown_domain_lists_those_present():
    with pytest.raises(ValueError, match="domain='Flow'.*Selection"):
        appraisal.low_risk_studies(_judgements(), domain="Flow", rater="lead")


def test_low_risk_pooling_repools_exactly_the_low_risk_studies(demo):
    table = auc.study_variances(auc.representative_auc(demo))
    judgements = instruments.quadas2_judgements(demo.appraisals["QUADAS-2"])
    aims = ("grade", "differential diagnosis")
    out = appraisal.low_risk_pooling(table, judgements, domain="Patient selection",
                                     rater=CONSENSUS, aims=aims)
    assert list(out["aim"]) == ["grade", "grade", "differential diagnosis",
                                "differential diagnosis"]
    assert list(out["subset"]) == ["all studies", "low risk: Patient selection"] * 2
    low = appraisal.low_risk_studies(judgements, domain="Patient selection", rater=CONSENSUS)
    for aim in aims:
        used = table[(table["aim"] == aim) & table["poolable"] & table["study_id"].isin(low)]
        row = out[(out["aim"] == aim) & (out["subset"] != "all studies")].iloc[0]
        assert row["k"] == len(used) < out[(out["aim"] == aim)]["k"].iloc[0]
        expected = pool(used["logit_auc"], used["var_logit"])
        assert row["auc_pooled"] == pytest.approx(1 / (1 + np.exp(-expected.estimate)))
        full = auc.pool_by_aim(table, aims=[aim])[aim].pooled_frame().iloc[0]
        assert out[(out["aim"] == aim)]["auc_pooled"].iloc[0] == full["auc_pooled"]


def test_low_risk_pooling_of_an_empty_subset_says_why(demo):
    table = auc.study_variances(auc.representative_auc(demo))
    judgements = instruments.quadas2_judgements(demo.appraisals["QUADAS-2"])
    judgements.loc[judgements["domain"] == "Index test", "judgement"] = "high"
    out = appraisal.low_risk_pooling(table, judgements, domain="Index test",
                                     rater=CONSENSUS, aims=("grade",))
    low = out.iloc[1]
    assert low["k"] == 0 and np.isnan(low["auc_pooled"]) and "no studies" in low["note"]


# --- moderators ------------------------------------------------------------------------------

def test_quality_moderators_one_column_per_instrument():
    out = appraisal.quality_moderators({"rqs": pd.Series({"a": 20.0, "b": 30.0}),
                                        "metrics": pd.Series({"b": 60.0, "c": 50.0}),
                                        "rqs2": None})
    assert list(out.columns) == ["rqs", "metrics"] and list(out.index) == ["a", "b", "c"]
    assert np.isnan(out.loc["a", "metrics"]) and out.loc["b", "metrics"] == 60
    assert appraisal.quality_moderators({"rqs": None}).empty


# --- report ----------------------------------------------------------------------------------

def test_report_has_one_section_per_instrument_of_the_demo(demo):
    sections = appraisal.report(demo)
    assert [s.instrument for s in sections] == ["RQS", "METRICS", "QUADAS-2", "moderators"]
    metrics = sections[1]
    assert {"metrics_scores", "metrics_summary", "metrics_bands", "metrics_items",
            "metrics_categories", "metrics_agreement", "metrics_icc", "rqs_vs_metrics"} <= set(
        metrics.tables)
    assert metrics.main_table is metrics.tables["metrics_summary"]
    mean = metrics.tables["metrics_summary"].iloc[0]["mean"]
    assert 50 <= mean <= 60, "the demo's METRICS mean lies in 50-60 %"
    assert metrics.title == f"METRICS ({CONSENSUS})"
    quadas = sections[2]
    assert {"quadas2_tallies", "quadas2_tallies_weighted", "quadas2_agreement",
            "quadas2_low_risk_pooling"} <= set(quadas.tables)
    tallies = quadas.tables["quadas2_tallies"]
    assert (tallies["n_low"] + tallies["n_unclear"] + tallies["n_high"] == 45).all()
    assert list(sections[3].tables["quality_moderators"].columns) == ["study_id", "rqs",
                                                                      "metrics"]


def test_report_rater_and_agreement_raters_are_parameters(demo):
    sections = appraisal.report(demo, rater="A", agreement_raters=["B", CONSENSUS])
    metrics = sections[1]
    assert metrics.title == "METRICS (A)"
    assert any("raters B and consensus" in line for line in metrics.lines)
    with pytest.raises(ValueError, match="rater='nobody'"):
        appraisal.report(demo, rater="nobody")


def test_report_of_a_review_without_appraisals_is_empty(demo_copy: Path):
    for name in ("quality.csv", "metrics.csv", "quadas2.csv"):
        (demo_copy / name).unlink()
    assert appraisal.report(synth.load_review(demo_copy)) == []


def test_report_without_a_second_rater_says_there_is_no_agreement(demo_copy: Path):
    table = pd.read_csv(demo_copy / "metrics.csv", dtype=str, keep_default_na=False)
    table[table["rater"] != "B"].to_csv(demo_copy / "metrics.csv", index=False)
    (demo_copy / "quality.csv").unlink()
    (metrics,) = [s for s in appraisal.report(synth.load_review(demo_copy))
                  if s.instrument == "METRICS"]
    assert "metrics_agreement" not in metrics.tables
    assert any("no rater agreement" in line for line in metrics.lines)


def test_figure_skip_reason():
    assert appraisal.figure_skip_reason(appraisal.MIN_FIGURE_STUDIES, "x") is None
    assert appraisal.figure_skip_reason(1, "heat map") == (
        f"No heat map: 1 study, at least {appraisal.MIN_FIGURE_STUDIES} are needed; the table "
        "holds every answer.")


# --- notebook 04 -----------------------------------------------------------------------------

def test_notebook_04_shows_rqs_metrics_and_quadas2_on_the_demo(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(DEMO, data / "demo")
    config = RunConfig(data_dir=data, notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp_path / "figures", results_dir=tmp_path / "results",
                       notebooks=("04",))
    (result,) = run(config)
    assert result.ok, result.describe()
    results, figures = tmp_path / "results" / "demo", tmp_path / "figures" / "demo"
    for stem in ("rqs_summary", "metrics_summary", "metrics_categories", "rqs_vs_metrics",
                 "quadas2_tallies", "quadas2_low_risk_pooling", "quality_moderators"):
        assert (results / f"{stem}.csv").exists(), stem
    for stem in ("rqs_heatmap", "metrics_bands", "metrics_heatmap", "rqs_vs_metrics",
                 "quadas2_traffic_light", "quadas2_summary"):
        assert (figures / f"{stem}.png").stat().st_size > 1000, stem


def _write_rqs2_and_clear(folder: Path, n_studies: int = 6) -> None:
    """Seeded RQS 2.0 (readiness level 4, hand-crafted) and CLEAR files for the first studies."""
    rng = np.random.default_rng(16)
    ids = pd.read_csv(folder / "studies.csv")["study_id"].iloc[:n_studies]
    rqs2, clear = [], []
    for sid in ids:
        for rater in ("A", "B", CONSENSUS):
            row = {"study_id": sid, "rater": rater, "readiness_level": 4,
                   "method": "handcrafted"}
            for item in instruments.RQS2_ITEMS:
                row[item.column] = (int(rng.choice(item.points)) if item.level <= 4 else "")
            rqs2.append(row | {"notes": ""})
            clear.append({"study_id": sid, "rater": rater,
                          **{i.column: rng.choice(["yes", "no", "n/a"], p=[0.6, 0.3, 0.1])
                             for i in instruments.CLEAR_ITEMS}, "notes": ""})
    pd.DataFrame(rqs2).to_csv(folder / "rqs2.csv", index=False)
    pd.DataFrame(clear).to_csv(folder / "clear.csv", index=False)


def test_report_covers_rqs2_and_clear_when_the_review_has_them(demo_copy: Path):
    _write_rqs2_and_clear(demo_copy)
    review = synth.load_review(demo_copy)
    sections = {s.instrument: s for s in appraisal.report(review)}
    assert list(sections) == ["RQS", "METRICS", "RQS 2.0", "QUADAS-2", "CLEAR", "moderators"]
    rqs2 = sections["RQS 2.0"]
    scores = instruments.appraisal_scores("RQS 2.0", review.appraisals["RQS 2.0"])
    chosen = scores[scores["rater"] == CONSENSUS]
    assert rqs2.tables["rqs2_summary"].iloc[0]["mean"] == pytest.approx(chosen["percent"].mean())
    items = rqs2.tables["rqs2_items"].set_index("item")
    assert items.loc["rqs2_21", "n_applicable"] == 0, "level 5 is above every study's level"
    assert (rqs2.tables["rqs2_agreement"]["weights"] == "linear").any()
    assert {"rqs2_heatmap", "rqs2_categories"} == set(rqs2.figures)
    clear = sections["CLEAR"]
    assert {"clear_scores", "clear_items", "clear_categories", "clear_agreement"} <= set(
        clear.tables)
    moderators = sections["moderators"].tables["quality_moderators"]
    assert list(moderators.columns) == ["study_id", "rqs", "metrics", "rqs2"]


def test_kappa_per_item_matches_r_psych_on_the_demo(demo):
    """tests/results/appraisal_kappa.R (psych::cohen.kappa) on the demo's raters A and B."""
    ref = pd.read_csv(ROOT / "tests" / "results" / "appraisal_kappa.csv", comment="#")
    tables = {"METRICS": instruments.item_answers("METRICS", demo.appraisals["METRICS"]),
              "RQS": instruments.item_answers("RQS", demo.quality)}
    judged = instruments.quadas2_judgements(demo.appraisals["QUADAS-2"])
    judged = judged[judged["domain"] != "Overall"]
    prefix = judged["kind"].map({"risk of bias": "rob_", "applicability": "applicability_"})
    tables["QUADAS-2"] = judged.assign(
        item=prefix + judged["domain"].str.lower().str.replace(" and ", "_").str.replace(
            " ", "_"), answer=judged["judgement"])
    checked = 0
    for instrument, answers in tables.items():
        ours = appraisal.item_agreement(answers, raters=("A", "B")).set_index("item")
        theirs = ref[ref["instrument"] == instrument].set_index("item")
        assert sorted(ours.index) == sorted(theirs.index), instrument
        for item, row in theirs.iterrows():
            assert ours.loc[item, "weights"] == row["weights"], item
            if np.isnan(row["kappa"]):
                assert np.isnan(ours.loc[item, "kappa"]), item
            else:
                assert ours.loc[item, "kappa"] == pytest.approx(row["kappa"], abs=1e-9), item
                checked += 1
    assert checked > 45


# --- what the appraisal feeds into the synthesis ---------------------------------------------

def test_study_quality_holds_each_instruments_own_scores(demo):
    table = appraisal.study_quality(demo)
    assert list(table.columns) == ["rqs", "metrics"]  # the demo has no rqs2.csv
    rqs = quality.consensus_percent(demo)
    metrics = instruments.metrics_scores(demo.appraisals["METRICS"])
    metrics = metrics[metrics["rater"] == CONSENSUS].set_index("study_id")["score"]
    assert table["rqs"].dropna().to_dict() == rqs.to_dict()
    assert table["metrics"].dropna().to_dict() == metrics.to_dict()
    a_rater = appraisal.study_quality(demo, rater="A")["metrics"]
    assert not a_rater.equals(table["metrics"])
    with pytest.raises(ValueError, match="rater=.Z. has no (rows|scores)"):
        appraisal.study_quality(demo, rater="Z")


def test_study_quality_takes_rqs2_percent_when_the_review_has_it(demo_copy: Path):
    _write_rqs2_and_clear(demo_copy)
    review = synth.load_review(demo_copy)
    table = appraisal.study_quality(review)
    assert list(table.columns) == ["rqs", "metrics", "rqs2"]
    rqs2 = instruments.rqs2_scores(review.appraisals["RQS 2.0"])
    rqs2 = rqs2[rqs2["rater"] == CONSENSUS].set_index("study_id")["percent"]
    assert table["rqs2"].dropna().to_dict() == pytest.approx(rqs2.to_dict())


@pytest.mark.parametrize(("which", "name"), [("auto", "METRICS (%)"), ("metrics", "METRICS (%)"),
                                             ("rqs", "RQS (%)"), ("quadas2", "QUADAS-2")])
def test_forest_quality_texts(demo, which, name):
    column = appraisal.forest_quality(demo, which)
    assert column.name == name
    if which == "quadas2":
        overall = instruments.quadas2_overall(demo.appraisals["QUADAS-2"])
        overall = overall[overall["rater"] == CONSENSUS].set_index("study_id")
        assert column.to_dict() == overall["risk_of_bias"].to_dict()
    else:
        values = appraisal.study_quality(demo)["rqs" if which == "rqs" else "metrics"]
        assert column.to_dict() == {k: f"{v:.1f}" for k, v in values.dropna().items()}


def test_forest_quality_none_when_absent_or_not_wanted(demo, demo_copy: Path):
    assert appraisal.forest_quality(demo, "") is None
    assert appraisal.forest_quality(demo, "rqs2") is None  # no rqs2.csv
    with pytest.raises(ValueError, match="forest_quality"):
        appraisal.forest_quality(demo, "clear")
    (demo_copy / "metrics.csv").unlink()
    assert appraisal.forest_quality(synth.load_review(demo_copy)).name == "RQS (%)"
    for name in ("quality.csv", "quadas2.csv"):
        (demo_copy / name).unlink()
    assert appraisal.forest_quality(synth.load_review(demo_copy)) is None


def test_review_low_risk_studies_reads_the_consensus_judgements(demo, demo_copy: Path):
    judgements = instruments.quadas2_judgements(demo.appraisals["QUADAS-2"])
    for domain in ("Overall", "D1", "Patient selection"):
        assert appraisal.review_low_risk_studies(demo, domain=domain) == \
            appraisal.low_risk_studies(judgements, domain=domain, rater=CONSENSUS)
    (demo_copy / "quadas2.csv").unlink()
    assert appraisal.review_low_risk_studies(synth.load_review(demo_copy)) is None


def test_dta_low_risk_table_equals_pooling_exactly_the_low_risk_studies(demo):
    from synth import dta

    cells = dta.representative_cells(demo)
    low = appraisal.review_low_risk_studies(demo, domain="Overall")
    out = dta.low_risk_table(cells, low, domain="Overall", aims=["grade", "response"])
    assert list(out["subset"]) == ["all studies", "low risk: Overall"] * 2
    grade = cells[cells["aim"] == "grade"]
    for subset, rows in (("all studies", grade), ("low risk: Overall",
                                                  grade[grade["study_id"].isin(low)])):
        row = out[(out["aim"] == "grade") & (out["subset"] == subset)].iloc[0]
        fit = dta.pool_by_aim(rows.reset_index(drop=True), aims=["grade"])["grade"].fit
        expected = fit.summary_frame().set_index("quantity")
        assert row["k"] == len(rows) >= 3
        for name, key in (("sensitivity", "sens"), ("specificity", "spec")):
            assert row[name] == pytest.approx(expected.at[name, "estimate"], rel=1e-12)
            assert row[f"{key}_low"] == pytest.approx(expected.at[name, "ci_low"], rel=1e-12)
            assert row[f"{key}_high"] == pytest.approx(expected.at[name, "ci_high"], rel=1e-12)
    assert out.iloc[1]["k"] < out.iloc[0]["k"]
    response = out[out["aim"] == "response"]  # no 2x2 data: notes, not an error
    assert response["sensitivity"].isna().all() and (response["note"] != "").all()


def test_dta_low_risk_table_with_too_few_or_no_judgements_says_why(demo):
    from synth import dta

    cells = dta.representative_cells(demo)
    two = list(cells.loc[cells["aim"] == "grade", "study_id"][:2])
    out = dta.low_risk_table(cells, two, domain="D1", aims=["grade"])
    assert out.iloc[1]["k"] == 2 and np.isnan(out.iloc[1]["sensitivity"])
    assert "needs k >= 3" in out.iloc[1]["note"]
    out = dta.low_risk_table(cells, None, aims=["grade"])
    assert out.iloc[1]["subset"] == "low risk: Overall" and "no risk-of-bias" in out.iloc[1][
        "note"]
    assert out.iloc[0]["k"] == int((cells["aim"] == "grade").sum())
