"""Tests for synth.plots.auc: every AUC figure draws its result, with the house style."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO
from matplotlib.lines import Line2D
from test_auc import _review, _row, bcg_frame

import synth
from synth import auc, regression
from synth.plots import auc as plots
from synth.plots.style import AIM_COLOURS, CHANCE_AUC, COHORT_COLOURS, REFERENCE, SYNTHETIC_LABEL
from synth.schema import AIMS, MODALITIES


@pytest.fixture(scope="module")
def demo() -> synth.Review:
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def bcg_table() -> pd.DataFrame:
    return bcg_frame()


def _texts(fig, *, flat: bool = False) -> list[str]:
    """All text of a figure; ``flat`` joins wrapped lines and non-breaking spaces."""
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return [" ".join(t.replace("\xa0", " ").split()) for t in texts] if flat else texts


def test_forest_plot_is_drawn_from_the_summary_frame(bcg_table) -> None:
    pooling = auc.pool_by_aim(bcg_table)["grade"]
    fig = plots.plot_forest(pooling, synthetic=True)
    ax = fig.axes[0]
    frame = pooling.summary_frame()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:13] == frame["label"].tolist()[:13]
    assert labels[13].startswith("Random effects (REML)")
    assert SYNTHETIC_LABEL in _texts(fig)


def test_forest_plot_says_when_there_is_no_estimate() -> None:
    t = auc.study_variances(auc.representative_auc(_review([
        _row("a", "training", "radiomics", 0.8, auc_se=0.05),
        _row("b", "training", "radiomics", 0.9)])))
    poolings = auc.pool_by_aim(t)
    fig = plots.plot_forest(poolings["grade"], width="two")
    assert any(s.startswith("No pooled estimate: only 1 of 2") for s in _texts(fig, flat=True))
    assert any(s.endswith("†") for s in _texts(fig))
    assert "Weight" not in _texts(fig)  # no study has a weight: no empty column under a header
    with pytest.raises(ValueError, match="response: no studies, no forest plot"):
        plots.plot_forest(poolings["response"])


def test_no_forest_plot_taller_than_a_page(demo, monkeypatch) -> None:
    poolings = auc.pool_by_aim(auc.study_variances(auc.representative_auc(demo)))
    k = poolings["grade"].k_shown
    assert plots.forest_skip_reason(poolings["grade"]) is None
    monkeypatch.setattr(plots, "FOREST_MAX_STUDIES", k - 1)
    reason = plots.forest_skip_reason(poolings["grade"])
    assert reason.startswith(f"grade: {k} studies, more than the {k - 1} rows")
    with pytest.raises(ValueError, match=f"grade: {k} studies"):
        plots.plot_forest(poolings["grade"])


def test_auc_by_aim_and_evidence_map_show_empty_aims(demo) -> None:
    rv = _review([_row("a", "training", "radiomics", 0.8, ci_low=0.7, ci_high=0.9)])
    reps = auc.representative_auc(rv)
    fig = plots.plot_auc_by_aim(reps)
    texts = _texts(fig)
    assert texts.count("no studies") == 3
    assert any(s.startswith("0.80\n1 study") for s in texts)
    fig = plots.plot_evidence_map(auc.auc_ranges(reps, by="modality"), width="two")
    assert _texts(fig).count("0") == len(AIMS) * len(MODALITIES) - 1


def test_panels_say_when_there_are_too_few_studies(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    fits = [regression.fit_meta_regression(table, aim=a, moderator="year") for a in AIMS]
    fig = plots.plot_meta_regression_panels(fits, synthetic=True)
    assert any("too few studies with a variance: k = 1" in s for s in _texts(fig, flat=True))
    tests = [regression.small_study_test(table, aim=a) for a in AIMS]
    fig = plots.plot_funnel_panels(tests, width="two")
    assert any(s.startswith("No funnel plot") for s in _texts(fig))
    assert any("Egger z" in s for s in _texts(fig))


def _chance_lines(ax, axis: str, at: float) -> list[Line2D]:
    """Dashed REFERENCE lines across ``ax`` at ``at`` on ``axis`` (the AUC 0.5 line)."""
    index = 0 if axis == "x" else 1
    return [line for line in ax.get_lines()
            if line.get_linestyle() == "--" and line.get_color() == REFERENCE
            and np.allclose(np.asarray(line.get_data()[index], dtype=float), at)]


def _legend_labels(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_forest_plot_has_column_headers_and_marks_derived_intervals() -> None:
    t = auc.study_variances(auc.representative_auc(_review([
        _row("a", "training", "radiomics", 0.8, auc_se=0.04, ci_low=0.70, ci_high=0.88),
        _row("b", "external validation", "radiomics", 0.85, positives=30, negatives=50),
        _row("c", "internal validation", "radiomics", 0.9, auc_se=0.03),
        _row("d", "training", "radiomics", 0.7)])))
    pooling = auc.pool_by_aim(t)["grade"]
    fig = plots.plot_forest(pooling)
    texts = _texts(fig)
    for header in ("Study", "AUC [95% CI]", "Weight"):
        assert header in texts
    ax = fig.axes[0]
    headers = {t.get_text(): t for t in ax.texts if t.get_text() in ("Study", "AUC [95% CI]",
                                                                     "Weight")}
    assert len({round(t.xy[1], 6) for t in headers.values()}) == 1  # one header row
    # one interval line per study with an interval: solid when reported, dashed when derived
    frame = pooling.summary_frame()
    studies = frame[frame["kind"] == "study"]
    styles = [c.get_linestyle()[0] for c in ax.collections if len(c.get_segments()) == 1
              and c.get_segments()[0][0][1] >= 2]
    assert len(styles) == int(studies["ci_low"].notna().sum()) == 3
    assert sum(s[1] is not None for s in styles) == int(studies["ci_derived"].sum()) == 2
    labels = _legend_labels(fig)
    assert "reported 95% CI" in labels and "derived CI (SE or counts)" in labels
    assert "pooled AUC, 95% CI" in labels and "prediction interval" in labels
    assert "AUC 0.5 (chance)" in labels
    # the weight column holds the table's weights
    assert f"{studies['weight'].max():.0f}%" in texts
    # the pooled diamond is in the aim's colour
    diamond = [p for p in ax.patches if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert any(np.allclose(p.get_facecolor()[:3], _rgb(AIM_COLOURS["grade"])) for p in diamond)


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def test_every_auc_axis_has_the_chance_line(demo) -> None:
    reps = auc.representative_auc(demo)
    table = auc.study_variances(reps)
    poolings = auc.pool_by_aim(table)
    fig = plots.plot_auc_by_aim(reps)
    assert _chance_lines(fig.axes[0], "x", CHANCE_AUC)
    fig = plots.plot_forest(poolings["grade"])
    assert _chance_lines(fig.axes[0], "x", CHANCE_AUC)
    assert "AUC 0.5 (chance)" in _legend_labels(fig)
    fits = regression.meta_regressions(table, moderators=["year", "cohort"], min_k_per_moderator=3)
    for panel in fits.values():
        fig = plots.plot_meta_regression_panels(panel)
        drawn = [ax for ax, f in zip(fig.axes, panel, strict=False) if f.result is not None]
        assert drawn and all(_chance_lines(ax, "y", 0.0) for ax in drawn)  # logit(0.5) = 0
        assert "AUC 0.5 (chance)" in _legend_labels(fig)
    fig = plots.plot_funnel_panels(regression.small_study_tests(table))
    drawn = [ax for ax in fig.axes if ax.axison]
    assert drawn and all(_chance_lines(ax, "x", 0.0) for ax in drawn)
    labels = _legend_labels(fig)
    assert {"AUC 0.5 (chance)", "pseudo 95% limits", "pooled AUC"} <= set(labels)


def test_meta_regression_band_is_drawn_from_the_fit(bcg_table) -> None:
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator="year")
    fig = plots.plot_meta_regression(fit)
    ax = fig.axes[0]
    line = fit.fitted()
    drawn = [ln for ln in ax.get_lines() if ln.get_label() == "fitted line"][0]
    assert np.asarray(drawn.get_ydata(), dtype=float) == pytest.approx(line["estimate"])
    band = [c for c in ax.collections if c.get_label() == "95% CI of the line"][0]
    vertices = band.get_paths()[0].vertices
    assert vertices[:, 1].max() == pytest.approx(line["ci_high"].max())
    assert vertices[:, 1].min() == pytest.approx(line["ci_low"].min())


def test_cohort_marks_use_cohort_colours_only(demo) -> None:
    reps = auc.representative_auc(demo)
    fig = plots.plot_auc_by_aim(reps)
    handles = [h for legend in fig.legends for h in legend.legend_handles]
    cohort_handles = {h.get_label(): h.get_color() for h in handles
                      if h.get_label() in COHORT_COLOURS}
    assert cohort_handles == {c: COHORT_COLOURS[c] for c in cohort_handles}
    assert set(AIM_COLOURS.values()).isdisjoint(cohort_handles.values())
