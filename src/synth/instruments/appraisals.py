"""The instrument files a review may hold, how each is validated, and every answer as one table.

:data:`APPRAISAL_FILES` maps a file stem (``metrics``, ``rqs2``, ``quadas2``, ``clear``: a CSV
file or a workbook sheet of that name) to its instrument's name in :data:`APPRAISALS`;
:func:`check_appraisal` validates one such table as :mod:`synth.io` read it, and
:func:`item_answers` turns a validated item-scored table (RQS 1.0's ``quality`` table too) into
one long table of answers, the input of compliance and agreement analyses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from synth.errors import Problem, check_choice
from synth.instruments.base import Appraisal
from synth.instruments.clear import CLEAR, check_clear, clear_scores
from synth.instruments.metrics import METRICS, NA, check_metrics, metrics_scores
from synth.instruments.quadas2 import QUADAS2, Quadas2, check_quadas2, quadas2_overall
from synth.instruments.rqs import RQS
from synth.instruments.rqs2 import RQS2, check_rqs2, rqs2_applies, rqs2_scores

__all__ = ["APPRAISALS", "APPRAISAL_FILES", "ITEM_ANSWER_COLUMNS", "check_appraisal",
           "appraisal_scores", "item_answers"]

APPRAISALS: dict[str, Appraisal | Quadas2] = {
    METRICS.name: METRICS, RQS2.name: RQS2, QUADAS2.name: QUADAS2, CLEAR.name: CLEAR,
}
"""The instruments read from their own files, by name ("METRICS", "RQS 2.0", "QUADAS-2",
"CLEAR"), in the order notebooks show them."""

APPRAISAL_FILES: dict[str, str] = {a.stem: name for name, a in APPRAISALS.items()}
"""File stem (``metrics``, ``rqs2``, ``quadas2``, ``clear``) → instrument name."""

_CHECKS: dict[str, Callable[..., tuple[pd.DataFrame | None, list[Problem]]]] = {
    METRICS.name: check_metrics, RQS2.name: check_rqs2, QUADAS2.name: check_quadas2,
    CLEAR.name: check_clear,
}
_SCORES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    METRICS.name: metrics_scores, RQS2.name: rqs2_scores, QUADAS2.name: quadas2_overall,
    CLEAR.name: clear_scores,
}

ITEM_ANSWER_COLUMNS: tuple[str, ...] = (
    "study_id", "rater", "item", "number", "label", "category", "answer", "points",
    "max_points", "weight", "applies",
)
"""Columns of :func:`item_answers`."""


def check_appraisal(stem: str, frame: pd.DataFrame, *, label: str,
                    study_ids: Iterable[str] | None = None,
                    raters: Iterable[str] = ()) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate one instrument table as read; return (typed wide table or None, problems).

    Parameters
    ----------
    stem
        The file stem, a key of :data:`APPRAISAL_FILES`.
    frame
        The table as :mod:`synth.io` read it: text cells, rows in file order indexed from 0.
    label
        The file's name in problem lines (``metrics.csv``, ``review.xlsx[metrics]``).
    study_ids
        The review's study_ids (None: not checked).
    raters
        The raters the review declares.

    Returns
    -------
    (pandas.DataFrame or None, list of Problem)
        The table with canonical answers (``yes``/``no``/``n/a``; RQS 2.0 points as Int64;
        QUADAS-2 judgements), rows in file order from 0 — or None and one problem per bad cell.
    """
    check_choice("stem", stem, APPRAISAL_FILES)
    name = APPRAISAL_FILES[stem]
    return _CHECKS[name](frame, label=label,
                         study_ids=None if study_ids is None else tuple(study_ids),
                         raters=tuple(raters))


def appraisal_scores(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Per-row scores of a validated table of instrument ``name`` (see each scoring function).

    METRICS → :func:`~synth.instruments.metrics.metrics_scores`; RQS 2.0 →
    :func:`~synth.instruments.rqs2.rqs2_scores`; CLEAR →
    :func:`~synth.instruments.clear.clear_scores`; QUADAS-2 →
    :func:`~synth.instruments.quadas2.quadas2_overall`.
    """
    check_choice("instrument", name, APPRAISALS)
    return _SCORES[name](table)


def item_answers(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Every item answer of a validated item-scored table, one row per study × rater × item.

    Parameters
    ----------
    name
        "METRICS", "RQS 2.0", "CLEAR", or "RQS" for the ``quality`` table (RQS 1.0).
    table
        The validated wide table (``Review.appraisals[name]`` or ``Review.quality``).

    Returns
    -------
    pandas.DataFrame
        :data:`ITEM_ANSWER_COLUMNS`: ``item`` (column name, ``metrics_09``), ``number``,
        ``label`` ("9 Automated segmentation evaluated"), ``category``; ``answer`` as text
        (``yes``/``no``/``n/a``, or the points, ``"2"``, for RQS and RQS 2.0; ``n/a`` where the
        item does not apply); ``points`` (yes = 1, no = 0, or the points; NaN where it does not
        apply), ``max_points``, ``weight`` (METRICS's weight; NaN for the others) and
        ``applies``. Rows study by study in table order, items in instrument order.
    """
    check_choice("instrument", name, (RQS.name, METRICS.name, RQS2.name, CLEAR.name))
    rows: list[tuple] = []
    if name == RQS.name:
        for _, r in table.iterrows():
            for item in RQS.items:
                p = int(r[item.column])
                rows.append((r["study_id"], r["rater"], item.column, item.number, item.label,
                             "", str(p), float(p), float(item.max_points), np.nan, True))
        return pd.DataFrame(rows, columns=list(ITEM_ANSWER_COLUMNS))
    appraisal = APPRAISALS[name]
    for _, r in table.iterrows():
        for item in appraisal.items:
            value = r[item.column]
            if name == RQS2.name:
                applies = rqs2_applies(item, int(r["readiness_level"]), str(r["method"])) is None
                answer = str(int(value)) if applies and not pd.isna(value) else NA
                points = float(value) if applies and not pd.isna(value) else np.nan
                maximum = float(item.max_points)
            else:
                applies = value != NA
                answer = str(value)
                points = {"yes": 1.0, "no": 0.0}.get(answer, np.nan)
                maximum = 1.0
            weight = item.weight if item.weight is not None else np.nan
            rows.append((r["study_id"], r["rater"], item.column, item.number, item.label,
                         item.category, answer, points, maximum, weight, applies))
    return pd.DataFrame(rows, columns=list(ITEM_ANSWER_COLUMNS))
