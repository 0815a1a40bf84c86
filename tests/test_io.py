"""synth.io: one reader per format, the same problem for the same fault in every file."""

from __future__ import annotations

import re
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
        f"review.yaml:{line}:titel: unknown key — allowed: title, synthetic, description, "
        "aims, sites, modalities, models, raters, consensus, ci_level, partial; "
        "did you mean 'title'?"]


def test_the_readers_load_no_matplotlib():
    code = ("import sys, synth.io, synth.prisma_counts, synth.review, synth.prisma; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# --- hostile and awkward files (tests/fixtures/bad, one file per problem) --------------------

BAD = Path(__file__).parent / "fixtures" / "bad"


def _measured(read):
    """(result, seconds, peak bytes allocated) of ``read()``."""
    import time
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = read()
        return result, time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _one_problem(problems) -> str:
    (problem,) = problems
    text = str(problem)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_yaml_aliases_that_expand_to_billions_are_refused_at_once():
    doc, seconds, peak = _measured(lambda: read_yaml(BAD / "billion_laughs.yaml",
                                                     content="PRISMA counts"))
    assert doc.data is None
    assert _one_problem(doc.problems).startswith(
        "billion_laughs.yaml:6: aliases expand to more than 10000 values — ")
    assert seconds < 1.0 and peak < 5_000_000, (seconds, peak)


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "a: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
                                  "".join("  " * i + f"k{i}:\n" for i in range(200)) + "v\n"],
                         ids=["lists", "mappings", "block"])
def test_deeply_nested_yaml_is_refused_at_once(tmp_path: Path, text: str):
    path = tmp_path / "prisma.yaml"
    path.write_text(text, encoding="utf-8")
    doc, seconds, peak = _measured(lambda: read_yaml(path, content="PRISMA counts"))
    assert doc.data is None
    problem = _one_problem(doc.problems)
    assert re.fullmatch(r"prisma\.yaml:\d+: nesting deeper than 32 levels — at most 32 levels "
                        r"of mappings and lists \(see data/README\.md\)", problem), problem
    assert seconds < 1.0 and peak < 5_000_000, (seconds, peak)


def test_the_deep_nesting_fixture_is_refused():
    doc = read_yaml(BAD / "deep_nesting.yaml", content="PRISMA counts")
    assert _one_problem(doc.problems).startswith("deep_nesting.yaml:1: nesting deeper than 32")


def test_a_yaml_file_over_the_size_bound_is_refused_unread(tmp_path: Path):
    path = tmp_path / "review.yaml"
    path.write_text("title: " + "x" * 300_000, encoding="utf-8")
    assert _one_problem(read_yaml(path, content="title").problems) == (
        "review.yaml: 293 KB — at most 256 KB: title (see data/README.md)")


def test_a_few_aliases_and_merge_keys_are_fine(tmp_path: Path):
    path = tmp_path / "prisma.yaml"
    path.write_text("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\nd: *b\n", encoding="utf-8")
    doc = read_yaml(path, content="PRISMA counts")
    assert doc.problems == () and doc.data == {"base": {"x": 1}, "c": {"x": 1, "y": 2},
                                               "d": {"x": 1}}


def test_a_repeated_yaml_key_is_refused_on_its_line():
    doc = read_yaml(BAD / "duplicate_key.yaml", content="PRISMA counts")
    assert doc.data is None
    assert _one_problem(doc.problems) == (
        "duplicate_key.yaml:3:screened: key repeated — each key once in its mapping; first on "
        "line 1")


def test_a_repeated_key_in_review_yaml_fails_the_review(demo_copy: Path):
    path = demo_copy / "review.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "synthetic: false\n", encoding="utf-8")
    (problem,) = _load_problems(demo_copy)
    assert re.fullmatch(r"review\.yaml:\d+:synthetic: key repeated — each key once in its "
                        r"mapping; first on line \d+", problem), problem


@pytest.mark.parametrize("name", ["bom_only.yaml", "bom_only.csv"])
def test_a_file_holding_only_a_byte_order_mark_is_empty(name: str):
    path = BAD / name
    problems = (read_csv(path).problems if name.endswith(".csv")
                else read_yaml(path, content="PRISMA counts").problems)
    assert _one_problem(problems).startswith(f"{name}: file is empty — ")


def test_utf16_and_nul_bytes_are_named(tmp_path: Path):
    assert _one_problem(read_csv(BAD / "utf16.csv").problems) == (
        "utf16.csv:1: UTF-16 text — save the file as CSV UTF-8")
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n3,\x00\n")
    assert _one_problem(read_csv(path).problems) == (
        "t.csv:3: a NUL byte (binary data, not text) — save the file as CSV UTF-8")


def test_a_row_separated_by_tabs_is_named_with_its_row():
    assert _one_problem(read_csv(BAD / "tab_row.csv").problems) == (
        "tab_row.csv:3: cells separated by tabs — cells separated by ',', as in the header row")


def test_a_tab_separated_file_is_read_like_a_comma_file():
    sheet = read_csv(BAD / "tab_separated.csv")
    assert sheet.sep == "\t" and sheet.problems == ()
    assert sheet.frame.to_dict("list") == {"study_id": ["s1", "s2"], "auc": ["0.8", "0.7"],
                                          "n": ["10", "12"]}


@pytest.mark.parametrize(("name", "problem"), [
    ("unclosed_quote.csv", "unclosed_quote.csv:3: a quote opens a cell that never closes — "
                           "a closing quote at the end of the cell (a quote inside a cell: \"\")"),
    ("text_after_quote.csv", "text_after_quote.csv:3: text after the closing quote of a cell — "
                             "a quote only around a whole cell; a quote inside a quoted cell "
                             "is written twice (\"\")"),
])
def test_broken_quoting_is_named_with_its_spreadsheet_row(name: str, problem: str):
    sheet = read_csv(BAD / name)
    assert sheet.frame is None and _one_problem(sheet.problems) == problem


def test_a_quoted_cell_over_several_lines_is_one_spreadsheet_row(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"two\nlines"\n2,x,surplus\n', encoding="utf-8")
    assert _one_problem(read_csv(path).problems).startswith("t.csv:3: 3 cells — ")


# --- numbers: each file's decimal mark and thousands separator -------------------------------

def _numbers(name: str) -> tuple[dict, dict]:
    from synth.io import number_style, parse_numbers

    sheet = read_csv(BAD / name)
    style = number_style(sheet, ["auc", "n"])
    parsed = {c: parse_numbers(sheet.frame[c], style) for c in ("auc", "n")}
    return ({c: v.tolist() for c, (v, _) in parsed.items()},
            {c: bad for c, (_, bad) in parsed.items() if bad})


def test_decimal_commas_make_dots_thousands_separators():
    assert _numbers("semicolon_decimal_comma_thousands.csv") == (
        {"auc": [0.85, 0.7], "n": [1000.0, 1234.0]}, {})


def test_decimal_points_in_a_semicolon_file_keep_dots_decimal():
    assert _numbers("semicolon_decimal_point.csv") == ({"auc": [0.85, 0.7], "n": [1.0, 12.0]},
                                                       {})


def test_a_number_that_could_be_read_two_ways_is_refused():
    values, bad = _numbers("semicolon_ambiguous_thousands.csv")
    assert values["n"][1] == 12.0 and pd.isna(values["n"][0])
    assert bad == {"n": {0: " (1.000 or 1000? no other number in this file shows its decimal "
                            "mark; write it without a thousands separator)"}}


def test_a_file_mixing_decimal_marks_refuses_the_rarer():
    values, bad = _numbers("mixed_decimal_marks.csv")
    assert values["auc"][:2] == [0.85, 0.7]
    assert bad == {"auc": {2: " (this file writes numbers with a decimal comma, as row 2 "
                              "(auc: '0,85'); '.' only between groups of three digits)"}}


def test_thousands_in_a_review_table_are_read_by_the_files_convention(demo_copy: Path):
    from synth import load_review

    studies = demo_copy / "studies.csv"
    frame = pd.read_csv(studies, dtype=str, keep_default_na=False)
    frame.loc[0, "n_patients"] = "1.193"
    frame.to_csv(studies, sep=";", index=False)
    assert _load_problems(demo_copy) == [
        "studies.csv:2:n_patients: '1.193' — a whole number ≥ 1 (1.193 or 1193? no other "
        "number in this file shows its decimal mark; write it without a thousands separator)"]
    frame = pd.read_csv(studies, sep=";", dtype=str, keep_default_na=False)
    frame.loc[1, "n_patients"] = "1.234,0"  # now the file shows its decimal comma
    frame.to_csv(studies, sep=";", index=False)
    assert load_review(demo_copy).studies["n_patients"].tolist()[:2] == [1193, 1234]


def test_identifiers_are_kept_as_typed(demo_copy: Path):
    studies = demo_copy / "studies.csv"
    frame = pd.read_csv(studies, dtype=str, keep_default_na=False)
    frame.loc[0, "pmid"] = "123456789012345678901234"
    frame.loc[1, "pmid"] = "35211726"
    frame.loc[1, "doi"] = "10.1000/1.000"
    frame.to_csv(studies, index=False)
    assert _load_problems(demo_copy) == [
        "studies.csv:2:pmid: '123456789012345678901234' — a PubMed identifier: 1 to 10 "
        "digits, such as 35211726"]
    frame.loc[0, "pmid"] = ""
    frame.to_csv(studies, index=False)
    from synth import load_review

    loaded = load_review(demo_copy).studies
    assert loaded.loc[1, "pmid"] == "35211726" and loaded.loc[1, "doi"] == "10.1000/1.000"


# --- workbooks: formulas, error values, lock files, dotted keys ------------------------------

def _book_with(path: Path, sheets: dict[str, list[list]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _cached_error(path: Path, cell: str, formula: str, error: str) -> None:
    """Give ``cell`` of the first sheet a formula whose saved value is an error, as Excel does
    (openpyxl writes a formula without its value)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    xml = re.sub(rf'<c r="{cell}"[^>]*>.*?</c>',
                 f'<c r="{cell}" t="e"><f>{formula}</f><v>{error}</v></c>', xml)
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)


def test_workbook_formulas_without_values_and_error_cells_are_named(tmp_path: Path):
    book = _book_with(tmp_path / "b.xlsx", {"t": [["id", "n", "note"],
                                                  ["a", "=1+1", "#N/A"],
                                                  ["b", 0, "NA"]]})
    _cached_error(book, "B3", "1/0", "#DIV/0!")
    sheet = read_workbook(book).sheets["t"]
    assert [str(p).split(" — ")[0] for p in sheet.problems] == [
        "b.xlsx[t]:2:n: formula =1+1 without a saved value",
        "b.xlsx[t]:2:note: #N/A",
        "b.xlsx[t]:3:n: formula =1/0 gives #DIV/0!"]
    assert sheet.frame.to_dict("list") == {"id": ["a", "b"], "n": [None, None],
                                           "note": [None, "NA"]}


def test_workbook_formula_and_error_cells_fail_the_review_once_each(tmp_path: Path):
    from synth import load_review

    book = tmp_path / "review.xlsx"
    with pd.ExcelWriter(book) as xl:
        for name in ("studies", "performance"):
            pd.read_csv(DEMO / f"{name}.csv").to_excel(xl, sheet_name=name, index=False)
    import openpyxl

    wb = openpyxl.load_workbook(book)
    studies = wb["studies"]
    header = [c.value for c in studies[1]]
    studies.cell(2, header.index("year") + 1, "=2018+1")  # required
    studies.cell(3, header.index("n_patients") + 1, "#DIV/0!")  # optional
    wb.save(book)
    with pytest.raises(ReviewDataError) as err:
        load_review(book)
    assert [p.split(" — ")[0] for p in str(err.value).splitlines()[1:]] == [
        "review.xlsx[studies]:2:year: formula =2018+1 without a saved value",
        "review.xlsx[studies]:3:n_patients: #DIV/0!"]


def test_excel_lock_files_beside_a_workbook_are_ignored(tmp_path: Path):
    from synth import load_review
    from synth.io import find_workbooks

    folder = tmp_path / "review"
    folder.mkdir()
    with pd.ExcelWriter(folder / "review.xlsx") as xl:
        for name in ("studies", "performance"):
            pd.read_csv(DEMO / f"{name}.csv").to_excel(xl, sheet_name=name, index=False)
    (folder / "~$review.xlsx").write_bytes(b"\x00" * 165)  # what Excel leaves while open
    (folder / "._review.xlsx").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork
    assert find_workbooks(folder) == [folder / "review.xlsx"]
    assert len(load_review(folder).studies) == len(load_review(DEMO).studies)


def test_dotted_keys_keep_the_dots_of_a_name(tmp_path: Path):
    from synth.prisma_counts import NAMED_KEYS

    book = _book_with(tmp_path / "r.xlsx", {"prisma": [
        ["key", "value"],
        ["excluded_reasons.Not GEP-NET, e.g. lung.", 3],
        ["other_methods.excluded_reasons.Ref. only", 2],
        ["removed_before_screening.duplicates", 5],
        ["databases.Wiley/Cochrane Library v.2", 7]]})
    doc = key_value_sheet(read_workbook(book).sheets["prisma"], names=NAMED_KEYS)
    assert doc.problems == ()
    assert doc.data == {"excluded_reasons": {"Not GEP-NET, e.g. lung.": 3},
                        "other_methods": {"excluded_reasons": {"Ref. only": 2}},
                        "removed_before_screening": {"duplicates": 5},
                        "databases": {"Wiley/Cochrane Library v.2": 7}}
    assert doc.lines[("excluded_reasons", "Not GEP-NET, e.g. lung.")] == 2


def test_a_prisma_sheet_key_given_twice_or_as_a_heading_is_named(tmp_path: Path):
    book = _book_with(tmp_path / "r.xlsx", {"prisma": [
        ["key", "value"], ["screened", 5], ["screened", 6], ["databases", 3],
        ["databases.PubMed", 2], ["", 4], ["sought", "9" * 400]]})
    doc = key_value_sheet(read_workbook(book).sheets["prisma"])
    assert [str(p) for p in doc.problems] == [
        "r.xlsx[prisma]:3:key: 'screened' — each key once, not also the heading of dotted keys "
        "(row 2)",
        "r.xlsx[prisma]:5:key: 'databases.PubMed' — each key once, not also the heading of "
        "dotted keys (row 4)",
        "r.xlsx[prisma]:6:key: (empty) — a key such as screened or databases.PubMed"]


def test_a_workbook_review_with_a_dotted_exclusion_reason_loads(tmp_path: Path):
    from synth import load_review

    book = tmp_path / "review.xlsx"
    doc = read_yaml(DEMO / "prisma.yaml", content="PRISMA counts")
    rows = []

    def flatten(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict) and value:
                flatten(value, f"{prefix}{key}.")
            elif not isinstance(value, dict):
                rows.append((f"{prefix}{key}", value))

    flatten(doc.data, "")
    rows = [(k.replace("Review, editorial or case report", "Review, e.g. editorial."), v)
            for k, v in rows]
    with pd.ExcelWriter(book) as xl:
        for name in ("studies", "performance"):
            pd.read_csv(DEMO / f"{name}.csv").to_excel(xl, sheet_name=name, index=False)
        pd.DataFrame(rows, columns=["key", "value"]).to_excel(xl, sheet_name="prisma",
                                                              index=False)
    prisma = load_review(book).prisma
    assert prisma.excluded_reasons["Review, e.g. editorial."] == 7


# --- the command line: one line per problem, never a traceback -------------------------------

@pytest.mark.parametrize(("file", "fixture", "first"), [
    ("prisma.yaml", "billion_laughs.yaml", "prisma.yaml:6: aliases expand to more than"),
    ("prisma.yaml", "deep_nesting.yaml", "prisma.yaml:1: nesting deeper than 32 levels"),
    ("review.yaml", "bom_only.yaml", None),
    ("studies.csv", "bom_only.csv", "studies.csv: file is empty"),
    ("studies.csv", "unclosed_quote.csv", "studies.csv:3: a quote opens a cell that never"),
    ("performance.csv", "tab_row.csv", "performance.csv:3: cells separated by tabs"),
])
def test_synth_check_names_each_bad_file_in_one_line(demo_copy: Path, file: str, fixture: str,
                                                     first: str | None):
    shutil.copy(BAD / fixture, demo_copy / file)
    done = subprocess.run([sys.executable, "-m", "synth", "check", str(demo_copy)],
                          capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    if first is None:  # review.yaml is optional: an empty one is fine
        assert done.returncode == 0 and output.rstrip().endswith("valid"), output
        return
    assert done.returncode == 1, output
    head, *problems = done.stderr.strip().splitlines()
    assert head.startswith("1 problem in ") and len(problems) == 1, output
    assert problems[0].startswith(first), output
