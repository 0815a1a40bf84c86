"""Read a review's files: one reader per format, the same problem messages for every file.

Every input table (``studies.csv``, ``performance.csv``, ``quality.csv``, the screening log)
goes through :func:`read_csv` or :func:`read_workbook`, every YAML file (``review.yaml``,
``prisma.yaml``) through :func:`read_yaml`. The readers only read: they return text cells (or
the parsed YAML) and the problems of reading, in :class:`~synth.errors.Problem` form with rows
numbered as a spreadsheet shows them (:func:`~synth.errors.sheet_row`); what the cells must
hold is checked by the data model (:mod:`synth.review`, :mod:`synth.prisma_counts`).

Problems a reader reports, the same for every file of its format:

* ``file is empty`` — what the file should hold;
* ``byte 0xe9 is not UTF-8 text`` on the line of the byte — save the file as (CSV) UTF-8;
* CSV: ``20 cells`` on the row that has more cells than the header; the delimiter (``,`` or
  ``;``, as some spreadsheet locales save) is taken from the header row;
* YAML: the parser's complaint on its line;
* a workbook that cannot be opened.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from synth.errors import HEADER_ROW, Problem, sheet_row

__all__ = [
    "Sheet",
    "Workbook",
    "Document",
    "read_csv",
    "read_workbook",
    "read_yaml",
    "key_value_sheet",
]

_README = "see data/README.md"
_TABLE_CONTENT = "a header row and one row per record"
_PARSER_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_WHOLE_NUMBER = re.compile(r"\d+(\.0+)?")


@dataclass(frozen=True)
class Sheet:
    """One input table as read: text cells, before any validation.

    ``frame`` holds every cell as text (an empty cell is missing), rows in file order and
    indexed from 0, so data row ``i`` is spreadsheet row :func:`~synth.errors.sheet_row` ``(i)``;
    it is None when the file cannot be read, and ``problems`` say why. ``label`` names the
    table in problems (``studies.csv``, ``review.xlsx[studies]``); ``sep`` is the CSV delimiter
    (``;`` means numbers may carry decimal commas).
    """

    frame: pd.DataFrame | None
    label: str
    sep: str = ","
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Workbook:
    """The sheets of one ``.xlsx`` workbook by (stripped) name, or the problem of opening it."""

    sheets: dict[str, Sheet] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Document:
    """A mapping file as read: the parsed data and the line of every key.

    ``data`` is what the YAML holds (None when empty or unreadable); ``lines`` maps each key
    path, e.g. ``("removed_before_screening", "duplicates")``, to its line (1-based), so that
    a problem with a value can name where it is.
    """

    data: Any
    label: str
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def _empty(label: str, content: str) -> Problem:
    return Problem(label, None, None, "file is empty", f"{content} ({_README})")


def _decode(raw: bytes, label: str, fix: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text (a byte-order mark dropped), or the problem on the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(label, line, None, f"byte 0x{raw[exc.start]:02x} is not UTF-8 text",
                              fix)]


def read_csv(path: str | Path) -> Sheet:
    """Read a CSV table as text cells; never raises for a bad file, returns its problems.

    Parameters
    ----------
    path
        A UTF-8 CSV file (a byte-order mark is fine) with a header row, separated by ``,`` or
        by ``;`` (whichever the header holds more of).

    Returns
    -------
    Sheet
        ``frame`` with every cell as text and empty cells missing; blank lines are kept as
        empty rows, so row numbers stay those of the file. ``label`` is the file's name.
    """
    path = Path(path)
    label = path.name
    if not path.is_file():
        return Sheet(None, label, problems=(Problem(str(path), None, None, "no such file",
                                                    f"a CSV file ({_README})"),))
    raw = path.read_bytes()
    if not raw.strip():
        return Sheet(None, label, problems=(_empty(label, _TABLE_CONTENT),))
    text, problems = _decode(raw, label, "save the file as CSV UTF-8")
    if text is None:
        return Sheet(None, label, problems=tuple(problems))
    header = text.lstrip("\r\n").splitlines()[0]
    sep = ";" if header.count(";") > header.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_values=[""], skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        m = _PARSER_ERROR.search(str(exc))
        if m:
            expected, line, saw = m.groups()
            problem = Problem(label, int(line), None, f"{saw} cells",
                              f"{expected} cells, one per header column; quote cells that "
                              f"contain '{sep}'")
        else:
            problem = Problem(label, None, None, str(exc).strip(), "a well-formed CSV file")
        return Sheet(None, label, sep, (problem,))
    return Sheet(frame, label, sep)


def read_workbook(path: str | Path) -> Workbook:
    """Read every sheet of an ``.xlsx`` workbook as text cells.

    Returns
    -------
    Workbook
        Sheets by name (surrounding spaces stripped), each labelled ``book.xlsx[sheet]``; or
        no sheets and the problem when the file is not a readable workbook.
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or non-xlsx file
        return Workbook(problems=(Problem(path.name, None, None,
                                          f"cannot be read as a workbook ({exc})",
                                          "an .xlsx file saved by Excel or LibreOffice"),))
    out = {}
    for name, frame in sheets.items():
        key = str(name).strip()
        out[key] = Sheet(frame.reset_index(drop=True), f"{path.name}[{key}]")
    return Workbook(out)


def _line_map(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path of a YAML mapping to its line number (1-based)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                p = (*path, str(k.value))
                lines[p] = k.start_mark.line + 1
                walk(v, p)

    walk(yaml.compose(text), ())
    return lines


def read_yaml(path: str | Path, *, content: str, allow_empty: bool = False) -> Document:
    """Read a YAML file and the line of each of its keys.

    Parameters
    ----------
    path
        A UTF-8 YAML file (a byte-order mark is fine).
    content
        What the file holds, for the message about an empty file (``"PRISMA counts"``).
    allow_empty
        An empty file is no problem (its ``data`` is None), as for ``review.yaml``, whose
        keys are all optional.

    Returns
    -------
    Document
        The parsed data and the key lines; on a problem ``data`` is None and ``problems``
        names the line (of a bad byte, or where the YAML parser gave up).
    """
    path = Path(path)
    label = path.name
    text, problems = _decode(path.read_bytes(), label, "save the file as UTF-8")
    if text is None:
        return Document(None, label, problems=tuple(problems))
    if not text.strip():
        return Document(None, label, problems=() if allow_empty else (_empty(label, content),))
    try:
        data = yaml.safe_load(text)
        lines = _line_map(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or "not valid YAML"
        return Document(None, label, problems=(
            Problem(label, line, None, what, "valid YAML (key: value, two-space indents)"),))
    return Document(data, label, lines)


def key_value_sheet(sheet: Sheet) -> Document:
    """A workbook's mapping sheet (``prisma``) as :func:`read_yaml` would give the YAML file.

    The sheet has two columns, ``key`` and ``value``; dotted keys (``databases.PubMed``,
    ``removed_before_screening.duplicates``) make nested mappings. Whole numbers become
    ``int``, empty values None, other values text; each key's line is its spreadsheet row.
    """
    frame = sheet.frame
    if frame is None:
        return Document(None, sheet.label, problems=sheet.problems)
    if list(frame.columns[:2]) != ["key", "value"]:
        return Document(None, sheet.label, problems=(
            Problem(sheet.label, HEADER_ROW, None, f"columns {list(frame.columns)}",
                    "two columns: key, value"),))
    data: dict[str, Any] = {}
    lines: dict[tuple[str, ...], int] = {}
    rows = frame[["key", "value"]].dropna(how="all")
    for i, key, value in rows.itertuples():
        keys = tuple(str(key).strip().split("."))
        node = data
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        text = None if pd.isna(value) else str(value).strip()
        node[keys[-1]] = int(float(text)) if text and _WHOLE_NUMBER.fullmatch(text) else text
        for n in range(1, len(keys) + 1):
            lines.setdefault(keys[:n], sheet_row(i))
    return Document(data, sheet.label, lines)
