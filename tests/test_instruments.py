"""Instruments declared as data: RQS's items and allowed points, and how they are validated."""

from __future__ import annotations

import pandas as pd
import pytest

from synth.errors import ReviewDataError
from synth.instruments import (
    RQS,
    Instrument,
    Item,
    get_instrument,
    negative_note,
    to_percent,
)


def test_rqs_range_is_minus_8_to_36():
    assert RQS.min_total == -8
    assert RQS.max_total == 36
    assert len(RQS.items) == 16
    assert RQS.columns[0] == "rqs_01" and RQS.columns[-1] == "rqs_16"


def test_rqs_allowed_sets_match_the_reference():
    allowed = {i.number: i.allowed for i in RQS.items}
    assert allowed[5] == (-3, 3)
    assert allowed[11] == (0, 7)
    assert allowed[12] == (-5, 2, 3, 4, 5)
    assert allowed[16] == (0, 1, 2, 3, 4)
    assert {n for n, a in allowed.items() if a == (0, 1)} == {2, 3, 4, 6, 7, 8, 15}


def test_unknown_instrument_lists_the_known_ones():
    with pytest.raises(ValueError, match="instrument='RQS3' is not allowed; use one of: 'RQS'"):
        get_instrument("RQS3")
    assert get_instrument("RQS") is RQS


def test_instrument_rejects_bad_declarations():
    with pytest.raises(ValueError, match="numbered 1..2"):
        Instrument("X", "", (Item(1, "a", "a", (0, 1)), Item(3, "b", "b", (0, 1))))
    with pytest.raises(ValueError, match="allowed points must be a non-empty set"):
        Instrument("X", "", (Item(1, "a", "a", (0, 0)),))
    with pytest.raises(ValueError, match="an ordinal item needs at least three levels"):
        Instrument("X", "", (Item(1, "a", "a", (0, 1), ordinal=True),))


def test_rqs_ordinal_components_are_the_graded_ones():
    # Graded step by step (1, 9, 10), validation levels (12), count of open resources (16).
    assert {i.number for i in RQS.items if i.ordinal} == {1, 9, 10, 12, 16}
    assert RQS.items[11].label == "12 Validation"


def test_negative_treatment_is_checked_with_the_one_wording():
    for call in (lambda: negative_note("zero"),
                 lambda: to_percent(pd.Series([-2, 4]), maximum=36, negative="zero")):
        with pytest.raises(ValueError, match=r"negative='zero' is not allowed; use one of: "
                                             r"'floor', 'keep'"):
            call()
    assert to_percent(pd.Series([-9, 18]), maximum=36).tolist() == [0.0, 50.0]
    assert to_percent(pd.Series([-9, 18]), maximum=36, negative="keep").tolist() == [-25.0, 50.0]


def test_check_numbers_rows_as_a_spreadsheet_shows_them():
    # data row 0 is spreadsheet row 2 (synth.errors.sheet_row); a missing column is the header's
    rows = pd.DataFrame([{"study_id": "s1", "rater": "A",
                          **{c: 0 for c in RQS.columns}}]).drop(columns="rqs_16")
    rows[["rqs_01", "rqs_05", "rqs_12"]] = [9, 3, 2]
    with pytest.raises(ReviewDataError) as err:
        RQS.check(rows)
    assert [str(p).split(": ")[0] for p in err.value.problems] == [
        "quality.csv:2:rqs_01", "quality.csv:1:rqs_16"]
