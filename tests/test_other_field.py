"""A review from another field (tests/fixtures/reviews/breast-us, SYNTHETIC): another organ,
its own three aims with labels, ultrasound beside mammography and MRI, raters JS and MK with
the consensus "agreed" and a 90 % CI, through ``synth check`` and every notebook."""

from __future__ import annotations

import importlib.util
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

import synth
from synth.runner import RunConfig, find_notebooks, run

FIXTURES = ROOT / "tests" / "fixtures" / "reviews"
BREAST = FIXTURES / "breast-us"
AIMS = ["malignancy", "subtype", "axilla"]
MODALITIES = ["ultrasound", "mammography", "MRI"]


def _generator():
    spec = importlib.util.spec_from_file_location("make_breast_us",
                                                  FIXTURES / "make_breast_us.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fixture_is_what_its_seeded_generator_writes(tmp_path: Path):
    _generator().main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in BREAST.iterdir())
    for name in written:
        assert (tmp_path / name).read_text() == (BREAST / name).read_text(), name


def test_the_review_declares_its_own_words_and_says_it_is_synthetic():
    rv = synth.load_review(BREAST)
    assert rv.synthetic and "SYNTHETIC" in rv.description
    v = rv.vocabulary
    assert v.aim_names == tuple(AIMS)
    assert v.aim_labels["subtype"] == "Molecular subtype"
    assert (v.sites, v.modalities, v.raters, v.consensus) == (
        ("breast",), tuple(MODALITIES), ("JS", "MK", "agreed"), "agreed")


def test_check_says_valid():
    done = subprocess.run([sys.executable, "-m", "synth", "check", str(BREAST)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("valid")
    assert "Molecular subtype" in done.stdout


@pytest.fixture(scope="module")
def breast_run(tmp_path_factory) -> tuple[Path, list]:
    tmp = tmp_path_factory.mktemp("other_field")
    shutil.copytree(BREAST, tmp / "data" / "breast-us")
    config = RunConfig(data_dir=tmp / "data", notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp / "figures", results_dir=tmp / "results")
    return tmp, run(config)


def test_every_notebook_runs(breast_run):
    _, results = breast_run
    assert [r.job.notebook.name for r in results] == [
        p.name for p in find_notebooks(ROOT / "notebooks")]
    failed = [r.describe() for r in results if not r.ok]
    assert not failed, "\n".join(failed)


def test_tables_follow_the_declared_aims_and_modalities(breast_run):
    res = breast_run[0] / "results" / "breast-us"
    assert pd.read_csv(res / "auc_by_aim.csv")["aim"].tolist() == AIMS
    by_modality = pd.read_csv(res / "auc_by_aim_modality.csv")
    assert list(dict.fromkeys(by_modality["aim"])) == AIMS
    assert list(dict.fromkeys(by_modality["modality"])) == MODALITIES
    pooled = pd.read_csv(res / "auc_pooled.csv")
    assert list(dict.fromkeys(pooled["aim"])) == AIMS
    assert list(dict.fromkeys(pd.read_csv(res / "auc_sensitivity.csv")["aim"])) == AIMS
    dta = pd.read_csv(res / "dta_pooled.csv")
    assert list(dict.fromkeys(dta["aim"])) == AIMS
    subtype = dta[dta["aim"] == "subtype"]  # no 2x2 table: one row saying why
    assert subtype["quantity"].tolist() == ["note"] and subtype["k"].tolist() == [0]
    characteristics = pd.read_csv(res / "study_characteristics.csv")
    modality = characteristics[characteristics["characteristic"] == "Imaging modality"]
    assert modality["category"].tolist() == MODALITIES


def test_the_90_percent_ci_gives_its_own_variance(breast_run):
    studies = pd.read_csv(breast_run[0] / "results" / "breast-us" / "auc_studies.csv")
    row = studies[(studies["study_id"] == "bus04") & (studies["aim"] == "malignancy")].iloc[0]
    assert row["variance_route"] == "reported CI"
    assert row["ci_source"] == "derived from CI"  # a 90 % CI is not the forest plot's 95 %
    z90 = 1.6448536269514722
    width = math.log(row["ci_high"] / (1 - row["ci_high"])) - math.log(
        row["ci_low"] / (1 - row["ci_low"]))
    assert row["var_logit"] == pytest.approx((width / (2 * z90)) ** 2)


def test_figures_are_written_per_declared_aim(breast_run):
    figures = breast_run[0] / "figures" / "breast-us"
    for stem in ("studies_per_year", "prisma_flow", "auc_by_aim", "auc_evidence_map",
                 "forest_malignancy", "forest_subtype", "forest_axilla", "auc_baujat",
                 "dta_forest_malignancy", "dta_sroc_malignancy"):
        assert (figures / f"{stem}.png").stat().st_size > 1000, stem
