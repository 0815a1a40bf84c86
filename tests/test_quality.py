"""RQS: scoring, summaries, the consensus percentage, score against AUC, rater agreement
(pinned to published examples), and the notebook on a review without quality data.

The instruments' declarations are tested in test_instruments.py, the figures in
test_plots_quality.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, ROOT
from statsmodels.stats.inter_rater import cohens_kappa

import synth
from synth import auc, quality
from synth.errors import ReviewDataError
from synth.review import study_labels

# --- scoring ---------------------------------------------------------------------------------

def _rows(*studies: dict[int, int], rater: str = "consensus") -> pd.DataFrame:
    """Quality rows from {component number: points}; unlisted components score 0 points,
    except 5 and 12 which have no 0 and default to their lowest points."""
    base = {1: 0, 2: 0, 3: 0, 4: 0, 5: -3, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 11: 0, 12: -5, 13: 0,
            14: 0, 15: 0, 16: 0}
    out = []
    for i, points in enumerate(studies, start=1):
        row = {**base, **points}
        out.append({"study_id": f"s{i}", "rater": rater,
                    **{f"rqs_{k:02d}": v for k, v in row.items()}})
    return pd.DataFrame(out)


LOWEST: dict[int, int] = {}
HIGHEST = {1: 2, 2: 1, 3: 1, 4: 1, 5: 3, 6: 1, 7: 1, 8: 1, 9: 2, 10: 2, 11: 7, 12: 5, 13: 2,
           14: 2, 15: 1, 16: 4}
# By hand: 1 + 1 + 3 + 1 + 2 + 2 + 1 = 11 points -> 11 / 36 = 30.56 %.
TYPICAL = {1: 1, 2: 1, 5: 3, 6: 1, 9: 2, 12: 2, 16: 1}
# By hand: 2 - 3 - 5 = -6 points -> 0 % floored, -6 / 36 = -16.67 % kept.
NEGATIVE = {1: 2}


def test_scores_of_hand_computed_studies_with_both_extremes():
    df = _rows(LOWEST, HIGHEST, TYPICAL, NEGATIVE)
    floor = quality.score(df)
    assert list(floor.columns) == ["study_id", "rater", "total", "percent"]
    assert floor["total"].tolist() == [-8, 36, 11, -6]
    assert floor["percent"].tolist() == pytest.approx([0.0, 100.0, 1100 / 36, 0.0])
    keep = quality.score(df, negative="keep")
    assert keep["total"].tolist() == [-8, 36, 11, -6]
    assert keep["percent"].tolist() == pytest.approx([-800 / 36, 100.0, 1100 / 36, -600 / 36])


def test_negative_treatment_must_be_known():
    with pytest.raises(ValueError,
                       match="negative='zero' is not allowed; use one of: 'floor', 'keep'"):
        quality.score(_rows(TYPICAL), negative="zero")
    assert quality.negative_note("floor") == "negative totals set to 0 %"


def test_a_missing_component_is_an_error_naming_it():
    df = _rows(TYPICAL).drop(columns="rqs_07")
    with pytest.raises(ReviewDataError, match=r"quality.csv:1:rqs_07: \(missing column\) — RQS "
                       r"component 7 \(Detect and discuss biological correlates\) is required"):
        quality.score(df)


def test_a_missing_or_disallowed_score_names_row_column_and_allowed_set():
    df = _rows(TYPICAL, TYPICAL, TYPICAL)
    df["rqs_12"] = df["rqs_12"].astype(object)
    df.loc[1, "rqs_12"] = 1
    df.loc[2, "rqs_12"] = None
    with pytest.raises(ReviewDataError) as err:
        quality.score(df)
    assert err.value.problems[0].__str__() == (
        "quality.csv:3:rqs_12: 1 — RQS 12 (Validation): one of -5, 2, 3, 4, 5")
    assert str(err.value.problems[1]) == (
        "quality.csv:4:rqs_12: (empty) — RQS 12 (Validation): one of -5, 2, 3, 4, 5")


def test_load_review_rejects_a_score_outside_the_allowed_set(demo_copy: Path, edit):
    edit(demo_copy / "quality.csv", "demo01,B,0,1,0,0,3,", "demo01,B,0,1,0,0,2,")
    with pytest.raises(ReviewDataError, match="quality.csv:3:rqs_05: 2 — one of: -3, 3"):
        synth.load_review(demo_copy)


def test_rater_scores_lists_the_raters_present():
    scores = quality.score(_rows(TYPICAL, rater="A"))
    with pytest.raises(ValueError, match="rater='consensus' has no scores; raters present: A"):
        quality.rater_scores(scores, rater="consensus")


# --- summaries on the demo -------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    return synth.load_review(DEMO)


def test_demo_mean_percentage_rounds_to_the_published_18(demo):
    consensus = quality.rater_scores(quality.score(demo.quality), rater="consensus")
    summary = quality.rqs_summary(consensus, quality.study_groups(demo))
    overall = summary.iloc[0]
    assert (overall["group"], overall["category"], overall["n_studies"]) == (
        "overall", "all studies", 45)
    assert round(overall["mean_percent"]) == 18
    for col in ("n_studies", "mean_total", "sd_total", "median_total", "q1_total", "q3_total",
                "min_total", "max_total", "mean_percent", "median_percent"):
        assert col in summary.columns
    assert set(summary["negative_totals"]) == {"negative totals set to 0 %"}


def test_summary_by_aim_counts_a_study_under_each_aim_it_reports(demo):
    perf = pd.read_csv(DEMO / "performance.csv")
    raw = pd.read_csv(DEMO / "quality.csv")
    raw = raw[raw["rater"] == "consensus"].set_index("study_id")
    totals = raw.filter(like="rqs_").sum(axis=1)
    consensus = quality.rater_scores(quality.score(demo.quality), rater="consensus")
    summary = quality.rqs_summary(consensus, quality.study_groups(demo)).set_index(
        ["group", "category"])
    for aim, ids in perf.groupby("aim")["study_id"]:
        ids = ids.unique()
        assert summary.loc[("aim", aim), "n_studies"] == len(ids)
        assert summary.loc[("aim", aim), "mean_total"] == pytest.approx(totals[ids].mean())
    studies = pd.read_csv(DEMO / "studies.csv").set_index("study_id")
    for year, ids in studies.groupby("year").groups.items():
        assert summary.loc[("year", str(year)), "max_total"] == totals[list(ids)].max()


def test_summary_holds_the_percentage_quartiles_the_boxes_show(demo):
    consensus = quality.rater_scores(quality.score(demo.quality), rater="consensus")
    overall = quality.rqs_summary(consensus).iloc[0]
    assert overall["q1_percent"] == pytest.approx(consensus["percent"].quantile(0.25))
    assert overall["q3_percent"] == pytest.approx(consensus["percent"].quantile(0.75))
    text = quality.mean_text(quality.rqs_summary(consensus), rater="consensus")
    assert text == (f"Mean RQS (consensus): {overall['mean_total']:.1f} points, 18 % of 36 "
                    f"(negative totals set to 0 %)")


# --- the consensus percentage ----------------------------------------------------------------

def test_consensus_percent_is_the_consensus_score_per_study(demo):
    percent = quality.consensus_percent(demo)
    assert isinstance(percent, pd.Series)
    assert (percent.name, percent.index.name) == ("percent", "study_id")
    expected = quality.rater_scores(quality.score(demo.quality), rater="consensus").set_index(
        "study_id")["percent"]
    pd.testing.assert_series_equal(percent, expected)
    assert percent.index.is_unique and len(percent) == 45


def test_consensus_percent_follows_its_options(demo):
    kept = quality.consensus_percent(demo, negative="keep")
    floored = quality.consensus_percent(demo)
    assert (kept < 0).any() and (floored >= 0).all()
    assert (kept.clip(lower=0) == floored).all()
    a = quality.consensus_percent(demo, rater="A")
    raw = demo.quality[demo.quality["rater"] == "A"].set_index("study_id")
    assert a.to_dict() == pytest.approx(
        (raw[list(quality.RQS.columns)].sum(axis=1).clip(lower=0) / 36 * 100).to_dict())
    with pytest.raises(ValueError, match="rater='C' has no scores; raters present: A, B"):
        quality.consensus_percent(demo, rater="C")


def test_consensus_percent_is_none_without_quality_data(demo):
    no_quality = synth.Review(name="t", path=demo.path, studies=demo.studies,
                              performance=demo.performance, quality=None)
    assert quality.consensus_percent(no_quality) is None
    assert quality.assess(no_quality, auc.representative_auc(no_quality)) is None


# --- quality percentage against AUC ----------------------------------------------------------

def test_score_vs_auc_is_scipys_spearman_over_the_points():
    from scipy.stats import spearmanr

    scores = pd.DataFrame({"study_id": ["a", "b", "c", "d", "e"],
                           "percent": [10.0, 40.0, 25.0, 25.0, 80.0]})
    reps = pd.DataFrame({"study_id": ["a", "b", "c", "d", "e", "b", "x"],
                         "aim": ["grade"] * 5 + ["outcome", "grade"],
                         "auc": [0.70, 0.91, 0.80, 0.75, 0.88, 0.66, 0.99]})
    res = quality.score_vs_auc(scores, reps)
    # "x" has no score; "b" counts once per aim
    assert list(res.points.columns) == ["study_id", "aim", "auc", "percent"]
    assert (res.n, res.n_studies) == (6, 5)
    expected = spearmanr([10, 40, 25, 25, 80, 40], [0.70, 0.91, 0.80, 0.75, 0.88, 0.66])
    assert res.rho == expected.statistic and res.pvalue == expected.pvalue
    assert res.text() == f"Spearman \u03c1 = {res.rho:.2f}, p = {res.pvalue:.2f}"
    row = res.summary_frame().iloc[0]
    assert (row["n_points"], row["n_studies"], row["rho"], row["pvalue"]) == (
        6, 5, res.rho, res.pvalue)
    series = quality.score_vs_auc(scores.set_index("study_id")["percent"], reps)
    assert (series.rho, series.n) == (res.rho, res.n)


def test_score_vs_auc_says_when_rho_is_undefined_or_not_computed():
    reps = pd.DataFrame({"study_id": ["a", "b", "c"], "aim": "grade", "auc": [0.7, 0.8, 0.9]})
    flat = quality.score_vs_auc(pd.DataFrame({"study_id": ["a", "b", "c"], "percent": 20.0}),
                                reps)
    assert np.isnan(flat.rho) and flat.text() == "Spearman \u03c1 undefined (constant scores)"
    two = quality.score_vs_auc(pd.DataFrame({"study_id": ["a", "b"], "percent": [1.0, 2.0]}),
                               reps)
    assert two.n == 2 and np.isnan(two.rho)
    assert two.text() == "Spearman \u03c1 not computed (fewer than 3 points)"


def test_demo_score_vs_auc_matches_the_published_figure(demo):
    res = quality.score_vs_auc(quality.consensus_percent(demo), auc.representative_auc(demo))
    assert res.text() == "Spearman \u03c1 = -0.20, p = 0.18"


# --- heat map data ---------------------------------------------------------------------------

def test_heatmap_table_sorts_studies_by_total_and_labels_them(demo):
    table = quality.heatmap_table(demo, negative="keep")
    assert list(table.columns) == ["study_id", "label", "rater", *quality.RQS.columns, "total",
                                   "percent"]
    assert len(table) == 45 and set(table["rater"]) == {"consensus"}
    totals = table["total"].tolist()
    assert totals == sorted(totals, reverse=True)
    assert table["label"].tolist() == study_labels(demo.studies).loc[table["study_id"]].tolist()
    assert (table[list(quality.RQS.columns)].sum(axis=1) == table["total"]).all()
    assert (table["percent"] < 0).any()


def test_study_groups_keeps_a_study_without_auc(demo):
    trimmed = synth.Review(name="t", path=demo.path, studies=demo.studies,
                           performance=demo.performance[demo.performance["study_id"] != "demo01"],
                           quality=demo.quality)
    groups = quality.study_groups(trimmed)
    aims = groups[(groups["group"] == "aim") & (groups["study_id"] == "demo01")]
    assert aims["category"].tolist() == [quality.NO_AUC_LABEL]


def test_item_summary_counts_studies_earning_and_losing_points():
    items = quality.item_summary(_rows(LOWEST, HIGHEST, TYPICAL, NEGATIVE),
                                 rater="consensus").set_index("number")
    assert items.loc[1, "n_earning"] == 3 and items.loc[1, "percent_earning"] == 75
    assert items.loc[5, "n_negative"] == 2 and items.loc[5, "n_earning"] == 2
    assert items.loc[12, "mean_points"] == pytest.approx((-5 + 5 + 2 - 5) / 4)
    assert items.loc[11, "max_points"] == 7


# --- agreement: pinned to published worked examples ------------------------------------------

# Cohen J. Weighted kappa: nominal scale agreement with provision for scaled disagreement or
# partial credit. Psychol Bull 1968;70(4):213-220, Table 1: two judges, 200 cases, three
# diagnoses (personality disorder, neurosis, psychosis); observed proportions .44 .07 .09 /
# .05 .20 .05 / .01 .03 .06 and disagreement weights 1 (PD-N), 3 (PD-P), 6 (N-P). Cohen reports
# kappa = .492 and weighted kappa = .348 (reproduced, e.g., in the R psych package's
# cohen.kappa examples). Tolerance: the published three decimals.
COHEN_1968 = np.array([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
COHEN_1968_WEIGHTS = np.array([[0, 1, 3], [1, 0, 6], [3, 6, 0]])


def _instrument_of_one(ordinal: bool) -> quality.Instrument:
    return quality.Instrument("X", "", (quality.Item(1, "x", "x", (0, 1, 2), ordinal=ordinal),))


def _pairs_from_table(table: np.ndarray) -> pd.DataFrame:
    rows = []
    n = 0
    for (i, j), count in np.ndenumerate(table):
        for _ in range(int(count)):
            n += 1
            rows += [{"study_id": f"s{n}", "rater": "B", "rqs_01": i},
                     {"study_id": f"s{n}", "rater": "A", "rqs_01": j}]
    return pd.DataFrame(rows)


def test_statsmodels_kappa_reproduces_cohen_1968():
    assert cohens_kappa(COHEN_1968).kappa == pytest.approx(0.492, abs=5e-4)
    assert cohens_kappa(COHEN_1968, weights=COHEN_1968_WEIGHTS).kappa == pytest.approx(
        0.348, abs=5e-4)


def test_rater_agreement_reproduces_cohen_1968_unweighted_kappa():
    ratings = _pairs_from_table(COHEN_1968)
    res = quality.rater_agreement(ratings, raters=("B", "A"),
                                  instrument=_instrument_of_one(ordinal=False)).iloc[0]
    assert res["kappa"] == pytest.approx(0.492, abs=5e-4)
    assert res["weights"] == "none"
    assert res["n_studies"] == 200 and res["percent_agreement"] == pytest.approx(70.0)
    assert res["ci_low"] < res["kappa"] < res["ci_high"]


def test_rater_agreement_weights_ordinal_components_linearly():
    # By hand, pairs (A, B) = (0,0), (1,2), (2,2), (2,1) on levels 0, 1, 2:
    # unweighted: po = 2/4, pe = (1*1 + 1*1 + 2*2)/16 = 6/16, kappa = (0.5 - 0.375)/0.625 = 0.2;
    # linear weights |i - j|: observed disagreement 1 + 1 = 2, expected (from the margins
    # 1, 1, 2 of each rater) 0.25 + 2*0.5 + 0.25 + 0.5 + 2*0.5 + 0.5 = 3.5, kappa_w = 1 - 2/3.5.
    pairs = [(0, 0), (1, 2), (2, 2), (2, 1)]
    rows = [r for n, (a, b) in enumerate(pairs) for r in (
        {"study_id": f"s{n}", "rater": "A", "rqs_01": a},
        {"study_id": f"s{n}", "rater": "B", "rqs_01": b})]
    df = pd.DataFrame(rows)
    pair = ("A", "B")
    plain = quality.rater_agreement(df, raters=pair, instrument=_instrument_of_one(False)).iloc[0]
    ordinal = quality.rater_agreement(df, raters=pair, instrument=_instrument_of_one(True)).iloc[0]
    assert plain["kappa"] == pytest.approx(0.2)
    assert ordinal["kappa"] == pytest.approx(1 - 2 / 3.5)
    assert ordinal["weights"] == "linear" and ordinal["percent_agreement"] == 50


def test_kappa_is_undefined_when_both_raters_never_vary():
    rows = _rows(TYPICAL, TYPICAL, rater="A")
    rows = pd.concat([rows, rows.assign(rater="B")], ignore_index=True)
    res = quality.rater_agreement(rows, raters=("A", "B")).set_index("number")
    assert np.isnan(res.loc[3, "kappa"]) and res.loc[3, "percent_agreement"] == 100


def test_agreement_needs_three_studies_rated_by_both():
    scores = quality.score(pd.concat([_rows(TYPICAL, NEGATIVE, rater="A"),
                                      _rows(TYPICAL, NEGATIVE, rater="B")], ignore_index=True))
    paired = quality.paired_scores(scores, raters=("A", "B"))
    assert quality.agreement_skip_reason(paired, raters=("A", "B")) == (
        "Rater agreement not computed: 2 studies rated by both A and B; at least 3 are needed.")
    full = quality.score(pd.concat([_rows(TYPICAL, NEGATIVE, HIGHEST, rater=r)
                                    for r in ("A", "B")], ignore_index=True))
    assert quality.agreement_skip_reason(quality.paired_scores(full, raters=("A", "B")),
                                         raters=("A", "B")) is None


# Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. Psychol
# Bull 1979;86(2):420-428, Table 2: 6 targets rated by 4 judges; ICC(2,1) = .29 (Table 4), from
# the mean squares of Table 3 (BMS 11.24, EMS 1.02, so F = 11.02). Tolerances: the published
# two decimals (and the rounding of the published mean squares for F).
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                 [6, 2, 4, 7]]


def test_icc_reproduces_shrout_fleiss_1979():
    long = pd.DataFrame([{"study_id": f"t{t}", "rater": f"j{j}", "total": v}
                         for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)])
    res = quality.icc_totals(long)
    assert res.icc == pytest.approx(0.29, abs=0.005)
    assert res.f == pytest.approx(11.02, abs=0.05)
    assert (res.df1, res.df2, res.n_studies) == (5, 15, 6)
    assert res.ci_low < res.icc < res.ci_high
    assert res.summary_frame()["measure"].tolist() == ["ICC(2,1) of totals"]


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_icc_interval_is_pingouins_unrounded():
    import pingouin

    long = pd.DataFrame([{"study_id": f"t{t}", "rater": f"j{j}", "total": float(v)}
                         for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)])
    res = quality.icc_totals(long)
    table = pingouin.intraclass_corr(data=long, targets="study_id", raters="rater",
                                     ratings="total")
    low, high = table.set_index("Type").loc["ICC(A,1)", "CI95"]
    assert (res.ci_low, res.ci_high) == pytest.approx((low, high), abs=0.005)
    assert res.ci_low != round(res.ci_low, 2)  # not rounded
    frame = res.summary_frame().iloc[0]
    assert (frame["icc"], frame["ci_low"], frame["ci_high"]) == (res.icc, res.ci_low, res.ci_high)


def test_kappa_interval_is_bounded_to_its_range():
    # 5 studies, 4 agree: kappa is high and its Wald upper limit passes 1
    table = np.array([[2, 0, 0], [0, 2, 1], [0, 0, 0]])
    res = quality.rater_agreement(_pairs_from_table(table), raters=("B", "A"),
                                  instrument=_instrument_of_one(False)).iloc[0]
    raw = cohens_kappa(table)
    assert raw.kappa_upp > 1
    assert res["ci_high"] == 1.0 and res["ci_low"] == pytest.approx(raw.kappa_low)
    assert -1 <= res["ci_low"] <= res["kappa"] <= res["ci_high"] <= 1


def test_icc_needs_every_study_rated_by_both():
    scores = quality.score(pd.concat([_rows(TYPICAL, NEGATIVE, HIGHEST, rater="A"),
                                      _rows(TYPICAL, NEGATIVE, rater="B")], ignore_index=True))
    with pytest.raises(ValueError, match="rated by every rater"):
        quality.icc_totals(scores)
    paired = quality.paired_scores(scores, raters=("A", "B"))
    assert sorted(paired["study_id"].unique()) == ["s1", "s2"]


# --- everything notebook 04 writes -----------------------------------------------------------

def test_assess_makes_every_table_of_the_notebook(demo):
    qa = quality.assess(demo, auc.representative_auc(demo), negative="keep")
    tables = qa.tables()
    assert list(tables) == ["rqs_scores", "rqs_summary", "rqs_items", "rqs_vs_auc",
                            "rqs_agreement", "rqs_icc"]
    pd.testing.assert_frame_equal(tables["rqs_scores"],
                                  quality.score(demo.quality, negative="keep"))
    pd.testing.assert_frame_equal(
        tables["rqs_summary"],
        quality.rqs_summary(quality.rater_scores(qa.scores, rater="consensus"),
                            quality.study_groups(demo), negative="keep"))
    pd.testing.assert_frame_equal(tables["rqs_items"],
                                  quality.item_summary(demo.quality, rater="consensus"))
    assert tables["rqs_vs_auc"]["rho"].item() == qa.score_auc.rho
    assert tables["rqs_icc"]["icc"].item() == qa.icc.icc
    assert qa.notes == ()
    assert qa.mean_text().endswith("(negative totals kept as negative percentages)")


def test_assess_notes_what_it_left_out(demo, monkeypatch):
    only_consensus = synth.Review(name="t", path=demo.path, studies=demo.studies,
                                  performance=demo.performance,
                                  quality=demo.quality[demo.quality["rater"] == "consensus"])
    monkeypatch.setattr(quality, "HEATMAP_MAX_STUDIES", 10)
    qa = quality.assess(only_consensus, auc.representative_auc(only_consensus))
    assert qa.agreement is None and qa.icc is None
    assert "rqs_agreement" not in qa.tables() and "rqs_icc" not in qa.tables()
    assert qa.notes[0].startswith("Rater agreement not computed: 0 studies rated by both A and B")
    assert qa.notes[1].startswith("45 studies rated by 'consensus', more than the 10 rows")


# --- notebook on a review without quality data -----------------------------------------------

def test_notebook_ends_with_one_note_for_a_review_without_quality(tmp_path: Path):
    from synth.appraisal import NO_APPRAISAL_NOTE
    from synth.runner import RunConfig, run

    data = tmp_path / "data"
    shutil.copytree(DEMO, data / "noquality")
    for name in ("quality", "metrics", "rqs2", "quadas2", "clear"):  # every appraisal file
        (data / "noquality" / f"{name}.csv").unlink(missing_ok=True)
    config = RunConfig(data_dir=data, notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp_path / "figures", results_dir=tmp_path / "results",
                       notebooks=("04",))
    (result,) = run(config)
    assert result.ok, result.describe()
    assert not any((tmp_path / "figures" / "noquality").iterdir())
    assert not list((tmp_path / "results" / "noquality").glob("rqs_*"))
    text = result.job.output.read_text(encoding="utf-8")
    assert text.count(NO_APPRAISAL_NOTE.split(":")[0]) == 1
