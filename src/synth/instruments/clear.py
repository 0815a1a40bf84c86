"""CLEAR (CheckList for EvaluAtion of Radiomics research): 58 items, yes / no / n/a, and CLEAR-S.

Kocak B, et al. Insights Imaging 2023;14:75, doi:10.1186/s13244-023-01415-8. Item titles,
sections, the "not essential" marks (items 53 and 58) and the CLEAR-S subset are read from the
authors' online checklists (GitHub clearchecklist/clear_checklist, CLEAR.html "CLEAR Checklist
v1.0" and CLEAR-S.html "CLEAR-S Checklist v1.0 — shortened version containing only
methodologic quality items", commit 9d39a37): CLEAR-S holds items 7–43 (method) and 53–58
(open science), 43 items.

Compliance is the share of items answered yes among those answered yes or no (n/a, "not
applicable", leaves the denominator), in percent, for all items and for CLEAR-S.
"""

from __future__ import annotations

import pandas as pd

from synth.errors import Problem
from synth.instruments.base import Appraisal, AppraisalItem
from synth.instruments.cells import KEY_COLUMNS, NOTES, Cells, text
from synth.instruments.metrics import NA, NA_SPELLINGS, YES_NO

__all__ = ["CLEAR", "CLEAR_ITEMS", "CLEAR_S", "check_clear", "clear_scores", "compliance"]

_CLEAR_S_NUMBERS = frozenset(range(7, 44)) | frozenset(range(53, 59))
_NOT_ESSENTIAL = frozenset({53, 58})

_SECTIONS: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = (
    ("Title", ((1, "Relevant title, specifying the radiomic methodology"),)),
    ("Abstract", ((2, "Structured summary with relevant information"),)),
    ("Keywords", ((3, "Relevant keywords for radiomics"),)),
    ("Introduction", ((4, "Scientific or clinical background"),
                      (5, "Rationale for using a radiomic approach"),
                      (6, "Study objective(s)"))),
    ("Study design", ((7, "Adherence to guidelines or checklists (e.g., CLEAR checklist)"),
                      (8, "Ethical details (e.g., approval, consent, data protection)"),
                      (9, "Sample size calculation"),
                      (10, "Study nature (e.g., retrospective, prospective)"),
                      (11, "Eligibility criteria"),
                      (12, "Flowchart for technical pipeline"))),
    ("Data", ((13, "Data source (e.g., private, public)"),
              (14, "Data overlap"),
              (15, "Data split methodology"),
              (16, "Imaging protocol (i.e., image acquisition and processing)"),
              (17, "Definition of non-radiomic predictor variables"),
              (18, "Definition of the reference standard (i.e., outcome variable)"))),
    ("Segmentation", ((19, "Segmentation strategy"),
                      (20, "Details of operators performing segmentation"))),
    ("Pre-processing", ((21, "Image pre-processing details"),
                        (22, "Resampling method and its parameters"),
                        (23, "Discretization method and its parameters"),
                        (24, "Image types (e.g., original, filtered, transformed)"))),
    ("Feature extraction", ((25, "Feature extraction method"),
                            (26, "Feature classes"),
                            (27, "Number of features"),
                            (28, "Default configuration statement for remaining parameters"))),
    ("Data preparation", ((29, "Handling of missing data"),
                          (30, "Details of class imbalance"),
                          (31, "Details of segmentation reliability analysis"),
                          (32, "Feature scaling details (e.g., normalization, standardization)"),
                          (33, "Dimension reduction details"))),
    ("Modeling", ((34, "Algorithm details"),
                  (35, "Training and tuning details"),
                  (36, "Handling of confounders"),
                  (37, "Model selection strategy"))),
    ("Evaluation", ((38, "Testing technique (e.g., internal, external)"),
                    (39, "Performance metrics and rationale for choosing"),
                    (40, "Uncertainty evaluation and measures (e.g., confidence intervals)"),
                    (41, "Statistical performance comparison (e.g., DeLong's test)"),
                    (42, "Comparison with non-radiomic and combined methods"),
                    (43, "Interpretability and explainability methods"))),
    ("Results", ((44, "Baseline demographic and clinical characteristics"),
                 (45, "Flowchart for eligibility criteria"),
                 (46, "Feature statistics (e.g., reproducibility, feature selection)"),
                 (47, "Model performance evaluation"),
                 (48, "Comparison with non-radiomic and combined approaches"))),
    ("Discussion", ((49, "Overview of important findings"),
                    (50, "Previous works with differences from the current study"),
                    (51, "Practical implications"),
                    (52, "Strengths and limitations (e.g., bias and generalizability issues)"))),
    ("Data availability", ((53, "Sharing images along with segmentation data"),
                           (54, "Sharing radiomic feature data"))),
    ("Code availability", ((55, "Sharing pre-processing scripts or settings"),
                           (56, "Sharing source code for modeling"))),
    ("Model availability", ((57, "Sharing final model files"),
                            (58, "Sharing a ready-to-use system"))),
)

CLEAR_ITEMS: tuple[AppraisalItem, ...] = tuple(
    AppraisalItem(number, title, title.split(" (")[0], section, "clear",
                  essential=number not in _NOT_ESSENTIAL, clear_s=number in _CLEAR_S_NUMBERS)
    for section, items in _SECTIONS for number, title in items
)
"""The 58 items with the online checklist's titles; category = its section."""

CLEAR = Appraisal(
    name="CLEAR",
    stem="clear",
    citation="Kocak B, et al. CheckList for EvaluAtion of Radiomics research (CLEAR). Insights "
             "Imaging 2023;14:75, doi:10.1186/s13244-023-01415-8",
    provenance="item titles, sections and the CLEAR-S subset read from the authors' online "
               "checklists (GitHub clearchecklist/clear_checklist, CLEAR.html and CLEAR-S.html "
               "v1.0, commit 9d39a37)",
    items=CLEAR_ITEMS,
)
"""CLEAR as data: ``clear.csv`` holds study_id, rater, clear_01 … clear_58 and notes."""

CLEAR_S: tuple[int, ...] = tuple(i.number for i in CLEAR_ITEMS if i.clear_s)
"""Item numbers of CLEAR-S, the methodological-quality subset (7–43 and 53–58)."""


def check_clear(frame: pd.DataFrame, *, label: str = "clear.csv",
                study_ids: tuple[str, ...] | None = None,
                raters: tuple[str, ...] = ()) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate a CLEAR table as read (text cells); return (typed table or None, problems).

    Every item is answered yes, no or n/a (``n.a.`` is read as n/a).
    """
    cells = Cells.prepare(frame, label)
    cells.columns(CLEAR.file_columns, (*KEY_COLUMNS, *CLEAR.columns), CLEAR.filename)
    cells.keys(study_ids, raters)
    out = pd.DataFrame(index=cells.frame.index)
    for col in KEY_COLUMNS:
        out[col] = cells.frame[col].map(text) if col in cells.frame else None
    for item in CLEAR_ITEMS:
        out[item.column] = cells.choice(item.column, (*YES_NO, NA), aliases=NA_SPELLINGS,
                                        what=f"CLEAR item {item.number}")
    out[NOTES] = cells.notes()
    problems = cells.sorted_problems(CLEAR.file_columns)
    if problems:
        return None, problems
    return out.reset_index(drop=True), []


def compliance(answers: list[str]) -> float:
    """yes / (yes + no) × 100; NaN when no item was answered yes or no."""
    yes, no = answers.count("yes"), answers.count("no")
    return yes / (yes + no) * 100 if yes + no else float("nan")


def clear_scores(table: pd.DataFrame) -> pd.DataFrame:
    """CLEAR and CLEAR-S compliance of every row (study × rater) of a validated CLEAR table.

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater, n_yes, n_no, n_na, percent`` (yes / (yes + no) × 100 over all 58
        items) and ``n_yes_clear_s, n_no_clear_s, n_na_clear_s, percent_clear_s`` (the same
        over the 43 CLEAR-S items), in the table's row order.
    """
    subset = [i.column for i in CLEAR_ITEMS if i.clear_s]
    rows = []
    for _, r in table.iterrows():
        every = [r[c] for c in CLEAR.columns]
        short = [r[c] for c in subset]
        rows.append({"study_id": r["study_id"], "rater": r["rater"],
                     "n_yes": every.count("yes"), "n_no": every.count("no"),
                     "n_na": every.count(NA), "percent": compliance(every),
                     "n_yes_clear_s": short.count("yes"), "n_no_clear_s": short.count("no"),
                     "n_na_clear_s": short.count(NA), "percent_clear_s": compliance(short)})
    return pd.DataFrame(rows, columns=["study_id", "rater", "n_yes", "n_no", "n_na", "percent",
                                       "n_yes_clear_s", "n_no_clear_s", "n_na_clear_s",
                                       "percent_clear_s"])
