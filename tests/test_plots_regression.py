"""Tests for synth.plots.regression: meta-regression and funnel plots draw their results."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO
from test_auc import bcg_frame
from test_plots_auc import _chance_lines, _legend_labels, _texts

import synth
from synth import auc, regression
from synth.plots import regression as plots
from synth.plots.style import MANUSCRIPT
from synth.vocabulary import Aim

AIMS = ("grade", "differential diagnosis", "response", "outcome")


@pytest.fixture(scope="module")
def demo() -> synth.Review:
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def bcg_table() -> pd.DataFrame:
    return bcg_frame()


def test_panels_say_when_there_are_too_few_studies(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    fits = [regression.fit_meta_regression(table, aim=a, moderator="year") for a in AIMS]
    fig = plots.plot_meta_regression_panels(fits, synthetic=True)
    assert any("too few studies with a variance: k = 1" in s for s in _texts(fig, flat=True))
    labelled = replace(demo.vocabulary, aims=tuple(Aim(a, f"aim {a}") for a in AIMS))
    fig = plots.plot_meta_regression_panels(fits, vocabulary=labelled)
    assert {ax.get_title(loc="left").split("\n")[0] for ax in fig.axes if ax.get_visible()} == {
        f"Aim {a}" for a in AIMS}
    tests = [regression.small_study_test(table, aim=a) for a in AIMS]
    fig = plots.plot_funnel_panels(tests, width="two")
    assert any(s.startswith("No funnel plot") for s in _texts(fig))
    assert any("Egger z" in s for s in _texts(fig))


def test_every_logit_auc_axis_has_the_chance_line(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
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


@pytest.mark.parametrize(("moderator", "label"), [("metrics", "METRICS (%)"),
                                                  ("rqs2", "RQS 2.0 (%)"), ("rqs", "RQS (%)")])
def test_quality_moderators_label_their_axis(bcg_table, moderator, label) -> None:
    scores = pd.Series(np.linspace(20.0, 80.0, len(bcg_table)), index=bcg_table["study_id"])
    fit = regression.fit_meta_regression(bcg_table, aim="grade", moderator=moderator,
                                         quality=scores.to_frame(moderator))
    assert plots.plot_meta_regression(fit).axes[0].get_xlabel() == label


def test_logit_axis_labels_every_tick_that_fits_and_none_overlap(demo) -> None:
    table = auc.study_variances(auc.representative_auc(demo))
    fits = [regression.fit_meta_regression(table, aim=a, moderator="year") for a in AIMS[:2]]
    fig = plots.plot_meta_regression_panels(fits)
    with MANUSCRIPT:  # as outputs.save_figure draws it (the font family)
        fig.canvas.draw()
    grade, differential = fig.axes[:2]
    shown = {t.get_text() for t in grade.get_yticklabels() if t.get_text()}
    assert {"0.5", "0.6", "0.7", "0.8", "0.9"} <= shown  # grade: AUC 0.7-0.96
    for ax in (grade, differential):
        boxes = sorted((t.get_window_extent() for t in ax.get_yticklabels() if t.get_text()),
                       key=lambda b: b.y0)
        assert all(low.y1 <= high.y0 for low, high in zip(boxes, boxes[1:], strict=False))
