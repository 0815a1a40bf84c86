"""Errors a user of synth sees: every problem of a review, one line each."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "ReviewDataError", "did_you_mean"]


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
