"""Checks across files: each problem one line naming file, row, column and value, from
load_review (so from `synth check` and before every notebook)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO, line_of

from synth import ReviewDataError, load_review
from synth.consistency import check_consensus, check_folder, check_included
from synth.prisma_counts import PrismaCounts
from synth.vocabulary import parse_vocabulary


def _problems(path: Path) -> list[str]:
    with pytest.raises(ReviewDataError) as info:
        load_review(path)
    return str(info.value).splitlines()[1:]


def _book(folder: Path, name: str = "review.xlsx", *, prisma: dict | None = None) -> Path:
    """The demo's tables as one workbook in ``folder`` (a ``prisma`` sheet from ``prisma``)."""
    book = folder / name
    with pd.ExcelWriter(book) as xl:
        for table in ("studies", "performance", "quality"):
            pd.read_csv(DEMO / f"{table}.csv", dtype=str, keep_default_na=False).to_excel(
                xl, sheet_name=table, index=False)
        if prisma is not None:
            pd.DataFrame({"key": list(prisma), "value": list(prisma.values())}).to_excel(
                xl, sheet_name="prisma", index=False)
    return book


# --- a. every study with quality rows has a consensus row --------------------------------------

def test_a_study_without_a_consensus_row(demo_copy: Path):
    path = demo_copy / "quality.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df[~((df["study_id"] == "demo03") & (df["rater"] == "consensus"))]
    df.to_csv(path, index=False)
    row = line_of(path, "demo03,")
    assert _problems(demo_copy) == [
        f"quality.csv:{row}:rater: 'demo03' rated by A, B — a row by the consensus rater "
        "'consensus' for every study this file scores (review.yaml: consensus)"]


def test_the_consensus_rater_is_the_review_s_own():
    vocabulary, _ = parse_vocabulary({"raters": ["JS", "MK", "agreed"], "consensus": "agreed"})
    quality = pd.DataFrame({"study_id": ["s1", "s1", "s2", "s2"],
                            "rater": ["JS", "agreed", "JS", "MK"]})
    assert [str(p) for p in check_consensus(quality, vocabulary, label="quality.csv")] == [
        "quality.csv:4:rater: 's2' rated by JS, MK — a row by the consensus rater 'agreed' "
        "for every study this file scores (review.yaml: consensus)"]


def test_no_quality_table_needs_no_consensus():
    vocabulary, _ = parse_vocabulary({})
    assert check_consensus(None, vocabulary, label="quality.csv") == []


# --- b. PRISMA's studies included against studies.csv -----------------------------------------

def _drop_study(folder: Path, study: str) -> None:
    """Remove ``study`` from every table of the review (instrument files too)."""
    for path in folder.glob("*.csv"):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df[df["study_id"] != study].to_csv(path, index=False)


def test_prisma_studies_included_must_match_studies_csv(demo_copy: Path):
    _drop_study(demo_copy, "demo07")
    line = line_of(demo_copy / "prisma.yaml", "studies_included:")
    assert _problems(demo_copy) == [
        f"prisma.yaml:{line}:studies_included: 45 — the 44 studies in studies.csv; or "
        "partial: true in review.yaml when the table holds only part of the included studies"]


def test_a_partial_table_is_not_compared(demo_copy: Path):
    _drop_study(demo_copy, "demo07")
    with (demo_copy / "review.yaml").open("a", encoding="utf-8") as f:
        f.write("partial: true\n")
    rv = load_review(demo_copy)
    assert rv.partial and len(rv.studies) == 44 and rv.prisma.studies_included == 45


def test_studies_included_not_reported_is_not_compared():
    assert check_included(PrismaCounts(), pd.DataFrame({"study_id": ["a"]}),
                          where=("prisma.yaml", 3), studies_label="studies.csv",
                          partial=False) == []


def test_studies_included_in_the_workbook_prisma_sheet(tmp_path: Path):
    book = _book(tmp_path, prisma={"screened": 1364, "studies_included": 44})
    assert _problems(book) == [
        "review.xlsx[prisma]:3:studies_included: 44 — the 45 studies in review.xlsx[studies]; "
        "or partial: true in review.yaml when the table holds only part of the included "
        "studies"]


def test_studies_included_from_a_screening_log(demo_copy: Path):
    fixture = Path(__file__).parent / "fixtures" / "prisma" / "screening_log.csv"
    (demo_copy / "prisma.yaml").unlink()
    shutil.copy(fixture, demo_copy / "screening_log.csv")
    assert _problems(demo_copy) == [
        "screening_log.csv:studies_included: 5 — the 45 studies in studies.csv; or partial: "
        "true in review.yaml when the table holds only part of the included studies"]


# --- c. one review per folder -------------------------------------------------------------------

def test_a_workbook_beside_csv_tables(tmp_path: Path):
    folder = tmp_path / "both"
    folder.mkdir()
    for name in ("studies.csv", "performance.csv", "prisma.yaml"):
        shutil.copy(DEMO / name, folder / name)
    _book(folder)
    assert _problems(folder) == [
        "both: holds review.xlsx and studies.csv, performance.csv — one review per folder: the "
        "CSV tables or one workbook; move the other out (or name the workbook: synth check "
        "both/review.xlsx)"]


def test_two_workbooks(tmp_path: Path):
    folder = tmp_path / "books"
    folder.mkdir()
    _book(folder, "a.xlsx")
    _book(folder, "b.xlsx")
    assert _problems(folder) == [
        "books: holds 2 workbooks: a.xlsx, b.xlsx — one workbook per folder; move the others out "
        "(or name one: synth check books/a.xlsx)"]


def test_a_named_workbook_is_read_beside_another(tmp_path: Path):
    _book(tmp_path, "a.xlsx")
    _book(tmp_path, "b.xlsx")
    assert len(load_review(tmp_path / "a.xlsx").studies) == 45


def test_an_excel_lock_file_is_not_a_second_workbook(tmp_path: Path):
    folder = tmp_path / "book"
    folder.mkdir()
    _book(folder)
    (folder / "~$review.xlsx").write_bytes(b"lock")
    assert check_folder(folder, tables=["studies.csv"]) == []
    assert len(load_review(folder).studies) == 45


# --- d. class sizes against n ---------------------------------------------------------------------

def _set_row(folder: Path, **cells: str) -> None:
    path = folder / "performance.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col, value in cells.items():
        df.loc[0, col] = value
    df.to_csv(path, index=False)


def _clear_accuracy(folder: Path, **cells: str) -> None:
    """Row 2 with an AUC and only the class sizes given (no 2×2 table, sensitivity, ...)."""
    blank = {c: "" for c in ("tp", "fp", "fn", "tn", "sensitivity", "specificity",
                             "prevalence", "positives", "negatives", "n")}
    _set_row(folder, auc="0.8", **(blank | cells))


def test_positives_and_negatives_must_sum_to_n(demo_copy: Path):
    _clear_accuracy(demo_copy, n="50", positives="20", negatives="20")
    assert _problems(demo_copy) == [
        "performance.csv:2:n: n=50, positives=20, negatives=20 — positives + negatives = n"]


def test_positives_above_n(demo_copy: Path):
    _clear_accuracy(demo_copy, n="50", positives="60")
    assert _problems(demo_copy) == [
        "performance.csv:2:positives: n=50, positives=60 — positives ≤ n"]


def test_negatives_above_n(demo_copy: Path):
    _clear_accuracy(demo_copy, n="50", negatives="51")
    assert _problems(demo_copy) == [
        "performance.csv:2:negatives: n=50, negatives=51 — negatives ≤ n"]


def test_positives_above_n_with_negatives_gives_one_line(demo_copy: Path):
    _clear_accuracy(demo_copy, n="50", positives="60", negatives="5")
    assert _problems(demo_copy) == [
        "performance.csv:2:n: n=50, positives=60, negatives=5 — positives + negatives = n"]


# --- e. a reported CI contains its AUC ---------------------------------------------------

def test_ci_low_above_the_auc(demo_copy: Path):
    _set_row(demo_copy, auc="0.8", ci_low="0.85", ci_high="0.9")
    assert _problems(demo_copy) == [
        "performance.csv:2:ci_low: ci_low=0.85, auc=0.8 — ci_low ≤ auc"]


def test_ci_high_below_the_auc(demo_copy: Path):
    _set_row(demo_copy, auc="0.8", ci_low="0.7", ci_high="0.75")
    assert _problems(demo_copy) == [
        "performance.csv:2:ci_high: auc=0.8, ci_high=0.75 — auc ≤ ci_high"]


def test_an_instrument_file_without_a_consensus_row(demo_copy: Path):
    path = demo_copy / "metrics.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df[~((df["study_id"] == "demo05") & (df["rater"] == "consensus"))]
    df.to_csv(path, index=False)
    row = line_of(path, "demo05,")
    assert _problems(demo_copy) == [
        f"metrics.csv:{row}:rater: 'demo05' rated by A, B — a row by the consensus rater "
        "'consensus' for every study this file scores (review.yaml: consensus)"]
