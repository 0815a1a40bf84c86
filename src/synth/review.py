"""Load a review folder (CSV files or one workbook) into validated tables.

:func:`load_review` reads everything, checks everything, and either returns a :class:`Review` or
raises one :class:`~synth.errors.ReviewDataError` listing every problem found, one line each, as
``file:row:column: value — what is allowed`` with rows numbered as a spreadsheet shows them.

Files are read by :mod:`synth.io` (the same reader and messages for every table, the screening
log included); here review.yaml is read first (its vocabularies, :mod:`synth.vocabulary`), the
cells are typed and checked against :mod:`synth.schema` bound to that vocabulary, PRISMA counts
against :mod:`synth.prisma_counts`, keys across tables, and the files against each other
(:mod:`synth.consistency`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from synth.consistency import check_consensus, check_folder, check_included
from synth.errors import HEADER_ROW, Problem, ReviewDataError, did_you_mean, sheet_row
from synth.instruments import APPRAISAL_FILES, check_appraisal
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
    stripped_text,
)
from synth.prisma_counts import (
    LOG_FILENAME,
    NAMED_KEYS,
    PrismaCounts,
    parse_prisma,
    parse_screening_log,
)
from synth.schema import TABLES, Field, Table, pandera_schema
from synth.vocabulary import DEFAULT_VOCABULARY, VOCABULARY_KEYS, Vocabulary, parse_vocabulary

__all__ = ["Review", "load_review", "study_labels"]

_LOG_SHEET = Path(LOG_FILENAME).stem
"""A workbook's screening-log sheet (``screening_log``), read when it has no ``prisma`` sheet."""


@dataclass(frozen=True)
class Review:
    """A validated review: its tables, PRISMA counts and metadata.

    ``quality`` and ``prisma`` are ``None`` when the review has no such file; analyses that need
    them say so rather than fail. ``vocabulary`` holds review.yaml's aims (display order and
    labels), sites, modalities, models, raters and CI level; ``partial`` says that
    ``studies`` holds only part of the included studies.
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
    vocabulary: Vocabulary = DEFAULT_VOCABULARY
    partial: bool = False
    appraisals: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Instrument name ("METRICS", "RQS 2.0", "QUADAS-2", "CLEAR") → its validated wide table
    (:func:`synth.instruments.check_appraisal`), for the instrument files the review has."""

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
        labels = self.vocabulary.aim_labels
        aims = "; ".join(f"{labels[aim]}: {_count(per_aim.get_group(aim).nunique(), 'study')}, "
                         f"{_count(len(per_aim.get_group(aim)), 'AUC')}"
                         for aim in self.vocabulary.aim_names if aim in per_aim.groups)
        n_auc = int(self.performance["auc"].notna().sum())
        lines = [
            f"{self.name}{' (synthetic demonstration data)' if self.synthetic else ''}: "
            f"{_count(len(self.studies), 'study')}, {_count(n_auc, 'reported AUC')}",
            f"  by aim: {aims or 'none'}",
        ]
        rated = ({"RQS": self.quality} if self.has_quality else {}) | self.appraisals
        for name, table in rated.items():
            raters = ", ".join(r for r in self.vocabulary.raters if r in set(table["rater"]))
            lines.append(f"  {name}: {_count(len(table), 'row')}, raters {raters}")
        if not rated:
            lines.append("  quality: none (no quality.csv, metrics.csv, rqs2.csv, quadas2.csv "
                         "or clear.csv)")
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
    stripped = stripped_text(series)
    text = pd.Series(None, index=series.index, dtype=object)
    text.loc[stripped.index] = stripped
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

_META_KEYS = ("title", "synthetic", "description", *VOCABULARY_KEYS, "partial")
"""review.yaml's keys (data dictionary, *review.yaml*); every one optional."""


def _read_meta(folder: Path) -> tuple[dict[str, Any], Vocabulary, list[Problem]]:
    """``review.yaml``: title, flags and the review's vocabulary, each optional (so is the file)."""
    path = folder / "review.yaml"
    if not path.exists():
        return {}, DEFAULT_VOCABULARY, []
    doc = read_yaml(path, content="title, synthetic, description, aims, sites, ...",
                    allow_empty=True)
    if doc.problems:
        return {}, DEFAULT_VOCABULARY, list(doc.problems)
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        return {}, DEFAULT_VOCABULARY, [Problem(doc.label, None, None, repr(data),
                                                "a mapping of keys: " + ", ".join(_META_KEYS))]
    problems = [Problem(doc.label, doc.lines.get((str(k),)), str(k), "unknown key",
                        "allowed: " + ", ".join(_META_KEYS) + did_you_mean(str(k), _META_KEYS))
                for k in data if k not in _META_KEYS]
    for flag in ("synthetic", "partial"):
        if not isinstance(data.get(flag, False), bool):
            problems.append(Problem(doc.label, doc.lines.get((flag,)), flag,
                                    repr(data[flag]), "true or false"))
    vocabulary, p = parse_vocabulary(data, file=doc.label, lines=doc.lines)
    return data, vocabulary, problems + p


_Where = tuple[str, int | None]
"""The file and line (or row) of PRISMA's studies_included, for :func:`check_included`."""


def _read_prisma(path: Path) -> tuple[PrismaCounts | None, list[Problem], _Where]:
    """``prisma.yaml``, read and validated (problems carry the line of each key)."""
    doc = read_yaml(path, content="PRISMA counts")
    where = (doc.label, doc.lines.get(("studies_included",)))
    if doc.problems:
        return None, list(doc.problems), where
    return (*parse_prisma(doc.data, file=doc.label, lines=doc.lines), where)


def _read_log(sheet: Sheet) -> tuple[PrismaCounts | None, list[Problem], _Where]:
    """A screening log (CSV file or workbook sheet): the PRISMA counts derived from it."""
    where = (sheet.label, None)
    if sheet.frame is None or sheet.problems:
        return None, list(sheet.problems), where
    return (*parse_screening_log(sheet.frame, file=sheet.label), where)


def _read_prisma_sheet(sheet: Sheet) -> tuple[PrismaCounts | None, list[Problem], _Where]:
    """A workbook's ``prisma`` sheet (columns key, value), validated like ``prisma.yaml``."""
    doc = key_value_sheet(sheet, names=NAMED_KEYS)
    where = (doc.label, doc.lines.get(("studies_included",)))
    if doc.problems:
        return None, list(doc.problems), where
    return (*parse_prisma(doc.data, file=doc.label, lines=doc.lines), where)


# --- entry point -----------------------------------------------------------------------------

def load_review(path: str | Path) -> Review:
    """Read and validate a review folder, or one ``.xlsx`` workbook.

    Parameters
    ----------
    path
        A folder with ``studies.csv``, ``performance.csv``, optionally ``quality.csv``,
        ``prisma.yaml`` (or a ``screening_log.csv`` to derive the PRISMA counts from) and
        ``review.yaml``; or a workbook with sheets of the same names (a folder holding
        exactly one workbook and no CSV tables works too; both, or two workbooks, is an error).

    Returns
    -------
    Review
        ``studies``, ``performance`` and ``quality`` as typed DataFrames with every column of
        the data dictionary (absent optional columns filled with missing values), rows in file
        order; ``prisma`` as :class:`~synth.prisma_counts.PrismaCounts`; ``vocabulary`` from
        review.yaml; ``performance.ci_level`` filled with review.yaml's ``ci_level`` (default
        0.95) where a row gives none.

    Raises
    ------
    ReviewDataError
        Listing every problem found, ``file:row:column: value — what is allowed``. The
        tables are checked against review.yaml, so problems in review.yaml (and a folder
        holding two reviews) are reported before any table is read, with those of
        prisma.yaml only.
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

    meta, vocabulary, problems = _read_meta(folder)
    if path.is_dir():
        problems += check_folder(folder, tables=[*(t.filename for t in TABLES),
                                                 *(f"{stem}.csv" for stem in APPRAISAL_FILES)])
    if problems:  # the tables are checked against review.yaml: not before it is right
        if (folder / "prisma.yaml").exists():  # which does not depend on review.yaml
            problems += _read_prisma(folder / "prisma.yaml")[1]
        raise ReviewDataError(problems, str(path))
    tables = tuple(t.bind(vocabulary) for t in TABLES)
    frames: dict[str, pd.DataFrame | None] = {}
    labels: dict[str, str] = {}
    prisma: PrismaCounts | None = None
    where: _Where = ("prisma.yaml", None)

    if workbook is not None:
        book = read_workbook(workbook)
        problems += book.problems
        for table in tables:
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
            prisma, p, where = _read_prisma_sheet(book.sheets["prisma"])
            problems += p
        elif _LOG_SHEET in book.sheets:
            prisma, p, where = _read_log(book.sheets[_LOG_SHEET])
            problems += p
    else:
        for table in tables:
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
        prisma, p, where = _read_prisma(folder / "prisma.yaml")
        problems += p
    elif prisma is None and (folder / LOG_FILENAME).exists():
        prisma, p, where = _read_log(read_csv(folder / LOG_FILENAME))
        problems += p

    others = {name: (frames[name], labels[name]) for name in ("performance", "quality")
              if frames.get(name) is not None}
    problems += _check_keys(frames.get("studies"), others, labels["studies"])
    partial = bool(meta.get("partial", False))
    problems += check_consensus(frames.get("quality"), vocabulary, label=labels["quality"])
    problems += check_included(prisma, frames.get("studies"), where=where,
                               studies_label=labels["studies"], partial=partial)
    # instrument files (metrics, rqs2, quadas2, clear): CSV or a workbook sheet of that name
    appraisals: dict[str, pd.DataFrame] = {}
    study_ids = None if frames.get("studies") is None else tuple(frames["studies"]["study_id"])
    for stem, instrument in APPRAISAL_FILES.items():
        sheet = (book.sheets.get(stem) if workbook is not None
                 else read_csv(folder / f"{stem}.csv") if (folder / f"{stem}.csv").is_file()
                 else None)
        if sheet is None:
            continue
        problems += sheet.problems
        if sheet.frame is not None:
            table, p = check_appraisal(stem, sheet.frame, label=sheet.label,
                                       study_ids=study_ids, raters=vocabulary.raters)
            problems += p
            if table is not None:
                appraisals[instrument] = table
                problems += check_consensus(table, vocabulary, label=sheet.label)
    if problems:
        raise ReviewDataError(problems, str(path))
    performance = frames["performance"]
    performance["ci_level"] = performance["ci_level"].fillna(vocabulary.ci_level)
    return Review(
        name=folder.name if workbook is None or path.is_dir() else workbook.stem,
        path=path,
        studies=frames["studies"],
        performance=performance,
        quality=frames.get("quality"),
        prisma=prisma,
        title=str(meta.get("title", "")),
        synthetic=bool(meta.get("synthetic", False)),
        description=str(meta.get("description", "")).strip(),
        vocabulary=vocabulary,
        partial=partial,
        appraisals=appraisals,
    )
