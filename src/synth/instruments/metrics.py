"""METRICS (METhodological RadiomICs Score), scored exactly as the official calculator scores it.

Kocak B, et al. Insights Imaging 2024;15:8, doi:10.1186/s13244-023-01572-w. Items, weights,
conditions, rounding, bands and the Excel export are read from the official calculator's
source (GitHub metricsscore/metrics, METRICS.html, "METRICS Tool v1.0", commit 8772ec6):

- an item is answered yes or no; an item its conditions switch off is not answered (n/a) and
  leaves the score, so it neither earns nor costs weight;
- score = Σ weight(yes) / Σ weight(yes or no) × 100, summed in item order in double precision,
  then shown with JavaScript's ``toFixed(1)``: the exact binary value rounded to one decimal, a
  tie going up. So 67.05 computed as 67.049999... shows 67.0 (:func:`metrics_round`);
- the quality band is read from the rounded score: [0, 20) very low, [20, 40) low, [40, 60)
  moderate, [60, 80) good, [80, 100] excellent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from synth.errors import Problem, sheet_row
from synth.instruments.base import Appraisal, AppraisalItem
from synth.instruments.cells import KEY_COLUMNS, NOTES, Cells, text

__all__ = ["METRICS", "METRICS_ITEMS", "METRICS_CONDITIONS", "METRICS_BANDS", "MetricsCondition",
           "YES_NO", "NA", "metrics_round", "metrics_band", "metrics_score", "metrics_applies",
           "check_metrics", "metrics_scores", "parse_metrics_export", "metrics_from_exports"]

YES_NO: tuple[str, str] = ("yes", "no")
NA = "n/a"
NA_SPELLINGS = {"n.a.": NA, "na": NA, "n/a": NA}
"""Other ways of writing "not applicable" that mean :data:`NA` (case-insensitive)."""

_CITATION = ("Kocak B, et al. METhodological RadiomICs Score (METRICS). Insights Imaging "
             "2024;15:8, doi:10.1186/s13244-023-01572-w")
_PROVENANCE = ("items, weights, conditions, rounding and bands read from the official "
               "calculator's source (GitHub metricsscore/metrics, METRICS.html, METRICS Tool "
               "v1.0, commit 8772ec6); weights identical to the paper's Table 1")


def _item(number: int, category: str, weight: float, name: str, short: str) -> AppraisalItem:
    return AppraisalItem(number, name, short, category, "metrics", weight=weight)


_DESIGN, _IMAGING, _SEG = "Study design", "Imaging data", "Segmentation"
_EXTRACT, _FEATURES = "Image processing and feature extraction", "Feature processing"
_MODELLING, _METRICS = "Preparation for modelling", "Metrics and comparison"
_TESTING, _OPEN = "Testing", "Open science"

METRICS_ITEMS: tuple[AppraisalItem, ...] = (
    _item(1, _DESIGN, 0.0368, "Adherence to radiomics and/or machine learning-specific "
          "checklists or guidelines", "Checklist adherence"),
    _item(2, _DESIGN, 0.0735, "Eligibility criteria that describe a representative study "
          "population", "Eligibility criteria"),
    _item(3, _DESIGN, 0.0919, "High-quality reference standard with a clear definition",
          "Reference standard"),
    _item(4, _IMAGING, 0.0438, "Multi-center", "Multi-centre"),
    _item(5, _IMAGING, 0.0292, "Clinical translatability of the imaging data source for "
          "radiomics analysis", "Translatable imaging"),
    _item(6, _IMAGING, 0.0438, "Imaging protocol with acquisition parameters",
          "Acquisition protocol"),
    _item(7, _IMAGING, 0.0292, "The interval between imaging used and reference standard",
          "Imaging-reference interval"),
    _item(8, _SEG, 0.0337, "Transparent description of segmentation methodology",
          "Segmentation method"),
    _item(9, _SEG, 0.0225, "Formal evaluation of fully automated segmentation",
          "Automated segmentation evaluated"),
    _item(10, _SEG, 0.0112, "Test set segmentation masks produced by a single reader or "
          "automated tool", "Test masks by one reader"),
    _item(11, _EXTRACT, 0.0622, "Appropriate use of image preprocessing techniques with "
          "transparent description", "Image pre-processing"),
    _item(12, _EXTRACT, 0.0311, "Use of standardized feature extraction software",
          "Standardised software"),
    _item(13, _EXTRACT, 0.0415, "Transparent reporting of feature extraction parameters, "
          "otherwise providing a default configuration statement", "Extraction parameters"),
    _item(14, _FEATURES, 0.0200, "Removal of non-robust features", "Non-robust features removed"),
    _item(15, _FEATURES, 0.0200, "Removal of redundant features", "Redundant features removed"),
    _item(16, _FEATURES, 0.0300, "Appropriateness of dimensionality compared to data size",
          "Dimensionality"),
    _item(17, _FEATURES, 0.0200, "Robustness assessment of end-to-end deep learning pipelines",
          "Deep learning robustness"),
    _item(18, _MODELLING, 0.0599, "Proper data partitioning process", "Data partitioning"),
    _item(19, _MODELLING, 0.0300, "Handling of confounding factors", "Confounders"),
    _item(20, _METRICS, 0.0352, "Use of appropriate performance evaluation metrics for task",
          "Appropriate metrics"),
    _item(21, _METRICS, 0.0234, "Consideration of uncertainty", "Uncertainty"),
    _item(22, _METRICS, 0.0176, "Calibration assessment", "Calibration"),
    _item(23, _METRICS, 0.0117, "Use of uni-parametric imaging or proof of its inferiority",
          "Uni-parametric imaging"),
    _item(24, _METRICS, 0.0293, "Comparison with a non-radiomic approach or proof of added "
          "clinical value", "Non-radiomic comparison"),
    _item(25, _METRICS, 0.0176, "Comparison with simple or classical statistical models",
          "Simple model comparison"),
    _item(26, _TESTING, 0.0375, "Internal testing", "Internal testing"),
    _item(27, _TESTING, 0.0749, "External testing", "External testing"),
    _item(28, _OPEN, 0.0075, "Data availability", "Data availability"),
    _item(29, _OPEN, 0.0075, "Code availability", "Code availability"),
    _item(30, _OPEN, 0.0075, "Model availability", "Model availability"),
)
"""The 30 items in calculator order, with the calculator's wording and weights."""


@dataclass(frozen=True)
class MetricsCondition:
    """A yes/no question about the study; "no" switches the items ``switches_off`` off.

    ``requires`` names a condition that must be "yes" for this one to be asked: the calculator
    disables "fully automated segmentation?" (and sets it to no) when there is no segmentation.
    """

    column: str
    question: str
    switches_off: tuple[int, ...]
    requires: str | None = None


METRICS_CONDITIONS: tuple[MetricsCondition, ...] = (
    MetricsCondition("segmentation", "Does the study include segmentation?", (8, 9, 10)),
    MetricsCondition("fully_automated_segmentation",
                     "Does the study include fully automated segmentation?", (9,),
                     requires="segmentation"),
    MetricsCondition("handcrafted_features",
                     "Does the study include hand-crafted feature extraction?", (12,)),
    MetricsCondition("tabular_data", "Does the study include tabular data?", (14, 15, 16)),
    MetricsCondition("end_to_end_deep_learning",
                     "Does the study include end-to-end deep learning?", (17,)),
)
"""The five conditions, in the calculator's order (Condition#1 ... Condition#5)."""

METRICS = Appraisal(
    name="METRICS",
    stem="metrics",
    citation=_CITATION,
    provenance=_PROVENANCE,
    items=METRICS_ITEMS,
    context=tuple(c.column for c in METRICS_CONDITIONS),
)
"""METRICS as data: ``metrics.csv`` holds study_id, rater, the five conditions, metrics_01 …
metrics_30 and notes."""

METRICS_BANDS: tuple[tuple[str, float, float], ...] = (
    ("very low", 0, 20), ("low", 20, 40), ("moderate", 40, 60), ("good", 60, 80),
    ("excellent", 80, 100),
)
"""Quality bands ``(name, from, to)``: from ≤ score < to, the last one up to 100 inclusive."""


def metrics_round(score: float) -> float:
    """One decimal as the calculator shows it (JavaScript ``Number.prototype.toFixed(1)``).

    ``toFixed`` rounds the exact binary value of the double, and a tie goes to the larger
    number: ``1.25`` → 1.3 (Python's ``round`` gives 1.2), ``67.05`` (stored as 67.0499...) →
    67.0, as the calculator shows.
    """
    return float(Decimal(float(score)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def metrics_band(score: float) -> str:
    """The quality band of a (rounded) score; a score outside 0–100 raises ValueError."""
    for name, low, high in METRICS_BANDS:
        if low <= score < high or (high == 100 and score == 100):
            return name
    raise ValueError(f"score={score!r} is outside 0 to 100")


def metrics_applies(conditions: dict[str, str | None]) -> dict[int, str | None]:
    """For each item, None if it applies, else the condition (column) that switches it off.

    ``conditions`` maps condition columns to "yes"/"no"; the first condition in calculator
    order that is "no" (or not "yes") and switches the item off is named.
    """
    out: dict[int, str | None] = {i.number: None for i in METRICS_ITEMS}
    for cond in METRICS_CONDITIONS:
        off = conditions.get(cond.column) != "yes" or (
            cond.requires is not None and conditions.get(cond.requires) != "yes")
        if off:
            for n in cond.switches_off:
                if out[n] is None:
                    out[n] = cond.requires if (cond.requires and conditions.get(
                        cond.requires) != "yes") else cond.column
    return out


def check_metrics(frame: pd.DataFrame, *, label: str = "metrics.csv",
                  study_ids: tuple[str, ...] | None = None,
                  raters: tuple[str, ...] = ()) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate a METRICS table as read (text cells); return (typed table or None, problems).

    Conditions must be yes or no (``fully_automated_segmentation`` may be empty, and must not
    be yes, when ``segmentation`` is no). An item that applies must be yes or no; an item its
    conditions switch off must be empty or n/a (``n.a.`` is read as n/a): anything else there
    is a problem ``metrics.csv:7:metrics_09: 'yes' — n/a: condition
    fully_automated_segmentation is 'no'``.
    """
    cells = Cells.prepare(frame, label)
    cells.columns(METRICS.file_columns, (*KEY_COLUMNS, *METRICS.context, *METRICS.columns),
                  METRICS.filename)
    cells.keys(study_ids, raters)
    out = pd.DataFrame(index=cells.frame.index)
    for col in KEY_COLUMNS:
        out[col] = cells.frame[col].map(text) if col in cells.frame else None
    given = {cond.column: cells.choice(cond.column, YES_NO, required=cond.requires is None,
                                       what=cond.question) for cond in METRICS_CONDITIONS}
    seg, auto = given["segmentation"], given["fully_automated_segmentation"]
    for idx in out.index:
        if seg[idx] == "no" and auto[idx] == "yes":
            cells.add(idx, auto.name, "'yes'", "no (or empty): condition segmentation is 'no'")
            auto[idx] = None
        elif auto[idx] is None and seg[idx] == "no":
            auto[idx] = "no"
        elif auto[idx] is None and seg[idx] == "yes" and auto.name in cells.frame:
            cells.add(idx, auto.name, "(empty)", "required: yes or no: condition segmentation "
                      "is 'yes'")
    raw = {c: cells.choice(c, (*YES_NO, NA), aliases=NA_SPELLINGS, required=False)
           for c in METRICS.columns}
    for idx in out.index:
        conditions = {c: given[c][idx] for c in METRICS.context}
        if any(v is None for v in conditions.values()):
            continue
        off = metrics_applies(conditions)
        for item in METRICS_ITEMS:
            if item.column not in cells.frame:
                continue
            answer, cause = raw[item.column][idx], off[item.number]
            original = text(cells.frame.at[idx, item.column])
            if original is not None and answer is None:
                continue  # not an answer at all: already reported
            if cause is not None and answer in YES_NO:
                cells.add(idx, item.column, repr(original),
                          f"n/a: condition {cause} is '{conditions[cause]}'")
            elif cause is not None:
                raw[item.column][idx] = NA
            elif answer in (None, NA):
                cells.add(idx, item.column, "(empty)" if original is None else repr(original),
                          f"yes or no: {_why_applies(item.number)}")
    for c in METRICS.context:
        out[c] = given[c]
    for c in METRICS.columns:
        out[c] = raw[c]
    out[NOTES] = cells.notes()
    problems = cells.sorted_problems(METRICS.file_columns)
    if problems:
        return None, problems
    return out.reset_index(drop=True), []


def _why_applies(number: int) -> str:
    conds = [c.column for c in METRICS_CONDITIONS if number in c.switches_off]
    if not conds:
        return f"item {number} applies to every study"
    return "the item applies, " + " and ".join(f"condition {c} is 'yes'" for c in conds)


def metrics_score(answers: Sequence[str | None]) -> tuple[float, float]:
    """(score as the calculator shows it, the unrounded score) of 30 answers in item order.

    ``"yes"`` and ``"no"`` count; anything else (``"n/a"``, None) is an item left out.
    """
    raw = _score(answers)[0]
    return metrics_round(raw), raw


def _score(answers: Sequence[str | None]) -> tuple[float, float, float]:
    """(score, Σ weight yes, Σ weight applicable) summed in item order as the calculator does."""
    yes = counted = 0.0
    for item, answer in zip(METRICS_ITEMS, answers, strict=True):
        if answer == "yes":
            yes += item.weight
            counted += item.weight
        elif answer == "no":
            counted += item.weight
    return ((yes / counted) * 100 if counted != 0 else 0.0), yes, counted


def metrics_scores(table: pd.DataFrame) -> pd.DataFrame:
    """The METRICS score of every row (study × rater) of a validated METRICS table.

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater, score`` (one decimal, as the calculator shows it), ``score_unrounded``
        (the calculator's double before rounding), ``band`` (from the rounded score),
        ``weight_yes, weight_applicable, n_yes, n_no, n_na`` — rows in the table's order.
    """
    rows = []
    for _, r in table.iterrows():
        answers = [r[c] for c in METRICS.columns]
        raw, yes, counted = _score(answers)
        rounded = metrics_round(raw)
        rows.append({"study_id": r["study_id"], "rater": r["rater"], "score": rounded,
                     "score_unrounded": raw, "band": metrics_band(rounded),
                     "weight_yes": yes, "weight_applicable": counted,
                     "n_yes": answers.count("yes"), "n_no": answers.count("no"),
                     "n_na": sum(a not in YES_NO for a in answers)})
    columns = ["study_id", "rater", "score", "score_unrounded", "band", "weight_yes",
               "weight_applicable", "n_yes", "n_no", "n_na"]
    return pd.DataFrame(rows, columns=columns)


_EXPORT_ITEM = re.compile(r"^Item\s*#\s*(\d+)$")
_EXPORT_CONDITION = re.compile(r"^Condition\s*#\s*(\d+)$")


def parse_metrics_export(frame: pd.DataFrame, *, label: str, rater: str,
                         study_id: str | None = None
                         ) -> tuple[dict[str, str | None], list[Problem]]:
    """One row of ``metrics.csv`` from one per-paper export of the official calculator.

    The calculator's "Export to Excel" (``METRICSscore_<ID>.xlsx``, sheet ``Sheet1``) writes a
    header ``Items/Conditions, Definitions, Weights, <Publication ID>`` and then one row per
    table row: ``Item#N`` or ``Condition#N`` in the first column and the answer (``yes``,
    ``no``, or ``n/a`` for an item its conditions disabled) in the fourth; category rows and
    the score rows are skipped. ``frame`` is that sheet as :mod:`synth.io` reads it (the header
    as column names). The study is the Publication ID unless ``study_id`` is given.

    Returns
    -------
    (dict, list of Problem)
        The row (``study_id, rater``, the five conditions, ``metrics_01 … metrics_30``) and
        the problems found (a missing item or condition, an unreadable answer).
    """
    problems: list[Problem] = []
    cols = list(frame.columns)
    if len(cols) < 4 or str(cols[0]).strip() != "Items/Conditions":
        return {}, [Problem(label, 1, None, f"header {', '.join(map(str, cols[:4]))}",
                            "the METRICS calculator's export: Items/Conditions, Definitions, "
                            "Weights, Publication ID")]
    pub = text(cols[3])
    sid = study_id or (None if pub is None or pub.startswith("Unnamed:") else pub)
    if sid is None:
        problems.append(Problem(label, 1, "D", "(empty)", "a Publication ID, or pass study_id"))
    row: dict[str, str | None] = {"study_id": sid, "rater": rater}
    conditions = {i + 1: c.column for i, c in enumerate(METRICS_CONDITIONS)}
    for idx, values in frame.iterrows():
        name = text(values.iloc[0]) or ""
        answer = text(values.iloc[3])
        answer = answer.lower() if answer else answer
        if (m := _EXPORT_ITEM.match(name)) and 1 <= int(m.group(1)) <= len(METRICS_ITEMS):
            column, allowed = METRICS.columns[int(m.group(1)) - 1], (*YES_NO, NA)
        elif (m := _EXPORT_CONDITION.match(name)) and int(m.group(1)) in conditions:
            column, allowed = conditions[int(m.group(1))], YES_NO
        else:
            continue
        if answer not in allowed:
            problems.append(Problem(label, sheet_row(int(idx)), "D", repr(answer),
                                    "one of: " + ", ".join(allowed)))
        row[column] = NA if answer == NA else answer
    for column in (*METRICS.context, *METRICS.columns):
        if column not in row:
            problems.append(Problem(label, None, None, f"no row for {column}",
                                    "every Item#1–30 and Condition#1–5 of the calculator"))
    return row, problems


def metrics_from_exports(exports: Iterable[tuple[str, pd.DataFrame]], *, rater: str
                         ) -> tuple[pd.DataFrame, list[Problem]]:
    """One ``metrics.csv`` table from many per-paper exports of the official calculator.

    ``exports`` yields ``(label, frame)`` per export file (``frame`` its ``Sheet1`` as
    :mod:`synth.io` reads it, ``label`` the file name); every row gets ``rater``. Returns the
    table in :data:`METRICS`'s column order (validate it with :func:`check_metrics`) and the
    problems of every export.
    """
    rows, problems = [], []
    for label, frame in exports:
        row, p = parse_metrics_export(frame, label=label, rater=rater)
        problems += p
        if row:
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(METRICS.file_columns), dtype=object)
    return table, problems
