"""RQS 2.0: 42 items ordered by nine radiomics readiness levels, scored up to a study's level.

Lambin P, et al. Nat Rev Clin Oncol 2025, doi:10.1038/s41571-025-01067-1. The article's table is
behind a paywall; the items, points, levels and hand-crafted-only flags here are transcribed from
the UWA RQS calculator (GitHub UWA-Medical-Physics-Research-Group/RQS-calculator,
rqsplus/src/rqsConfig.js, commit 2096c21), not checked against the paper (:data:`PROVENANCE`).

As in that calculator, a study is scored on the items of every level up to the highest readiness
level it reaches; items for hand-crafted radiomics only are not scored under the deep-learning
method; the total is the sum of points and the maximum the sum of those items' highest points
(:func:`rqs2_maximum`). All points are ≥ 0.
"""

from __future__ import annotations

import pandas as pd

from synth.errors import Problem, sheet_row
from synth.instruments.base import Appraisal, AppraisalItem
from synth.instruments.cells import KEY_COLUMNS, NOTES, Cells, text

__all__ = ["RQS2", "RQS2_ITEMS", "RQS2_LEVELS", "RQS2_METHODS", "PROVENANCE", "rqs2_applies",
           "rqs2_maximum", "check_rqs2", "rqs2_scores"]

PROVENANCE = ("transcribed from the UWA RQS calculator (rqsConfig.js), not checked against the "
              "paper")

RQS2_LEVELS: dict[int, str] = {
    1: "Foundational exploration",
    2: "Data preparation",
    3: "Prototype model development",
    4: "Internal validation",
    5: "Capability testing",
    6: "Trustworthiness assessment",
    7: "Prospective validity",
    8: "Applicability and sustainability",
    9: "Clinical deployment",
}
"""The nine radiomics readiness levels (RRL), as the calculator names them."""

RQS2_METHODS: tuple[str, ...] = ("handcrafted", "deep learning", "both")
"""The method a study uses; hand-crafted-only items are not scored under ``deep learning``."""

_METHOD_SPELLINGS = {"hand-crafted": "handcrafted", "handcrafted radiomics": "handcrafted",
                     "hand-crafted radiomics": "handcrafted", "hcr": "handcrafted",
                     "dl": "deep learning"}


def _item(number: int, level: int, points: tuple[int, ...], name: str, short: str,
          hc: bool = False) -> AppraisalItem:
    return AppraisalItem(number, name, short, f"RRL {level} {RQS2_LEVELS[level]}", "rqs2",
                         points=points, level=level, handcrafted_only=hc)


RQS2_ITEMS: tuple[AppraisalItem, ...] = (
    _item(1, 1, (0, 1, 2), "Unmet clinical need", "Unmet clinical need"),
    _item(2, 1, (0, 1), "Hardware description", "Hardware description"),
    _item(3, 1, (0, 1, 2), "Image protocol quality (TRIAC)", "Image protocol (TRIAC)"),
    _item(4, 1, (0, 1), "Inclusion and exclusion criteria", "Inclusion criteria"),
    _item(5, 1, (0, 1), "Diversity and distribution", "Diversity"),
    _item(6, 2, (0, 1), "Feature robustness", "Feature robustness", hc=True),
    _item(7, 2, (0, 1), "Preprocessing of images", "Pre-processing"),
    _item(8, 2, (0, 1), "Harmonisation", "Harmonisation"),
    _item(9, 2, (0, 1), "Compliance with international standards", "Standards (IBSI)", hc=True),
    _item(10, 2, (0, 1), "Automatic segmentation", "Automatic segmentation"),
    _item(11, 3, (0, 1), "Feature reduction", "Feature reduction", hc=True),
    _item(12, 3, (0, 1), "Feature robustness for feature selection", "Robust selection",
          hc=True),
    _item(13, 3, (0, 1), "HCR + DL combination", "HCR + DL combination"),
    _item(14, 3, (0, 2), "Multivariable analysis", "Multivariable analysis"),
    _item(15, 4, (0, 1), "Single-centre validation", "Single-centre validation"),
    _item(16, 4, (0, 1), "Cut-off analyses", "Cut-off analyses"),
    _item(17, 4, (0, 1, 2), "Discrimination statistics", "Discrimination"),
    _item(18, 4, (0, 1), "Calibration statistics", "Calibration"),
    _item(19, 4, (0, 1), "Failure mode analysis", "Failure modes"),
    _item(20, 4, (0, 1, 2, 3), "Open science and data", "Open science"),
    _item(21, 5, (0, 1, 2, 3), "Multi-centre validation", "Multi-centre validation"),
    _item(22, 5, (0, 2), "Comparison with current clinical standard", "Clinical standard"),
    _item(23, 5, (0, 1), "Comparison to previous work", "Previous work"),
    _item(24, 5, (0, 2), "Potential clinical utility", "Clinical utility"),
    _item(25, 6, (0, 1), "Explainability", "Explainability"),
    _item(26, 6, (0, 1), "Explainability evaluation", "Explainability evaluated"),
    _item(27, 6, (0, 1), "Biological correlates", "Biological correlates"),
    _item(28, 6, (0, 1, 2), "Fairness evaluation and mitigation", "Fairness"),
    _item(29, 7, (0, 1), "Usability for clinicians", "Usability"),
    _item(30, 7, (0, 1), "Sample size calculation", "Sample size"),
    _item(31, 7, (0, 1), "Clinical trial pre-registration", "Pre-registration"),
    _item(32, 7, (0, 3), "Prospective validation", "Prospective validation"),
    _item(33, 7, (0, 1), "Real-world clinical assessment", "Real-world assessment"),
    _item(34, 8, (0, 1), "Software traceability", "Software traceability"),
    _item(35, 8, (0, 1), "Software safeguards", "Safeguards"),
    _item(36, 8, (0, 2), "Cost-effectiveness analysis", "Cost-effectiveness"),
    _item(37, 8, (0, 1), "Performance drift", "Performance drift"),
    _item(38, 8, (0, 1), "Continuous learning", "Continuous learning"),
    _item(39, 9, (0, 1), "Level of automation in clinical practice", "Automation level"),
    _item(40, 9, (0, 1), "Quality management system", "Quality management"),
    _item(41, 9, (0, 1), "Regulatory requirements", "Regulatory approval"),
    _item(42, 9, (0, 1), "Product on the market", "On the market"),
)
"""The 42 items: level, allowed points and hand-crafted-only flag as in rqsConfig.js."""

RQS2 = Appraisal(
    name="RQS 2.0",
    stem="rqs2",
    citation="Lambin P, et al. Nat Rev Clin Oncol 2025, doi:10.1038/s41571-025-01067-1",
    provenance=PROVENANCE,
    items=RQS2_ITEMS,
    context=("readiness_level", "method"),
)
"""RQS 2.0 as data: ``rqs2.csv`` holds study_id, rater, readiness_level (1–9), method,
rqs2_01 … rqs2_42 and notes."""


def rqs2_applies(item: AppraisalItem, level: int, method: str) -> str | None:
    """None when ``item`` is scored for a study at ``level`` with ``method``; else why not."""
    if item.level > level:
        return (f"item {item.number} is at readiness level {item.level}, above the study's "
                f"readiness_level {level}")
    if item.handcrafted_only and method == "deep learning":
        return f"item {item.number} is for hand-crafted radiomics only; method is 'deep learning'"
    return None


def rqs2_maximum(level: int, method: str) -> int:
    """The highest total a study at readiness ``level`` (1–9) with ``method`` can reach."""
    if level not in RQS2_LEVELS or method not in RQS2_METHODS:
        raise ValueError(f"level={level!r}, method={method!r}: level 1 to 9 and method one of "
                         + ", ".join(RQS2_METHODS))
    return sum(i.max_points for i in RQS2_ITEMS if rqs2_applies(i, level, method) is None)


def check_rqs2(frame: pd.DataFrame, *, label: str = "rqs2.csv",
               study_ids: tuple[str, ...] | None = None,
               raters: tuple[str, ...] = ()) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate an RQS 2.0 table as read (text cells); return (typed table or None, problems).

    Item columns no row is scored on may be left out. An item the study is scored on must
    hold one of its allowed points; an item above the
    study's readiness level, or a hand-crafted-only item under deep learning, must be empty:
    ``rqs2.csv:4:rqs2_21: '2' — empty: item 21 is at readiness level 5, above the study's
    readiness_level 4``.
    """
    cells = Cells.prepare(frame, label)
    cells.columns(RQS2.file_columns, (*KEY_COLUMNS, *RQS2.context), RQS2.filename)
    cells.keys(study_ids, raters)
    out = pd.DataFrame(index=cells.frame.index)
    for col in KEY_COLUMNS:
        out[col] = cells.frame[col].map(text) if col in cells.frame else None
    out["readiness_level"] = cells.integer("readiness_level", tuple(RQS2_LEVELS),
                                           what="a radiomics readiness level")
    out["method"] = cells.choice("method", RQS2_METHODS, aliases=_METHOD_SPELLINGS)
    for item in RQS2_ITEMS:
        out[item.column] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    needed: dict[str, list[int]] = {}
    for idx in out.index:
        level, method = out.at[idx, "readiness_level"], out.at[idx, "method"]
        if pd.isna(level) or method is None:
            continue
        for item in RQS2_ITEMS:
            if item.column not in cells.frame:
                if rqs2_applies(item, int(level), method) is None:
                    needed.setdefault(item.column, []).append(sheet_row(int(idx)))
                continue
            value = text(cells.frame.at[idx, item.column])
            why_not = rqs2_applies(item, int(level), method)
            if why_not is not None:
                if value is not None:
                    cells.add(idx, item.column, repr(value), "empty: " + why_not)
                continue
            allowed = "one of: " + ", ".join(map(str, item.points))
            if value is None:
                cells.add(idx, item.column, "(empty)", f"required: {allowed} (item "
                          f"{item.number}, {item.name}, level {item.level})")
                continue
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if number.is_integer() and int(number) in item.points:
                out.at[idx, item.column] = int(number)
            else:
                cells.add(idx, item.column, repr(value),
                          f"{allowed} (item {item.number}, {item.name})")
    for column, rows in needed.items():
        cells.add(None, column, "(missing column)",
                  f"required: row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))} "
                  f"{'are' if len(rows) > 1 else 'is'} scored on item {column[-2:].lstrip('0')}")
    out[NOTES] = cells.notes()
    problems = cells.sorted_problems(RQS2.file_columns)
    if problems:
        return None, problems
    return out.reset_index(drop=True), []


def rqs2_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Total, maximum and percentage of every row (study × rater) of a validated RQS 2.0 table.

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater, readiness_level, method, total, maximum`` (by the row's level and
        method, :func:`rqs2_maximum`) and ``percent`` (total / maximum × 100, unrounded), in
        the table's row order.
    """
    rows = []
    for _, r in table.iterrows():
        level, method = int(r["readiness_level"]), str(r["method"])
        total = sum(int(r[i.column]) for i in RQS2_ITEMS
                    if rqs2_applies(i, level, method) is None and not pd.isna(r[i.column]))
        maximum = rqs2_maximum(level, method)
        rows.append({"study_id": r["study_id"], "rater": r["rater"], "readiness_level": level,
                     "method": method, "total": total, "maximum": maximum,
                     "percent": total / maximum * 100})
    return pd.DataFrame(rows, columns=["study_id", "rater", "readiness_level", "method", "total",
                                       "maximum", "percent"])
