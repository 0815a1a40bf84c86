"""synth.explore: subsets of a review that every analysis accepts unchanged."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from conftest import DEMO, ROOT
from matplotlib.figure import Figure

import synth
from synth import explore, overview
from synth.plots import overview as overview_plots

PUBLIC = ROOT / "data" / "gepnet-public"


@pytest.fixture(scope="module")
def demo() -> synth.Review:
    return synth.load_review(DEMO)


def _ids(df: pd.DataFrame) -> set[str]:
    return set(df["study_id"])


def test_no_filter_keeps_everything_and_says_so(demo):
    everything = explore.subset(demo)
    for table in ("studies", "performance", "quality"):
        pd.testing.assert_frame_equal(getattr(everything, table), getattr(demo, table))
    assert everything.description == f"All {len(demo.studies)} studies (no filter)"


def test_aims_keep_rows_of_those_aims_and_the_studies_reporting_them(demo):
    sub = explore.subset(demo, aims="grade")
    perf = demo.performance
    grade_ids = _ids(perf[perf["aim"] == "grade"])
    assert 0 < len(grade_ids) < len(demo.studies)
    assert _ids(sub.studies) == grade_ids
    assert set(sub.performance["aim"]) == {"grade"}
    assert len(sub.performance) == int((perf["aim"] == "grade").sum())
    expected_quality = demo.quality[demo.quality["study_id"].isin(grade_ids)]
    assert len(sub.quality) == len(expected_quality)
    assert _ids(sub.quality) == _ids(expected_quality)


def test_several_values_of_one_filter_are_alternatives(demo):
    ct = explore.subset(demo, modalities="CT")
    mri = explore.subset(demo, modalities=["MRI"])
    both = explore.subset(demo, modalities=("CT", "MRI"))
    assert _ids(both.studies) == _ids(ct.studies) | _ids(mri.studies)
    assert set(both.studies["modality"]) == {"CT", "MRI"}
    assert len(both.studies) == int(demo.studies["modality"].isin(["CT", "MRI"]).sum())


def test_filters_combine_as_the_intersection(demo):
    by_aim = _ids(explore.subset(demo, aims="differential diagnosis").studies)
    by_site = _ids(explore.subset(demo, sites="pancreas").studies)
    by_year = _ids(explore.subset(demo, years=(2016, None)).studies)
    combined = explore.subset(demo, aims="differential diagnosis", sites="pancreas",
                              years=(2016, None))
    assert _ids(combined.studies) == by_aim & by_site & by_year
    assert combined.studies["year"].min() >= 2016
    assert set(combined.performance["aim"]) == {"differential diagnosis"}


def test_year_forms(demo):
    years = demo.studies["year"]
    first, last = int(years.min()), int(years.max())
    middle = (first + last) // 2
    assert len(explore.subset(demo, years=middle).studies) == int((years == middle).sum())
    upto = explore.subset(demo, years=(None, middle))
    assert len(upto.studies) == int((years <= middle).sum())
    assert upto.studies["year"].max() <= middle
    closed = explore.subset(demo, years=[first + 1, last - 1])
    assert len(closed.studies) == int(years.between(first + 1, last - 1).sum())


def test_studies_without_an_auc_stay_unless_an_aim_is_chosen(demo):
    extra = pd.DataFrame([{**demo.studies.iloc[0].to_dict(), "study_id": "noauc2019"}])
    review = dataclasses.replace(demo, studies=pd.concat([demo.studies, extra],
                                                         ignore_index=True))
    year = int(extra["year"].iloc[0])
    assert "noauc2019" in _ids(explore.subset(review, years=year).studies)
    aim = demo.performance.loc[0, "aim"]
    assert "noauc2019" not in _ids(explore.subset(review, aims=aim, years=year).studies)


def test_subset_describes_itself_and_leaves_the_review_alone(demo):
    before = demo.studies.copy()
    sub = explore.subset(demo, aims="grade", years=(2018, None))
    n = len(sub.studies)
    assert sub.description == f"Subset: aim grade; years from 2018 ({n} of {len(before)} studies)"
    assert (sub.name, sub.synthetic, sub.title, sub.prisma) == (
        demo.name, demo.synthetic, demo.title, demo.prisma)
    pd.testing.assert_frame_equal(demo.studies, before)
    assert list(sub.studies.index) == list(range(n))


def test_review_without_quality_keeps_none():
    public = synth.load_review(PUBLIC)
    assert public.quality is None
    aim = public.performance["aim"].iloc[0]
    sub = explore.subset(public, aims=aim)
    assert sub.quality is None and not sub.has_quality
    assert _ids(sub.studies) == _ids(public.performance[public.performance["aim"] == aim])


def test_analyses_run_unchanged_on_a_subset(demo):
    sub = explore.subset(demo, modalities="CT", years=(2015, 2020))
    table = overview.study_characteristics(sub)
    year_rows = table[table["characteristic"] == "Publication year"]
    assert year_rows["n_studies"].sum() == len(sub.studies)
    assert set(year_rows["category"].astype(int)) <= set(range(2015, 2021))
    modality = table[table["characteristic"] == "Imaging modality"]
    assert list(modality["category"]) == ["CT"]
    per_year = overview.studies_per_year(sub)
    fig = overview_plots.plot_studies_per_year(per_year, synthetic=sub.synthetic)
    assert isinstance(fig, Figure)
    assert per_year["year"].between(2015, 2020).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"aims": "grad"},
     r"aims='grad' is not allowed; use one of: 'grade', .*did you mean 'grade'"),
    ({"modalities": ["CT", "PET-CT"]},
     r"modalities='PET-CT' is not allowed; use one of: 'CT'"),
    ({"sites": "Pancreas"}, r"did you mean 'pancreas'"),
    ({"aims": []}, r"aims=\[\]: give at least one value"),
    ({"sites": ["liver", "liver"]}, r"sites=\['liver', 'liver'\] repeats a value"),
    ({"years": (2020, 2015)}, r"the first year is after the last"),
    ({"years": "2019"}, r"give a year \(2019\), or an inclusive range"),
    ({"years": (2015, 2018, 2020)}, r"inclusive range"),
])
def test_bad_filters_say_what_is_allowed(demo, kwargs, message):
    with pytest.raises(ValueError, match=message):
        explore.subset(demo, **kwargs)


def test_an_empty_subset_is_an_error_listing_what_exists(demo):
    first = int(demo.studies["year"].min())
    with pytest.raises(explore.EmptySubsetError, match=r"no study of demo has year "
                                                       rf"{first - 1}; the review holds:"):
        explore.subset(demo, years=first - 1)


def test_filter_options_count_studies(demo):
    options = explore.filter_options(demo)
    assert list(options.columns) == ["filter", "value", "n_studies"]
    assert list(options["filter"].unique()) == ["aims", "modalities", "sites", "years"]
    for row in options.itertuples(index=False):
        assert len(explore.subset(demo, **{row.filter: row.value}).studies) == row.n_studies
    years = options.loc[options["filter"] == "years", "value"].tolist()
    assert years == sorted(years)
    assert options.loc[options["filter"] == "years", "n_studies"].sum() == len(demo.studies)


def test_auc_and_rqs_figures_follow_the_subset(demo):
    from synth import auc, quality
    from synth.plots import auc as auc_plots
    from synth.plots import quality as quality_plots

    sub = explore.subset(demo, aims="grade", modalities=["CT", "MRI"])
    reps = auc.representative_auc(sub)
    assert set(reps["aim"]) == {"grade"}
    assert set(reps["study_id"]) == _ids(sub.studies)
    assert isinstance(auc_plots.plot_auc_by_aim(reps, aims=["grade"], synthetic=sub.synthetic),
                      Figure)
    chosen = quality.rater_scores(quality.score(sub.quality), rater="consensus")
    assert set(chosen["study_id"]) == _ids(sub.studies)
    full = quality.rater_scores(quality.score(demo.quality), rater="consensus")
    assert len(chosen) < len(full)
    assert quality.consensus_percent(sub).to_dict() == chosen.set_index("study_id")[
        "percent"].to_dict()
    fig = quality_plots.plot_distribution(chosen, quality.study_groups(sub),
                                          synthetic=sub.synthetic)
    assert isinstance(fig, Figure)


def test_aims_of_lists_the_reported_aims_in_the_declared_order(demo):
    aims = demo.vocabulary.aim_names
    assert explore.aims_of(demo) == [a for a in aims if a in set(demo.performance["aim"])]
    assert explore.aims_of(explore.subset(demo, aims=["outcome", "grade"])) == ["grade", "outcome"]


def test_declared_gives_the_parameter_s_values_or_the_whole_declared_list(demo):
    assert explore.chosen(demo, "aims", []) == demo.vocabulary.aim_names
    assert explore.chosen(demo, "aims", None) == demo.vocabulary.aim_names
    assert explore.chosen(demo, "aims", ["outcome", "grade"]) == ("outcome", "grade")
    assert explore.chosen(demo, "modalities", "MRI") == ("MRI",)
    assert explore.chosen(demo, "raters", []) == demo.vocabulary.raters
    with pytest.raises(ValueError, match="aims='lung' is not allowed; use one of: 'grade'"):
        explore.chosen(demo, "aims", ["lung"])
    with pytest.raises(ValueError, match="repeats a value"):
        explore.chosen(demo, "modalities", ["CT", "CT"])
