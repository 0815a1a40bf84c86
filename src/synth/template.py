"""``python -m synth new``: a ready-to-fill review folder, as CSV files or as one workbook.

:func:`write_review` writes everything a reviewer needs to start extracting:

* ``review.yaml`` with a title and every vocabulary key (aims with labels, sites,
  modalities, models, raters, the consensus rater, the CI level of reported intervals and the
  ``partial`` flag), pre-filled with :data:`synth.vocabulary.DEFAULT_VOCABULARY` and commented;
* one table per :class:`synth.schema.Table` of :data:`TEMPLATE_TABLES` with every column and
  one valid example row: studies, performance and the quality instruments
  (:data:`INSTRUMENT_TABLES`: RQS 1.0's ``quality`` and the METRICS, RQS 2.0, QUADAS-2 and
  CLEAR files, their columns and answers read from :mod:`synth.instruments`), as
  ``<table>.csv`` files or as the sheets of one workbook, ``<folder>/<folder name>.xlsx``
  (inside the folder, beside review.yaml, so the folder is the review as with CSV files; named
  after the review because Excel cannot open two workbooks of the same name at once);
* the PRISMA 2020 counts with every box (:data:`PRISMA_BOXES`), adding up to the one example
  study: ``prisma.yaml``, or the workbook's ``prisma`` sheet (``key``, ``value`` rows);
* ``README.md`` with the data dictionary (:func:`synth.schema.data_dictionary`).

Columns, allowed values and ranges come from the table declarations and the vocabulary, never
from a list of their own. In the workbook every column that allows a list of values carries an
Excel drop-down list (its values on the hidden ``lists`` sheet, as an inline list holds at most
255 characters), every number column a range check where the schema has one, and every header a
comment saying what the column allows; so a value typed in Excel is one ``check`` accepts.

Out of the box the new review passes ``python -m synth check``; every file is written
atomically and all at once (:func:`synth.files.atomic_paths`), so a failed write leaves no
half-made review.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from synth.errors import check_choices
from synth.files import atomic_paths
from synth.instruments import (
    RQS2,
)
from synth.instruments.rqs2 import rqs2_applies
from synth.schema import (
    APPRAISAL_TABLES,
    PERFORMANCE,
    QUALITY,
    STUDIES,
    Field,
    Table,
    data_dictionary,
)
from synth.vocabulary import DEFAULT_VOCABULARY, VOCABULARY_KEYS, Vocabulary

__all__ = [
    "TEMPLATE_TABLES",
    "INSTRUMENT_TABLES",
    "review_tables",
    "PRISMA_BOXES",
    "LISTS_SHEET",
    "allowed_values",
    "example_row",
    "review_yaml",
    "vocabulary_from",
    "prisma_yaml",
    "write_review",
]


INSTRUMENT_TABLES: dict[str, Table] = {
    "rqs": QUALITY, **{t.name: t for t in APPRAISAL_TABLES}}
"""Quality instruments a new review may hold, by name: ``rqs`` (RQS 1.0, ``quality.csv``),
``metrics``, ``rqs2``, ``quadas2``, ``clear`` (each its own file or sheet)."""

TEMPLATE_TABLES: tuple[Table, ...] = (STUDIES, PERFORMANCE, *INSTRUMENT_TABLES.values())
"""The tables a new review holds by default, in file (or sheet) order: every instrument."""


def review_tables(instruments: Sequence[str] | None = None) -> tuple[Table, ...]:
    """The tables of a new review: studies, performance and the ``instruments`` named
    (keys of :data:`INSTRUMENT_TABLES`; None: every one), in that order.

    An unknown name raises :func:`synth.errors.check_choices`' ValueError.
    """
    names = tuple(INSTRUMENT_TABLES) if instruments is None else check_choices(
        "instruments", list(instruments), INSTRUMENT_TABLES)
    return (STUDIES, PERFORMANCE, *(INSTRUMENT_TABLES[n] for n in INSTRUMENT_TABLES
                                    if n in names))


def _rqs2_example(row: dict[str, Any]) -> dict[str, Any]:
    """Empty the RQS 2.0 items the example's readiness level and method do not score."""
    level, method = int(row["readiness_level"]), str(row["method"])
    return row | {i.column: None for i in RQS2.items
                  if rqs2_applies(i, level, method) is not None}

LISTS_SHEET = "lists"
"""The workbook's hidden sheet holding the values of every drop-down list, one column each."""


def allowed_values(field: Field, vocabulary: Vocabulary = DEFAULT_VOCABULARY
                   ) -> tuple[Any, ...] | None:
    """The values a column accepts in a review with ``vocabulary``; None when not a list.

    A column bound to a review.yaml list (``field.vocabulary``: aims, sites, modalities,
    models, raters) takes the review's list; any other column its declared ``allowed``.
    """
    if field.vocabulary is not None:
        return tuple(vocabulary.values(field.vocabulary))
    return tuple(field.allowed) if field.allowed is not None else None


# --- the example rows -----------------------------------------------------------------------

_EXAMPLE_ID = "author2024"

_EXAMPLES: dict[str, dict[str, Any]] = {
    "studies": {
        "study_id": _EXAMPLE_ID, "first_author": "Author A", "year": 2024,
        "title": "Example row: replace it with your first included study",
        "journal": "Journal name", "doi": "10.1000/example.2024.001", "pmid": "12345678",
        "country": "Country", "modality_detail": "contrast phase, sequence or tracer",
        "n_patients": 120, "software": "PyRadiomics", "period": "",
        "source": "where these facts were read: URL or citation, table or section",
        "notes": "",
    },
    "performance": {
        "study_id": _EXAMPLE_ID, "target": "what is predicted, e.g. malignant vs benign",
        "model_name": "the model's label in the paper", "primary": "yes",
        "auc": 0.81, "ci_low": 0.72, "ci_high": 0.9, "n": 120, "positives": 48,
        "negatives": 72, "source": "Table 3", "notes": "",
    },
}
"""Example cells of the columns that are not a choice from a list (placeholders to replace).
A required column with allowed values takes the first of them (the consensus rater for
``rater``), and so does every answer of an instrument's table; a column not named here stays
empty."""


def example_row(table: Table, vocabulary: Vocabulary = DEFAULT_VOCABULARY) -> dict[str, Any]:
    """One valid example row of ``table``, every column present (empty cells as ``None``)."""
    given = _EXAMPLES.get(table.name, {"study_id": _EXAMPLE_ID})
    row: dict[str, Any] = {}
    for f in table.fields:
        values = allowed_values(f, vocabulary)
        if f.name in given:
            row[f.name] = given[f.name] if given[f.name] != "" else None
        elif f.name == "rater":
            row[f.name] = vocabulary.consensus
        elif values is not None and (f.required or f.name in _FILLED_CHOICES
                                     or table.name not in _EXAMPLES):
            row[f.name] = values[-1] if f.name == "cohort" else values[0]
        else:
            row[f.name] = None
    return _rqs2_example(row) if table.name == "rqs2" else row


_FILLED_CHOICES = ("design", "centres", "validation")
"""Optional choice columns the example fills in, to show what they hold."""


def _csv_text(table: Table, vocabulary: Vocabulary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    row = example_row(table, vocabulary)
    writer.writerow(["" if row[c] is None else row[c] for c in table.columns])
    return out.getvalue()


# --- review.yaml ----------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    """A YAML scalar, quoted only when it must be."""
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=10_000)
    return text.strip()[1:-1]


_VOCABULARY_HELP: dict[str, str] = {
    "aims": "Clinical aims, in the order every table and figure shows them (at most 10).\n"
            "`name` is what performance.csv's aim column holds; `label` is how figures and\n"
            "tables print it. Each aim keeps its colour in every figure.",
    "sites": "Body or tumour sites that studies.csv's site column may hold.",
    "modalities": "Imaging modalities that studies.csv's modality column may hold.",
    "models": "Kinds of model that performance.csv's model column may hold.",
    "raters": "Who scores quality: each reviewer, and the consensus.",
    "consensus": "The rater whose scores the summaries use; one of the raters above.",
    "ci_level": "Confidence level of the intervals studies report (ci_low, ci_high); a\n"
                "performance row's own ci_level column overrides it.",
}
"""What each :class:`~synth.vocabulary.Vocabulary` key of review.yaml is for."""

_PARTIAL_HELP = ("true: the tables hold only some of the included studies (then PRISMA's\n"
                 "studies included is not compared with studies.csv).")


def review_yaml(vocabulary: Vocabulary = DEFAULT_VOCABULARY, *, title: str = "") -> str:
    """The commented ``review.yaml`` of a new review, declaring ``vocabulary`` in full."""
    lines = [
        "# review.yaml: what this review is, and the words its tables may use.",
        "# Written by `python -m synth new`; check it with `python -m synth check <folder>`.",
        "#",
        "# The lists below are synth's defaults. A list you declare REPLACES the default, it",
        "# does not extend it: delete the values your review does not use, add your own. A key",
        "# you delete falls back to the default (listed in README.md).",
        "",
        "title: " + _scalar(title or "Title of the review"),
        "synthetic: false       # true only for made-up demonstration data (figures say so)",
        "description: >-",
        "  What the review asks, which databases were searched and when; where the data",
        "  come from.",
        "",
        *("# " + h for h in _PARTIAL_HELP.splitlines()),
        "partial: false",
    ]
    for key in VOCABULARY_KEYS:
        value = getattr(vocabulary, key)
        lines += ["", *("# " + h for h in _VOCABULARY_HELP[key].splitlines())]
        if key == "aims":
            lines.append("aims:")
            for aim in value:
                lines += [f"  - name: {_scalar(aim.name)}", f"    label: {_scalar(aim.label)}"]
        elif isinstance(value, tuple):
            lines.append(f"{key}:")
            lines += [f"  - {_scalar(v)}" for v in value]
        else:
            lines.append(f"{key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


# --- PRISMA ---------------------------------------------------------------------------------

PRISMA_BOXES: tuple[tuple[tuple[str, ...], Any, str], ...] = (
    (("databases", "PubMed"), 40, "records identified, one line per database"),
    (("databases", "Embase"), 25, ""),
    (("registers",), {}, "records identified, one line per register ({} = none searched)"),
    (("removed_before_screening", "duplicates"), 15, "duplicate records removed"),
    (("removed_before_screening", "automation"), 0, "marked ineligible by automation tools"),
    (("removed_before_screening", "other"), 0, "removed for other reasons"),
    (("screened",), 50, "records screened = identified − removed"),
    (("excluded_screening",), 44, "records excluded on title and abstract"),
    (("sought",), 6, "reports sought for retrieval = screened − excluded"),
    (("not_retrieved",), 1, "reports not retrieved"),
    (("assessed",), 5, "reports assessed for eligibility = sought − not retrieved"),
    (("excluded_reasons", "No radiomics analysis"), 2,
     "reports excluded, one line per reason"),
    (("excluded_reasons", "Population out of scope"), 2, ""),
    (("other_methods", "sources", "Citation searching"), 0,
     "second column: records from other methods, one line per source"),
    (("other_methods", "sought"), 0, ""),
    (("other_methods", "not_retrieved"), 0, ""),
    (("other_methods", "assessed"), 0, ""),
    (("other_methods", "excluded_reasons"), {}, "one line per reason ({} = none)"),
    (("studies_included",), 1, "studies in studies.csv = assessed − excluded (both columns)"),
    (("reports_included",), 1, "reports of the included studies"),
    (("previous_studies",), "not reported", "only for an updated review"),
    (("strict",), True, "false: counts that do not add up are warnings, not errors"),
    (("source",), "where these counts were read", ""),
)
"""Every box of the PRISMA 2020 flow diagram with example counts that add up to the one
example study, and what each box holds: (key path, count, comment)."""


def prisma_yaml() -> str:
    """The commented ``prisma.yaml`` of a new review (:data:`PRISMA_BOXES`)."""
    lines = ["# PRISMA 2020 flow counts; replace the example counts with your own. Every count",
             "# is a whole number or `not reported`; `python -m synth check` says which do not",
             "# add up. See README.md (prisma.yaml) for the rules."]
    opened: tuple[str, ...] = ()
    for path, value, comment in PRISMA_BOXES:
        common = 0
        while common < min(len(opened), len(path) - 1) and opened[common] == path[common]:
            common += 1
        for depth in range(common, len(path) - 1):
            lines.append("  " * depth + f"{path[depth]}:")
        opened = path[:-1]
        text = "{}" if value == {} else _scalar(value)
        line = "  " * (len(path) - 1) + f"{_scalar(path[-1])}: {text}"
        lines.append(f"{line:<40}# {comment}" if comment else line)
    return "\n".join(lines) + "\n"


# --- the workbook ---------------------------------------------------------------------------

def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _write_workbook(target: Path, tables: Sequence[Table], vocabulary: Vocabulary) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    sheets = [book.create_sheet(t.name) for t in tables]
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    last_row = 1_048_576
    list_columns = 0
    for table, sheet in zip(tables, sheets, strict=True):
        row = example_row(table, vocabulary)
        table = table.bind(vocabulary)
        sheet.append(list(table.columns))
        sheet.append([row[c] for c in table.columns])
        sheet.freeze_panes = "A2"
        for j, f in enumerate(table.fields, start=1):
            letter = _column_letter(j)
            head = sheet.cell(row=1, column=j)
            head.font = Font(bold=True)
            note = f"{f.description}\nAllowed: {f.allowed_text()}"
            if f.required:
                note += "\nRequired" + (" in every row." if not f.nullable else " column.")
            lines = sum(1 + len(part) // 48 for part in note.splitlines())
            head.comment = Comment(note, "synth", width=340, height=min(480, 24 + 17 * lines))
            sheet.column_dimensions[letter].width = max(12, min(40, len(f.name) + 4))
            cells = f"{letter}2:{letter}{last_row}"
            values = allowed_values(f, vocabulary)
            if values is not None:
                list_columns += 1
                col = list_columns
                lists.cell(row=1, column=col, value=f"{table.name}.{f.name}")
                for i, v in enumerate(values, start=2):
                    lists.cell(row=i, column=col, value=v)
                ref = _column_letter(col)
                dv = DataValidation(type="list",
                                    formula1=f"{LISTS_SHEET}!${ref}$2:${ref}${len(values) + 1}",
                                    allow_blank=True)
            elif f.dtype in ("int", "float") and (f.min is not None or f.max is not None):
                kind = "whole" if f.dtype == "int" else "decimal"
                if f.min is not None and f.max is not None:
                    dv = DataValidation(type=kind, operator="between", formula1=_num(f.min),
                                        formula2=_num(f.max), allow_blank=True)
                elif f.min is not None:
                    dv = DataValidation(type=kind, operator="greaterThanOrEqual",
                                        formula1=_num(f.min), allow_blank=True)
                else:
                    dv = DataValidation(type=kind, operator="lessThanOrEqual",
                                        formula1=_num(f.max), allow_blank=True)
            else:
                continue
            text = (f"{f.name}: one of the values in the drop-down list ("
                    + ", ".join(str(v) for v in values) + ")" if values is not None
                    else f"{f.name}: {f.allowed_text()}")
            dv.error = text if len(text) <= 255 else text[:254] + "…"
            dv.errorTitle = "Not allowed here"
            dv.showErrorMessage = True
            sheet.add_data_validation(dv)
            dv.add(cells)
    prisma = book.create_sheet("prisma", index=len(tables))
    prisma.append(["key", "value", "what it is"])
    for path, value, comment in PRISMA_BOXES:
        prisma.append([".".join(path), None if value == {} else value, comment or None])
    for letter, width in (("A", 48), ("B", 12), ("C", 60)):
        prisma.column_dimensions[letter].width = width
    prisma["A1"].font = prisma["B1"].font = prisma["C1"].font = Font(bold=True)
    book.save(target)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# --- the review folder ----------------------------------------------------------------------

def _readme(name: str, xlsx: bool, tables: Sequence[Table]) -> str:
    instruments = [t.name for t in tables if t.optional]
    if xlsx:
        where = (f"`{name}.xlsx`, whose sheets {', '.join(t.name for t in tables)} and prisma "
                 "hold the tables and the PRISMA counts (key, value rows). Every column with a "
                 "list of allowed values has a drop-down list, every number column with a range "
                 "a range check, and every header a comment saying what the column allows. The "
                 f"lists' values are on the hidden `{LISTS_SHEET}` sheet, copied from "
                 "`review.yaml` when the workbook was made: after changing a list in "
                 "`review.yaml`, change that sheet too, or make a new workbook with `python -m "
                 f"synth new NEW_FOLDER --xlsx --vocabulary {name}/review.yaml`.")
    else:
        where = ", ".join(f"`{t.filename}`" for t in tables) + " and `prisma.yaml`."
    more = (f" Quality instruments: {', '.join(instruments)}; delete the "
            f"{'sheets' if xlsx else 'files'} of those you do not use." if instruments else "")
    paragraphs = [
        f"A review folder made by `python -m synth new`: `review.yaml` and {where}",
        "Each table holds one example row, and the PRISMA counts example counts that add up, "
        "to replace with your own." + more,
        "Declare your aims, sites, modalities, models and raters in `review.yaml` first; then "
        f"extract, and run `python -m synth check {name}` as often as you like: it lists "
        "every problem, one line each. The data dictionary below says what every column "
        "allows.",
    ]
    text = "\n\n".join(textwrap.fill(p, width=92, break_on_hyphens=False)
                        for p in paragraphs)
    return (f"# {name}\n\n{text}\n\n"
            + data_dictionary().replace("\n# Data dictionary", "\n## Data dictionary", 1))


def vocabulary_from(path: str | Path) -> Vocabulary:
    """The vocabulary a ``review.yaml`` declares (its defaults for what it does not).

    Raises
    ------
    ReviewDataError
        The file cannot be read, or a list in it is not valid.
    """
    from synth.errors import ReviewDataError
    from synth.io import read_yaml
    from synth.vocabulary import parse_vocabulary

    doc = read_yaml(path, content="a review's vocabulary", allow_empty=True)
    if doc.problems:
        raise ReviewDataError(list(doc.problems), str(path))
    data = doc.data if isinstance(doc.data, dict) else {}
    vocabulary, problems = parse_vocabulary(data, file=doc.label, lines=doc.lines)
    if problems:
        raise ReviewDataError(problems, str(path))
    return vocabulary


def write_review(path: str | Path, *, xlsx: bool = False,
                 vocabulary: Vocabulary = DEFAULT_VOCABULARY,
                 tables: Sequence[Table] = TEMPLATE_TABLES, title: str = "") -> list[Path]:
    """Write a new review folder at ``path``; return the files written.

    Parameters
    ----------
    path
        The folder to create (or an empty folder); its name is the review's name.
    xlsx
        False: one CSV file per table and ``prisma.yaml``. True: one workbook,
        ``<path>/<folder name>.xlsx``, with a sheet per table, the ``prisma`` sheet and the
        hidden ``lists`` sheet of drop-down values.
    vocabulary
        Written into ``review.yaml``; the example rows and drop-down lists follow it.
    tables
        The tables to include, in order (:data:`TEMPLATE_TABLES`).
    title
        The review's title in ``review.yaml`` (a placeholder when empty).

    Raises
    ------
    FileExistsError
        ``path`` exists and is not an empty folder: nothing is written.
    """
    folder = Path(path)
    vocabulary = replace(vocabulary, declared=frozenset(VOCABULARY_KEYS))  # review.yaml's
    if folder.exists() and not (folder.is_dir() and not any(folder.iterdir())):
        what = "a folder that is not empty" if folder.is_dir() else "a file"
        raise FileExistsError(f"{folder} is {what}; synth new writes a new review only into "
                              "a new or empty folder")
    texts: dict[str, str] = {"review.yaml": review_yaml(vocabulary, title=title),
                             "README.md": _readme(folder.name, xlsx, tables)}
    if not xlsx:
        texts |= {t.filename: _csv_text(t, vocabulary) for t in tables}
        texts["prisma.yaml"] = prisma_yaml()
    book = f"{folder.name}.xlsx"
    targets = [folder / name for name in texts] + ([folder / book] if xlsx else [])
    created = not folder.exists()
    try:
        with atomic_paths(targets) as temps:
            for tmp, target in zip(temps, targets, strict=True):
                if target.name in texts:
                    tmp.write_text(texts[target.name], encoding="utf-8")
                else:
                    _write_workbook(tmp, tables, vocabulary)
    except BaseException:
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    return targets
