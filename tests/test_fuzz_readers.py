"""Property-based tests of synth.io's readers: any input gives data or one-line problems.

hypothesis draws random bytes, random CSV dialects (delimiter, quoting, line ends, byte-order
mark), numbers written in either decimal convention, random workbook cells and random YAML;
whatever the input, a reader returns without raising, every problem is one line naming the
file, and what a well-formed file holds is read back unchanged (a number read is the number
written, or the cell is refused — never a different number). Examples are derandomised, so a
run is repeatable.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth.errors import Problem
from synth.io import (
    key_value_sheet,
    number_style,
    parse_numbers,
    read_csv,
    read_workbook,
    read_yaml,
)
from synth.prisma_counts import NAMED_KEYS

FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=150,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _one_line_each(problems: tuple[Problem, ...] | list[Problem], name: str) -> None:
    for problem in problems:
        text = str(problem)
        assert text.startswith(name) and "\n" not in text and "Traceback" not in text, text


@pytest.fixture
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- random bytes ----------------------------------------------------------------------------

@FUZZ
@given(raw=st.binary(max_size=2000))
def test_any_bytes_as_csv(folder: Path, raw: bytes):
    path = folder / "t.csv"
    path.write_bytes(raw)
    sheet = read_csv(path)
    _one_line_each(sheet.problems, "t.csv")
    assert (sheet.frame is None) == bool(sheet.problems)


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_any_bytes_as_yaml(folder: Path, raw: bytes):
    path = folder / "prisma.yaml"
    path.write_bytes(raw)
    doc = read_yaml(path, content="PRISMA counts")
    _one_line_each(doc.problems, "prisma.yaml")


@settings(FUZZ, max_examples=40)
@given(raw=st.binary(max_size=500), zipped=st.booleans())
def test_any_bytes_as_a_workbook(folder: Path, raw: bytes, zipped: bool):
    import zipfile

    path = folder / "r.xlsx"
    if zipped:  # a zip archive whose parts are garbage
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", raw)
            z.writestr("xl/workbook.xml", raw)
    else:
        path.write_bytes(raw)
    book = read_workbook(path)
    _one_line_each(book.problems, "r.xlsx")


_YAML_CHARS = st.sampled_from(list("ab1 :-[]{},&*!|>'\"#?%@`\t\n\ufeff.") + ["  ", ": ", "- "])


@FUZZ
@given(text=st.lists(_YAML_CHARS, max_size=200).map("".join))
def test_yaml_like_text(folder: Path, text: str):
    path = folder / "review.yaml"
    path.write_text(text, encoding="utf-8")
    doc = read_yaml(path, content="title", allow_empty=True)
    _one_line_each(doc.problems, "review.yaml")


# --- random CSV dialects: what a well-formed file holds is read back -------------------------

_HEADER = st.from_regex(r"[a-z][a-z_0-9]{0,8}", fullmatch=True)
_CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                max_size=12)
"""Cells of a well-formed file. A lone CR is left out: Python's csv writer leaves it unquoted
when rows end in LF, which makes a file no reader can split into the rows written."""


@FUZZ
@given(data=st.data(), sep=st.sampled_from([",", ";", "\t"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_csv_dialects_round_trip(folder: Path, data, sep: str, quoting: int, newline: str,
                                 bom: bool):
    header = data.draw(st.lists(_HEADER, min_size=2, max_size=5, unique=True))
    rows = data.draw(st.lists(st.lists(_CELL, min_size=len(header), max_size=len(header)),
                              min_size=1, max_size=6))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=sep, quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path = folder / "t.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8"))
    sheet = read_csv(path)
    _one_line_each(sheet.problems, "t.csv")
    assert sheet.problems == () and sheet.sep == sep
    assert list(sheet.frame.columns) == header
    got = [[None if pd.isna(v) else v for v in r] for r in sheet.frame.itertuples(index=False)]
    assert got == [[c if c != "" else None for c in r] for r in rows]


# --- numbers: never a different number -------------------------------------------------------

def _written(value: Decimal, decimal: str, grouped: bool) -> str:
    """``value`` as a spreadsheet in one locale writes it."""
    sign, whole, fraction = ("-" if value < 0 else ""), *f"{abs(value):f}".partition(".")[::2]
    if grouped:
        whole = f"{int(whole):,}".replace(",", "." if decimal == "," else ",")
    return sign + whole + (decimal + fraction if fraction else "")


_VALUES = st.decimals(min_value=-10**7, max_value=10**7, places=3, allow_nan=False,
                      allow_infinity=False)


@FUZZ
@given(values=st.lists(_VALUES, min_size=1, max_size=8), decimal=st.sampled_from([".", ","]),
       sep=st.sampled_from([",", ";"]), grouping=st.lists(st.booleans(), min_size=8,
                                                           max_size=8))
def test_a_number_read_is_the_number_written(folder: Path, values: list[Decimal], decimal: str,
                                             sep: str, grouping: list[bool]):
    cells = [_written(v, decimal, g) for v, g in zip(values, grouping, strict=False)]
    path = folder / "t.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=sep)
        writer.writerow(["id", "x"])  # a one-column file shows no delimiter
        writer.writerows([f"s{i}", c] for i, c in enumerate(cells))
    sheet = read_csv(path)
    assert sheet.problems == ()
    parsed, bad = parse_numbers(sheet.frame["x"], number_style(sheet, ["x"]))
    for i, (value, cell) in enumerate(zip(values, cells, strict=True)):
        if i in bad:
            continue
        assert parsed[i] == float(value), f"{cell!r} read as {parsed[i]}, written {value}"


# --- random workbook cells -------------------------------------------------------------------

_WORKBOOK_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10),
    st.sampled_from(["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                     "=1+1", "=A1/0", "=SUM(A1:A2)", "NA", "None", "n/a"]),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
)


@settings(FUZZ, max_examples=40)
@given(cells=st.lists(st.lists(_WORKBOOK_VALUE, min_size=2, max_size=4), min_size=1,
                      max_size=5))
def test_random_workbook_cells(folder: Path, cells: list[list]):
    import openpyxl

    path = folder / "r.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "prisma"
    sheet.append(["key", "value"])
    for row in cells:
        sheet.append(row)
    book.save(path)
    read = read_workbook(path)
    assert read.problems == ()
    (got,) = read.sheets.values()
    _one_line_each(got.problems, "r.xlsx[prisma]")
    flagged = {(p.row, p.column) for p in got.problems}
    for r, row in enumerate(cells, start=2):
        for j, value in enumerate(row[:2]):
            text = got.frame.iloc[r - 2, j] if r - 2 < len(got.frame) else None
            if isinstance(value, str) and value.startswith(("#", "=")) and value != "#":
                assert (r, ["key", "value"][j]) in flagged and text is None, (value, text)
            elif isinstance(value, str) and value:
                assert text == value
            elif isinstance(value, int) and not isinstance(value, bool):
                assert text == str(value)
    doc = key_value_sheet(got, names=NAMED_KEYS)
    _one_line_each(doc.problems, "r.xlsx[prisma]")
