"""What every instrument file shares: its key columns, reading cells, one line per problem.

An instrument file (``metrics.csv``, ``rqs2.csv``, ``quadas2.csv``, ``clear.csv``, or a workbook
sheet of the same name) holds one row per study and rater. :class:`Cells` walks one such table
as :mod:`synth.io` read it (every cell text, rows in file order indexed from 0) and collects
:class:`~synth.errors.Problem` lines ``file:row:column: value — allowed`` with rows numbered as a
spreadsheet shows them, the same conventions as :mod:`synth.review`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth.errors import HEADER_ROW, Problem, did_you_mean, sheet_row

__all__ = ["KEY_COLUMNS", "NOTES", "Cells", "text", "shown"]

KEY_COLUMNS: tuple[str, str] = ("study_id", "rater")
"""The columns naming a row of every instrument file: which study, scored by whom."""

NOTES = "notes"
"""The free-text column every instrument file may have."""


def text(value: Any) -> str | None:
    """A cell as stripped text; None when empty (``None``, NaN, ``""`` or blanks)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def shown(value: Any) -> str:
    """A cell as a problem line shows it: ``'maybe'``, or ``(empty)``."""
    t = text(value)
    return "(empty)" if t is None else repr(t)


@dataclass
class Cells:
    """One instrument table being checked: its cells, file label and the problems found."""

    frame: pd.DataFrame
    label: str
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def prepare(cls, frame: pd.DataFrame, label: str) -> Cells:
        """Strip column names; drop empty rows and empty unnamed columns (as synth.review)."""
        df = frame.copy()
        df.columns = [str(c).strip() for c in df.columns]
        df = df.dropna(how="all")
        for col in list(df.columns):
            if col.startswith("Unnamed:") and df[col].map(text).isna().all():
                df = df.drop(columns=col)
        keep = [i for i in df.index if any(text(v) is not None for v in df.loc[i])]
        return cls(df.loc[keep], label)

    def add(self, idx: Any, column: str | None, value: str, allowed: str) -> None:
        """Record one problem at data row ``idx`` (or the header when ``idx`` is None)."""
        row = HEADER_ROW if idx is None else sheet_row(int(idx))
        self.problems.append(Problem(self.label, row, column, value, allowed))

    def columns(self, known: Iterable[str], required: Iterable[str], filename: str) -> None:
        """Report unknown columns (with the closest known one) and missing required ones."""
        known = tuple(known)
        for col in self.frame.columns:
            if col in known:
                continue
            hint = did_you_mean(col, known)
            self.add(None, col, "unknown column", f"not a column of {filename}{hint}" if hint
                     else f"not a column of {filename}; allowed: {', '.join(known)}")
        for col in required:
            if col not in self.frame.columns:
                self.add(None, col, "(missing column)", f"required in {filename}")
        if self.frame.empty:
            self.add(0, None, "no data rows", "at least one row: one per study and rater (or "
                     f"no {filename} at all)")

    def keys(self, study_ids: Iterable[str] | None, raters: Iterable[str],
             studies_label: str = "studies.csv") -> None:
        """study_id and rater filled, known, and (study_id, rater) once per file."""
        known = None if study_ids is None else tuple(study_ids)
        known_set = set(known or ())
        raters = tuple(raters)
        seen: dict[tuple[str, str], int] = {}
        for idx in self.frame.index:
            sid = text(self.frame.at[idx, "study_id"]) if "study_id" in self.frame else None
            rater = text(self.frame.at[idx, "rater"]) if "rater" in self.frame else None
            if "study_id" in self.frame and sid is None:
                self.add(idx, "study_id", "(empty)", f"required: a study_id of {studies_label}")
            elif sid is not None and known is not None and sid not in known_set:
                self.add(idx, "study_id", repr(sid),
                         f"a study_id of {studies_label}" + did_you_mean(sid, known))
            if "rater" in self.frame and rater is None:
                self.add(idx, "rater", "(empty)", "required: one of: " + ", ".join(raters))
            elif rater is not None and rater not in raters:
                self.add(idx, "rater", repr(rater), "a rater review.yaml declares; one of: "
                         + ", ".join(raters) + did_you_mean(rater, raters))
            if sid is None or rater is None:
                continue
            if (sid, rater) in seen:
                self.add(idx, "rater", repr(rater), f"one row per study and rater; {sid!r} "
                         f"rated by {rater!r} already on row {seen[(sid, rater)]}")
            else:
                seen[(sid, rater)] = sheet_row(int(idx))

    def choice(self, column: str, allowed: tuple[str, ...], *,
               aliases: Mapping[str, str] | None = None, required: bool = True,
               what: str = "") -> pd.Series:
        """The column's answers, each one of ``allowed`` (None where empty or wrong).

        ``aliases`` maps other spellings to an allowed answer (``n.a.`` → ``n/a``); answers
        are matched case-insensitively. An empty cell is a problem when ``required``.
        """
        lookup = {a.lower(): a for a in allowed}
        lookup.update({k.lower(): v for k, v in (aliases or {}).items()})
        out = pd.Series([None] * len(self.frame), index=self.frame.index, dtype=object,
                        name=column)
        if column not in self.frame:
            return out
        words = (what + ": " if what else "") + "one of: " + ", ".join(allowed)
        for idx, value in self.frame[column].items():
            t = text(value)
            if t is None:
                if required:
                    self.add(idx, column, "(empty)", "required: " + words)
                continue
            if t.lower() in lookup:
                out[idx] = lookup[t.lower()]
            else:
                self.add(idx, column, repr(t), words + did_you_mean(t, allowed))
        return out

    def integer(self, column: str, allowed: tuple[int, ...], *, required: bool = True,
                what: str = "") -> pd.Series:
        """The column as whole numbers, each one of ``allowed`` (missing where empty or wrong)."""
        out = pd.Series(pd.NA, index=self.frame.index, dtype="Int64")
        if column not in self.frame:
            return out
        words = (what + ": " if what else "") + "one of: " + ", ".join(map(str, allowed))
        for idx, value in self.frame[column].items():
            t = text(value)
            if t is None:
                if required:
                    self.add(idx, column, "(empty)", "required: " + words)
                continue
            try:
                number = float(t)
            except ValueError:
                number = float("nan")
            if number.is_integer() and int(number) in allowed:
                out[idx] = int(number)
            else:
                self.add(idx, column, repr(t), words)
        return out

    def notes(self) -> pd.Series:
        """The free-text ``notes`` column (None where empty or absent)."""
        if NOTES not in self.frame:
            return pd.Series([None] * len(self.frame), index=self.frame.index, dtype=object)
        return self.frame[NOTES].map(text).astype(object)

    def sorted_problems(self, order: tuple[str, ...]) -> list[Problem]:
        """Problems by row, then in the file's declared column order."""
        rank = {c: i for i, c in enumerate(order)}
        return sorted(self.problems, key=lambda p: (p.row or 0, rank.get(p.column or "", -1)))
