"""METRICS as the official calculator scores it: weights, conditions, rounding, bands, export."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import RESULTS

from synth.instruments import (
    METRICS,
    METRICS_CONDITIONS,
    METRICS_ITEMS,
    metrics_band,
    metrics_from_exports,
    metrics_round,
    metrics_score,
    metrics_scores,
    parse_metrics_export,
)
from synth.instruments.metrics import check_metrics

STUDIES = ("s1", "s2", "s3")
RATERS = ("A", "B", "consensus")


def _row(study_id="s1", rater="A", answers="y" * 30, **conditions):
    """One metrics.csv row as text cells: answers y/n/- (- = n/a), conditions yes by default."""
    cells = {"study_id": study_id, "rater": rater}
    cells.update({c.column: "yes" for c in METRICS_CONDITIONS})
    cells.update(conditions)
    code = {"y": "yes", "n": "no", "-": "n/a"}
    cells.update({col: code[a] for col, a in zip(METRICS.columns, answers, strict=True)})
    return cells


def _check(*rows):
    return check_metrics(pd.DataFrame(list(rows), dtype=object), study_ids=STUDIES,
                         raters=RATERS)


def _lines(*rows):
    table, problems = _check(*rows)
    assert table is None
    return [str(p) for p in problems]


def test_thirty_weighted_items_in_nine_categories_weights_sum_to_one():
    assert len(METRICS_ITEMS) == 30
    assert len(METRICS.categories) == 9
    assert round(sum(i.weight for i in METRICS_ITEMS), 10) == 1.0
    weights = {i.number: i.weight for i in METRICS_ITEMS}
    assert (weights[3], weights[27], weights[30]) == (0.0919, 0.0749, 0.0075)
    assert METRICS.columns[8] == "metrics_09"
    assert "metricsscore/metrics" in METRICS.provenance


def test_worked_example_every_item_yes_is_100_excellent():
    table, problems = _check(_row())
    assert problems == []
    out = metrics_scores(table).iloc[0]
    assert (out["score"], out["band"]) == (100.0, "excellent")


def test_worked_example_items_1_to_7_yes_is_34_8_low():
    table, _ = _check(_row(answers="y" * 7 + "n" * 23))
    out = metrics_scores(table).iloc[0]
    assert (out["score"], out["band"]) == (34.8, "low")
    assert out["score_unrounded"] == pytest.approx(34.82)


def test_scores_match_the_calculators_javascript():
    """300 answer vectors scored by calculateScore() copied from METRICS.html (node)."""
    ref = pd.read_csv(RESULTS / "metrics_calculator.csv", dtype={"answers": str})
    code = {"y": "yes", "n": "no", "-": None}
    for row in ref.itertuples(index=False):
        rounded, raw = metrics_score([code[a] for a in row.answers])
        assert raw == float(row.score_unrounded), row.answers
        assert rounded == row.score, row.answers
        assert metrics_band(rounded) == row.band.lower(), row.answers


def test_rounding_is_javascripts_to_fixed_on_the_binary_value():
    # a tie goes up, where Python's round() goes to even
    assert metrics_round(1.25) == 1.3 and round(1.25, 1) == 1.2
    # 67.05 in decimals, 67.0499... in doubles: the calculator shows 67.0, not 67.1
    answers = "ynyyyynnynynnyyynyyyyyynynynnn"
    rounded, raw = metrics_score(["yes" if a == "y" else "no" for a in answers])
    assert f"{raw:.2f}" == "67.05" and rounded == 67.0


def test_bands_are_read_from_the_rounded_score():
    assert metrics_band(metrics_round(19.96)) == "low"
    assert [metrics_band(s) for s in (0, 19.9, 20, 40, 60, 79.9, 80, 100)] == [
        "very low", "very low", "low", "moderate", "good", "good", "excellent", "excellent"]
    with pytest.raises(ValueError, match="outside 0 to 100"):
        metrics_band(100.1)


def _weights(numbers):
    return sum(METRICS_ITEMS[n - 1].weight for n in numbers)


def _no_segmentation_leaves_out_items_8_to_10():
    answers = "".join("-" if n in (8, 9, 10) else "y" if n <= 3 else "n" for n in range(1, 31))
    table, problems = _check(_row(answers=answers, segmentation="no",
                                  fully_automated_segmentation="no"))
    assert problems == []
    expected = _weights((1, 2, 3)) / (1 - _weights((8, 9, 10))) * 100
    assert metrics_scores(table).iloc[0]["score"] == metrics_round(expected)


def test_condition_segmentation_no_switches_off_items_8_9_10():
    _no_segmentation_leaves_out_items_8_to_10()
    answers = "y" * 7 + "y--" + "y" * 20
    assert _lines(_row(answers=answers, segmentation="no", fully_automated_segmentation="no")) \
        == ["metrics.csv:2:metrics_08: 'yes' — n/a: condition segmentation is 'no'"]


def test_condition_fully_automated_segmentation_no_switches_off_item_9():
    table, problems = _check(_row(answers="y" * 8 + "-" + "n" * 21,
                                  fully_automated_segmentation="no"))
    assert problems == []
    assert metrics_scores(table).iloc[0]["score"] == metrics_round(
        _weights(range(1, 9)) / (1 - _weights((9,))) * 100)
    assert _lines(_row(fully_automated_segmentation="no")) == [
        "metrics.csv:2:metrics_09: 'yes' — n/a: condition fully_automated_segmentation is 'no'"]


def test_condition_handcrafted_features_no_switches_off_item_12():
    table, problems = _check(_row(answers="n" * 11 + "-" + "y" * 18,
                                  handcrafted_features="no"))
    assert problems == []
    assert metrics_scores(table).iloc[0]["score"] == metrics_round(
        _weights(range(13, 31)) / (1 - _weights((12,))) * 100)
    assert _lines(_row(answers="y" * 11 + "n" + "y" * 18, handcrafted_features="no")) == [
        "metrics.csv:2:metrics_12: 'no' — n/a: condition handcrafted_features is 'no'"]


def test_condition_tabular_data_no_switches_off_items_14_15_16():
    table, problems = _check(_row(answers="y" * 13 + "---" + "y" * 14, tabular_data="no"))
    assert problems == []
    assert metrics_scores(table).iloc[0]["score"] == 100.0
    assert metrics_scores(table).iloc[0]["n_na"] == 3
    assert _lines(_row(answers="y" * 13 + "-n-" + "y" * 14, tabular_data="no")) == [
        "metrics.csv:2:metrics_15: 'no' — n/a: condition tabular_data is 'no'"]


def test_condition_end_to_end_deep_learning_no_switches_off_item_17():
    table, problems = _check(_row(answers="n" * 16 + "-" + "n" * 13,
                                  end_to_end_deep_learning="no"))
    assert problems == []
    assert metrics_scores(table).iloc[0][["score", "band"]].tolist() == [0.0, "very low"]
    assert _lines(_row(end_to_end_deep_learning="no")) == [
        "metrics.csv:2:metrics_17: 'yes' — n/a: condition end_to_end_deep_learning is 'no'"]


def test_an_empty_switched_off_item_is_read_as_n_a():
    row = _row(answers="y" * 16 + "-" + "y" * 13, end_to_end_deep_learning="no")
    row["metrics_17"] = None
    table, problems = _check(row)
    assert problems == [] and table.loc[0, "metrics_17"] == "n/a"


def test_fully_automated_without_segmentation_is_an_error():
    assert _lines(_row(answers="y" * 7 + "---" + "y" * 20, segmentation="no"))[0] == (
        "metrics.csv:2:fully_automated_segmentation: 'yes' — no (or empty): condition "
        "segmentation is 'no'")


def test_n_a_on_an_item_that_applies_is_an_error():
    assert _lines(_row(answers="yy-" + "y" * 27)) == [
        "metrics.csv:2:metrics_03: 'n/a' — yes or no: item 3 applies to every study"]


def test_n_a_on_a_conditional_item_that_applies_names_its_condition():
    assert _lines(_row(answers="y" * 11 + "-" + "y" * 18)) == [
        "metrics.csv:2:metrics_12: 'n/a' — yes or no: the item applies, condition "
        "handcrafted_features is 'yes'"]


def test_an_empty_answer_on_an_item_that_applies_is_an_error():
    row = _row()
    row["metrics_20"] = None
    assert _lines(row) == [
        "metrics.csv:2:metrics_20: (empty) — yes or no: item 20 applies to every study"]


def test_an_answer_that_is_not_yes_no_or_n_a_is_an_error():
    row = _row()
    row["metrics_05"] = "Yess"
    assert _lines(row) == ["metrics.csv:2:metrics_05: 'Yess' — one of: yes, no, n/a; "
                           "did you mean 'yes'?"]


def test_a_condition_must_be_yes_or_no():
    assert _lines(_row(tabular_data="maybe")) == [
        "metrics.csv:2:tabular_data: 'maybe' — Does the study include tabular data?: one of: "
        "yes, no"]


def test_n_a_is_accepted_in_other_spellings_and_case():
    row = _row(answers="y" * 16 + "-" + "y" * 13, end_to_end_deep_learning="No")
    row["metrics_17"] = "N.A."
    row["metrics_01"] = "YES"
    table, problems = _check(row)
    assert problems == []
    assert table.loc[0, ["end_to_end_deep_learning", "metrics_17", "metrics_01"]].tolist() == [
        "no", "n/a", "yes"]


def _export(answers: dict[str, str], pub="Gu2019"):
    """A sheet laid out as the calculator's ExportToExcel() writes it (METRICS.html order:
    each category's row, its conditions, then its items; the score rows last)."""
    first_item = {1: 8, 2: 8, 3: 11, 4: 14, 5: 14}  # a section's conditions precede its items
    rows, category = [], None
    for item in METRICS_ITEMS:
        if item.category != category:
            category = item.category
            rows.append([category, "", ""])
        for c_number, cond in enumerate(METRICS_CONDITIONS, start=1):
            if item.number == first_item[c_number]:
                rows.append([f"Condition#{c_number}", "?" + cond.question, "",
                             answers[cond.column]])
        rows.append([f"Item#{item.number}", "?" + item.name, f"{item.weight:.4f}",
                     answers[item.column]])
    rows += [["Total METRICS score:", "", "", "34.8%"], ["Quality category:", "", "", "Low"]]
    rows = [r + [None] * (4 - len(r)) for r in rows]
    return pd.DataFrame(rows, columns=["Items/Conditions", "Definitions", "Weights", pub],
                        dtype=object)


def test_an_official_export_becomes_one_metrics_row():
    wanted = _row(study_id="Gu2019", answers="y" * 16 + "-" + "n" * 13,
                  end_to_end_deep_learning="no")
    row, problems = parse_metrics_export(_export(wanted), label="METRICSscore_Gu2019.xlsx",
                                         rater="A")
    assert problems == []
    assert row == wanted


def test_an_export_with_an_unreadable_answer_says_where():
    answers = _row()
    answers["metrics_04"] = "perhaps"
    _, problems = parse_metrics_export(_export(answers), label="x.xlsx", rater="A")
    assert [str(p) for p in problems] == ["x.xlsx:7:D: 'perhaps' — one of: yes, no, n/a"]


def test_a_sheet_that_is_not_an_export_is_refused():
    _, problems = parse_metrics_export(pd.DataFrame(columns=["a", "b"]), label="x.xlsx",
                                       rater="A")
    assert str(problems[0]).startswith("x.xlsx:1: header a, b — the METRICS calculator's export")


def test_a_folder_of_exports_becomes_one_table_that_validates():
    a = _row(study_id="s1", answers="y" * 30)
    b = _row(study_id="s2", answers="n" * 16 + "-" + "n" * 13, end_to_end_deep_learning="no")
    table, problems = metrics_from_exports(
        [("METRICSscore_s1.xlsx", _export(a, pub="s1")),
         ("METRICSscore_s2.xlsx", _export(b, pub="s2"))], rater="A")
    assert problems == []
    checked, problems = check_metrics(table, study_ids=STUDIES, raters=RATERS)
    assert problems == []
    assert metrics_scores(checked)["score"].tolist() == [100.0, 0.0]
