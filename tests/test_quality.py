"""Instruments are declared as data; RQS matches its reference table."""

from __future__ import annotations

import pytest

from synth.quality import RQS, Instrument, Item, get_instrument


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
    with pytest.raises(ValueError, match="instrument='RQS3' is not known; choose one of: RQS"):
        get_instrument("RQS3")


def test_instrument_rejects_bad_declarations():
    with pytest.raises(ValueError, match="numbered 1..2"):
        Instrument("X", "", (Item(1, "a", "a", (0, 1)), Item(3, "b", "b", (0, 1))))
    with pytest.raises(ValueError, match="allowed points must be a non-empty set"):
        Instrument("X", "", (Item(1, "a", "a", (0, 0)),))
