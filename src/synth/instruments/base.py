"""The shape every item-scored instrument is declared in: items in categories, and their file.

METRICS, RQS 2.0 and CLEAR are each one :class:`Appraisal`: a name, where its items come from
(``citation`` and ``provenance``), the file stem it is read from, the per-row columns that
decide which items apply (``context``), and its :class:`AppraisalItem` rows. The rules that
differ (weights, readiness levels, compliance) live with each declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from synth.instruments.cells import KEY_COLUMNS, NOTES

__all__ = ["AppraisalItem", "Appraisal"]


@dataclass(frozen=True)
class AppraisalItem:
    """One item of a checklist or score.

    ``weight`` is METRICS's item weight; ``points``, ``level`` and ``handcrafted_only`` are
    RQS 2.0's allowed points, readiness level and hand-crafted-only flag; ``essential`` and
    ``clear_s`` are CLEAR's "not essential" mark and membership of the CLEAR-S subset.
    """

    number: int
    name: str
    short: str
    category: str
    prefix: str
    weight: float | None = None
    points: tuple[int, ...] = (0, 1)
    level: int | None = None
    handcrafted_only: bool = False
    essential: bool = True
    clear_s: bool = False

    @property
    def column(self) -> str:
        """The item's column in its file: ``metrics_09``, ``rqs2_42``, ``clear_07``."""
        return f"{self.prefix}_{self.number:02d}"

    @property
    def label(self) -> str:
        """Number and short name, for figure axes: ``"9 Automated segmentation evaluated"``."""
        return f"{self.number} {self.short}"

    @property
    def max_points(self) -> int:
        return max(self.points)


@dataclass(frozen=True)
class Appraisal:
    """An item-scored instrument and the file it is read from (see the module docstring)."""

    name: str
    stem: str
    citation: str
    provenance: str
    items: tuple[AppraisalItem, ...]
    context: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        numbers = [i.number for i in self.items]
        if numbers != list(range(1, len(self.items) + 1)):
            raise ValueError(f"{self.name}: items must be numbered 1..{len(self.items)}")

    @property
    def filename(self) -> str:
        return f"{self.stem}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        """The item columns, in item order."""
        return tuple(i.column for i in self.items)

    @property
    def file_columns(self) -> tuple[str, ...]:
        """Every column of the file, in the documented order."""
        return (*KEY_COLUMNS, *self.context, *self.columns, NOTES)

    @property
    def categories(self) -> tuple[str, ...]:
        """The items' categories, in item order, each once."""
        return tuple(dict.fromkeys(i.category for i in self.items))

    def item(self, number: int) -> AppraisalItem:
        return self.items[number - 1]
