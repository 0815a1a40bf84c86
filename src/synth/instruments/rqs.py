"""RQS 1.0, declared as data, and how its totals become percentages.

An :class:`Instrument` is a table of items with their allowed points; RQS (Lambin et al., Nat Rev
Clin Oncol 2017;14:749-762) is the one :mod:`synth.schema` builds the ``quality`` table from;
:mod:`synth.quality` scores and summarises it, :mod:`synth.plots.quality` draws. The other
instruments (METRICS, RQS 2.0, QUADAS-2, CLEAR) are declared beside it in this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from synth.errors import HEADER_ROW, Problem, ReviewDataError, check_choice, sheet_row

__all__ = ["Item", "Instrument", "RQS", "INSTRUMENTS", "get_instrument", "Negative",
           "NEGATIVE_TOTALS", "negative_note", "to_percent"]

Negative = Literal["floor", "keep"]
NEGATIVE_TOTALS: dict[str, str] = {
    "floor": "negative totals set to 0 %",
    "keep": "negative totals kept as negative percentages",
}
"""How a negative total becomes a percentage, and the words every figure using it shows."""


def negative_note(negative: Negative = "floor") -> str:
    """The words saying how negative totals became percentages (shown on every figure).

    An unknown ``negative`` raises :func:`synth.errors.check_choice`'s ValueError.
    """
    check_choice("negative", negative, NEGATIVE_TOTALS)
    return NEGATIVE_TOTALS[negative]


def to_percent(total: pd.Series, *, maximum: int, negative: Negative = "floor") -> pd.Series:
    """Percentage of ``maximum``; a negative total is 0 % (``"floor"``) or kept (``"keep"``)."""
    check_choice("negative", negative, NEGATIVE_TOTALS)
    total = pd.Series(total, dtype=float)
    if negative == "floor":
        total = total.clip(lower=0)
    return total / maximum * 100


@dataclass(frozen=True)
class Item:
    """One component of an instrument and the points a study can earn on it.

    ``ordinal`` marks a component whose allowed points are ordered grades (more than two
    levels); rater agreement on it is a linearly weighted kappa.
    """

    number: int
    name: str
    short: str
    allowed: tuple[int, ...]
    ordinal: bool = False

    @property
    def column(self) -> str:
        return f"rqs_{self.number:02d}"

    @property
    def max_points(self) -> int:
        return max(self.allowed)

    @property
    def min_points(self) -> int:
        return min(self.allowed)

    @property
    def label(self) -> str:
        """Number and short name, for figure axes: ``"12 Validation"``."""
        return f"{self.number} {self.short}"


@dataclass(frozen=True)
class Instrument:
    """A scored checklist: its items; the total is the sum of item points."""

    name: str
    citation: str
    items: tuple[Item, ...]

    def __post_init__(self) -> None:
        numbers = [i.number for i in self.items]
        if numbers != list(range(1, len(self.items) + 1)):
            raise ValueError(f"{self.name}: items must be numbered 1..{len(self.items)}")
        for item in self.items:
            if not item.allowed or len(set(item.allowed)) != len(item.allowed):
                raise ValueError(f"{self.name} item {item.number}: allowed points must be "
                                 f"a non-empty set, got {item.allowed}")
            if item.ordinal and len(item.allowed) < 3:
                raise ValueError(f"{self.name} item {item.number}: an ordinal item needs at "
                                 f"least three levels, got {item.allowed}")

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(i.column for i in self.items)

    @property
    def max_total(self) -> int:
        return sum(i.max_points for i in self.items)

    @property
    def min_total(self) -> int:
        return sum(i.min_points for i in self.items)

    def check(self, quality: pd.DataFrame, *, source: str = "quality.csv") -> None:
        """Raise :class:`ReviewDataError` listing every missing or disallowed component score.

        Rows are numbered as a spreadsheet shows them (:func:`synth.errors.sheet_row`),
        assuming ``quality`` keeps the file's row order with a 0-based index, as
        :func:`synth.load_review` gives it.
        """
        problems: list[Problem] = []
        for col in ("study_id", "rater"):
            if col not in quality.columns:
                problems.append(Problem(source, HEADER_ROW, col, "(missing column)",
                                        f"required to score {self.name}"))
        for item in self.items:
            if item.column not in quality.columns:
                problems.append(Problem(
                    source, HEADER_ROW, item.column, "(missing column)",
                    f"{self.name} component {item.number} ({item.name}) is required to score "
                    f"the total; one of: {', '.join(map(str, item.allowed))}"))
                continue
            column = quality[item.column]
            allowed = column.isin(item.allowed).to_numpy(dtype=bool)  # NA, text: not allowed
            for idx, value in column[~allowed].items():  # only the problems, one at a time
                if pd.isna(value):
                    shown = "(empty)"
                elif isinstance(value, int | float | np.integer | np.floating) and \
                        float(value) in item.allowed:
                    continue
                else:
                    shown = repr(value.item() if isinstance(value, np.generic) else value)
                row = sheet_row(idx) if isinstance(idx, int | np.integer) else None
                problems.append(Problem(
                    source, row, item.column, shown,
                    f"{self.name} {item.number} ({item.short}): one of "
                    f"{', '.join(map(str, item.allowed))}"))
        if problems:
            raise ReviewDataError(problems, source)

    def score(self, quality: pd.DataFrame, *, negative: Negative = "floor",
              source: str = "quality.csv") -> pd.DataFrame:
        """Total and percentage of the maximum for every row (study x rater) of ``quality``.

        Parameters
        ----------
        quality
            One row per study and rater with ``study_id``, ``rater`` and one column per item.
        negative
            ``"floor"`` (default): a negative total is 0 %; ``"keep"``: total / maximum as is.
        source
            File name used in error messages.

        Returns
        -------
        pandas.DataFrame
            ``study_id, rater, total, percent`` in the input's row order.

        Raises
        ------
        ReviewDataError
            A component column missing, or a score missing or outside its allowed set,
            one line each as ``file:row:column: value — allowed``.
        """
        self.check(quality, source=source)
        total = quality[list(self.columns)].astype(int).sum(axis=1).astype(int)
        return pd.DataFrame({
            "study_id": quality["study_id"].astype(str).to_numpy(),
            "rater": quality["rater"].astype(str).to_numpy(),
            "total": total.to_numpy(),
            "percent": to_percent(total, maximum=self.max_total, negative=negative).to_numpy(),
        })


RQS = Instrument(
    name="RQS",
    citation="Lambin P, et al. Nat Rev Clin Oncol 2017;14:749-762",
    items=(
        Item(1, "Image protocol quality", "Image protocol", (0, 1, 2), ordinal=True),
        Item(2, "Multiple segmentations", "Multiple segmentations", (0, 1)),
        Item(3, "Phantom study on all scanners", "Phantom study", (0, 1)),
        Item(4, "Imaging at multiple time points", "Multiple time points", (0, 1)),
        Item(5, "Feature reduction or adjustment for multiple testing", "Feature reduction",
             (-3, 3)),
        Item(6, "Multivariable analysis with non-radiomics features", "Non-radiomics features",
             (0, 1)),
        Item(7, "Detect and discuss biological correlates", "Biological correlates", (0, 1)),
        Item(8, "Cut-off analyses", "Cut-off analyses", (0, 1)),
        Item(9, "Discrimination statistics", "Discrimination", (0, 1, 2), ordinal=True),
        Item(10, "Calibration statistics", "Calibration", (0, 1, 2), ordinal=True),
        Item(11, "Prospective study registered in a trial database", "Prospective registration",
             (0, 7)),
        Item(12, "Validation", "Validation", (-5, 2, 3, 4, 5), ordinal=True),
        Item(13, "Comparison to 'gold standard'", "Gold standard", (0, 2)),
        Item(14, "Potential clinical utility", "Clinical utility", (0, 2)),
        Item(15, "Cost-effectiveness analysis", "Cost-effectiveness", (0, 1)),
        Item(16, "Open science and data", "Open science", (0, 1, 2, 3, 4), ordinal=True),
    ),
)
"""The 16 RQS components (``../shared/reference/rqs.md``). Ordinal: 1, 9 and 10 (0-2 points
earned step by step), 12 (none < same institute < other institute < two < three or more
external datasets) and 16 (number of open resources, 0-4); the rest are two-level items."""

INSTRUMENTS: dict[str, Instrument] = {RQS.name: RQS}


def get_instrument(name: str) -> Instrument:
    """Return the instrument called ``name``; an unknown name lists the known ones.

    Raises
    ------
    ValueError
        :func:`synth.errors.check_choice`'s message, e.g. ``instrument='RQS3' is not allowed;
        use one of: 'RQS'``.
    """
    check_choice("instrument", name, sorted(INSTRUMENTS))
    return INSTRUMENTS[name]
