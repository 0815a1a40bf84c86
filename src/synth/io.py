"""Read a review's files: one reader per format, the same problem messages for every file.

Every input table (``studies.csv``, ``performance.csv``, ``quality.csv``, the screening log)
goes through :func:`read_csv` or :func:`read_workbook`, every YAML file (``review.yaml``,
``prisma.yaml``) through :func:`read_yaml`. The readers only read: they return text cells (or
the parsed YAML) and the problems of reading, in :class:`~synth.errors.Problem` form with rows
numbered as a spreadsheet shows them (:func:`~synth.errors.sheet_row`); what the cells must
hold is checked by the data model (:mod:`synth.review`, :mod:`synth.prisma_counts`), which
turns text into numbers with :func:`number_style` and :func:`parse_numbers`.

Problems a reader reports, the same for every file of its format, each on one line and never
as a traceback:

* ``file is empty`` (a byte-order mark or blank lines only) — what the file should hold;
* ``byte 0xe9 is not UTF-8 text`` on the line of the byte — save the file as (CSV) UTF-8;
* CSV: the delimiter (``,``, ``;`` as some spreadsheet locales save, or a tab) is the one the
  header row holds most of; ``20 cells`` on a row with more cells than the header; a row whose
  cells are separated by tabs in a file separated by ``,`` or ``;``; a quote that never closes
  or text after a closing quote, on the spreadsheet row where the cell starts;
* numbers: a file's decimal mark and thousands separator are read from its unambiguous
  numbers (``0,85`` has a decimal comma, ``1.234,5`` groups thousands with dots); a number
  that breaks the file's convention, or that could be read two ways in a file that shows no
  convention (``1.000``: one, or one thousand?), is a problem, never silently changed;
* workbooks: a formula saved without its value, and an error value (``#DIV/0!``, ``#N/A``),
  in any cell, as ``book.xlsx[sheet]:row:column``; Excel's lock files (``~$book.xlsx``) are
  not workbooks (:func:`find_workbooks`);
* YAML: the parser's complaint on its line; a key given twice; more than
  :data:`YAML_MAX_DEPTH` levels of nesting, aliases that expand to more than
  :data:`YAML_MAX_VALUES` values, a file larger than :data:`YAML_MAX_BYTES` — each refused
  before it costs time or memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from synth.errors import HEADER_ROW, Problem, sheet_row

__all__ = [
    "stripped_text",
    "Sheet",
    "Workbook",
    "Document",
    "NumberStyle",
    "YAML_MAX_BYTES",
    "YAML_MAX_DEPTH",
    "YAML_MAX_VALUES",
    "read_csv",
    "read_workbook",
    "find_workbooks",
    "read_yaml",
    "key_value_sheet",
    "number_style",
    "parse_numbers",
]

YAML_MAX_BYTES = 256 * 1024
"""Largest YAML file read (``prisma.yaml`` and ``review.yaml`` hold a few kilobytes)."""

YAML_MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a YAML file (synth's files use three levels)."""

YAML_MAX_VALUES = 10_000
"""Most values a YAML file may hold once its aliases (``*name``) are expanded."""

_README = "see data/README.md"
_TABLE_CONTENT = "a header row and one row per record"
_DELIMITERS = (",", ";", "\t")
_SHOWN = {",": "','", ";": "';'", "\t": "tab"}
_WHOLE_NUMBER = re.compile(r"[+-]?\d+(\.0+)?")


@dataclass(frozen=True)
class Sheet:
    """One input table as read: text cells, before any validation.

    ``frame`` holds every cell as text (an empty cell is missing), rows in file order and
    indexed from 0, so data row ``i`` is spreadsheet row :func:`~synth.errors.sheet_row` ``(i)``;
    it is None when the file cannot be read, and ``problems`` say why. A workbook sheet may
    have both: cells that hold a formula without its value or an error value are missing in
    ``frame`` and named in ``problems``. ``label`` names the table in problems
    (``studies.csv``, ``review.xlsx[studies]``); ``sep`` is the CSV delimiter; ``decimal`` is
    ``"."`` for a workbook's sheet (its numbers are numbers) and None for a CSV file, whose
    convention :func:`number_style` reads from its cells.
    """

    frame: pd.DataFrame | None
    label: str
    sep: str = ","
    problems: tuple[Problem, ...] = ()
    decimal: str | None = None


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
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(label, 1, None, "UTF-16 text", fix)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(label, line, None, f"byte 0x{raw[exc.start]:02x} is not UTF-8 text",
                              fix)]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Problem(label, line, None, "a NUL byte (binary data, not text)", fix)]
    return text, []


# --- CSV -------------------------------------------------------------------------------------

def _delimiter(header: str) -> str:
    """The delimiter the header row holds most of, outside quotes (``,`` when none)."""
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])  # ties go to the first: ','
    return best if counts[best] else ","


def _column_names(header: list[str]) -> list[str]:
    """Header cells as column names: empty ones ``Unnamed: <i>``, repeats ``name.1`` (pandas')."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = cell if cell.strip() else f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _csv_rows(text: str, sep: str, label: str) -> tuple[list[list[str]], list[Problem]]:
    """Records of ``text``; a quoting problem on the spreadsheet row where its cell starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    try:
        for record in reader:
            rows.append(record)
    except csv.Error as exc:
        row = len(rows) + 1
        message = str(exc)
        if "expected after" in message:
            what = "text after the closing quote of a cell"
            allowed = ("a quote only around a whole cell; a quote inside a quoted cell is "
                       'written twice ("")')
        elif "end of data" in message or "field larger" in message:
            what = "a quote opens a cell that never closes"
            allowed = 'a closing quote at the end of the cell (a quote inside a cell: "")'
        else:
            what, allowed = message, "a well-formed CSV file"
        return rows, [Problem(label, row, None, what, allowed)]
    return rows, []


def read_csv(path: str | Path) -> Sheet:
    """Read a CSV table as text cells; never raises for a bad file, returns its problems.

    Parameters
    ----------
    path
        A UTF-8 CSV file (a byte-order mark is fine) with a header row, separated by ``,``,
        ``;`` or tabs (whichever the header row holds most of).

    Returns
    -------
    Sheet
        ``frame`` with every cell as text and empty cells missing; blank lines are kept as
        empty rows, so row numbers stay those of the file (a cell that spans lines inside
        quotes counts as one row, as in a spreadsheet). ``label`` is the file's name.
    """
    path = Path(path)
    label = path.name
    if not path.is_file():
        return Sheet(None, label, problems=(Problem(str(path), None, None, "no such file",
                                                    f"a CSV file ({_README})"),))
    raw = path.read_bytes()
    text, problems = _decode(raw, label, "save the file as CSV UTF-8")
    if text is None:
        return Sheet(None, label, problems=tuple(problems))
    if not text.strip():
        return Sheet(None, label, problems=(_empty(label, _TABLE_CONTENT),))
    text = text.lstrip("\r\n")
    sep = _delimiter(text.splitlines()[0])
    rows, problems = _csv_rows(text, sep, label)
    if problems:
        return Sheet(None, label, sep, tuple(problems))
    header, records = rows[0], rows[1:]
    width = len(header)
    for i, record in enumerate(records):
        row = sheet_row(i)
        if len(record) > width:
            problems.append(Problem(label, row, None, f"{len(record)} cells",
                                    f"{width} cells, one per header column; quote cells that "
                                    f"contain {_SHOWN[sep]}"))
        elif sep != "\t" and len(record) < width and any("\t" in c for c in record):
            problems.append(Problem(label, row, None, "cells separated by tabs",
                                    f"cells separated by {_SHOWN[sep]}, as in the header row"))
    if problems:
        return Sheet(None, label, sep, tuple(problems))
    cells = [[c if c != "" else None for c in r] + [None] * (width - len(r)) for r in records]
    frame = pd.DataFrame(cells, columns=_column_names(header), dtype=object)
    return Sheet(frame, label, sep)


# --- numbers ---------------------------------------------------------------------------------

_MARKED = {".": re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?"),
           ",": re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")}
_GROUPED = {mark: re.compile(rf"[+-]?[1-9]\d{{0,2}}(\{mark}\d{{3}})+") for mark in ".,"}
_GROUPED_DECIMAL = {mark: re.compile(rf"[+-]?[1-9]\d{{0,2}}(\{other}\d{{3}})+\{mark}\d+")
                    for mark, other in ((".", ","), (",", "."))}
_CANONICAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_OTHER = {".": ",", ",": "."}
_MARK_NAME = {".": "decimal point", ",": "decimal comma"}


@dataclass(frozen=True)
class NumberStyle:
    """How one file writes numbers: its decimal mark, the other mark grouping thousands.

    ``decimal`` is ``"."`` or ``","``, or None when no number of the file shows it; then a
    number that could be read two ways (``1.000``: one, or one thousand?) is a problem, never
    guessed. With a known decimal mark the other mark may only group thousands (``1.234,5``).
    ``evidence`` names the cell the convention was read from, for messages.
    """

    decimal: str | None = "."
    evidence: str = ""


def _decimal_mark(text: str) -> str | None:
    """The decimal mark one number's text shows beyond doubt, else None (``1.000``, ``12``)."""
    for mark in ".,":
        if _GROUPED_DECIMAL[mark].fullmatch(text):
            return mark
        if _MARKED[mark].fullmatch(text) and not _GROUPED[mark].fullmatch(text):
            return mark
    return None


def number_style(sheet: Sheet, columns: Iterable[str]) -> NumberStyle:
    """The number convention of ``sheet``, read from the cells of its numeric ``columns``.

    A workbook sheet's numbers are numbers (decimal point). In a CSV file the numbers that show
    their decimal mark beyond doubt decide: ``0,85`` or ``1.234,5`` mean a decimal comma (dots
    then only group thousands), ``0.85`` or ``1,234.5`` a decimal point. When a file shows
    both, the more frequent one is its convention (on a tie: the decimal comma in a file
    separated by ``;``, else the point) and :func:`parse_numbers` refuses the others.
    """
    if sheet.decimal is not None or sheet.frame is None:
        return NumberStyle(sheet.decimal or ".")
    counts = {".": 0, ",": 0}
    first: dict[str, tuple[Any, str, str]] = {}
    for col in columns:
        if col not in sheet.frame:
            continue
        text = stripped_text(sheet.frame[col])
        if text.empty:
            continue
        marks = _decimal_marks(text)
        for mark in ".,":
            hits = marks[marks == mark]
            counts[mark] += len(hits)
            if len(hits) and mark not in first:
                idx = hits.index[0]
                first[mark] = (idx, col, text[idx])
    if not counts["."] and not counts[","]:
        return NumberStyle(None)
    if counts[","] != counts["."]:
        mark = max(".,", key=lambda m: counts[m])
    else:
        mark = "," if sheet.sep == ";" else "."
    idx, col, value = first[mark]
    return NumberStyle(mark, f"row {sheet_row(idx)} ({col}: {value!r})")


def stripped_text(series: pd.Series) -> pd.Series:
    """The non-blank text cells of ``series``, stripped (other cells left out)."""
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        is_text = series.notna()  # all text or missing (a CSV): no look at each cell
    else:
        is_text = series.map(lambda v: isinstance(v, str)).astype(bool)
    text = series[is_text].astype(str).str.strip()
    return text[text != ""]


def _decimal_marks(text: pd.Series) -> pd.Series:
    """:func:`_decimal_mark` of every cell of ``text`` at once (None where no mark shows)."""
    out = pd.Series(None, index=text.index, dtype=object)
    for mark in ".,":
        cells = text[out.isna() & text.str.contains(mark, regex=False)]
        shows = cells.str.fullmatch(_GROUPED_DECIMAL[mark].pattern) | (
            cells.str.fullmatch(_MARKED[mark].pattern)
            & ~cells.str.fullmatch(_GROUPED[mark].pattern))
        out[shows[shows].index] = mark
    return out


def parse_numbers(series: pd.Series, style: NumberStyle) -> tuple[pd.Series, dict[Any, str]]:
    """Numbers from text cells in ``style``; return (floats, {index: hint} of cells that fail).

    A missing or blank cell is missing (NaN). The hint says why a number-like cell fails
    (``" (this file writes numbers with a decimal comma, as row 3 (auc: '0,85'))"``) and is
    empty for text that is no number at all.
    """
    out = pd.Series(float("nan"), index=series.index, dtype=float)
    bad: dict[Any, str] = {}
    text = stripped_text(series)
    # Fast path, vectorised: the cells _number reads as they stand (plain numbers in the
    # file's convention); every other cell goes through _number one at a time.
    plain = text.str.fullmatch(_CANONICAL.pattern if style.decimal == "." else r"[+-]?\d+")
    values = pd.to_numeric(text[plain], errors="coerce").astype(float)
    finite = values[np.isfinite(values)]
    out[finite.index] = finite
    slow: dict[Any, float] = {}
    for idx, value in text.drop(finite.index).items():
        number, hint = _number(value, style)
        if number is None:
            bad[idx] = hint
        else:
            slow[idx] = number
    if slow:
        out[list(slow)] = list(slow.values())
    return out, bad


def _number(text: str, style: NumberStyle) -> tuple[float | None, str]:
    """One cell's number in ``style``, or None and why."""
    decimal = style.decimal
    if decimal is None:
        for mark in ".,":
            if _GROUPED[mark].fullmatch(text):
                grouped = text.replace(mark, "")
                readings = (f"{text.replace(mark, '.')} or {grouped}" if text.count(mark) == 1
                            else grouped)
                return None, (f" ({readings}? no other number in this file shows its decimal "
                              f"mark; write it without a thousands separator)")
        decimal = _decimal_mark(text) or "."
    other = _OTHER[decimal]
    canonical = text
    if other in text:
        whole = text.split(decimal)[0]
        if not _GROUPED[other].fullmatch(whole):
            shown = f", as {style.evidence}" if style.evidence else ""
            return None, (f" (this file writes numbers with a {_MARK_NAME[decimal]}{shown}; "
                          f"'{other}' only between groups of three digits)")
        canonical = text.replace(other, "")
    canonical = canonical.replace(decimal, ".")
    if not _CANONICAL.fullmatch(canonical):
        return None, ""
    number = float(canonical)
    if number in (float("inf"), float("-inf")):
        return None, ""
    return number, ""


# --- workbooks -------------------------------------------------------------------------------

_LOCK_PREFIXES = ("~$", ".~lock", "._")
"""Names of the files that Excel (``~$book.xlsx``), LibreOffice and macOS leave beside a
workbook; they are never a review's workbook."""


def find_workbooks(folder: str | Path) -> list[Path]:
    """The ``.xlsx`` workbooks in ``folder``, by name, without Excel's lock files (``~$…``)."""
    return sorted(p for p in Path(folder).glob("*.xlsx")
                  if p.is_file() and not p.name.startswith(_LOCK_PREFIXES))


def _cell_text(value: Any) -> str | None:
    """A workbook cell's value as the text a CSV file would hold (None when empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return text if text else None


def _formula_text(cell: Any) -> str | None:
    """The formula of a cell (``=B2/C2``), or None."""
    value = getattr(cell, "value", None)
    text = getattr(value, "text", value)  # an array formula holds its text in .text
    return text if isinstance(text, str) and text.startswith("=") else None


def _read_sheet(values: Any, formulas: Any, label: str) -> Sheet:
    """One worksheet: text cells, and the cells holding an unsaved formula or an error value."""
    grid = [list(r) for r in values.iter_rows()]
    forms = [list(r) for r in formulas.iter_rows()]
    while grid and all(c.value is None for c in grid[-1]):
        grid.pop()
    if not grid:
        return Sheet(pd.DataFrame(), label, decimal=".")
    width = max(len(r) for r in grid)
    header_cells = grid[0] + [None] * (width - len(grid[0]))
    header = [_cell_text(getattr(c, "value", None)) or "" for c in header_cells]
    while width and not header[width - 1] and all(
            len(r) < width or r[width - 1].value is None for r in grid[1:]):
        width -= 1
    header = header[:width]
    names = _column_names(header)
    problems: list[Problem] = []
    rows: list[list[str | None]] = []
    for r, cells in enumerate(grid):
        texts: list[str | None] = []
        for j in range(width):
            cell = cells[j] if j < len(cells) else None
            value = getattr(cell, "value", None)
            formula = None
            if r < len(forms) and j < len(forms[r]):
                formula = _formula_text(forms[r][j])
            column = header[j].strip() or f"column {j + 1}"
            where = HEADER_ROW + r
            if getattr(cell, "data_type", None) == "e":
                what = f"formula {formula} gives {value}" if formula else str(value)
                problems.append(Problem(label, where, column, what,
                                        "a value, or an empty cell where it is not known "
                                        "(correct the formula or type the value)"))
                value = None
            elif value is None and formula:
                problems.append(Problem(label, where, column,
                                        f"formula {formula} without a saved value",
                                        "a value: open the workbook in Excel or LibreOffice and "
                                        "save it so each formula's result is stored, or type "
                                        "the value"))
            texts.append(_cell_text(value))
        if r:
            rows.append(texts)
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return Sheet(frame, label, problems=tuple(problems), decimal=".")


def read_workbook(path: str | Path) -> Workbook:
    """Read every sheet of an ``.xlsx`` workbook as text cells.

    Cells are read as the workbook saved them: numbers as numbers (whole numbers without
    ``.0``), text as typed (``NA`` stays ``NA``), dates as ``2019-05-01``. A cell holding an
    error value (``#DIV/0!``) or a formula whose value was never saved (a file written by a
    program rather than by Excel or LibreOffice) is missing in the sheet's frame and a
    problem of the sheet, whatever its column.

    Returns
    -------
    Workbook
        Sheets by name (surrounding spaces stripped), each labelled ``book.xlsx[sheet]``; or
        no sheets and the problem when the file is not a readable workbook.
    """
    import openpyxl

    path = Path(path)
    books = []
    try:
        for data_only in (True, False):
            books.append(openpyxl.load_workbook(path, read_only=True, data_only=data_only))
        out = {}
        for values, formulas in zip(books[0].worksheets, books[1].worksheets, strict=True):
            if not hasattr(values, "iter_rows"):
                continue
            key = str(values.title).strip()
            out[key] = _read_sheet(values, formulas, f"{path.name}[{key}]")
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many types for a damaged file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Workbook(problems=(Problem(path.name, None, None,
                                          f"cannot be read as a workbook ({reason})",
                                          "an .xlsx file saved by Excel or LibreOffice"),))
    finally:
        for book in books:
            book.close()
    return Workbook(out)


# --- YAML ------------------------------------------------------------------------------------

_YAML_HELP = "valid YAML (key: value, two-space indents)"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML has it (its wheels do): fast, and it bounds nesting itself;
the pure-Python parser reads ahead quadratically on deeply nested flow collections."""
_NESTED = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_NESTED_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _too_deep(label: str, line: int | None) -> Problem:
    return Problem(label, line, None, f"nesting deeper than {YAML_MAX_DEPTH} levels",
                   f"at most {YAML_MAX_DEPTH} levels of mappings and lists ({_README})")


def _bounds(text: str, label: str) -> Problem | None:
    """Walk the parser's events once: nesting deeper than allowed, or aliases that expand to
    more values than allowed, is a problem on its line; nothing is built."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, values inside] per open mapping or list
    total = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, _NESTED):
            if len(stack) >= YAML_MAX_DEPTH:
                return _too_deep(label, line)
            stack.append([event.anchor, 1])
            continue
        if isinstance(event, _NESTED_END):
            anchor, n = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, n = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, n = None, sizes.get(event.anchor, 1)
        else:
            continue
        if anchor is not None:
            sizes[anchor] = n
        if stack:
            stack[-1][1] += n
            n = stack[-1][1]
        else:
            total += n
            n = total
        if n > YAML_MAX_VALUES:
            return Problem(label, line, None,
                           f"aliases expand to more than {YAML_MAX_VALUES} values",
                           "the keys of data/README.md, each written out (anchors '&' and "
                           "aliases '*' only for a few repeated values)")
    return None


def _repeated_keys(node: yaml.Node, label: str) -> list[Problem]:
    """A key written twice in one mapping, on the line of its second use."""
    problems: list[Problem] = []
    seen_nodes: set[int] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in current.value:
                todo.append(value)
                if not isinstance(key, yaml.ScalarNode) or key.tag.endswith(":merge"):
                    continue
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first:
                    problems.append(Problem(label, line, key.value, "key repeated",
                                            f"each key once in its mapping; first on line "
                                            f"{first[(key.tag, key.value)]}"))
                else:
                    first[(key.tag, key.value)] = line
        elif isinstance(current, yaml.SequenceNode):
            todo.extend(current.value)
    return sorted(problems, key=lambda p: p.row or 0)


def _line_map(node: yaml.Node | None) -> dict[tuple[str, ...], int]:
    """Map each key path of a YAML mapping to its line number (1-based)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(current: Any, path: tuple[str, ...]) -> None:
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                p = (*path, str(k.value))
                lines.setdefault(p, k.start_mark.line + 1)
                walk(v, p)

    walk(node, ())
    return lines


def read_yaml(path: str | Path, *, content: str, allow_empty: bool = False) -> Document:
    """Read a YAML file and the line of each of its keys, within bounds.

    Parameters
    ----------
    path
        A UTF-8 YAML file (a byte-order mark is fine) of at most :data:`YAML_MAX_BYTES`.
    content
        What the file holds, for the message about an empty file (``"PRISMA counts"``).
    allow_empty
        An empty file is no problem (its ``data`` is None), as for ``review.yaml``, whose
        keys are all optional.

    Returns
    -------
    Document
        The parsed data and the key lines; on a problem ``data`` is None and ``problems``
        names the line (of a bad byte, where the YAML parser gave up, of a repeated key, of
        nesting deeper than :data:`YAML_MAX_DEPTH`, of aliases expanding beyond
        :data:`YAML_MAX_VALUES` values).
    """
    path = Path(path)
    label = path.name
    size = path.stat().st_size
    if size > YAML_MAX_BYTES:
        return Document(None, label, problems=(Problem(
            label, None, None, f"{size / 1024:.0f} KB",
            f"at most {YAML_MAX_BYTES // 1024} KB: {content} ({_README})"),))
    text, problems = _decode(path.read_bytes(), label, "save the file as UTF-8")
    if text is None:
        return Document(None, label, problems=tuple(problems))
    if not text.strip():
        return Document(None, label, problems=() if allow_empty else (_empty(label, content),))
    try:
        bound = _bounds(text, label)
        if bound is not None:
            return Document(None, label, problems=(bound,))
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            repeated = _repeated_keys(node, label) if node is not None else []
            if repeated:
                return Document(None, label, problems=tuple(repeated))
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or "not valid YAML"
        if "nesting depth" in what:  # libyaml's own bound, reached before ours
            return Document(None, label, problems=(_too_deep(label, line),))
        return Document(None, label, problems=(Problem(label, line, None, what, _YAML_HELP),))
    if data is None and not allow_empty:
        return Document(None, label, problems=(_empty(label, content),))
    return Document(data, label, _line_map(node))


# --- a workbook's mapping sheet --------------------------------------------------------------

def _key_path(key: str, names: Collection[tuple[str, ...]]) -> tuple[str, ...]:
    """Split a dotted key at its dots, except inside a name: below a path in ``names`` the
    rest of the key, dots and all, is one key (``excluded_reasons.Not GEP-NET, e.g. lung.``)."""
    parts = key.split(".")
    path: tuple[str, ...] = ()
    for i, part in enumerate(parts):
        if path in names:
            return (*path, ".".join(parts[i:]).strip())
        path = (*path, part.strip())
    return path


def key_value_sheet(sheet: Sheet, *, names: Collection[tuple[str, ...]] = ()) -> Document:
    """A workbook's mapping sheet (``prisma``) as :func:`read_yaml` would give the YAML file.

    The sheet has two columns, ``key`` and ``value``; dotted keys (``databases.PubMed``,
    ``removed_before_screening.duplicates``) make nested mappings. Below a key path listed in
    ``names`` (for PRISMA counts ``databases``, ``excluded_reasons``, … —
    :data:`synth.prisma_counts.NAMED_KEYS`) the rest of the key is one name, so a name may
    hold dots (``excluded_reasons.Not GEP-NET, e.g. lung.``). Whole numbers become ``int``,
    empty values None, other values text; each key's line is its spreadsheet row. A key given
    twice, or given a value and also used as the heading of dotted keys, is a problem.
    """
    frame = sheet.frame
    if frame is None or sheet.problems:
        return Document(None, sheet.label, problems=sheet.problems)
    if list(frame.columns[:2]) != ["key", "value"]:
        return Document(None, sheet.label, problems=(
            Problem(sheet.label, HEADER_ROW, None, f"columns {list(frame.columns)}",
                    "two columns: key, value"),))
    data: dict[str, Any] = {}
    lines: dict[tuple[str, ...], int] = {}
    valued: dict[tuple[str, ...], int] = {}
    problems: list[Problem] = []
    for i, key, value in frame[["key", "value"]].itertuples():
        row = sheet_row(i)
        text = None if value is None or pd.isna(value) else str(value).strip() or None
        if key is None or pd.isna(key) or not str(key).strip():
            if text is not None:
                problems.append(Problem(sheet.label, row, "key", "(empty)",
                                        "a key such as screened or databases.PubMed"))
            continue
        keys = _key_path(str(key).strip(), names)
        clash = next((keys[:n] for n in range(1, len(keys)) if keys[:n] in valued), None)
        if keys in valued or keys in lines or clash is not None:
            earlier = valued.get(keys) or lines.get(keys) or valued[clash]
            problems.append(Problem(sheet.label, row, "key", repr(str(key).strip()),
                                    f"each key once, not also the heading of dotted keys "
                                    f"(row {earlier})"))
            continue
        node = data
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        number = text is not None and _WHOLE_NUMBER.fullmatch(text)
        node[keys[-1]] = int(text.split(".")[0]) if number else text
        valued[keys] = row
        for n in range(1, len(keys) + 1):
            lines.setdefault(keys[:n], row)
    if problems:
        return Document(None, sheet.label, problems=tuple(problems))
    return Document(data, sheet.label, lines)
