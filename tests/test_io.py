"""synth.io: one reader per format, the same problem for the same fault in every file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO

from synth.errors import ReviewDataError
from synth.io import key_value_sheet, read_csv, read_workbook, read_yaml
from synth.prisma import counts_from_log

LOG = Path(__file__).parent / "fixtures" / "prisma" / "screening_log.csv"


def _load_problems(folder: Path) -> list[str]:
    from synth import load_review

    with pytest.raises(ReviewDataError) as err:
        load_review(folder)
    return str(err.value).splitlines()[1:]


def _log_problems(path: Path) -> list[str]:
    with pytest.raises(ReviewDataError) as err:
        counts_from_log(path)
    return str(err.value).splitlines()[1:]


@pytest.fixture
def log_only(demo_copy: Path) -> Path:
    """The demo with a screening log instead of prisma.yaml."""
    (demo_copy / "prisma.yaml").unlink()
    shutil.copy(LOG, demo_copy / "screening_log.csv")
    return demo_copy


def _without_name(problem: str, name: str) -> str:
    assert problem.startswith(name + ":"), problem
    return problem[len(name):]


# --- the same CSV fault, the same message: studies.csv and the screening log ----------------

def _non_utf8(path: Path) -> int:
    """Put a Latin-1 é on the third line; return that line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + "é"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return 3


def _extra_cell(path: Path) -> int:
    """Give the third line one cell more than the header; return that line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 3


def _empty(path: Path) -> None:
    path.write_text("", encoding="utf-8")


def test_non_utf8_byte_is_the_same_problem_in_every_table(log_only: Path):
    studies = log_only / "studies.csv"
    log = log_only / "screening_log.csv"
    assert _non_utf8(studies) == _non_utf8(log) == 3
    by_table = _load_problems(log_only)
    assert by_table == [
        "studies.csv:3: byte 0xe9 is not UTF-8 text — save the file as CSV UTF-8",
        "screening_log.csv:3: byte 0xe9 is not UTF-8 text — save the file as CSV UTF-8"]
    assert _log_problems(log) == by_table[1:]


def test_a_row_with_too_many_cells_is_the_same_problem_in_every_table(log_only: Path):
    studies = log_only / "studies.csv"
    log = log_only / "screening_log.csv"
    assert _extra_cell(studies) == _extra_cell(log) == 3
    problems = _load_problems(log_only)
    assert problems == [
        "studies.csv:3: 20 cells — 19 cells, one per header column; quote cells that contain ','",
        "screening_log.csv:3: 11 cells — 10 cells, one per header column; quote cells that "
        "contain ','"]
    assert _log_problems(log) == problems[1:]


def test_an_empty_file_is_the_same_problem_in_every_table(log_only: Path):
    _empty(log_only / "studies.csv")
    _empty(log_only / "screening_log.csv")
    problems = _load_problems(log_only)
    assert [_without_name(p, n) for p, n in zip(problems, ("studies.csv", "screening_log.csv"),
                                                 strict=True)] == [
        ": file is empty — a header row and one row per record (see data/README.md)"] * 2
    assert _log_problems(log_only / "screening_log.csv") == problems[1:]


def test_a_header_without_rows_is_the_same_problem_in_every_table(log_only: Path):
    for name in ("performance.csv", "screening_log.csv"):
        path = log_only / name
        path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n",
                        encoding="utf-8")
    problems = _load_problems(log_only)
    assert [p.split(" — ")[0] for p in problems] == [
        "performance.csv:2: no data rows", "screening_log.csv:2: no data rows"]
    assert all(" — at least one row: one row per " in p for p in problems)


# --- read_csv --------------------------------------------------------------------------------

def test_read_csv_gives_text_cells_and_the_delimiter(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa;b\n1,5;x\n\n;y\n".encode())
    sheet = read_csv(path)
    assert (sheet.label, sheet.sep, sheet.problems) == ("t.csv", ";", ())
    assert list(sheet.frame.columns) == ["a", "b"]
    # the blank line stays a row, so data row i is still spreadsheet row i + 2
    assert sheet.frame["a"].tolist()[0] == "1,5" and sheet.frame.iloc[1].isna().all()
    assert sheet.frame["b"].tolist()[2] == "y" and pd.isna(sheet.frame["a"].tolist()[2])


def test_read_csv_of_a_missing_file(tmp_path: Path):
    sheet = read_csv(tmp_path / "nope.csv")
    assert sheet.frame is None
    assert str(sheet.problems[0]).endswith("nope.csv: no such file — a CSV file (see "
                                           "data/README.md)")


def test_semicolon_log_is_read_like_a_comma_log():
    export = LOG.with_name("screening_log_export.csv")
    assert read_csv(export).sep == ";" and read_csv(LOG).sep == ","


# --- workbooks -------------------------------------------------------------------------------

def test_read_workbook_labels_each_sheet(tmp_path: Path):
    book = tmp_path / "r.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"a": ["1"]}).to_excel(xl, sheet_name=" studies ", index=False)
    read = read_workbook(book)
    assert list(read.sheets) == ["studies"] and read.sheets["studies"].label == "r.xlsx[studies]"
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook", encoding="utf-8")
    assert read_workbook(broken).problems[0].value.startswith("cannot be read as a workbook")


def test_key_value_sheet_nests_dotted_keys_with_their_rows(tmp_path: Path):
    book = tmp_path / "r.xlsx"
    rows = pd.DataFrame({"key": ["databases.PubMed", "databases.Embase", "screened", "strict"],
                         "value": ["812", "1021.0", "1364", "false"]})
    with pd.ExcelWriter(book) as xl:
        rows.to_excel(xl, sheet_name="prisma", index=False)
    doc = key_value_sheet(read_workbook(book).sheets["prisma"])
    assert doc.data == {"databases": {"PubMed": 812, "Embase": 1021}, "screened": 1364,
                        "strict": "false"}
    assert doc.lines[("databases",)] == 2 and doc.lines[("databases", "Embase")] == 3
    assert doc.lines[("screened",)] == 4


# --- YAML ------------------------------------------------------------------------------------

def test_yaml_errors_name_the_line_in_every_yaml_file(demo_copy: Path):
    for name in ("prisma.yaml", "review.yaml"):
        path = demo_copy / name
        lines = path.read_text(encoding="utf-8").splitlines()
        lines.insert(1, "  - : [")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _load_problems(demo_copy)
    assert [p.split(" — ")[1] for p in problems] == [
        "valid YAML (key: value, two-space indents)"] * 2
    assert {p.split(":")[0] for p in problems} == {"prisma.yaml", "review.yaml"}
    assert all(p.split(":")[1].isdigit() for p in problems)


def test_yaml_non_utf8_names_the_line(tmp_path: Path):
    path = tmp_path / "prisma.yaml"
    path.write_bytes("screened: 1\nsource: Müller\n".encode("latin-1"))
    doc = read_yaml(path, content="PRISMA counts")
    assert doc.data is None
    assert [str(p) for p in doc.problems] == [
        "prisma.yaml:2: byte 0xfc is not UTF-8 text — save the file as UTF-8"]


def test_empty_yaml(tmp_path: Path, demo_copy: Path):
    path = tmp_path / "prisma.yaml"
    path.write_text("\n", encoding="utf-8")
    assert [str(p) for p in read_yaml(path, content="PRISMA counts").problems] == [
        "prisma.yaml: file is empty — PRISMA counts (see data/README.md)"]
    assert read_yaml(path, content="x", allow_empty=True).problems == ()
    (demo_copy / "review.yaml").write_text("", encoding="utf-8")
    from synth import load_review

    assert load_review(demo_copy).title == ""


def test_yaml_key_lines():
    doc = read_yaml(DEMO / "prisma.yaml", content="PRISMA counts")
    text = (DEMO / "prisma.yaml").read_text(encoding="utf-8").splitlines()
    line = doc.lines[("removed_before_screening", "duplicates")]
    assert text[line - 1].strip().startswith("duplicates:")


def test_review_yaml_unknown_key_names_its_line(demo_copy: Path):
    path = demo_copy / "review.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "titel: x\n", encoding="utf-8")
    line = len(path.read_text(encoding="utf-8").splitlines())
    assert _load_problems(demo_copy) == [
        f"review.yaml:{line}:titel: unknown key — allowed: title, synthetic, description; "
        "did you mean 'title'?"]


def test_the_readers_load_no_matplotlib():
    code = ("import sys, synth.io, synth.prisma_counts, synth.review, synth.prisma; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
