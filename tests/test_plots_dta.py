"""Diagnostic-accuracy figures: drawn from their results only, every mark in a legend or a
label, the synthetic mark, and notes instead of statistics a result does not have."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import DEMO
from matplotlib.text import Text

import synth
from synth import dta
from synth.plots import dta as plots
from synth.plots import style as st


@pytest.fixture(scope="module")
def cells():
    return dta.representative_cells(synth.load_review(DEMO))


@pytest.fixture(scope="module")
def poolings(cells):
    return dta.pool_by_aim(cells)


def _texts(fig) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_paired_forest_has_both_panels_counts_and_pooled_row(poolings):
    p = poolings["grade"]
    fig = plots.plot_paired_forest(p, synthetic=True)
    texts = _texts(fig)
    assert len(fig.axes) == 2
    assert {"TP", "FN", "FP", "TN"} <= set(texts)
    assert f"Pooled (REML, k = {p.k})" in texts
    assert st.SYNTHETIC_LABEL in texts
    frame = p.forest_frame()
    pooled = frame.iloc[-1]
    assert f"{pooled['sensitivity']:.2f} ({pooled['sens_low']:.2f}–{pooled['sens_high']:.2f})" \
        in texts
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(lab.endswith("†") for lab in labels) == (frame["cells"] == "reconstructed").any()


def test_sroc_draws_summary_regions_and_curve_over_observed_range(poolings):
    p = poolings["grade"]
    fig = plots.plot_sroc(p)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("SROC curve (AUC") for t in legend)
    assert {"95% confidence region", "95% prediction region"} <= set(legend)
    curve = next(line for line in ax.get_lines() if line.get_label().startswith("SROC"))
    lo, hi = p.fit.observed_fpr_range()
    assert np.min(curve.get_xdata()) == pytest.approx(max(lo, 0.01))
    assert np.max(curve.get_xdata()) == pytest.approx(min(hi, 0.99))
    assert st.SYNTHETIC_LABEL not in _texts(fig)


def test_sroc_without_fit_raises_with_the_note(cells):
    pooling = dta.pool_by_aim(cells[cells["aim"] == "grade"].head(2))["grade"]
    with pytest.raises(ValueError, match="k >= 3"):
        plots.plot_sroc(pooling)


def test_subgroup_sroc_states_the_test(cells):
    r = dta.subgroup_pooling(cells, aim="grade")
    fig = plots.plot_subgroup_sroc(r)
    title = fig.axes[0].get_title(loc="left")
    assert f"p = {r.test.pvalue:.3f}" in title
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("internal validation: k = ") for t in legend)
    assert any(t.startswith("external validation: k = ") for t in legend)


def test_deeks_funnel_with_test_and_with_note(poolings):
    t = dta.deeks_test(poolings["grade"].studies)
    fig = plots.plot_deeks_funnel(t, title="grade")
    assert f"regression line (p = {t.pvalue:.3f})" in _texts(fig)
    few = dta.deeks_test(poolings["grade"].studies.head(5))
    fig = plots.plot_deeks_funnel(few, title="grade")
    assert few.note in [t.replace("\n", " ") for t in _texts(fig)]
    assert fig.axes[0].get_title(loc="left") == "Grade"  # a title starts with a capital
    note = next(t for t in fig.axes[0].texts if t.get_text().replace("\n", " ") == few.note)
    assert _inside(fig, note)  # wrapped: it neither crosses the y axis nor leaves the figure


def test_fagan_labels_post_test_probabilities(poolings):
    f = dta.fagan(0.3, poolings["grade"])
    fig = plots.plot_fagan(f, title="grade")
    texts = _texts(fig)
    assert f"LR+ {f.lr_positive:.2f}: post-test {100 * f.post_positive:.0f}%" in texts
    assert f"LR− {f.lr_negative:.2f}: post-test {100 * f.post_negative:.0f}%" in texts
    assert "Grade: pre-test probability 30%" in texts
    middle = [t for t in fig.axes[0].texts if 0 < t.get_position()[0] < 1  # LR scale
              and t.get_text() in ("0.2", "1", "5")]
    assert middle and all(t.get_bbox_patch() is not None for t in middle)  # above the lines


def _inside(fig, text) -> bool:
    """``text`` lies within the figure and right of its axes' y axis."""
    box = text.get_window_extent()
    return fig.axes[0].bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1


def test_subgroup_sroc_title_lines_fit_the_figure(cells):
    r = dta.subgroup_pooling(cells, aim="grade")
    note = ("no test of difference: internal validation, external validation has fewer than "
            "3 studies with a usable 2x2 table")
    fig = plots.plot_subgroup_sroc(dataclasses.replace(r, test=None, note=note))
    with st.MANUSCRIPT:  # as outputs.save_figure draws it (the font family)
        fig.canvas.draw()
    text = fig.axes[0].get_title(loc="left")
    title = next(t for t in fig.findobj(Text) if t.get_text() == text)
    assert title.get_text().startswith("Grade by cohort\n")
    assert title.get_window_extent().x1 <= fig.bbox.x1
    assert note == " ".join(title.get_text().split("\n")[2:])


def test_figures_accept_an_axes(poolings):
    fig, ax = st.new_figure()
    assert plots.plot_sroc(poolings["grade"], ax=ax) is fig


def test_paired_forest_refuses_more_studies_than_a_page(poolings, monkeypatch):
    monkeypatch.setattr(plots, "FOREST_MAX_STUDIES", 5)
    with pytest.raises(ValueError, match="more than a forest plot shows"):
        plots.plot_paired_forest(poolings["grade"])
