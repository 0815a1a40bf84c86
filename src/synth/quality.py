"""Quality-assessment instruments, declared as data.

An instrument is a table of items with their allowed points; RQS (Lambin et al., Nat Rev Clin
Oncol 2017;14:749-762) is the first. Another instrument is added by declaring another
:class:`Instrument`, not by branching code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Item", "Instrument", "RQS", "INSTRUMENTS", "get_instrument"]


@dataclass(frozen=True)
class Item:
    """One component of an instrument and the points a study can earn on it."""

    number: int
    name: str
    short: str
    allowed: tuple[int, ...]

    @property
    def column(self) -> str:
        return f"rqs_{self.number:02d}"

    @property
    def max_points(self) -> int:
        return max(self.allowed)

    @property
    def min_points(self) -> int:
        return min(self.allowed)


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

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(i.column for i in self.items)

    @property
    def max_total(self) -> int:
        return sum(i.max_points for i in self.items)

    @property
    def min_total(self) -> int:
        return sum(i.min_points for i in self.items)


RQS = Instrument(
    name="RQS",
    citation="Lambin P, et al. Nat Rev Clin Oncol 2017;14:749-762",
    items=(
        Item(1, "Image protocol quality", "Image protocol", (0, 1, 2)),
        Item(2, "Multiple segmentations", "Multiple segmentations", (0, 1)),
        Item(3, "Phantom study on all scanners", "Phantom study", (0, 1)),
        Item(4, "Imaging at multiple time points", "Multiple time points", (0, 1)),
        Item(5, "Feature reduction or adjustment for multiple testing", "Feature reduction",
             (-3, 3)),
        Item(6, "Multivariable analysis with non-radiomics features", "Non-radiomics features",
             (0, 1)),
        Item(7, "Detect and discuss biological correlates", "Biological correlates", (0, 1)),
        Item(8, "Cut-off analyses", "Cut-off analyses", (0, 1)),
        Item(9, "Discrimination statistics", "Discrimination", (0, 1, 2)),
        Item(10, "Calibration statistics", "Calibration", (0, 1, 2)),
        Item(11, "Prospective study registered in a trial database", "Prospective registration",
             (0, 7)),
        Item(12, "Validation", "Validation", (-5, 2, 3, 4, 5)),
        Item(13, "Comparison to 'gold standard'", "Gold standard", (0, 2)),
        Item(14, "Potential clinical utility", "Clinical utility", (0, 2)),
        Item(15, "Cost-effectiveness analysis", "Cost-effectiveness", (0, 1)),
        Item(16, "Open science and data", "Open science", (0, 1, 2, 3, 4)),
    ),
)

INSTRUMENTS: dict[str, Instrument] = {RQS.name: RQS}


def get_instrument(name: str) -> Instrument:
    """Return the instrument called ``name``; an unknown name lists the known ones."""
    try:
        return INSTRUMENTS[name]
    except KeyError:
        known = ", ".join(sorted(INSTRUMENTS))
        raise ValueError(f"instrument={name!r} is not known; choose one of: {known}") from None
