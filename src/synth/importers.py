"""Importers: other tools' files turned into a review's tables.

The official METRICS calculator (GitHub metricsscore/metrics, METRICS.html) scores one paper at
a time; its "Export to Excel" button writes ``METRICSscore_<Publication ID>.xlsx``.
:func:`import_metrics_exports` reads a folder of those exports into one table in the
``metrics.csv`` layout (one row per paper, all by one rater), validated as ``metrics.csv`` is;
:func:`import_metrics_to_csv` writes it. A problem is one line naming the export file, its row
and column as Excel shows them (the answers are in column D).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from synth.errors import Problem, ReviewDataError, sheet_row
from synth.files import atomic_write
from synth.instruments import METRICS, METRICS_CONDITIONS, parse_metrics_export
from synth.instruments.metrics import check_metrics
from synth.io import Sheet, find_workbooks, read_workbook

__all__ = ["EXPORT_SHEET", "import_metrics_exports", "import_metrics_to_csv"]

EXPORT_SHEET = "Sheet1"
"""The sheet the calculator writes its export to (a workbook without it: its first sheet)."""

_ANSWER_COLUMN = "D"
"""The export's column holding the answers (after Items/Conditions, Definitions, Weights)."""

_EXPORT_ROW = re.compile(r"^(Item|Condition)\s*#\s*(\d+)$")
_ROW_COLUMN = {**{f"Item#{i + 1}": c for i, c in enumerate(METRICS.columns)},
               **{f"Condition#{i + 1}": c.column for i, c in enumerate(METRICS_CONDITIONS)}}
_COLUMN_ROW = {column: name for name, column in _ROW_COLUMN.items()}


def _export_sheet(path: Path) -> tuple[Sheet | None, list[Problem]]:
    """The sheet holding the export, or the problem of reading the workbook."""
    book = read_workbook(path)
    if book.problems or not book.sheets:
        return None, list(book.problems) or [Problem(path.name, None, None, "no sheet",
                                                     "the METRICS calculator's export")]
    sheet = book.sheets.get(EXPORT_SHEET) or next(iter(book.sheets.values()))
    return sheet, list(sheet.problems)


def _answer_rows(frame: pd.DataFrame) -> dict[str, int]:
    """metrics.csv column → the export's spreadsheet row holding its answer."""
    rows = {}
    for idx, name in frame.iloc[:, 0].items():
        m = _EXPORT_ROW.match(str(name).strip()) if name is not None else None
        if m and f"{m.group(1)}#{int(m.group(2))}" in _ROW_COLUMN:
            rows[_ROW_COLUMN[f"{m.group(1)}#{int(m.group(2))}"]] = sheet_row(int(idx))
    return rows


def _in_export(problem: Problem, label: str, rows: dict[str, int]) -> Problem:
    """A problem check_metrics found in a one-row table, placed where the export holds it."""
    column = problem.column or ""
    if column not in rows:
        return Problem(label, None, None, f"{column} {problem.value}".strip(), problem.allowed)
    return Problem(label, rows[column], _ANSWER_COLUMN, f"{_COLUMN_ROW[column]} {problem.value}",
                   problem.allowed)


def _no_study_id(problem: Problem) -> Problem:
    """An export without a Publication ID: say where to type one (an import names no study)."""
    if (problem.row, problem.column, problem.value) == (1, _ANSWER_COLUMN, "(empty)"):
        return Problem(problem.file, 1, _ANSWER_COLUMN, "(empty)",
                       "the Publication ID, the study_id of the paper in studies.csv")
    return problem


def import_metrics_exports(folder: str | Path, *, rater: str) -> pd.DataFrame:
    """One ``metrics.csv`` table from a folder of the METRICS calculator's per-paper exports.

    Reads every ``.xlsx`` workbook in ``folder`` (not in its subfolders; Excel's and
    LibreOffice's lock files ``~$….xlsx`` are skipped), in file-name order: its ``Sheet1``
    as the calculator writes it (``Items/Conditions, Definitions, Weights, <Publication ID>``,
    one row per item or condition, the answer in column D). The study is the export's
    Publication ID.

    Parameters
    ----------
    folder : str or Path
        The folder of exports.
    rater : str
        The rater every row is given (a name review.yaml declares, e.g. ``"A"``).

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater``, the five conditions, ``metrics_01 … metrics_30`` (yes / no / n/a)
        and ``notes`` (empty): one row per export, validated as ``metrics.csv`` is.

    Raises
    ------
    ValueError
        ``rater`` is empty.
    NotADirectoryError
        ``folder`` is not a folder.
    ReviewDataError
        Every problem, one line each ``file:row:column: value — allowed``: a workbook that is
        not an export, a missing item or condition, an unreadable answer, an item that applies
        left unanswered (``n/a``) or an answered item its conditions switch off, two exports
        with the same Publication ID, a folder without exports.
    """
    if not rater or not rater.strip():
        raise ValueError(f"rater={rater!r}: name the rater, e.g. 'A'")
    rater = rater.strip()
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    paths = find_workbooks(folder)
    if not paths:
        raise ReviewDataError([Problem(str(folder), None, None, "no .xlsx workbook",
                                       "the METRICS calculator's exports "
                                       "(METRICSscore_<ID>.xlsx)")], str(folder))
    rows: list[pd.DataFrame] = []
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for path in paths:
        sheet, found = _export_sheet(path)
        problems += found
        if sheet is None or sheet.frame is None:
            continue
        row, found = parse_metrics_export(sheet.frame, label=path.name, rater=rater)
        problems += [_no_study_id(p) for p in found]
        if found or not row:
            continue
        sid = row["study_id"]
        if sid in first:
            problems.append(Problem(path.name, 1, _ANSWER_COLUMN, f"Publication ID {sid!r}",
                                    f"one export per study; {first[sid]} has it too"))
            continue
        first[sid] = path.name
        table, found = check_metrics(pd.DataFrame([row], dtype=object), label=path.name,
                                     raters=(rater,))
        rows_of = _answer_rows(sheet.frame)
        problems += [_in_export(p, path.name, rows_of) for p in found]
        if table is not None:
            rows.append(table)
    if problems:
        raise ReviewDataError(problems, str(folder))
    return pd.concat(rows, ignore_index=True)[list(METRICS.file_columns)]


def import_metrics_to_csv(folder: str | Path, out: str | Path, *, rater: str,
                          force: bool = False) -> pd.DataFrame:
    """:func:`import_metrics_exports` written to ``out`` (CSV, atomically); returns the table.

    An existing ``out`` is replaced only with ``force`` (else FileExistsError, before any
    export is read); nothing is written when an export has a problem.
    """
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists: not replaced without force (--force)")
    table = import_metrics_exports(folder, rater=rater)
    atomic_write(out, lambda tmp: table.to_csv(tmp, index=False))
    return table
