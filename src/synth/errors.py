"""Errors a user of synth sees: every problem of a review, one line each."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "ReviewDataError", "did_you_mean", "check_choice", "check_choices",
           "HEADER_ROW", "sheet_row"]

HEADER_ROW = 1
"""Spreadsheet row of a table's header; every reader numbers rows as a spreadsheet shows them."""


def sheet_row(index: int) -> int:
    """The spreadsheet row of data row ``index`` (0-based, in file order): header + 1 + index."""
    return HEADER_ROW + 1 + int(index)


@dataclass(frozen=True)
class Problem:
    """One problem in one place of a review's files, as ``file:row:column: value — allowed``."""

    file: str
    row: int | None
    column: str | None
    value: str
    allowed: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column is not None:
            where += f":{self.column}"
        return f"{where}: {self.value} — {self.allowed}"


class ReviewDataError(ValueError):
    """The review's data break the schema; ``problems`` lists every one found in one pass."""

    def __init__(self, problems: list[Problem], path: str = "") -> None:
        self.problems = list(problems)
        self.path = path
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {path or 'the review'}:"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` (case-insensitive), else ``""``."""
    lower = {str(c).lower(): str(c) for c in choices}
    if value.lower() in lower:
        return f"; did you mean '{lower[value.lower()]}'?"
    close = difflib.get_close_matches(value.lower(), list(lower), n=1, cutoff=0.6)
    return f"; did you mean '{lower[close[0]]}'?" if close else ""


def check_choice(name: str, value: object, allowed: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``allowed``; else raise the one wording synth uses.

    ``ValueError: name='x' is not allowed; use one of: 'a', 'b'; did you mean 'a'?`` — the
    parameter, the value, what is allowed and the closest allowed value, as seaborn's
    ``_check_argument`` does.
    """
    choices = list(allowed)
    if value in choices:
        return value
    hint = did_you_mean(str(value), [str(c) for c in choices]) if isinstance(value, str) else ""
    raise ValueError(f"{name}={value!r} is not allowed; use one of: "
                     f"{', '.join(repr(c) for c in choices)}{hint}")


def check_choices(name: str, values: object, allowed: Iterable[object]) -> tuple:
    """:func:`check_choice` for each of ``values`` (one value or a list), which must not repeat."""
    items = (values,) if isinstance(values, str) or not isinstance(values, Iterable) \
        else tuple(values)
    choices = list(allowed)
    for value in items:
        check_choice(name, value, choices)
    if len(set(items)) != len(items):
        raise ValueError(f"{name}={list(items)!r} repeats a value; list each at most once")
    return items
