"""QUADAS-2: judgements, signalling questions, the overall rule and tallies."""

from __future__ import annotations

import pandas as pd
import pytest

from synth.instruments import (
    QUADAS2,
    QUADAS2_OVERALL_RULES,
    quadas2_judgements,
    quadas2_overall,
    quadas2_tally,
)
from synth.instruments.quadas2 import check_quadas2

COLUMNS = QUADAS2.judgement_columns


def _row(study_id="s1", rater="A", judgements="lllllll", **extra):
    code = {"l": "low", "h": "high", "u": "unclear"}
    return {"study_id": study_id, "rater": rater,
            **{c: code[j] for c, j in zip(COLUMNS, judgements, strict=True)}, **extra}


def _check(*rows, **options):
    return check_quadas2(pd.DataFrame(list(rows), dtype=object), study_ids=("s1", "s2", "s3"),
                         raters=("A", "B", "consensus"), **options)


def test_four_risk_of_bias_domains_and_three_applicability():
    assert COLUMNS == (
        "rob_patient_selection", "rob_index_test", "rob_reference_standard", "rob_flow_timing",
        "applicability_patient_selection", "applicability_index_test",
        "applicability_reference_standard")
    assert len(QUADAS2.signalling_questions()) == 11
    assert len(QUADAS2.signalling_questions(all_received=False)) == 10


def test_an_unknown_judgement_is_an_error():
    table, problems = _check(_row() | {"rob_index_test": "moderate"})
    assert table is None
    assert [str(p) for p in problems] == [
        "quadas2.csv:2:rob_index_test: 'moderate' — risk of bias: one of: low, high, unclear"]


def test_an_empty_judgement_is_an_error():
    _, problems = _check(_row() | {"applicability_index_test": None})
    assert [str(p) for p in problems] == [
        "quadas2.csv:2:applicability_index_test: (empty) — required: concern about "
        "applicability: one of: low, high, unclear"]


def test_signalling_questions_are_optional_yes_no_unclear():
    table, problems = _check(_row(sq_ps_consecutive_or_random="yes", sq_it_blinded=None))
    assert problems == [] and table.loc[0, "sq_ps_consecutive_or_random"] == "yes"
    _, problems = _check(_row(sq_rs_blinded="partly"))
    assert str(problems[0]).startswith("quadas2.csv:2:sq_rs_blinded: 'partly' — Were the "
                                       "reference standard results interpreted")


def test_the_all_received_question_is_a_declared_option():
    row = _row(sq_ft_all_received_reference="no")
    assert _check(row)[1] == []
    _, problems = _check(row, all_received=False)
    assert str(problems[0]).startswith(
        "quadas2.csv:1:sq_ft_all_received_reference: unknown column — not a column of "
        "quadas2.csv")


@pytest.mark.parametrize(("judgements", "rob", "applicability"), [
    ("lllllll", "low", "low"),
    ("lullllu", "unclear", "unclear"),
    ("luhlllh", "high", "high"),
    ("lllhuhl", "high", "high"),
])
def test_overall_worst_rule(judgements, rob, applicability):
    table, _ = _check(_row(judgements=judgements))
    out = quadas2_overall(table).iloc[0]
    assert (out["risk_of_bias"], out["applicability"]) == (rob, applicability)


def test_overall_all_low_rule_follows_whiting_2011():
    table, _ = _check(_row(judgements="lllllll"), _row("s2", judgements="lullllu"))
    out = quadas2_overall(table, rule="all low")
    assert out["risk_of_bias"].tolist() == ["low", "at risk"]
    assert "Whiting" in QUADAS2_OVERALL_RULES["all low"]
    with pytest.raises(ValueError, match="rule='any' is not allowed"):
        quadas2_overall(table, rule="any")


def test_long_table_has_every_domain_and_an_overall_per_kind():
    table, _ = _check(_row(judgements="hlllull"))
    long = quadas2_judgements(table)
    assert long.columns.tolist() == ["study_id", "rater", "domain", "kind", "judgement"]
    assert long["kind"].value_counts().to_dict() == {"risk of bias": 5, "applicability": 4}
    assert long.iloc[4].tolist() == ["s1", "A", "Overall", "risk of bias", "high"]
    assert long.iloc[-1].tolist() == ["s1", "A", "Overall", "applicability", "unclear"]


def test_tallies_count_and_share_each_judgement():
    table, _ = _check(_row("s1", judgements="lllllll"), _row("s2", judgements="hlllull"),
                      _row("s3", judgements="ulllhll"))
    tally = quadas2_tally(quadas2_judgements(table))
    ps = tally[(tally["domain"] == "Patient selection") & (tally["kind"] == "risk of bias")]
    assert ps[["judgement", "count"]].values.tolist() == [["low", 1], ["high", 1],
                                                          ["unclear", 1]]
    overall = tally[(tally["domain"] == "Overall") & (tally["kind"] == "applicability")]
    assert overall["count"].tolist() == [1, 1, 1]
    assert overall["percent"].sum() == pytest.approx(100)
    assert len(tally) == (5 + 4) * 3
