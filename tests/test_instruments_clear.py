"""CLEAR: 58 items, CLEAR-S, compliance yes / (yes + no)."""

from __future__ import annotations

import pandas as pd
import pytest

from synth.instruments import CLEAR, CLEAR_ITEMS, CLEAR_S, clear_scores
from synth.instruments.clear import check_clear


def _row(answers, study_id="s1", rater="A"):
    code = {"y": "yes", "n": "no", "-": "n.a."}
    return {"study_id": study_id, "rater": rater,
            **{c: code[a] for c, a in zip(CLEAR.columns, answers, strict=True)}}


def _check(*rows):
    return check_clear(pd.DataFrame(list(rows), dtype=object), study_ids=("s1",),
                       raters=("A", "consensus"))


def test_58_items_and_the_43_of_clear_s():
    assert len(CLEAR_ITEMS) == 58
    assert CLEAR_S == tuple(range(7, 44)) + tuple(range(53, 59))
    assert {i.number for i in CLEAR_ITEMS if not i.essential} == {53, 58}
    assert CLEAR_ITEMS[35].short == "Handling of confounders"
    assert "clearchecklist/clear_checklist" in CLEAR.provenance


def test_compliance_is_yes_over_yes_plus_no():
    # items 1-6 yes; 7-36 yes (30), 37-52 no (16), 53-58 n/a (6)
    table, problems = _check(_row("y" * 36 + "n" * 16 + "-" * 6))
    assert problems == []
    out = clear_scores(table).iloc[0]
    assert (out["n_yes"], out["n_no"], out["n_na"]) == (36, 16, 6)
    assert out["percent"] == pytest.approx(36 / 52 * 100)
    # CLEAR-S: 7-36 yes (30), 37-43 no (7), 53-58 n/a
    assert (out["n_yes_clear_s"], out["n_no_clear_s"]) == (30, 7)
    assert out["percent_clear_s"] == pytest.approx(30 / 37 * 100)


def test_n_a_spellings_are_one_answer():
    table, _ = _check(_row("-" * 58))
    assert set(table[list(CLEAR.columns)].iloc[0]) == {"n/a"}
    assert pd.isna(clear_scores(table).iloc[0]["percent"])


def test_an_answer_that_is_not_yes_no_or_n_a_is_an_error():
    row = _row("y" * 58) | {"clear_09": "partly"}
    table, problems = _check(row)
    assert table is None
    assert [str(p) for p in problems] == [
        "clear.csv:2:clear_09: 'partly' — CLEAR item 9: one of: yes, no, n/a"]
