"""The instrument files together: keys and raters, the long answers table, load_review."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import line_of

from synth.errors import ReviewDataError
from synth.instruments import (
    APPRAISAL_FILES,
    CLEAR,
    ITEM_ANSWER_COLUMNS,
    METRICS,
    RQS,
    RQS2,
    appraisal_scores,
    check_appraisal,
    item_answers,
)
from synth.review import load_review


def _clear(study_id="s1", rater="A", **cells):
    return {"study_id": study_id, "rater": rater, **{c: "yes" for c in CLEAR.columns}, **cells}


def _lines(*rows, stem="clear"):
    table, problems = check_appraisal(stem, pd.DataFrame(list(rows), dtype=object),
                                      label=f"{stem}.csv", study_ids=("s1", "s2"),
                                      raters=("A", "B", "consensus"))
    assert table is None
    return [str(p) for p in problems]


def test_files_and_instruments():
    assert APPRAISAL_FILES == {"metrics": "METRICS", "rqs2": "RQS 2.0", "quadas2": "QUADAS-2",
                               "clear": "CLEAR"}
    with pytest.raises(ValueError, match="stem='rqs' is not allowed"):
        check_appraisal("rqs", pd.DataFrame(), label="rqs.csv")


def test_an_unknown_rater_is_an_error():
    assert _lines(_clear(rater="C")) == [
        "clear.csv:2:rater: 'C' — a rater review.yaml declares; one of: A, B, consensus"]


def test_a_duplicate_study_and_rater_is_an_error():
    assert _lines(_clear(), _clear()) == [
        "clear.csv:3:rater: 'A' — one row per study and rater; 's1' rated by 'A' already on "
        "row 2"]


def test_an_unknown_study_id_is_an_error():
    assert _lines(_clear(study_id="S1")) == [
        "clear.csv:2:study_id: 'S1' — a study_id of studies.csv; did you mean 's1'?"]


def test_an_unknown_column_is_an_error():
    assert _lines(_clear(clear_59="yes")) == [
        "clear.csv:1:clear_59: unknown column — not a column of clear.csv; did you mean "
        "'clear_58'?"]


def test_a_missing_item_column_is_an_error():
    row = _clear()
    del row["clear_58"]
    assert _lines(row) == ["clear.csv:1:clear_58: (missing column) — required in clear.csv"]


def test_item_answers_one_long_table_for_every_item_scored_instrument():
    metrics, _ = check_appraisal("metrics", pd.DataFrame([{
        "study_id": "s1", "rater": "A", **{c: "yes" for c in METRICS.context},
        **{c: "no" for c in METRICS.columns}, "fully_automated_segmentation": "no",
        "metrics_09": "n/a"}], dtype=object), label="metrics.csv", raters=("A",))
    long = item_answers("METRICS", metrics)
    assert tuple(long.columns) == ITEM_ANSWER_COLUMNS
    nine = long.iloc[8]
    assert (nine["item"], nine["answer"], nine["applies"], nine["weight"]) == (
        "metrics_09", "n/a", False, 0.0225)
    assert pd.isna(nine["points"]) and long["points"].sum() == 0

    rqs2, _ = check_appraisal("rqs2", pd.DataFrame([{
        "study_id": "s1", "rater": "A", "readiness_level": "1", "method": "deep learning",
        **{c: "1" for c in RQS2.columns[:5]}}], dtype=object), label="rqs2.csv",
        raters=("A",))
    long = item_answers("RQS 2.0", rqs2)
    assert len(long) == 42 and long["applies"].sum() == 5
    assert long["points"].sum() == 5 and long.iloc[5]["answer"] == "n/a"
    assert long.iloc[0]["category"] == "RRL 1 Foundational exploration"
    assert appraisal_scores("RQS 2.0", rqs2)["maximum"].tolist() == [7]

    quality = pd.DataFrame([{"study_id": "s1", "rater": "A", **{c: 0 for c in RQS.columns},
                             "rqs_05": -3}])
    long = item_answers("RQS", quality)
    assert len(long) == 16 and long["points"].sum() == -3 and long["applies"].all()
    with pytest.raises(ValueError, match="instrument='QUADAS-2' is not allowed"):
        item_answers("QUADAS-2", quality)


def test_load_review_reads_the_instrument_files_present(demo_copy):
    (demo_copy / "clear.csv").write_text(
        "study_id,rater," + ",".join(CLEAR.columns) + ",notes\n"
        "demo01,consensus," + ",".join(["yes"] * 57 + ["n.a."]) + ",\n", encoding="utf-8")
    review = load_review(demo_copy)
    assert list(review.appraisals) == ["METRICS", "QUADAS-2", "CLEAR"]
    assert review.appraisals["CLEAR"].loc[0, "clear_58"] == "n/a"
    assert len(review.appraisals["METRICS"]) == len(
        pd.read_csv(demo_copy / "metrics.csv", dtype=str))


def test_load_review_reports_an_impossible_answer_with_file_row_column(demo_copy, edit):
    path = demo_copy / "quadas2.csv"
    row = line_of(path, "demo01,B,")
    edit(path, "demo01,B,low,", "demo01,B,moderate,")
    with pytest.raises(ReviewDataError) as err:
        load_review(demo_copy)
    assert [str(p) for p in err.value.problems] == [
        f"quadas2.csv:{row}:rob_patient_selection: 'moderate' — risk of bias: one of: low, "
        "high, unclear"]


def test_a_review_without_instrument_files_has_no_appraisals(demo_copy):
    for stem in APPRAISAL_FILES:
        (demo_copy / f"{stem}.csv").unlink(missing_ok=True)
    assert load_review(demo_copy).appraisals == {}


def test_a_workbook_sheet_is_read_like_the_csv_file(tmp_path):
    from conftest import DEMO

    (tmp_path / "review.yaml").write_bytes((DEMO / "review.yaml").read_bytes())
    book = tmp_path / "review.xlsx"
    with pd.ExcelWriter(book) as xl:
        for name in ("studies", "performance", "quality", "metrics"):
            frame = pd.read_csv(DEMO / f"{name}.csv", dtype=str, keep_default_na=False)
            if name == "metrics":
                frame.loc[1, ["segmentation", "fully_automated_segmentation", "metrics_08",
                              "metrics_09", "metrics_10"]] = ["yes", "no", "no", "yes", "no"]
            frame.to_excel(xl, sheet_name=name, index=False)
    with pytest.raises(ReviewDataError) as err:
        load_review(book)
    assert [str(p) for p in err.value.problems] == [
        "review.xlsx[metrics]:3:metrics_09: 'yes' — n/a: condition fully_automated_segmentation "
        "is 'no'"]


def test_a_file_with_a_header_only_is_an_error():
    frame = pd.DataFrame(columns=["study_id", "rater", *CLEAR.columns], dtype=object)
    _, problems = check_appraisal("clear", frame, label="clear.csv", raters=("A",))
    assert [str(p) for p in problems] == [
        "clear.csv:2: no data rows — at least one row: one per study and rater (or no "
        "clear.csv at all)"]


def test_every_study_of_an_instrument_file_needs_a_consensus_row(demo_copy):
    path = demo_copy / "quadas2.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("demo01,consensus,")),
                    encoding="utf-8")
    with pytest.raises(ReviewDataError) as err:
        load_review(demo_copy)
    assert [str(p).split(" — ")[0] for p in err.value.problems] == [
        "quadas2.csv:2:rater: 'demo01' rated by A, B"]
