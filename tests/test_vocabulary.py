"""review.yaml's vocabularies: parsed with one line per bad key, and every table checked against
them, the message naming the list a value was checked against."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEMO, line_of

from synth import ReviewDataError, load_review
from synth.schema import PERFORMANCE, STUDIES, pandera_schema
from synth.vocabulary import (
    DEFAULT_MODELS,
    DEFAULT_SITES,
    DEFAULT_VOCABULARY,
    MAX_AIMS,
    Aim,
    parse_vocabulary,
)

# --- parse_vocabulary ------------------------------------------------------------------------


def _parse(data: dict, **lines: int):
    return parse_vocabulary(data, file="review.yaml", lines={(k,): v for k, v in lines.items()})


def _lines(data: dict, **lines: int) -> list[str]:
    vocabulary, problems = _parse(data, **lines)
    return [str(p) for p in problems]


def test_nothing_declared_is_the_default_vocabulary():
    vocabulary, problems = _parse({"title": "x"})
    assert problems == []
    assert vocabulary == DEFAULT_VOCABULARY
    assert vocabulary.declared == frozenset()


def test_declared_lists_replace_the_defaults():
    vocabulary, problems = _parse({"sites": ["lung"], "modalities": ["CT", "ultrasound"],
                                   "raters": ["JS", "MK", "agreed"], "consensus": "agreed",
                                   "ci_level": 0.9})
    assert problems == []
    assert vocabulary.sites == ("lung",)
    assert vocabulary.modalities == ("CT", "ultrasound")
    assert vocabulary.raters == ("JS", "MK", "agreed")
    assert vocabulary.consensus == "agreed"
    assert vocabulary.ci_level == 0.9
    assert vocabulary.models == DEFAULT_MODELS
    assert vocabulary.declared == {"sites", "modalities", "raters", "consensus", "ci_level"}


def test_aims_keep_their_order_and_labels():
    vocabulary, problems = _parse({"aims": [{"name": "malignancy", "label": "Malignancy"},
                                            "grade", {"name": "egfr", "label": "EGFR mutation"}]})
    assert problems == []
    assert vocabulary.aim_names == ("malignancy", "grade", "egfr")
    assert vocabulary.aim_labels == {"malignancy": "Malignancy", "grade": "grade",
                                     "egfr": "EGFR mutation"}


def test_an_aim_without_a_label_shows_its_name():
    vocabulary, _ = _parse({"aims": [{"name": "egfr"}]})
    assert vocabulary.aims == (Aim("egfr", "egfr"),)


def test_whole_numbers_are_names():
    vocabulary, problems = _parse({"raters": [1, 2, "consensus"]})
    assert problems == [] and vocabulary.raters == ("1", "2", "consensus")


def test_a_list_key_that_is_not_a_list():
    assert _lines({"sites": "lung"}, sites=4) == [
        "review.yaml:4:sites: 'lung' — a list of names, e.g. [pancreas, stomach]"]


def test_an_empty_list():
    assert _lines({"modalities": []}, modalities=3) == [
        "review.yaml:3:modalities: [] (empty list) — a list of names, e.g. [CT, MRI]; or leave "
        "the key out for the defaults"]


def test_an_item_that_is_not_a_name():
    assert _lines({"models": ["radiomics", ""]}, models=6) == [
        "review.yaml:6:models: item 2: '' — a non-empty name"]


def test_a_name_listed_twice():
    assert _lines({"sites": ["lung", "liver", "lung"]}, sites=2) == [
        "review.yaml:2:sites: 'lung' listed twice — each name once"]


def test_an_aim_listed_twice_once_as_a_mapping():
    assert _lines({"aims": ["egfr", {"name": "egfr", "label": "EGFR"}]}, aims=2) == [
        "review.yaml:2:aims: 'egfr' listed twice — each name once"]


def test_too_many_aims():
    aims = [f"aim{i}" for i in range(MAX_AIMS + 1)]
    assert _lines({"aims": aims}, aims=2) == [
        f"review.yaml:2:aims: {MAX_AIMS + 1} aims — at most {MAX_AIMS} aims (each keeps a colour "
        "of its own in every figure)"]


def test_an_aim_item_that_is_neither_name_nor_mapping():
    assert _lines({"aims": [["grade"]]}, aims=2) == [
        "review.yaml:2:aims: item 1: ['grade'] — a name or a mapping {name: ..., label: ...}"]


def test_an_aim_mapping_with_an_unknown_key():
    assert _lines({"aims": [{"nmae": "egfr"}]}, aims=2) == [
        "review.yaml:2:aims: item 1: key 'nmae' — name and label; did you mean 'name'?"]


def test_an_aim_mapping_without_a_name():
    assert _lines({"aims": ["grade", {"label": "EGFR"}]}, aims=2) == [
        "review.yaml:2:aims: item 2: name None — a non-empty name, e.g. "
        "{name: egfr, label: EGFR mutation}"]


def test_an_aim_with_an_empty_label():
    assert _lines({"aims": [{"name": "egfr", "label": " "}]}, aims=2) == [
        "review.yaml:2:aims: item 1: label ' ' — a non-empty label, or no label (the name is "
        "shown)"]


def test_a_consensus_that_is_not_a_rater():
    assert _lines({"raters": ["JS", "MK", "agreed"], "consensus": "agred"}, consensus=5) == [
        "review.yaml:5:consensus: 'agred' — one of the raters (JS, MK, agreed); did you mean "
        "'agreed'?"]


def test_a_consensus_that_is_not_text():
    assert _lines({"consensus": ["A"]}, consensus=5) == [
        "review.yaml:5:consensus: ['A'] — one of the raters (A, B, C, D, consensus)"]


def test_raters_without_the_consensus_rater_must_name_it():
    assert _lines({"raters": ["JS", "MK"]}, raters=4) == [
        "review.yaml:4:raters: JS, MK — a list holding the consensus rater, or consensus: one "
        "of them (the default consensus is 'consensus')"]


def test_raters_holding_the_default_consensus_need_no_consensus_key():
    vocabulary, problems = _parse({"raters": ["A", "consensus"]})
    assert problems == [] and vocabulary.consensus == "consensus"


@pytest.mark.parametrize(("value", "allowed"), [
    (90, "a number between 0 and 1, e.g. 0.95; write 0.9 for 90 %"),
    (1, "a number between 0 and 1, e.g. 0.95"),
    (0, "a number between 0 and 1, e.g. 0.95"),
    ("95 %", "a number between 0 and 1, e.g. 0.95"),
    (True, "a number between 0 and 1, e.g. 0.95"),
])
def test_a_ci_level_outside_zero_to_one(value, allowed):
    assert _lines({"ci_level": value}, ci_level=7) == [
        f"review.yaml:7:ci_level: {value!r} — {allowed}"]


def test_a_bad_consensus_falls_back_to_the_default_raters():
    vocabulary, problems = _parse({"raters": ["JS", "MK"], "consensus": "agreed"})
    assert len(problems) == 1
    assert (vocabulary.raters, vocabulary.consensus) == (DEFAULT_VOCABULARY.raters, "consensus")
    assert "raters" not in vocabulary.declared


def test_a_bad_key_falls_back_to_its_default():
    vocabulary, problems = _parse({"sites": "lung", "ci_level": 90})
    assert len(problems) == 2
    assert vocabulary.sites == DEFAULT_SITES and vocabulary.ci_level == 0.95
    assert vocabulary.declared == frozenset()


def test_values_and_source_name_the_list():
    vocabulary, _ = _parse({"sites": ["lung"]})
    assert vocabulary.values("sites") == ("lung",)
    assert vocabulary.values("aims") == DEFAULT_VOCABULARY.aim_names
    assert vocabulary.source("sites") == "review.yaml: sites"
    assert vocabulary.source("models") == ("the default models; declare your own as models: in "
                                           "review.yaml")
    with pytest.raises(ValueError, match="key='site' is not one of"):
        vocabulary.values("site")


def test_a_table_bound_to_a_vocabulary_allows_its_lists():
    vocabulary, _ = _parse({"sites": ["lung"]})
    bound = STUDIES.bind(vocabulary)
    assert bound.field("site").allowed == ("lung",)
    assert bound.field("site").allowed_text() == "one of: lung (review.yaml: sites)"
    assert bound.field("modality").allowed == DEFAULT_VOCABULARY.modalities
    assert STUDIES.field("site").allowed is None  # the declaration itself is unchanged


def test_a_schema_built_without_a_vocabulary_checks_the_defaults():
    import pandas as pd
    import pandera.pandas as pa

    frame = pd.DataFrame({"study_id": ["x"], "aim": ["malignancy"]}, dtype=object)
    with pytest.raises(pa.errors.SchemaError, match="the default aims"):
        pandera_schema(PERFORMANCE, ("study_id", "aim")).validate(frame)


# --- a review from another field ---------------------------------------------------------------

LUNG_YAML = """\
title: Radiomics of lung nodules (test review)
synthetic: true
sites: [lung]
modalities: [CT, ultrasound]
aims:
  - {name: malignancy, label: Malignancy}
  - {name: egfr, label: EGFR mutation}
raters: [JS, MK, agreed]
consensus: agreed
ci_level: 0.9
"""


def _rqs_row(study: str, rater: str) -> str:
    scores = "0,1,0,0,-3,0,1,1,1,0,0,-5,0,0,0,0"
    return f"{study},{rater},{scores}"


def lung_review(folder: Path, *, review_yaml: str = LUNG_YAML) -> Path:
    """A five-study lung review with its own aims, sites, modalities and raters."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "review.yaml").write_text(review_yaml, encoding="utf-8")
    studies = ["study_id,first_author,year,site,modality,source"]
    performance = ["study_id,aim,target,model,cohort,auc,ci_low,ci_high,ci_level,source"]
    quality = ["study_id,rater," + ",".join(f"rqs_{i:02d}" for i in range(1, 17))]
    for i in range(1, 6):
        sid = f"lung{i:02d}"
        modality = "ultrasound" if i % 2 else "CT"
        studies.append(f"{sid},Author {i},{2015 + i},lung,{modality},test")
        level = "0.95" if i == 1 else ""
        performance.append(f"{sid},malignancy,benign vs malignant,radiomics,training,"
                           f"0.8{i},0.7{i},0.9{i},{level},test")
        performance.append(f"{sid},egfr,EGFR mutant vs wild type,deep learning,"
                           f"external validation,0.7{i},,,,test")
        quality += [_rqs_row(sid, r) for r in ("JS", "MK", "agreed")]
    for name, rows in (("studies", studies), ("performance", performance),
                       ("quality", quality)):
        (folder / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _problems(path: Path) -> list[str]:
    with pytest.raises(ReviewDataError) as info:
        load_review(path)
    return str(info.value).splitlines()[1:]


def test_a_lung_review_with_its_own_vocabulary_loads(tmp_path: Path):
    rv = load_review(lung_review(tmp_path / "lung"))
    assert rv.vocabulary.aim_names == ("malignancy", "egfr")
    assert rv.vocabulary.consensus == "agreed"
    assert set(rv.studies["modality"]) == {"CT", "ultrasound"}
    assert set(rv.quality["rater"]) == {"JS", "MK", "agreed"}
    assert "by aim: Malignancy: 5 studies, 5 AUCs; EGFR mutation: 5 studies, 5 AUCs" \
        in rv.summary()


def test_summary_follows_the_declared_aim_order(tmp_path: Path):
    folder = lung_review(tmp_path / "lung", review_yaml=LUNG_YAML.replace(
        "  - {name: malignancy, label: Malignancy}\n  - {name: egfr, label: EGFR mutation}\n",
        "  - egfr\n  - malignancy\n"))
    assert "by aim: egfr: 5 studies, 5 AUCs; malignancy: 5 studies" in load_review(folder).summary()


def test_ci_level_fills_rows_without_their_own(tmp_path: Path):
    perf = load_review(lung_review(tmp_path / "lung")).performance
    assert str(perf["ci_level"].dtype) == "Float64"
    assert list(perf["ci_level"]) == [0.95] + [0.9] * 9


def test_ci_level_defaults_to_95_percent():
    assert set(load_review(DEMO).performance["ci_level"]) == {0.95}


@pytest.mark.parametrize("value", ["95", "1", "0"])
def test_a_row_ci_level_outside_zero_to_one(tmp_path: Path, edit, value: str):
    folder = lung_review(tmp_path / "lung")
    edit(folder / "performance.csv", "0.91,0.95,test", f"0.91,{value},test")
    assert _problems(folder) == [
        f"performance.csv:2:ci_level: {float(value)!r} — a number between 0 and 1, e.g. 0.90 "
        "(not 90)"]


def test_a_value_outside_a_declared_list_names_the_list(tmp_path: Path, edit):
    folder = lung_review(tmp_path / "lung")
    edit(folder / "studies.csv", "lung,CT,", "lung,MRI,")
    edit(folder / "performance.csv", ",egfr,", ",EGFR,")
    edit(folder / "quality.csv", ",MK,", ",KM,")
    assert _problems(folder) == [
        "studies.csv:3:modality: 'MRI' — one of: CT, ultrasound (review.yaml: modalities)",
        "performance.csv:3:aim: 'EGFR' — one of: malignancy, egfr (review.yaml: aims); "
        "did you mean 'egfr'?",
        "quality.csv:3:rater: 'KM' — one of: JS, MK, agreed (review.yaml: raters)",
    ]


def test_a_value_outside_an_undeclared_list_names_the_default(tmp_path: Path, edit):
    folder = lung_review(tmp_path / "lung")
    edit(folder / "performance.csv", ",radiomics,", ",svm,")
    assert _problems(folder) == [
        "performance.csv:2:model: 'svm' — one of: " + ", ".join(DEFAULT_MODELS)
        + " (the default models; declare your own as models: in review.yaml)"]


def test_a_declared_list_replaces_the_default(tmp_path: Path, edit):
    folder = lung_review(tmp_path / "lung")
    edit(folder / "studies.csv", ",lung,", ",liver,")
    assert _problems(folder) == [
        "studies.csv:2:site: 'liver' — one of: lung (review.yaml: sites)"]


def test_review_yaml_problems_carry_its_line(demo_copy: Path, edit):
    edit(demo_copy / "review.yaml", "modalities: [CT, MRI, PET, multiple]", "modalities: CT")
    line = line_of(demo_copy / "review.yaml", "modalities:")
    assert _problems(demo_copy) == [
        f"review.yaml:{line}:modalities: 'CT' — a list of names, e.g. [CT, MRI]"]


def test_review_yaml_problems_are_reported_before_the_tables(demo_copy: Path, edit):
    edit(demo_copy / "review.yaml", "ci_level: 0.95", "ci_level: 95")
    edit(demo_copy / "studies.csv", ",pancreas,", ",pancreass,")
    problems = _problems(demo_copy)
    assert len(problems) == 1 and problems[0].startswith("review.yaml:")


def test_unknown_review_yaml_key_suggests_the_name(demo_copy: Path, edit):
    edit(demo_copy / "review.yaml", "sites:", "site:")
    problems = _problems(demo_copy)
    assert len(problems) == 1
    assert problems[0].startswith(f"review.yaml:{line_of(demo_copy / 'review.yaml', 'site:')}:"
                                  "site: unknown key — allowed: title, synthetic, description, "
                                  "aims, sites,")
    assert problems[0].endswith("did you mean 'sites'?")


def test_partial_must_be_true_or_false(demo_copy: Path):
    with (demo_copy / "review.yaml").open("a", encoding="utf-8") as f:
        f.write("partial: some\n")
    line = line_of(demo_copy / "review.yaml", "partial:")
    assert _problems(demo_copy) == [f"review.yaml:{line}:partial: 'some' — true or false"]


def test_the_shipped_reviews_declare_their_vocabularies():
    from conftest import ROOT

    gepnet = ("grade", "differential diagnosis", "response", "outcome")
    demo = load_review(DEMO)
    public = load_review(ROOT / "data" / "gepnet-public")
    assert demo.vocabulary.aim_names == public.vocabulary.aim_names == gepnet
    assert demo.vocabulary.raters == ("A", "B", "consensus")
    assert demo.vocabulary.modalities == public.vocabulary.modalities \
        == ("CT", "MRI", "PET", "multiple")
    assert {"aims", "sites", "modalities", "models"} <= public.vocabulary.declared
    assert public.partial and not demo.partial


def test_synth_check_says_a_lung_review_is_valid(tmp_path: Path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "synth", "check",
                          str(lung_review(tmp_path / "lung"))],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "by aim: Malignancy: 5 studies" in out.stdout and out.stdout.strip().endswith("valid")


def test_review_yaml_problems_come_with_prisma_yaml_problems(demo_copy: Path, edit):
    edit(demo_copy / "review.yaml", "ci_level: 0.95", "ci_level: 95")
    edit(demo_copy / "prisma.yaml", "screened: 1364", "screened: -3")
    assert [p.split(":")[0] for p in _problems(demo_copy)] == ["review.yaml", "prisma.yaml"]
