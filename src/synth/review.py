"""Load a review folder (CSV files or one workbook) into validated tables.

:func:`load_review` reads everything, checks everything, and either returns a :class:`Review` or
raises one :class:`~synth.errors.ReviewDataError` listing every problem found, one line each, as
``file:row:column: value — what is allowed`` with rows numbered as a spreadsheet shows them.

Files are read by :mod:`synth.io` (the same reader and messages for every table, the screening
log included); here the cells are typed and checked against :mod:`synth.schema`, PRISMA counts
against :mod:`synth.prisma_counts`, and keys across tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from synth.errors import HEADER_ROW, Problem, ReviewDataError, did_you_mean, sheet_row
from synth.io import (
    NumberStyle,
    Sheet,
    find_workbooks,
    key_value_sheet,
    number_style,
    parse_numbers,
    read_csv,
    read_workbook,
    read_yaml,
)
from synth.prisma_counts import (
    LOG_FILENAME,
    NAMED_KEYS,
    PrismaCounts,
    parse_prisma,
    parse_screening_log,
)
from synth.schema import AIMS, TABLES, Field, Table, pandera_schema

__all__ = ["Review", "load_review", "study_labels"]

_LOG_SHEET = Path(LOG_FILENAME).stem
"""A workbook's screening-log sheet (``screening_log``), read when it has no ``prisma`` sheet."""


@dataclass(frozen=True)
class Review:
    """A validated review: its tables, PRISMA counts and metadata.

    ``quality`` and ``prisma`` are ``None`` when the review has no such file; analyses that need
    them say so rather than fail.
    """

    name: str
    path: Path
    studies: pd.DataFrame
    performance: pd.DataFrame
    quality: pd.DataFrame | None = None
    prisma: PrismaCounts | None = None
    title: str = ""
    synthetic: bool = False
    description: str = ""

    @property
    def has_quality(self) -> bool:
        return self.quality is not None and not self.quality.empty

    @property
    def has_prisma(self) -> bool:
        return self.prisma is not None

    @property
    def study_labels(self) -> pd.Series:
        """Each study's label in every table and figure: first author and year (``Gu 2019``).

        Studies sharing author and year get ``a``, ``b``, ... in study_id order, as reference
        lists do. Indexed by ``study_id``.
        """
        return study_labels(self.studies)

    def summary(self) -> str:
        """A few lines saying what the review holds (for ``synth check``)."""
        per_aim = self.performance.groupby("aim", observed=True)["study_id"]
        aims = "; ".join(f"{aim}: {_count(per_aim.get_group(aim).nunique(), 'study')}, "
                         f"{_count(len(per_aim.get_group(aim)), 'AUC')}"
                         for aim in AIMS if aim in per_aim.groups)
        lines = [
            f"{self.name}{' (synthetic demonstration data)' if self.synthetic else ''}: "
            f"{len(self.studies)} studies, {len(self.performance)} reported AUCs",
            f"  by aim: {aims or 'none'}",
        ]
        if self.has_quality:
            raters = ", ".join(sorted(self.quality["rater"].unique()))
            lines.append(f"  quality: {len(self.quality)} rows, raters {raters}")
        else:
            lines.append("  quality: none (no quality.csv)")
        none = "none (no prisma.yaml or screening_log.csv)"
        lines.append(f"  PRISMA: {'yes' if self.has_prisma else none}")
        return "\n".join(lines)


def study_labels(studies: pd.DataFrame) -> pd.Series:
    """First author and year per study (``Gu 2019``; ``Gu 2019a``/``b`` when shared).

    ``studies`` needs ``study_id``, ``first_author`` and ``year``; the result is indexed by
    ``study_id``. An empty author falls back to the study_id, a missing year is left out.
    """
    authors = studies["first_author"].where(studies["first_author"].notna(), studies["study_id"])
    years = studies["year"].map(lambda y: "" if pd.isna(y) else f" {int(y)}")
    base = pd.Series((authors.astype(str) + years).to_numpy(), index=studies["study_id"])
    order = base.index.to_series().sort_values(kind="stable")
    labels = base.copy()
    for _, ids in order.groupby(base.loc[order.index].to_numpy(), sort=False):
        if len(ids) > 1:
            for letter, sid in zip("abcdefghijklmnopqrstuvwxyz", ids.index, strict=False):
                labels[sid] = f"{base[sid]}{letter}"
    labels.name = "label"
    return labels


def _count(n: int, noun: str) -> str:
    plural = "studies" if noun == "study" else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def _show(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "(empty)"
    return repr(str(value)) if isinstance(value, str) else repr(value)


# --- validation ------------------------------------------------------------------------------

def _coerce(series: pd.Series, f: Field, style: NumberStyle
            ) -> tuple[pd.Series, dict[int, str]]:
    """Convert text cells to the field's type; return (typed series, {index: hint} failed).

    Numbers are read in the file's convention (:func:`synth.io.parse_numbers`).
    """
    text = series.astype(object).map(lambda v: v.strip() or None if isinstance(v, str) else None)
    if f.dtype == "str":
        return text, {}
    parsed, bad = parse_numbers(text, style)
    values = parsed[text.notna() & ~text.index.isin(list(bad))]
    ok = np.isfinite(values)
    if f.dtype == "int":
        ok &= values == np.round(values)
    bad.update({idx: "" for idx in values.index[~ok]})
    typed = pd.Series(pd.NA, index=series.index, dtype="Float64")
    typed[values.index[ok]] = values[ok]
    if f.dtype == "int":
        typed = typed.astype("Int64")
    return typed, bad


def _validate_table(sheet: Sheet, table: Table) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Check a read table against its schema; return (typed frame or None, problems)."""
    problems: list[Problem] = list(sheet.problems)
    label = sheet.label
    df = sheet.frame.copy()
    df.columns = [str(c).strip() for c in df.columns]
    df = df.dropna(how="all")
    for col in list(df.columns):
        if col.startswith("Unnamed:") and df[col].isna().all():
            df = df.drop(columns=col)

    known = table.columns
    for col in df.columns:
        if col in known:
            continue
        if col.startswith("Unnamed:"):
            problems.append(Problem(label, HEADER_ROW, f"column {int(col.split(':')[1]) + 1}",
                                    "cells without a header", "a column name in row 1"))
            continue
        hint = did_you_mean(col, known)
        allowed = (f"not a column of {table.filename}{hint}" if hint else
                   f"not a column of {table.filename}; allowed: {', '.join(known)}")
        problems.append(Problem(label, HEADER_ROW, col, "unknown column", allowed))
    for col in table.required_columns:
        if col not in df.columns:
            problems.append(Problem(label, HEADER_ROW, col, "(missing column)",
                                    f"required: {table.field(col).description}"))
    if df.empty:
        problems.append(Problem(label, sheet_row(0), None, "no data rows",
                                f"at least one row: {table.description.lower()}"))
        return None, problems

    present = tuple(c for c in known if c in df.columns)
    typed = pd.DataFrame(index=df.index)
    # cells the reader already reported (a workbook's error values, unsaved formulas)
    reported: set[tuple[int, str]] = {(p.row - sheet_row(0), p.column) for p in sheet.problems
                                      if p.row is not None and p.row > HEADER_ROW}
    style = number_style(sheet, [c for c in present if table.field(c).dtype != "str"])
    for col in present:
        f = table.field(col)
        typed[col], bad = _coerce(df[col], f, style)
        for idx, hint in sorted(bad.items()):
            value = str(df.at[idx, col]).strip()
            problems.append(Problem(label, sheet_row(idx), col, repr(value),
                                    f.allowed_text() + hint))
            reported.add((idx, col))

    try:
        pandera_schema(table, present).validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems += _pandera_problems(exc.failure_cases, typed, table, label, reported)
    if problems:
        return None, problems
    for f in table.fields:
        if f.name not in typed:
            typed[f.name] = pd.Series(pd.NA, index=typed.index,
                                      dtype={"int": "Int64", "float": "Float64"}.get(f.dtype,
                                                                                       object))
    return typed[list(known)].reset_index(drop=True), problems


def _pandera_problems(cases: pd.DataFrame, typed: pd.DataFrame, table: Table, label: str,
                      reported: set[tuple[int, str]]) -> list[Problem]:
    """Turn pandera's failure cases into one problem per row and column.

    A cross-column rule is reported only when none of its cells already has a problem of its
    own, so one bad value gives one line.
    """
    rules = {r.name: r for r in table.row_checks}
    cases = cases[cases["index"].notna()]
    out: list[Problem] = []
    seen: set[tuple[int, str]] = set(reported)
    for case in cases[~cases["check"].isin(list(rules))].itertuples(index=False):
        idx, col = int(case.index), str(case.column)
        if (idx, col) in seen:
            continue
        seen.add((idx, col))
        f = table.field(col)
        value = typed.at[idx, col]
        if case.check == "not_nullable":
            out.append(Problem(label, sheet_row(idx), col, "(empty)",
                               "required: " + f.allowed_text()))
            continue
        hint = did_you_mean(str(value), f.allowed) if f.allowed and isinstance(value, str) else ""
        out.append(Problem(label, sheet_row(idx), col, _show(value), f.allowed_text() + hint))
    flagged = set(seen)
    for case in cases[cases["check"].isin(list(rules))].itertuples(index=False):
        idx, rule = int(case.index), rules[case.check]
        if (idx, rule.column) in seen or any((idx, c) in flagged for c in rule.columns):
            continue
        seen.add((idx, rule.column))
        values = ", ".join(f"{c}={_show(typed.at[idx, c])}" for c in rule.columns)
        out.append(Problem(label, sheet_row(idx), rule.column, values, rule.allowed))
    return sorted(out, key=lambda p: (p.row or 0, table.columns.index(p.column)
                                      if p.column in table.columns else 0))


def _check_keys(studies: pd.DataFrame | None, others: dict[str, tuple[pd.DataFrame, str]],
                studies_label: str) -> list[Problem]:
    """Unique study_id, known study_id in other tables, unique (study_id, rater)."""
    problems: list[Problem] = []
    if studies is not None:
        first_row: dict[str, int] = {}
        for i, sid in studies["study_id"].items():
            if sid in first_row:
                problems.append(Problem(studies_label, sheet_row(i), "study_id", repr(sid),
                                        f"a unique study_id; already used on row "
                                        f"{first_row[sid]}"))
            else:
                first_row[sid] = sheet_row(i)
    known = tuple(studies["study_id"]) if studies is not None else None
    known_set = set(known or ())
    for name, (df, label) in others.items():
        if known is not None:
            for i, sid in df["study_id"].items():
                if sid not in known_set:
                    problems.append(Problem(label, sheet_row(i), "study_id", repr(sid),
                                            f"a study_id of {studies_label}" +
                                            did_you_mean(sid, known)))
        if name == "quality":
            seen: dict[tuple[str, str], int] = {}
            for i, sid, rater in zip(df.index, df["study_id"], df["rater"], strict=True):
                if (sid, rater) in seen:
                    problems.append(Problem(label, sheet_row(i), "rater", repr(rater),
                                            f"one row per study and rater; {sid!r} rated by "
                                            f"{rater!r} already on row {seen[(sid, rater)]}"))
                else:
                    seen[(sid, rater)] = sheet_row(i)
    return problems


# --- files other than tables ----------------------------------------------------------------

_META_KEYS = ("title", "synthetic", "description")


def _read_meta(folder: Path) -> tuple[dict[str, Any], list[Problem]]:
    """``review.yaml``: title, synthetic flag and description, each optional (so is the file)."""
    path = folder / "review.yaml"
    if not path.exists():
        return {}, []
    doc = read_yaml(path, content="title, synthetic, description", allow_empty=True)
    if doc.problems:
        return {}, list(doc.problems)
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        return {}, [Problem(doc.label, None, None, repr(data), "a mapping of keys: "
                            + ", ".join(_META_KEYS))]
    problems = [Problem(doc.label, doc.lines.get((str(k),)), str(k), "unknown key",
                        "allowed: " + ", ".join(_META_KEYS) + did_you_mean(str(k), _META_KEYS))
                for k in data if k not in _META_KEYS]
    if not isinstance(data.get("synthetic", False), bool):
        problems.append(Problem(doc.label, doc.lines.get(("synthetic",)), "synthetic",
                                repr(data["synthetic"]), "true or false"))
    return data, problems


def _read_prisma(path: Path) -> tuple[PrismaCounts | None, list[Problem]]:
    """``prisma.yaml``, read and validated (problems carry the line of each key)."""
    doc = read_yaml(path, content="PRISMA counts")
    if doc.problems:
        return None, list(doc.problems)
    return parse_prisma(doc.data, file=doc.label, lines=doc.lines)


def _read_log(sheet: Sheet) -> tuple[PrismaCounts | None, list[Problem]]:
    """A screening log (CSV file or workbook sheet): the PRISMA counts derived from it."""
    if sheet.frame is None or sheet.problems:
        return None, list(sheet.problems)
    return parse_screening_log(sheet.frame, file=sheet.label)


def _read_prisma_sheet(sheet: Sheet) -> tuple[PrismaCounts | None, list[Problem]]:
    """A workbook's ``prisma`` sheet (columns key, value), validated like ``prisma.yaml``."""
    doc = key_value_sheet(sheet, names=NAMED_KEYS)
    if doc.problems:
        return None, list(doc.problems)
    return parse_prisma(doc.data, file=doc.label, lines=doc.lines)


# --- entry point -----------------------------------------------------------------------------

def load_review(path: str | Path) -> Review:
    """Read and validate a review folder, or one ``.xlsx`` workbook.

    Parameters
    ----------
    path
        A folder with ``studies.csv``, ``performance.csv``, optionally ``quality.csv``,
        ``prisma.yaml`` (or a ``screening_log.csv`` to derive the PRISMA counts from) and
        ``review.yaml``; or a workbook with sheets of the same names
        (a folder holding exactly one workbook and no ``studies.csv`` works too).

    Returns
    -------
    Review
        ``studies``, ``performance`` and ``quality`` as typed DataFrames with every column of
        the data dictionary (absent optional columns filled with missing values), rows in file
        order; ``prisma`` as :class:`~synth.prisma_counts.PrismaCounts`.

    Raises
    ------
    ReviewDataError
        Listing every problem found, ``file:row:column: value — what is allowed``.
    """
    path = Path(path)
    if not path.exists():
        raise ReviewDataError([Problem(str(path), None, None, "no such file or folder",
                                       "a review folder or an .xlsx workbook")], str(path))
    folder = path if path.is_dir() else path.parent
    workbook: Path | None = None
    if path.is_file():
        if path.suffix.lower() != ".xlsx":
            raise ReviewDataError([Problem(path.name, None, None, "not a folder or workbook",
                                           "a review folder or an .xlsx workbook")], str(path))
        workbook = path
    elif not (path / "studies.csv").exists():
        books = find_workbooks(path)
        if len(books) == 1:
            workbook = books[0]

    meta, problems = _read_meta(folder)
    frames: dict[str, pd.DataFrame | None] = {}
    labels: dict[str, str] = {}
    prisma: PrismaCounts | None = None

    if workbook is not None:
        book = read_workbook(workbook)
        problems += book.problems
        for table in TABLES:
            labels[table.name] = f"{workbook.name}[{table.name}]"
            if table.name not in book.sheets:
                if not table.optional and not book.problems:
                    found = ", ".join(book.sheets) or "none"
                    problems.append(Problem(workbook.name, None, None,
                                            f"no sheet '{table.name}' (sheets: {found})",
                                            "sheets studies, performance, optional quality "
                                            "and prisma (or screening_log)"
                                            + did_you_mean(table.name, tuple(book.sheets))))
                frames[table.name] = None
                continue
            frames[table.name], p = _validate_table(book.sheets[table.name], table)
            problems += p
        if "prisma" in book.sheets:
            prisma, p = _read_prisma_sheet(book.sheets["prisma"])
            problems += p
        elif _LOG_SHEET in book.sheets:
            prisma, p = _read_log(book.sheets[_LOG_SHEET])
            problems += p
    else:
        for table in TABLES:
            file = folder / table.filename
            labels[table.name] = table.filename
            frames[table.name] = None
            if not file.exists():
                if not table.optional:
                    problems.append(Problem(table.filename, None, None, "file missing",
                                            f"{table.filename} in {folder}: "
                                            f"{table.description.lower()}"))
                continue
            sheet = read_csv(file)
            problems += sheet.problems
            if sheet.frame is not None:
                frames[table.name], p = _validate_table(sheet, table)
                problems += p
    if prisma is None and (folder / "prisma.yaml").exists():
        prisma, p = _read_prisma(folder / "prisma.yaml")
        problems += p
    elif prisma is None and (folder / LOG_FILENAME).exists():
        prisma, p = _read_log(read_csv(folder / LOG_FILENAME))
        problems += p

    others = {name: (frames[name], labels[name]) for name in ("performance", "quality")
              if frames.get(name) is not None}
    problems += _check_keys(frames.get("studies"), others, labels["studies"])
    if problems:
        raise ReviewDataError(problems, str(path))
    return Review(
        name=folder.name if workbook is None or path.is_dir() else workbook.stem,
        path=path,
        studies=frames["studies"],
        performance=frames["performance"],
        quality=frames.get("quality"),
        prisma=prisma,
        title=str(meta.get("title", "")),
        synthetic=bool(meta.get("synthetic", False)),
        description=str(meta.get("description", "")).strip(),
    )
