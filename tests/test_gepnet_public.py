"""data/gepnet-public: the real evidence table loads, and no number changes silently.

The hashes pin the tables' content: a deliberate, re-verified edit updates them together with
the source cited in the row. The spot checks pin numbers to the sources in SPOTCHECKS.md.
"""

from __future__ import annotations

import hashlib

import pytest
from conftest import ROOT

from synth import load_review

FOLDER = ROOT / "data" / "gepnet-public"

CONTENT_SHA256 = {
    "studies.csv": "df18716cc2334122646a214986c62ae69770e6aa770084e9fdc0a9ad617c6f81",
    "performance.csv": "18aeca17eab89f103ca0a1c01a934fb33c5d75f53e793bdf0fcb59299546b378",
    "prisma.yaml": "522901000a21c852557d11f7cc78a9ebb4920715337ff906c0737c902b007d01",
}


@pytest.fixture(scope="module")
def review():
    return load_review(FOLDER)


@pytest.mark.parametrize("name", sorted(CONTENT_SHA256))
def test_content_is_pinned(name: str):
    digest = hashlib.sha256((FOLDER / name).read_bytes()).hexdigest()
    assert digest == CONTENT_SHA256[name], (
        f"{name} changed: re-verify every changed number at its cited source, then update "
        "the hash in this test")


def test_loads_without_quality_data(review):
    assert not review.synthetic
    assert not review.has_quality
    assert review.studies["source"].notna().all()
    assert review.performance["source"].notna().all()


def test_prisma_records_only_what_the_review_published(review):
    p = review.prisma
    assert (p.screened, p.studies_included) == (1364, 45)
    assert all(v is None for v in p.databases.values())
    assert p.sought is None and p.assessed is None and p.reports_included is None


@pytest.mark.parametrize(
    ("study_id", "cohort", "model_name_part", "auc", "ci"),
    [
        # SPOTCHECKS.md rows 1-7: value as printed at the cited source
        ("shi2020", "training", None, 0.97, None),
        ("han2021", "internal validation", None, 0.997, None),
        ("beleu2020", "training", None, 0.736, (0.545, 0.928)),
        ("yu2019", "training", "PVP", 0.929, None),
        ("bevilacqua2021", "internal validation", "model A", 0.90, None),
        ("wang2022", "internal validation", "nomogram", 0.875, (0.867, 0.883)),
        ("song2021", "external validation", "DLR-A (", 0.77, None),
        # SPOTCHECKS.md, third round
        ("zhu2023", "external validation", "radiomics model", 0.871, None),
        ("zhang2022", "internal validation", None, 0.930, None),
        ("ma2023", "training", "comprehensive", 0.953, None),
    ],
)
def test_spot_checks(review, study_id, cohort, model_name_part, auc, ci):
    rows = review.performance[(review.performance["study_id"] == study_id)
                              & (review.performance["cohort"] == cohort)]
    if model_name_part:
        rows = rows[rows["model_name"].str.contains(model_name_part, regex=False)]
    assert auc in set(rows["auc"]), rows[["model_name", "auc"]]
    if ci:
        hit = rows[rows["auc"] == auc].iloc[0]
        assert (hit["ci_low"], hit["ci_high"]) == ci


@pytest.mark.parametrize(
    ("study_id", "first_author", "year", "period"),
    [
        ("liang2019", "Liang W", 2019, "2021 or earlier"),
        ("gao2019", "Gao X", 2019, "2021 or earlier"),
        ("onner2020", "Önner H", 2020, "2021 or earlier"),
        ("zhang2022", "Zhang T", 2022, "2022 or later"),
    ],
)
def test_study_spot_checks(review, study_id, first_author, year, period):
    row = review.studies.set_index("study_id").loc[study_id]
    assert (row["first_author"], row["year"], row["period"]) == (first_author, year, period)


def test_single_feature_auc_is_not_promoted_to_a_model(review):
    row = review.performance[review.performance["study_id"] == "beleu2020"].iloc[0]
    assert row["model"] == "single feature"
