"""RQS 2.0: items by readiness level, hand-crafted-only items, maxima, impossible scores."""

from __future__ import annotations

import pandas as pd
import pytest

from synth.instruments import RQS2, RQS2_ITEMS, RQS2_METHODS, rqs2_maximum, rqs2_scores
from synth.instruments.rqs2 import check_rqs2, rqs2_applies

# The cumulative maxima of rqs2.md's table (hand-crafted or both, deep learning only), typed
# from the reference, not computed: the declarations must reproduce them.
TABLE_MAXIMA = {1: (7, 7), 2: (12, 10), 3: (17, 13), 4: (26, 22), 5: (34, 30), 6: (39, 35),
                7: (46, 42), 8: (52, 48), 9: (56, 52)}


def test_42_items_with_their_provenance():
    assert len(RQS2_ITEMS) == 42
    assert RQS2.provenance == ("transcribed from the UWA RQS calculator (rqsConfig.js), not "
                               "checked against the paper")
    assert {i.number for i in RQS2_ITEMS if i.handcrafted_only} == {6, 9, 11, 12}
    assert all(min(i.points) == 0 for i in RQS2_ITEMS)


@pytest.mark.parametrize("level", sorted(TABLE_MAXIMA))
@pytest.mark.parametrize("method", RQS2_METHODS)
def test_maxima_by_readiness_level_and_method_match_the_table(level, method):
    handcrafted, deep = TABLE_MAXIMA[level]
    assert rqs2_maximum(level, method) == (deep if method == "deep learning" else handcrafted)


def test_maximum_of_an_unknown_level_or_method_is_refused():
    with pytest.raises(ValueError, match="level 1 to 9"):
        rqs2_maximum(10, "both")
    with pytest.raises(ValueError, match="method one of"):
        rqs2_maximum(3, "radiomics")


def _row(level=4, method="handcrafted", study_id="s1", rater="A", points=None):
    """A row as text cells: the items the study is scored on at 0 (or ``points``), the rest
    empty."""
    cells = {"study_id": study_id, "rater": rater, "readiness_level": str(level),
             "method": method}
    for item in RQS2_ITEMS:
        applies = rqs2_applies(item, level, method) is None
        cells[item.column] = str((points or {}).get(item.number, 0)) if applies else None
    return cells


def _check(*rows):
    return check_rqs2(pd.DataFrame(list(rows), dtype=object), study_ids=("s1", "s2"),
                      raters=("A", "B", "consensus"))


def _lines(*rows):
    table, problems = _check(*rows)
    assert table is None
    return [str(p) for p in problems]


def test_total_maximum_and_percent_by_the_rows_level_and_method():
    full = {i.number: i.max_points for i in RQS2_ITEMS}
    table, problems = _check(_row(4, "deep learning", points={1: 2, 14: 2, 20: 3}),
                             _row(9, "both", study_id="s2", points=full))
    assert problems == []
    out = rqs2_scores(table)
    assert out[["total", "maximum"]].values.tolist() == [[7, 22], [56, 56]]
    assert out["percent"].tolist() == pytest.approx([7 / 22 * 100, 100.0])


def test_an_item_above_the_studys_readiness_level_is_an_error():
    row = _row(4)
    row["rqs2_21"] = "2"
    assert _lines(row) == ["rqs2.csv:2:rqs2_21: '2' — empty: item 21 is at readiness level 5, "
                           "above the study's readiness_level 4"]


def test_a_handcrafted_only_item_under_deep_learning_is_an_error():
    row = _row(3, "deep learning")
    row["rqs2_11"] = "0"
    assert _lines(row) == ["rqs2.csv:2:rqs2_11: '0' — empty: item 11 is for hand-crafted "
                           "radiomics only; method is 'deep learning'"]


def test_points_outside_the_items_allowed_set_are_an_error():
    assert _lines(_row(3, points={14: 1})) == [
        "rqs2.csv:2:rqs2_14: '1' — one of: 0, 2 (item 14, Multivariable analysis)"]


def test_an_empty_item_the_study_is_scored_on_is_an_error():
    row = _row(1)
    row["rqs2_03"] = None
    assert _lines(row) == ["rqs2.csv:2:rqs2_03: (empty) — required: one of: 0, 1, 2 (item 3, "
                           "Image protocol quality (TRIAC), level 1)"]


def test_an_unknown_readiness_level_or_method_is_an_error():
    assert _lines(_row(1) | {"readiness_level": "10"}) == [
        "rqs2.csv:2:readiness_level: '10' — a radiomics readiness level: one of: "
        "1, 2, 3, 4, 5, 6, 7, 8, 9"]
    assert _lines(_row(1) | {"method": "radiomics"}) == [
        "rqs2.csv:2:method: 'radiomics' — one of: handcrafted, deep learning, both"]


def test_method_spellings_of_the_calculator_are_read():
    table, problems = _check(_row(2, "handcrafted") | {"method": "Handcrafted Radiomics"})
    assert problems == [] and table.loc[0, "method"] == "handcrafted"


def test_item_columns_no_row_is_scored_on_may_be_left_out():
    row = {k: v for k, v in _row(2).items() if k[-2:] not in {f"{n:02d}" for n in range(11, 43)}}
    table, problems = _check(row)
    assert problems == [] and rqs2_scores(table)["maximum"].tolist() == [12]


def test_a_missing_item_column_a_row_is_scored_on_is_an_error():
    row = _row(3)
    del row["rqs2_14"]
    assert _lines(row) == ["rqs2.csv:1:rqs2_14: (missing column) — required: row 2 is scored "
                           "on item 14"]
