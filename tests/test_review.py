"""load_review: the demo passes; every kind of bad input gives one clear line per problem."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO, line_of

import synth
from synth import ReviewDataError, load_review
from synth.schema import PERFORMANCE, QUALITY, STUDIES


def test_demo_loads_with_every_table():
    rv = load_review(DEMO)
    assert rv.synthetic is True
    assert len(rv.studies) == 45
    assert rv.studies["study_id"].is_unique
    assert list(rv.studies.columns) == list(STUDIES.columns)
    assert list(rv.performance.columns) == list(PERFORMANCE.columns)
    assert list(rv.quality.columns) == list(QUALITY.columns)
    assert rv.prisma.screened == 1364 and rv.prisma.studies_included == 45
    assert str(rv.studies["year"].dtype) == "Int64"
    assert str(rv.performance["auc"].dtype) == "Float64"


def test_load_review_is_exported():
    assert synth.load_review is load_review
    assert set(synth.__all__) >= {"load_review", "Review", "ReviewDataError"}


def test_quality_and_prisma_may_be_absent(demo_copy: Path):
    for name in ("quality.csv", "metrics.csv", "quadas2.csv", "prisma.yaml"):
        (demo_copy / name).unlink()
    rv = load_review(demo_copy)
    assert not rv.has_quality and rv.quality is None and rv.appraisals == {}
    assert not rv.has_prisma
    assert "quality: none (no quality.csv, metrics.csv" in rv.summary()


def test_summary_lists_each_instrument_with_its_raters(demo_copy: Path):
    (demo_copy / "quality.csv").unlink()
    lines = load_review(demo_copy).summary().splitlines()
    assert "  METRICS: 135 rows, raters A, B, consensus" in lines
    assert "  QUADAS-2: 135 rows, raters A, B, consensus" in lines
    assert not any(line.startswith("  RQS:") for line in lines)
    assert lines[0] == "demo (synthetic demonstration data): 45 studies, 133 reported AUCs"


def _problems(path: Path) -> list[str]:
    with pytest.raises(ReviewDataError) as info:
        load_review(path)
    return str(info.value).splitlines()[1:]


def test_missing_file(demo_copy: Path):
    (demo_copy / "performance.csv").unlink()
    assert _problems(demo_copy) == [
        f"performance.csv: file missing — performance.csv in {demo_copy}: "
        "one row per reported model performance (auc) of a study."]


def test_missing_folder(tmp_path: Path):
    with pytest.raises(ReviewDataError, match="nowhere: no such file or folder"):
        load_review(tmp_path / "nowhere")


def test_empty_file(demo_copy: Path):
    (demo_copy / "studies.csv").write_text("", encoding="utf-8")
    with pytest.raises(ReviewDataError, match=r"studies\.csv: file is empty — a header row"):
        load_review(demo_copy)


def test_header_only_file(demo_copy: Path):
    path = demo_copy / "performance.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(ReviewDataError, match=r"performance\.csv:2: no data rows — at least one"):
        load_review(demo_copy)


def test_missing_column(demo_copy: Path):
    df = pd.read_csv(demo_copy / "studies.csv", dtype=str)
    df.drop(columns="site").to_csv(demo_copy / "studies.csv", index=False)
    with pytest.raises(ReviewDataError,
                       match=r"studies\.csv:1:site: \(missing column\) — required: Primary"):
        load_review(demo_copy)


def test_unknown_column_suggests_the_name(demo_copy: Path, edit):
    edit(demo_copy / "studies.csv", ",modality,", ",modalty,")
    problems = _problems(demo_copy)
    assert ("studies.csv:1:modalty: unknown column — not a column of studies.csv; "
            "did you mean 'modality'?") in problems
    assert "studies.csv:1:modality: (missing column) — required: Imaging modality of the " \
           "radiomics analysis." in problems


def test_wrong_type(demo_copy: Path, edit):
    path = demo_copy / "studies.csv"
    edit(path, "demo03,Demo S03,2012,", "demo03,Demo S03,2O12,")
    row = line_of(path, "demo03,")
    assert _problems(demo_copy) == [
        f"studies.csv:{row}:year: '2O12' — a year from 1990 to next year"]


def test_out_of_range(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[3, "auc"] = "1.2"
    df.to_csv(path, index=False)
    with pytest.raises(ReviewDataError,
                       match=re.escape("performance.csv:5:auc: 1.2 — a number from 0 to 1")):
        load_review(demo_copy)


def test_year_out_of_range(demo_copy: Path, edit):
    path = demo_copy / "studies.csv"
    edit(path, "demo03,Demo S03,2012,", "demo03,Demo S03,1899,")
    assert _problems(demo_copy) == [
        f"studies.csv:{line_of(path, 'demo03,')}:year: 1899 — a year from 1990 to next year"]


def test_unknown_category_suggests_the_value(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "aim"] = "grdae"
    df.loc[1, "cohort"] = "External Validation"
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "performance.csv:2:aim: 'grdae' — one of: grade, differential diagnosis, response, "
        "outcome (review.yaml: aims); did you mean 'grade'?",
        "performance.csv:3:cohort: 'External Validation' — one of: training, internal "
        "validation, external validation; did you mean 'external validation'?",
    ]


def test_duplicate_study_id(demo_copy: Path, edit):
    path = demo_copy / "studies.csv"
    edit(path, "demo02,Demo S02,", "demo01,Demo S02,")
    problems = _problems(demo_copy)
    assert "studies.csv:3:study_id: 'demo01' — a unique study_id; already used on row 2" \
        in problems


def test_unknown_study_id(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[2, "study_id"] = "Demo02"
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "performance.csv:4:study_id: 'Demo02' — a study_id of studies.csv; "
        "did you mean 'demo02'?"]


def test_ci_must_contain_auc(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, ["auc", "ci_low", "ci_high"]] = ["0.8", "0.85", "0.9"]
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "performance.csv:2:ci_low: ci_low=0.85, auc=0.8 — ci_low ≤ auc"]


def test_ci_needs_both_bounds(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, ["auc", "ci_low", "ci_high"]] = ["0.8", "0.7", ""]
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "performance.csv:2:ci_high: ci_low=0.7, ci_high=(empty) — "
        "ci_low and ci_high given together"]


def test_classes_must_sum_to_n(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, ["n", "positives", "negatives"]] = ["50", "20", "20"]
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "performance.csv:2:n: n=50, positives=20, negatives=20 — positives + negatives = n"]


def test_rqs_component_outside_its_allowed_set(demo_copy: Path):
    path = demo_copy / "quality.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[1, "rqs_05"] = "1"
    df.loc[2, "rqs_12"] = "1"
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "quality.csv:3:rqs_05: 1 — one of: -3, 3",
        "quality.csv:4:rqs_12: 1 — one of: -5, 2, 3, 4, 5",
    ]


def test_duplicate_study_and_rater(demo_copy: Path):
    path = demo_copy / "quality.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[1, "rater"] = df.loc[0, "rater"]
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        f"quality.csv:3:rater: '{df.loc[0, 'rater']}' — one row per study and rater; "
        f"'demo01' rated by '{df.loc[0, 'rater']}' already on row 2"]


def test_every_problem_in_one_pass(demo_copy: Path, edit):
    edit(demo_copy / "studies.csv", ",modality,", ",modalty,")
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "auc"] = "high"
    df.to_csv(path, index=False)
    edit(demo_copy / "prisma.yaml", "screened: 1364", "screened: -3")
    problems = _problems(demo_copy)
    assert len(problems) == 4
    assert [p.split(":")[0] for p in problems] == ["studies.csv", "studies.csv",
                                                  "performance.csv", "prisma.yaml"]


def test_semicolon_and_decimal_comma_are_read(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    numeric = [c for c in df if df[c].str.fullmatch(r"(\d+\.\d+|\d*)").all()]
    assert {"auc", "ci_low", "ci_high", "auc_se", "sensitivity"} <= set(numeric)
    for col in numeric:
        df[col] = df[col].str.replace(".", ",", regex=False)
    df.to_csv(path, sep=";", index=False)
    pd.testing.assert_frame_equal(load_review(demo_copy).performance,
                                  load_review(DEMO).performance)


def test_decimal_comma_in_comma_file_is_rejected_clearly(demo_copy: Path):
    path = demo_copy / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "auc"] = "0,8"
    df.to_csv(path, index=False)
    assert _problems(demo_copy) == [
        "performance.csv:2:auc: '0,8' — a number from 0 to 1 (this file writes numbers with a "
        "decimal point, as row 3 (auc: '0.88'); ',' only between groups of three digits)"]


def test_utf8_bom_is_read(demo_copy: Path):
    path = demo_copy / "studies.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    pd.testing.assert_frame_equal(load_review(demo_copy).studies, load_review(DEMO).studies)


def test_non_utf8_bytes(demo_copy: Path):
    path = demo_copy / "studies.csv"
    text = path.read_text(encoding="utf-8").replace("Synthetic study 04", "Synthétique 04")
    row = next(i for i, line in enumerate(text.splitlines(), 1) if "Synthétique" in line)
    path.write_bytes(text.encode("latin-1"))
    assert _problems(demo_copy) == [
        f"studies.csv:{row}: byte 0xe9 is not UTF-8 text — save the file as CSV UTF-8"]


def test_ragged_row(demo_copy: Path, edit):
    edit(demo_copy / "studies.csv", "demo02,Demo S02,", "demo02,Demo, S02,")
    assert _problems(demo_copy) == [
        "studies.csv:3: 20 cells — 19 cells, one per header column; quote cells that contain ','"]


def _workbook(src: Path, dest: Path, skip: str | None = None) -> Path:
    """The review in ``src`` as one workbook in ``dest``, with its review.yaml beside it."""
    book = dest / "review.xlsx"
    (dest / "review.yaml").write_bytes((src / "review.yaml").read_bytes())
    with pd.ExcelWriter(book) as xl:
        for name in ("studies", "performance", "quality"):
            if name != skip:
                pd.read_csv(src / f"{name}.csv", dtype=str, keep_default_na=False).to_excel(
                    xl, sheet_name=name, index=False)
    return book


def test_workbook_reads_like_the_csv_files(tmp_path: Path):
    book = _workbook(DEMO, tmp_path)
    rv, ref = load_review(book), load_review(DEMO)
    for table in ("studies", "performance", "quality"):
        pd.testing.assert_frame_equal(getattr(rv, table), getattr(ref, table))


def test_workbook_missing_sheet(tmp_path: Path):
    book = _workbook(DEMO, tmp_path, skip="performance")
    with pytest.raises(ReviewDataError, match=re.escape(
            "review.xlsx: no sheet 'performance' (sheets: studies, quality) — sheets studies, "
            "performance, optional quality and prisma (or screening_log)")):
        load_review(book)


def test_workbook_errors_name_the_sheet(tmp_path: Path):
    book = _workbook(DEMO, tmp_path)
    sheets = pd.read_excel(book, sheet_name=None, dtype=str)
    sheets["studies"].loc[0, "site"] = "pancreass"
    with pd.ExcelWriter(book) as xl:
        for name, df in sheets.items():
            df.to_excel(xl, sheet_name=name, index=False)
    assert _problems(book) == [
        "review.xlsx[studies]:2:site: 'pancreass' — one of: pancreas, stomach, duodenum, "
        "small intestine, appendix, colorectum, liver, mixed (review.yaml: sites); "
        "did you mean 'pancreas'?"]


def test_prisma_bad_count_names_line_and_key(demo_copy: Path, edit):
    edit(demo_copy / "prisma.yaml", "screened: 1364", "screened: 1,364")
    line = line_of(demo_copy / "prisma.yaml", "screened:")
    assert _problems(demo_copy) == [
        f"prisma.yaml:{line}:screened: '1,364' — a whole number ≥ 0 or 'not reported'"]


def test_prisma_unknown_key(demo_copy: Path, edit):
    edit(demo_copy / "prisma.yaml", "assessed: 133", "asessed: 133")
    problems = _problems(demo_copy)
    assert any(p.endswith("did you mean 'assessed'?") and ":asessed: unknown key" in p
               for p in problems)


def test_prisma_not_reported_is_none(demo_copy: Path, edit):
    edit(demo_copy / "prisma.yaml", "sought: 136", "sought: not reported")
    assert load_review(demo_copy).prisma.sought is None


def test_screening_log_stands_in_for_prisma_yaml(demo_copy: Path):
    fixture = Path(__file__).parent / "fixtures" / "prisma" / "screening_log.csv"
    (demo_copy / "prisma.yaml").unlink()
    (demo_copy / "screening_log.csv").write_bytes(fixture.read_bytes())
    _declare_partial(demo_copy)  # the log's 5 included studies are not the demo's 45
    from synth.prisma import counts_from_log

    assert load_review(demo_copy).prisma == counts_from_log(fixture)


def _declare_partial(folder: Path) -> None:
    with (folder / "review.yaml").open("a", encoding="utf-8") as f:
        f.write("partial: true\n")


def _with_log_sheet(book: Path, log: pd.DataFrame) -> Path:
    sheets = pd.read_excel(book, sheet_name=None, dtype=str)
    with pd.ExcelWriter(book) as xl:
        for name, df in {**sheets, "screening_log": log}.items():
            df.to_excel(xl, sheet_name=name, index=False)
    return book


def test_workbook_screening_log_sheet_gives_the_counts(tmp_path: Path):
    fixture = Path(__file__).parent / "fixtures" / "prisma" / "screening_log.csv"
    log = pd.read_csv(fixture, dtype=str, keep_default_na=False)
    book = _with_log_sheet(_workbook(DEMO, tmp_path), log)
    _declare_partial(tmp_path)
    from dataclasses import replace

    from synth.prisma import counts_from_log

    counts = load_review(book).prisma
    assert counts.source == "screening log review.xlsx[screening_log]"
    assert counts == replace(counts_from_log(fixture), source=counts.source)


def test_workbook_screening_log_sheet_errors_name_sheet_and_row(tmp_path: Path):
    fixture = Path(__file__).parent / "fixtures" / "prisma" / "screening_log.csv"
    log = pd.read_csv(fixture, dtype=str, keep_default_na=False)
    log.loc[2, "screening"] = "perhaps"
    book = _with_log_sheet(_workbook(DEMO, tmp_path), log)
    problems = _problems(book)
    assert len(problems) == 1
    assert problems[0].startswith(
        "review.xlsx[screening_log]:4:screening: 'perhaps' — title/abstract decision; one of: ")


def test_bad_screening_log_is_reported_by_load_review(demo_copy: Path):
    (demo_copy / "prisma.yaml").unlink()
    (demo_copy / "screening_log.csv").write_text("source\nPubMed\n", encoding="utf-8")
    problems = _problems(demo_copy)
    assert problems and all(p.startswith("screening_log.csv") for p in problems)


def test_a_review_built_in_code_has_the_default_vocabulary():
    from synth.vocabulary import DEFAULT_VOCABULARY

    rv = load_review(DEMO)
    built = synth.Review(name="t", path=DEMO, studies=rv.studies, performance=rv.performance)
    assert built.vocabulary == DEFAULT_VOCABULARY and not built.partial


def test_summary_lists_the_aims_in_the_declared_order():
    summary = load_review(DEMO).summary()
    assert summary.index("grade:") < summary.index("differential diagnosis:") \
        < summary.index("response:") < summary.index("outcome:")
