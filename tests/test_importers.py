"""A folder of the METRICS calculator's per-paper Excel exports becomes one metrics.csv table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from synth.errors import ReviewDataError
from synth.importers import import_metrics_exports, import_metrics_to_csv
from synth.instruments import METRICS, METRICS_CONDITIONS, METRICS_ITEMS
from synth.instruments.metrics import check_metrics
from synth.io import read_csv

_CODE = {"y": "yes", "n": "no", "-": "n/a"}
_SECTION_CONDITIONS = {8: (1, 2), 11: (3,), 14: (4, 5)}
"""The calculator's table: a section's conditions come right before its first item."""


def _answers(answers: str = "y" * 30, **conditions: str) -> dict[str, str]:
    cells = {c.column: "yes" for c in METRICS_CONDITIONS}
    cells.update(conditions)
    cells.update({col: _CODE[a] for col, a in zip(METRICS.columns, answers, strict=True)})
    return cells


def _export(folder: Path, pub: str, answers: dict[str, str], *, name: str | None = None,
            sheet: str = "Sheet1") -> Path:
    """A workbook laid out as the calculator's ExportToExcel() writes it (METRICS.html)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(["Items/Conditions", "Definitions", "Weights", pub])
    category = None
    for item in METRICS_ITEMS:
        if item.category != category:
            category = item.category
            ws.append([category, "", ""])
        for number in _SECTION_CONDITIONS.get(item.number, ()):
            cond = METRICS_CONDITIONS[number - 1]
            ws.append([f"Condition#{number}", "?" + cond.question, "", answers[cond.column]])
        ws.append([f"Item#{item.number}", "?" + item.name, f"{item.weight:.4f}",
                   answers[item.column]])
    ws.append(["Total METRICS score:", "", "", "100.0%"])
    ws.append(["Quality category:", "", "", "Excellent"])
    path = folder / (name or f"METRICSscore_{pub}.xlsx")
    book.save(path)
    return path


def _two_exports(folder: Path) -> None:
    _export(folder, "Gu2019", _answers())
    _export(folder, "Lee2021", _answers("n" * 16 + "-" + "n" * 13,
                                        end_to_end_deep_learning="no"))


def _lines(folder: Path, rater: str = "A") -> list[str]:
    with pytest.raises(ReviewDataError) as err:
        import_metrics_exports(folder, rater=rater)
    return [str(p) for p in err.value.problems]


def test_a_folder_of_exports_becomes_one_row_per_paper(tmp_path):
    _two_exports(tmp_path)
    table = import_metrics_exports(tmp_path, rater="A")
    assert list(table.columns) == list(METRICS.file_columns)
    assert table["study_id"].tolist() == ["Gu2019", "Lee2021"]
    assert table["rater"].tolist() == ["A", "A"]
    assert table.loc[0, list(METRICS.columns)].tolist() == ["yes"] * 30
    assert table.loc[1, "end_to_end_deep_learning"] == "no"
    assert table.loc[1, "metrics_17"] == "n/a"
    assert table.loc[1, "metrics_16"] == "no"
    assert table["notes"].isna().all()


def test_the_imported_table_validates_as_metrics_csv(tmp_path):
    _two_exports(tmp_path)
    table = import_metrics_exports(tmp_path, rater="B")
    _, problems = check_metrics(table.astype(object), raters=("B",))
    assert problems == []


def test_no_segmentation_leaves_fully_automated_no_and_items_8_to_10_n_a(tmp_path):
    _export(tmp_path, "s1", _answers("y" * 7 + "---" + "y" * 20, segmentation="no",
                                     fully_automated_segmentation="no"))
    row = import_metrics_exports(tmp_path, rater="A").iloc[0]
    assert row[["fully_automated_segmentation", "metrics_08", "metrics_09",
                "metrics_10"]].tolist() == ["no", "n/a", "n/a", "n/a"]


def test_excel_lock_files_are_skipped(tmp_path):
    _two_exports(tmp_path)
    (tmp_path / "~$METRICSscore_Gu2019.xlsx").write_bytes(b"lock")
    assert len(import_metrics_exports(tmp_path, rater="A")) == 2


def test_a_renamed_sheet_is_read_as_the_export(tmp_path):
    _export(tmp_path, "Gu2019", _answers(), sheet="Gu")
    assert import_metrics_exports(tmp_path, rater="A")["study_id"].tolist() == ["Gu2019"]


def test_a_workbook_that_is_not_an_export_is_one_line(tmp_path):
    _two_exports(tmp_path)
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    book.active.append([1, 2])
    book.save(tmp_path / "notes.xlsx")
    assert _lines(tmp_path) == ["notes.xlsx:1: header a, b — the METRICS calculator's export: "
                                "Items/Conditions, Definitions, Weights, Publication ID"]


def test_a_file_that_is_not_a_workbook_is_one_line(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    [line] = _lines(tmp_path)
    assert line.startswith("broken.xlsx: cannot be read as a workbook")


def test_an_item_that_applies_left_unanswered_names_its_row(tmp_path):
    # row 1 header, 2 "Study design", 3 Item#1, 4 Item#2, 5 Item#3
    _export(tmp_path, "Gu2019", _answers("yy-" + "y" * 27))
    assert _lines(tmp_path) == ["METRICSscore_Gu2019.xlsx:5:D: Item#3 'n/a' — yes or no: item 3 "
                                "applies to every study"]


def test_an_answer_its_condition_switches_off_names_its_row(tmp_path):
    path = _export(tmp_path, "Gu2019", _answers(end_to_end_deep_learning="no"))
    row = next(r for r in range(1, 60) if openpyxl.load_workbook(path).active.cell(r, 1).value
               == "Item#17")
    assert _lines(tmp_path) == [f"METRICSscore_Gu2019.xlsx:{row}:D: Item#17 'yes' — n/a: "
                                "condition end_to_end_deep_learning is 'no'"]


def test_an_unreadable_answer_is_one_line(tmp_path):
    answers = _answers()
    answers["metrics_04"] = "perhaps"
    _export(tmp_path, "Gu2019", answers)
    # row 1 header, 2 "Study design", 3–5 items 1–3, 6 "Imaging data", 7 Item#4
    assert _lines(tmp_path) == ["METRICSscore_Gu2019.xlsx:7:D: 'perhaps' — one of: yes, no, n/a"]


def test_an_export_without_a_publication_id_says_where_to_type_it(tmp_path):
    _export(tmp_path, "", _answers(), name="METRICSscore_.xlsx")
    assert _lines(tmp_path) == ["METRICSscore_.xlsx:1:D: (empty) — the Publication ID, the "
                                "study_id of the paper in studies.csv"]


def test_two_exports_of_one_paper_are_one_line(tmp_path):
    _export(tmp_path, "Gu2019", _answers())
    _export(tmp_path, "Gu2019", _answers(), name="METRICSscore_Gu2019 (1).xlsx")
    assert _lines(tmp_path) == ["METRICSscore_Gu2019.xlsx:1:D: Publication ID 'Gu2019' — one "
                                "export per study; METRICSscore_Gu2019 (1).xlsx has it too"]


def test_every_problem_of_every_export_in_one_pass(tmp_path):
    _export(tmp_path, "s1", _answers("yy-" + "y" * 27))
    _export(tmp_path, "s2", _answers("y" * 29 + "-"))
    lines = _lines(tmp_path)
    assert [line.split(":")[0] for line in lines] == ["METRICSscore_s1.xlsx",
                                                      "METRICSscore_s2.xlsx"]


def test_a_folder_without_exports_is_one_line(tmp_path):
    assert _lines(tmp_path) == [f"{tmp_path}: no .xlsx workbook — the METRICS calculator's "
                                "exports (METRICSscore_<ID>.xlsx)"]


def test_the_folder_must_be_a_folder(tmp_path):
    with pytest.raises(NotADirectoryError, match="not a folder"):
        import_metrics_exports(tmp_path / "missing", rater="A")


def test_the_rater_must_be_named(tmp_path):
    _two_exports(tmp_path)
    with pytest.raises(ValueError, match="name the rater"):
        import_metrics_exports(tmp_path, rater=" ")


def test_writing_refuses_an_existing_file_without_force(tmp_path):
    _two_exports(tmp_path)
    out = tmp_path / "metrics.csv"
    out.write_text("mine\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not replaced without force"):
        import_metrics_to_csv(tmp_path, out, rater="A")
    assert out.read_text(encoding="utf-8") == "mine\n"
    import_metrics_to_csv(tmp_path, out, rater="A", force=True)
    assert pd.read_csv(out)["study_id"].tolist() == ["Gu2019", "Lee2021"]


def _synth(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


def test_cli_import_metrics_end_to_end(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    _two_exports(exports)
    done = _synth("import-metrics", "exports", "--rater", "A", "--out", "metrics.csv",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wrote metrics.csv: one row per export (2), rater A"
    written = pd.read_csv(tmp_path / "metrics.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == list(METRICS.file_columns)
    assert written["study_id"].tolist() == ["Gu2019", "Lee2021"]
    assert written.loc[1, "metrics_17"] == "n/a"
    sheet = read_csv(tmp_path / "metrics.csv")
    assert check_metrics(sheet.frame, raters=("A",))[1] == []

    again = _synth("import-metrics", "exports", "--rater", "A", "--out", "metrics.csv",
                   cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == "error: metrics.csv exists: not replaced without force " \
                                   "(--force)"
    forced = _synth("import-metrics", "exports", "--rater", "B", "--out", "metrics.csv",
                    "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert set(pd.read_csv(tmp_path / "metrics.csv")["rater"]) == {"B"}


def test_cli_import_metrics_reports_problems_and_writes_nothing(tmp_path):
    _export(tmp_path, "Gu2019", _answers("yy-" + "y" * 27))
    done = _synth("import-metrics", ".", "--rater", "A", "--out", "metrics.csv", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "1 problem in .:",
        "METRICSscore_Gu2019.xlsx:5:D: Item#3 'n/a' — yes or no: item 3 applies to every study"]
    assert not (tmp_path / "metrics.csv").exists()
