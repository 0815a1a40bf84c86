"""``synth.template`` and ``python -m synth new``: a new review passes check, and then run."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import ROOT

from synth import template
from synth.instruments import APPRAISAL_FILES, APPRAISALS
from synth.io import read_yaml
from synth.prisma_counts import PrismaCounts
from synth.review import load_review
from synth.runner import RunConfig, find_notebooks, run
from synth.schema import PERFORMANCE, STUDIES, data_dictionary
from synth.template import (
    INSTRUMENT_TABLES,
    LISTS_SHEET,
    PRISMA_BOXES,
    TEMPLATE_TABLES,
    allowed_values,
    example_row,
    review_tables,
    write_review,
)
from synth.vocabulary import (
    DEFAULT_VOCABULARY,
    VOCABULARY_KEYS,
    Aim,
    Vocabulary,
    parse_vocabulary,
)


def _synth(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth", *args], capture_output=True,
                          text=True, cwd=cwd)


def _workbook(folder: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(folder / f"{folder.name}.xlsx")


# --- the folder -----------------------------------------------------------------------------

def test_a_new_folder_passes_check(tmp_path: Path):
    out = _synth("new", "lung", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("wrote lung/: review.yaml, README.md, studies.csv, ")
    names = sorted(p.name for p in (tmp_path / "lung").iterdir())
    assert names == sorted(["README.md", "review.yaml", "prisma.yaml",
                            *(t.filename for t in TEMPLATE_TABLES)])
    check = _synth("check", "lung", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.rstrip().endswith("valid")


def test_every_column_of_every_table_and_one_valid_example_row(tmp_path: Path):
    write_review(tmp_path / "r")
    review = load_review(tmp_path / "r")
    for table in TEMPLATE_TABLES:
        with open(tmp_path / "r" / table.filename, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert tuple(rows[0]) == table.columns
        assert len(rows) == 2
    assert len(review.studies) == len(review.performance) == len(review.quality) == 1
    assert review.quality["rater"].tolist() == [DEFAULT_VOCABULARY.consensus]


def test_every_instrument_file_with_a_valid_example_row(tmp_path: Path):
    write_review(tmp_path / "r")
    review = load_review(tmp_path / "r")
    assert sorted(review.appraisals) == sorted(APPRAISALS)
    for name, table in review.appraisals.items():
        assert len(table) == 1 and table["rater"].tolist() == ["consensus"], name
    for stem, name in APPRAISAL_FILES.items():
        instrument = APPRAISALS[name]
        columns = instrument.file_columns
        assert INSTRUMENT_TABLES[stem].columns == (columns() if callable(columns) else columns)


def test_instruments_can_be_chosen(tmp_path: Path):
    out = _synth("new", "r", "--instruments", "quadas2,rqs", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "r").glob("*.csv")) == [
        "performance.csv", "quadas2.csv", "quality.csv", "studies.csv"]
    review = load_review(tmp_path / "r")
    assert list(review.appraisals) == ["QUADAS-2"] and review.has_quality
    assert review_tables([]) == (STUDIES, PERFORMANCE)
    bad = _synth("new", "s", "--instruments", "metrix", cwd=tmp_path)
    assert bad.returncode == 2 and not (tmp_path / "s").exists()
    assert bad.stderr.strip().endswith("did you mean 'metrics'?")


def test_the_vocabulary_can_come_from_a_review_yaml(tmp_path: Path):
    (tmp_path / "mine.yaml").write_text("aims: [malignancy, {name: egfr, label: EGFR}]\n"
                                        "sites: [lung]\nraters: [R1, agreed]\n"
                                        "consensus: agreed\n")
    out = _synth("new", "r", "--xlsx", "--vocabulary", "mine.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    review = load_review(tmp_path / "r")
    assert review.vocabulary.aim_labels == {"malignancy": "malignancy", "egfr": "EGFR"}
    assert review.studies["site"].tolist() == ["lung"]
    wb = _workbook(tmp_path / "r")
    site = _validations(wb["studies"])[openpyxl.utils.get_column_letter(
        STUDIES.columns.index("site") + 1)]
    assert _list_source(wb, site.formula1) == ["lung"]
    (tmp_path / "bad.yaml").write_text("sites: lung\n")
    bad = _synth("new", "s", "--vocabulary", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 1 and not (tmp_path / "s").exists()
    assert bad.stderr.splitlines()[1] == ("bad.yaml:1:sites: 'lung' — a list of names, e.g. "
                                          "[pancreas, stomach]")


def test_review_yaml_declares_every_vocabulary_key_with_a_comment(tmp_path: Path):
    write_review(tmp_path / "r", title="Thyroid nodules on ultrasound")
    path = tmp_path / "r" / "review.yaml"
    doc = read_yaml(path, content="review")
    vocabulary, problems = parse_vocabulary(doc.data)
    assert not problems
    assert vocabulary == DEFAULT_VOCABULARY
    assert vocabulary.declared == frozenset(VOCABULARY_KEYS)
    assert doc.data["title"] == "Thyroid nodules on ultrasound"
    assert doc.data["synthetic"] is False and doc.data["partial"] is False
    text = path.read_text(encoding="utf-8").splitlines()
    for key in (*VOCABULARY_KEYS, "partial"):
        line = next(i for i, s in enumerate(text) if s.startswith(f"{key}:"))
        assert text[line - 1].startswith("#"), f"no comment above {key}"
    assert any("REPLACES the default" in s for s in text)


def test_prisma_has_every_box_and_adds_up_to_the_example_study(tmp_path: Path):
    write_review(tmp_path / "r")
    counts = load_review(tmp_path / "r").prisma
    boxes = {p[0] for p, _, _ in PRISMA_BOXES}
    assert boxes | {"duplicates", "automation", "removed_other"} >= (
        set(PrismaCounts.__dataclass_fields__) - {"removed_before_screening"})
    assert counts.studies_included == counts.reports_included == 1
    assert counts.other_methods is not None and counts.strict


def test_readme_holds_the_data_dictionary(tmp_path: Path):
    write_review(tmp_path / "r")
    readme = (tmp_path / "r" / "README.md").read_text(encoding="utf-8")
    assert "python -m synth check r" in readme
    body = data_dictionary().split("\n# Data dictionary\n", 1)[1]
    assert body in readme


def test_example_rows_follow_the_vocabulary():
    vocabulary = Vocabulary(aims=(Aim("egfr", "EGFR mutation"),), sites=("lung",),
                            modalities=("CT",), models=("radiomics",),
                            raters=("R1", "R2", "agreed"), consensus="agreed")
    rows = {t.name: example_row(t, vocabulary) for t in TEMPLATE_TABLES}
    assert (rows["studies"]["site"], rows["studies"]["modality"]) == ("lung", "CT")
    assert rows["performance"]["aim"] == "egfr" and rows["quality"]["rater"] == "agreed"


@pytest.mark.parametrize("existing", ["folder with a file", "file"])
def test_an_existing_path_that_is_not_an_empty_folder_is_refused(tmp_path: Path, existing):
    path = tmp_path / "r"
    if existing == "file":
        path.write_text("x")
    else:
        path.mkdir()
        (path / "notes.txt").write_text("mine")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out = _synth("new", "r", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == [
        f"error: r is {'a file' if existing == 'file' else 'a folder that is not empty'}; "
        "synth new writes a new review only into a new or empty folder"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_an_empty_folder_is_filled(tmp_path: Path):
    (tmp_path / "r").mkdir()
    assert _synth("new", "r", cwd=tmp_path).returncode == 0
    assert (tmp_path / "r" / "studies.csv").exists()


def test_a_failed_write_leaves_no_folder(tmp_path: Path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(template, "_write_workbook", fail)
    with pytest.raises(OSError, match="disk full"):
        write_review(tmp_path / "r", xlsx=True)
    assert not (tmp_path / "r").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="disk full"):
        write_review(tmp_path / "empty", xlsx=True)
    assert list((tmp_path / "empty").iterdir()) == []


# --- the workbook ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("xlsx") / "lung"
    out = _synth("new", str(folder), "--xlsx", cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return folder


def test_a_new_workbook_passes_check(book: Path):
    assert sorted(p.name for p in book.iterdir()) == ["README.md", "lung.xlsx", "review.yaml"]
    out = _synth("check", str(book), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    review = load_review(book)
    assert review.name == "lung" and review.prisma.studies_included == len(review.studies) == 1


def test_workbook_sheets_and_the_hidden_lists_sheet(book: Path):
    wb = _workbook(book)
    assert wb.sheetnames == [*(t.name for t in TEMPLATE_TABLES), "prisma", LISTS_SHEET]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    assert all(wb[t.name].sheet_state == "visible" for t in TEMPLATE_TABLES)
    assert {"quality", "metrics", "rqs2", "quadas2", "clear"} <= set(wb.sheetnames)
    prisma = list(wb["prisma"].iter_rows(values_only=True))
    assert prisma[0][:2] == ("key", "value")
    assert [r[0] for r in prisma[1:]] == [".".join(p) for p, _, _ in PRISMA_BOXES]


def _validations(sheet) -> dict[str, object]:
    """Column letter → its data validation."""
    out = {}
    for dv in sheet.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = dv
    return out


def _list_source(wb, formula: str) -> list[object]:
    sheet, cells = formula.lstrip("=").split("!")
    rows = wb[sheet.strip("'")][cells.replace("$", "")]
    return [r[0].value for r in rows]


def test_every_list_column_has_a_drop_down_of_exactly_its_allowed_values(book: Path):
    wb = _workbook(book)
    checked = []
    for table in TEMPLATE_TABLES:
        sheet = wb[table.name]
        validations = _validations(sheet)
        for j, f in enumerate(table.fields, start=1):
            values = allowed_values(f, DEFAULT_VOCABULARY)
            if values is None:
                continue
            letter = openpyxl.utils.get_column_letter(j)
            dv = validations[letter]
            assert dv.type == "list" and dv.showErrorMessage, f"{table.name}.{f.name}"
            assert str(dv.sqref) == f"{letter}2:{letter}1048576"
            assert _list_source(wb, dv.formula1) == list(values), f"{table.name}.{f.name}"
            checked.append(f"{table.name}.{f.name}")
    assert {"studies.site", "studies.modality", "studies.design", "studies.centres",
            "studies.validation", "performance.aim", "performance.model",
            "performance.cohort", "performance.primary", "quality.rater",
            "quality.rqs_05", "metrics.segmentation", "metrics.metrics_09", "rqs2.rater",
            "rqs2.readiness_level", "rqs2.method", "rqs2.rqs2_42", "quadas2.rob_index_test",
            "quadas2.sq_ft_all_included", "clear.clear_58"} <= set(checked)


def test_number_columns_with_a_range_are_validated(book: Path):
    wb = _workbook(book)
    for table in TEMPLATE_TABLES:
        validations = _validations(wb[table.name])
        for j, f in enumerate(table.fields, start=1):
            if allowed_values(f) is not None or (f.min is None and f.max is None):
                continue
            dv = validations[openpyxl.utils.get_column_letter(j)]
            assert dv.type == ("whole" if f.dtype == "int" else "decimal"), f.name
            bounds = [float(x) for x in (dv.formula1, dv.formula2) if x is not None]
            assert bounds == [float(b) for b in (f.min, f.max) if b is not None], f.name


def test_every_header_carries_a_comment_saying_what_is_allowed(book: Path):
    wb = _workbook(book)
    for table in TEMPLATE_TABLES:
        bound = table.bind(DEFAULT_VOCABULARY)
        header = next(wb[table.name].iter_rows(min_row=1, max_row=1))
        assert [c.value for c in header] == list(table.columns)
        for cell, f in zip(header, bound.fields, strict=True):
            assert cell.comment is not None, f"{table.name}.{f.name}"
            assert f.allowed_text().split(" (")[0] in cell.comment.text


# --- a filled review through every notebook -------------------------------------------------

_VOCABULARY = Vocabulary(
    aims=(Aim("malignancy", "malignant vs benign"), Aim("egfr", "EGFR mutation")),
    sites=("thyroid", "lung"), modalities=("ultrasound", "CT"),
    models=("radiomics", "deep learning", "clinical"), raters=("Ines", "Tom", "agreed"),
    consensus="agreed")


def _append(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with open(path, "a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writerows(rows)


def _fill(folder: Path) -> None:
    """Five more studies (six in all), AUCs and 2×2 tables, two raters and the consensus."""
    studies, performance, quality = [], [], []
    items = INSTRUMENT_TABLES["rqs"].fields[2:-1]  # the RQS 1.0 item columns
    for k in range(1, 6):
        sid = f"study{k}"
        studies.append({"study_id": sid, "first_author": f"Author{k} B", "year": 2016 + k,
                        "site": _VOCABULARY.sites[k % 2],
                        "modality": _VOCABULARY.modalities[k % 2],
                        "design": "retrospective", "n_patients": 80 + 20 * k,
                        "source": f"https://example.org/{sid}, Table 2"})
        for aim, cohort, auc in ((_VOCABULARY.aim_names[k % 2], "training", 0.80 + k / 100),
                                 (_VOCABULARY.aim_names[k % 2], "external validation",
                                  0.70 + k / 50)):
            tp, fn, fp, tn = 20 + k, 10 - k, 8 + k, 40 - k
            performance.append({"study_id": sid, "aim": aim, "target": "positive vs negative",
                                "model": "radiomics", "cohort": cohort, "auc": round(auc, 3),
                                "ci_low": round(auc - 0.08, 3),
                                "ci_high": round(min(auc + 0.08, 0.99), 3),
                                "n": tp + fn + fp + tn, "positives": tp + fn,
                                "negatives": fp + tn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                                "primary": "yes" if cohort != "training" else "no"})
        for r, rater in enumerate(_VOCABULARY.raters):
            row: dict[str, object] = {"study_id": sid, "rater": rater}
            for i, f in enumerate(items):
                row[f.name] = f.allowed[(i + k + r) % len(f.allowed)]
            quality.append(row)
    _append(folder / "studies.csv", studies)
    _append(folder / "performance.csv", performance)
    for r, rater in enumerate(_VOCABULARY.raters[:2]):  # the example study's reviewers
        row = {"study_id": "author2024", "rater": rater}
        row |= {f.name: f.allowed[r % len(f.allowed)] for f in items}
        quality.append(row)
    _append(folder / "quality.csv", quality)
    prisma = yaml.safe_load((folder / "prisma.yaml").read_text(encoding="utf-8"))
    prisma |= {"excluded_screening": 40, "sought": 10, "assessed": 9,
               "excluded_reasons": {"No radiomics analysis": 2, "Population out of scope": 1},
               "studies_included": 6, "reports_included": 6}
    (folder / "prisma.yaml").write_text(yaml.safe_dump(prisma, sort_keys=False),
                                        encoding="utf-8")


def test_a_filled_new_review_passes_check_and_runs_every_notebook(tmp_path: Path):
    folder = tmp_path / "data" / "thyroid"
    write_review(folder, vocabulary=_VOCABULARY)
    _fill(folder)
    review = load_review(folder)
    assert len(review.studies) == 6 and review.vocabulary.consensus == "agreed"
    assert set(review.performance["aim"]) == {"malignancy", "egfr"}
    config = RunConfig(data_dir=tmp_path / "data", notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp_path / "figures", results_dir=tmp_path / "results")
    results = run(config)
    assert [r.job.notebook.name for r in results] == [
        p.name for p in find_notebooks(ROOT / "notebooks")]
    failed = [r.describe() for r in results if not r.ok]
    assert not failed, "\n".join(failed)


def test_the_data_dictionary_documents_every_instrument_file():
    from synth.schema import APPRAISAL_TABLES

    text = data_dictionary()
    for table in APPRAISAL_TABLES:
        section = text.split(f"## `{table.filename}` (optional file)", 1)[1].split("\n## ", 1)[0]
        for column in table.columns:
            assert f"| `{column}` |" in section, (table.filename, column)
    metrics = text.split("## `metrics.csv`", 1)[1].split("\n## ", 1)[0]
    assert "segmentation no → items 8, 9, 10" in metrics
