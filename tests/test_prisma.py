"""PRISMA 2020: counts, arithmetic (each rule both ways), screening logs, diagram layout.

The counts model is :mod:`synth.prisma_counts`, the arithmetic and tables :mod:`synth.prisma`,
the diagram :mod:`synth.plots.prisma`.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from conftest import DEMO, ROOT, line_of
from matplotlib.figure import Figure

from synth import load_review, prisma, prisma_counts
from synth.errors import ReviewDataError
from synth.plots.prisma import plot_prisma_flow
from synth.prisma_counts import OtherMethods, PrismaCounts

FIXTURES = Path(__file__).parent / "fixtures" / "prisma"
LOG = FIXTURES / "screening_log.csv"
GEPNET = ROOT / "data" / "gepnet-public"


@pytest.fixture(scope="module")
def demo() -> PrismaCounts:
    return load_review(DEMO).prisma


def _texts(fig: Figure) -> dict:
    return {t.get_gid(): t for t in fig.findobj() if getattr(t, "get_gid", None)
            and str(t.get_gid()).startswith("text:")}


def _statuses(counts: PrismaCounts) -> dict[str, str]:
    table = prisma.check_counts(counts)
    return dict(zip(table["rule"], table["status"], strict=True))


def _message(counts: PrismaCounts, rule: str) -> str:
    table = prisma.check_counts(counts).set_index("rule")
    return table.loc[rule, "message"]


# --- arithmetic: each rule holds on the demo and fails when one box is changed -------------

def test_demo_counts_add_up(demo):
    assert set(_statuses(demo).values()) == {"ok"}
    assert prisma.count_mismatches(demo) == []


def test_screening_rule_names_boxes_and_numbers(demo):
    bad = dataclasses.replace(demo, screened=1200)
    assert _statuses(bad)["screening"] == "mismatch"
    # demo: 812 + 1021 + 174 = 2007 identified, 643 duplicates removed
    assert _message(bad, "screening") == (
        "screened (1200) ≠ identified (2007) − removed before screening (643)")


def test_retrieval_rule(demo):
    bad = dataclasses.replace(demo, excluded_screening=1200)
    assert _statuses(bad)["retrieval"] == "mismatch"
    assert _message(bad, "retrieval") == (
        "reports sought (136) ≠ screened (1364) − excluded at screening (1200)")


def test_eligibility_rule(demo):
    bad = dataclasses.replace(demo, not_retrieved=5)
    assert _statuses(bad)["eligibility"] == "mismatch"
    assert _message(bad, "eligibility") == (
        "reports assessed (133) ≠ reports sought (136) − not retrieved (5)")


def test_other_methods_eligibility_rule(demo):
    om = dataclasses.replace(demo.other_methods, assessed=8)
    bad = dataclasses.replace(demo, other_methods=om)
    assert _statuses(bad)["eligibility (other methods)"] == "mismatch"
    assert _message(bad, "eligibility (other methods)").startswith(
        "other methods: reports assessed (8) ≠ reports sought (9) − not retrieved (0)")


def test_exclusions_cannot_exceed_assessed_reports(demo):
    partial = dataclasses.replace(demo, studies_included=None, reports_included=None)
    assert _statuses(partial)["exclusions"] == "ok"
    too_many = dataclasses.replace(partial, excluded_reasons={"Wrong population": 140})
    assert _message(too_many, "exclusions") == (
        "excluded with reasons (140) > reports assessed (133)")
    om = dataclasses.replace(demo.other_methods, excluded_reasons={"Not GEP-NET": 10})
    assert _statuses(dataclasses.replace(partial, other_methods=om))[
        "exclusions (other methods)"] == "mismatch"


def test_included_rule(demo):
    bad = dataclasses.replace(demo, studies_included=46, reports_included=46)
    assert _statuses(bad)["included"] == "mismatch"
    assert _message(bad, "included") == (
        "studies included (46) ≠ reports assessed (133) − excluded with reasons (93) "
        "+ other methods: reports assessed (9) − excluded with reasons (4)")


def test_included_rule_adds_previous_studies(demo):
    updated = dataclasses.replace(demo, previous_studies=10, studies_included=55)
    assert _statuses(updated)["included"] == "ok"
    assert _statuses(dataclasses.replace(updated, studies_included=45))["included"] == "mismatch"


def test_included_rule_checks_reports_when_studies_have_several(demo):
    several = dataclasses.replace(demo, studies_included=43, reports_included=45)
    assert _statuses(several)["included"] == "ok"
    assert _statuses(several)["studies and reports"] == "ok"
    wrong = dataclasses.replace(demo, studies_included=43, reports_included=47)
    assert _message(wrong, "included").startswith("reports of included studies (47) ≠ ")
    more_studies = dataclasses.replace(demo, studies_included=46)
    assert _statuses(more_studies)["studies and reports"] == "mismatch"
    assert _message(more_studies, "studies and reports") == (
        "studies included (46) > reports of included studies (45) + previous studies (0)")


def test_not_reported_counts_are_skipped_not_guessed(demo):
    partial = dataclasses.replace(demo, screened=None)
    status = _statuses(partial)
    assert status["screening"] == "skipped" and status["retrieval"] == "skipped"
    assert status["eligibility"] == "ok"
    assert _message(partial, "screening") == "skipped: screened not reported"
    assert prisma.check_counts(partial).set_index("rule").loc["screening", "reported"] is not None
    one_db = dataclasses.replace(demo, databases={**demo.databases, "Embase": None})
    assert _statuses(one_db)["screening"] == "skipped"
    no_reasons = dataclasses.replace(demo, excluded_reasons={})
    assert _statuses(no_reasons)["included"] == "skipped"


def test_the_real_review_has_only_skipped_rules():
    counts = load_review(GEPNET).prisma
    assert set(_statuses(counts).values()) == {"skipped"}


# --- strict (prisma.yaml) --------------------------------------------------------------------

def test_strict_mismatch_is_an_error_on_the_line_of_the_box(demo_copy: Path, edit):
    edit(demo_copy / "prisma.yaml", "screened: 1364", "screened: 1200")
    line = line_of(demo_copy / "prisma.yaml", "screened:")
    with pytest.raises(ReviewDataError) as err:
        load_review(demo_copy)
    lines = str(err.value).splitlines()[1:]
    assert lines[0] == (
        f"prisma.yaml:{line}:screened: screened (1200) ≠ identified (2007) − removed before "
        "screening (643) — the counts must add up (PRISMA 2020); correct them, or set "
        "'strict: false' to draw the diagram with a warning")
    assert lines[1].startswith(f"prisma.yaml:{line_of(demo_copy / 'prisma.yaml', 'sought:')}"
                               ":sought: reports sought (136) ≠ screened (1200)")


def test_warning_lines_are_what_the_diagram_shows(demo):
    assert prisma.warning_lines(demo) == []
    bad = dataclasses.replace(demo, screened=1200, strict=False)
    lines = prisma.warning_lines(bad)
    assert lines[0] == ("Warning: the counts do not add up (2 rules of the PRISMA 2020 "
                        "arithmetic):")
    assert lines[1:] == prisma.count_mismatches(bad)
    one = dataclasses.replace(demo, not_retrieved=5, strict=False)
    assert prisma.warning_lines(one)[0].startswith("Warning: the counts do not add up (1 rule ")
    notes = _texts(plot_prisma_flow(bad))["text:notes"].get_text().replace("\n", " ")
    assert notes == " ".join(lines)


def test_strict_must_be_true_or_false(demo_copy: Path, edit):
    edit(demo_copy / "prisma.yaml", "screened: 1364", "screened: 1364\nstrict: no way")
    with pytest.raises(ReviewDataError, match=r"prisma.yaml:\d+:strict: 'no way' — true"):
        load_review(demo_copy)


def test_excluded_reasons_may_be_not_reported(demo_copy: Path, edit):
    text = (demo_copy / "prisma.yaml").read_text(encoding="utf-8")
    head, tail = text.split("excluded_reasons:\n", 1)
    tail = tail.split("other_methods:", 1)[1]
    (demo_copy / "prisma.yaml").write_text(
        head + "excluded_reasons: not reported\nother_methods:" + tail, encoding="utf-8")
    counts = load_review(demo_copy).prisma
    assert counts.excluded_reasons == {}
    assert _statuses(counts)["included"] == "skipped"


# --- tables ----------------------------------------------------------------------------------

def test_counts_table_lists_every_box_and_marks_not_reported(demo):
    table = prisma.counts_table(demo)
    assert list(table.columns) == ["arm", "box", "item", "n", "reported"]
    pubmed = table[(table["box"] == "identified from databases") & (table["item"] == "PubMed")]
    assert pubmed["n"].tolist() == [812]
    assert table["reported"].all()
    real = prisma.counts_table(load_review(GEPNET).prisma)
    assert real.loc[real["reported"], "n"].tolist() == [1364, 45]
    assert real.loc[~real["reported"], "n"].isna().all()


def test_compare_counts(demo):
    assert prisma.compare_counts(demo, demo) == []
    other = dataclasses.replace(demo, screened=1365, registers={"ICTRP": 1})
    assert prisma.compare_counts(demo, other) == [
        "databases and registers / screened: 1364 ≠ 1365",
        "databases and registers / identified from registers / ICTRP: only in the second counts"]


# --- screening log ---------------------------------------------------------------------------

# The fixture was composed by hand (see tests/fixtures/prisma/README.md): these numbers are its
# design, not output of the code under test.
_LOG_EXPECTED = PrismaCounts(
    databases={"PubMed": 12, "Embase": 8}, registers={"ClinicalTrials.gov": 3},
    duplicates=4, automation=1, removed_other=0, screened=18, excluded_screening=10, sought=8,
    not_retrieved=1, assessed=7, excluded_reasons={"No radiomics": 2, "Not GEP-NET": 1},
    other_methods=OtherMethods(sources={"Citation searching": 4}, sought=3, not_retrieved=0,
                               assessed=3, excluded_reasons={"Not GEP-NET": 1}),
    studies_included=5, reports_included=6)


@pytest.mark.parametrize("name", ["screening_log.csv", "screening_log_export.csv"])
def test_counts_from_log(name):
    counts = prisma.counts_from_log(FIXTURES / name)
    assert dataclasses.replace(counts, source=None) == _LOG_EXPECTED
    assert set(_statuses(counts).values()) == {"ok"}


def _write_log(tmp_path: Path, edit_rows) -> Path:
    lines = LOG.read_text(encoding="utf-8").splitlines()
    lines = edit_rows(lines)
    path = tmp_path / "screening_log.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ReviewDataError) as err:
        prisma.counts_from_log(path)
    return str(err.value).splitlines()[1:]


def test_log_missing_column(tmp_path: Path):
    path = _write_log(tmp_path, lambda ls: [ls[0].replace(",full_text,", ",fulltxt,"), *ls[1:]])
    assert _problems(path) == [
        "screening_log.csv:1:full_text: (missing column) — a column named one of: full_text, "
        "fulltext, full_text_decision, ft_decision, full_text_review"]


def test_log_bad_decision_and_missing_reason(tmp_path: Path):
    def edit(ls: list[str]) -> list[str]:
        ls[3] = ls[3].replace(",exclude,", ",excluded maybe,")  # row 4: screening
        ls[10] = ls[10].replace("No radiomics", "")             # row 11: reason
        return ls
    assert _problems(_write_log(tmp_path, edit)) == [
        "screening_log.csv:4:screening: 'excluded maybe' — title/abstract decision; one of: "
        "include, included, yes, maybe, exclude, excluded, no",
        "screening_log.csv:11:reason: (empty) — required: why the report was excluded at "
        "full text"]


def test_log_full_text_after_exclusion_and_duplicate_with_decision(tmp_path: Path):
    def edit(ls: list[str]) -> list[str]:
        ls[4] = ls[4].replace(",exclude,,", ",exclude,include,")  # row 5
        ls[1] = ls[1].replace(",yes,,,", ",yes,,include,")          # row 2
        return ls
    assert _problems(_write_log(tmp_path, edit)) == [
        "screening_log.csv:2:screening: 'include' — empty for a record removed before "
        "screening (duplicate)",
        "screening_log.csv:5:full_text: 'include' — empty for a record excluded at "
        "title/abstract"]


def test_log_empty_and_missing(tmp_path: Path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert _problems(tmp_path / "empty.csv") == [
        "empty.csv: file is empty — a header row and one row per record (see data/README.md)"]
    assert _problems(tmp_path / "nope.csv")[0].endswith(
        "nope.csv: no such file — a screening log CSV (screening_log.csv), see data/README.md")


def test_log_rows_keep_their_spreadsheet_numbers_after_blank_lines(tmp_path: Path):
    def edit(ls: list[str]) -> list[str]:
        ls[3] = ls[3].replace(",exclude,", ",perhaps,")  # row 4
        return [*ls[:2], "", *ls[2:]]                     # a blank row 3 pushes it to row 5
    assert _problems(_write_log(tmp_path, edit))[0].startswith(
        "screening_log.csv:5:screening: 'perhaps' — title/abstract decision")


def test_parse_screening_log_takes_the_cells_of_any_reader():
    import pandas as pd

    frame = pd.read_csv(LOG, dtype=str, keep_default_na=False)
    counts, problems = prisma_counts.parse_screening_log(frame, file="log[sheet]")
    assert problems == [] and counts.source == "screening log log[sheet]"
    assert dataclasses.replace(counts, source=None) == _LOG_EXPECTED
    frame.loc[0, "source_type"] = "journal"
    counts, problems = prisma_counts.parse_screening_log(frame, file="log[sheet]")
    assert counts is None and [str(p) for p in problems] == [
        "log[sheet]:2:source_type: 'journal' — where the record was found; one of: database, "
        "databases, register, registers, other, other methods"]


def test_review_counts_reads_the_log_when_there_is_no_prisma_yaml(demo_copy: Path):
    (demo_copy / "prisma.yaml").unlink()
    rv = load_review(demo_copy)
    assert prisma.review_counts(rv) is None
    shutil.copy(LOG, demo_copy / prisma_counts.LOG_FILENAME)
    assert prisma.review_counts(rv).screened == 18


def test_the_documented_example_is_valid_and_adds_up():
    import yaml

    from synth.schema import _PRISMA_EXAMPLE

    counts, problems = prisma_counts.parse_prisma(yaml.safe_load(_PRISMA_EXAMPLE))
    assert problems == []
    assert set(_statuses(counts).values()) == {"ok"}
    assert prisma_counts.LOG_FILENAME in (ROOT / "data" / "README.md").read_text(encoding="utf-8")


# --- notebook --------------------------------------------------------------------------------

def test_notebook_draws_real_and_log_reviews_and_notes_a_missing_one(tmp_path: Path):
    import nbformat

    from synth.runner import RunConfig, run

    data = tmp_path / "data"
    shutil.copytree(GEPNET, data / "gepnet-public")
    shutil.copytree(DEMO, data / "nocounts")
    (data / "nocounts" / "prisma.yaml").unlink()
    shutil.copytree(DEMO, data / "logonly")
    (data / "logonly" / "prisma.yaml").unlink()
    shutil.copy(LOG, data / "logonly" / prisma_counts.LOG_FILENAME)
    with (data / "logonly" / "review.yaml").open("a", encoding="utf-8") as f:
        f.write("partial: true\n")  # the log's 5 included studies are not the demo's 45
    config = RunConfig(data_dir=data, notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp_path / "figures", results_dir=tmp_path / "results",
                       notebooks=("02",), jobs=3)
    results = run(config)
    assert [r.describe() for r in results if not r.ok] == []
    for name in ("gepnet-public", "logonly"):
        for ext in ("png", "svg", "pdf"):
            assert (tmp_path / "figures" / name / f"prisma_flow.{ext}").stat().st_size > 1000
        assert (tmp_path / "results" / name / "prisma_counts.csv").exists()
        assert (tmp_path / "results" / name / "prisma_counts.md").exists()
    real = (tmp_path / "results" / "gepnet-public" / "prisma_counts.csv").read_text()
    assert "identified from databases,PubMed,," in real
    log = (tmp_path / "results" / "logonly" / "prisma_counts.csv").read_text()
    assert "included,studies included,,5,True" in log
    assert not (tmp_path / "figures" / "nocounts").exists()
    executed = nbformat.read(tmp_path / "results" / "nocounts" / "notebooks" /
                             "02_prisma_flow.ipynb", as_version=4)
    streams = [o.text for c in executed.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if o.output_type == "stream"]
    assert streams[-1].startswith("No PRISMA counts for review 'nocounts'")
    assert sum("No PRISMA counts" in s for s in streams) == 1


def test_compare_with_log_when_a_folder_holds_both(demo_copy: Path):
    assert prisma.compare_with_log(load_review(demo_copy)) is None
    shutil.copy(LOG, demo_copy / prisma_counts.LOG_FILENAME)
    differences = prisma.compare_with_log(load_review(demo_copy))
    assert "databases and registers / screened: 1364 ≠ 18" in differences
