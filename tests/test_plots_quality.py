"""Quality figures: each states how negative totals were treated, draws from its result only
(the Spearman text is the result's field), labels studies "first author year", and takes
every colour from synth.plots.style."""

from __future__ import annotations

import re

import matplotlib.colors as mcolors
import numpy as np
import pytest
from conftest import DEMO, ROOT
from matplotlib.collections import QuadMesh

import synth
from synth import auc, quality
from synth.instruments import RQS
from synth.plots import quality as plots
from synth.plots import style as st
from synth.review import study_labels


@pytest.fixture(scope="module")
def demo():
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def assessment(demo):
    return quality.assess(demo, auc.representative_auc(demo))


def _texts(fig) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_every_figure_states_the_negative_treatment(demo):
    scores = quality.score(demo.quality, negative="keep")
    consensus = quality.rater_scores(scores, rater="consensus")
    note = quality.negative_note("keep")
    figs = [
        plots.plot_distribution(consensus, quality.study_groups(demo), negative="keep"),
        plots.plot_heatmap(quality.heatmap_table(demo, negative="keep"), negative="keep"),
        plots.plot_score_vs_auc(quality.score_vs_auc(consensus, auc.representative_auc(demo)),
                                negative="keep"),
    ]
    for fig in figs:
        assert any(note in t for t in _texts(fig)), fig


def test_no_heat_map_taller_than_a_page(demo, monkeypatch):
    assert quality.heatmap_skip_reason(demo.quality, rater="consensus") is None
    n = demo.quality.loc[demo.quality["rater"] == "consensus", "study_id"].nunique()
    monkeypatch.setattr(quality, "HEATMAP_MAX_STUDIES", n - 1)
    assert quality.heatmap_skip_reason(demo.quality, rater="consensus").startswith(
        f"{n} studies rated by 'consensus', more than the {n - 1} rows")
    with pytest.raises(ValueError, match=f"{n} studies rated by 'consensus'"):
        plots.plot_heatmap(quality.heatmap_table(demo))


def test_figures_are_drawn_and_marked_synthetic(demo):
    items = quality.item_summary(demo.quality, rater="consensus")
    kappas = quality.rater_agreement(demo.quality, raters=("A", "B"))
    icc = quality.icc_totals(quality.paired_scores(quality.score(demo.quality), raters=("A", "B")))
    for fig in (plots.plot_compliance(items, synthetic=True),
                plots.plot_agreement(kappas, icc, synthetic=True)):
        assert fig._suptitle is not None and "Synthetic" in fig._suptitle.get_text()
        assert fig.axes and all(ax.has_data() for ax in fig.axes if ax.get_visible())


def test_distribution_takes_the_consensus_percent_series(demo):
    fig = plots.plot_distribution(quality.consensus_percent(demo), quality.study_groups(demo))
    assert "all (n=45)" in _texts(fig)


def test_spearman_text_is_the_results_field(assessment):
    result = assessment.score_auc
    fig = plots.plot_score_vs_auc(result)
    texts = _texts(fig)
    assert result.text() in texts
    assert f"{result.rho:.2f}" in result.text() and f"{result.pvalue:.2f}" in result.text()


def test_score_vs_auc_has_an_auc_axis_with_the_chance_line(assessment):
    fig = plots.plot_score_vs_auc(assessment.score_auc)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Representative AUC"
    ticks = [round(t, 1) for t in ax.get_yticks()]
    assert ticks == [t for t in st.AUC_TICKS if ax.get_ylim()[0] - 1e-9 <= t <= 1.0]
    chance = [line for line in ax.get_lines() if line.get_label() == "AUC 0.5 (chance)"]
    assert chance and chance[0].get_linestyle() == "--"
    # the line lies inside the axis, not under its spine
    assert ax.get_ylim()[0] < st.CHANCE_AUC
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "AUC 0.5 (chance)" in legend
    assert sum(t.startswith(a) for t in legend for a in assessment.score_auc.points["aim"]
               .unique()) == assessment.score_auc.points["aim"].nunique()


def test_heat_map_labels_studies_by_first_author_and_year(demo, assessment):
    fig = plots.plot_heatmap(assessment.heatmap)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    expected = study_labels(demo.studies).loc[assessment.heatmap["study_id"]].tolist()
    assert labels == expected and labels[0].startswith("Demo S")


def test_heat_map_cells_are_vector_shades_of_the_points(assessment):
    """One mesh of rectangles (sharp in PDF and SVG, no image at print resolution); a cell's
    shade is its points over the component's maximum (or minimum, when negative)."""
    fig = plots.plot_heatmap(assessment.heatmap)
    ax = fig.axes[0]
    assert not ax.images
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    shades = np.asarray(mesh.get_array())
    points = assessment.heatmap[list(RQS.columns)].to_numpy(float)
    maxima = np.array([i.max_points for i in RQS.items], dtype=float)
    minima = np.array([abs(i.min_points) or 1 for i in RQS.items], dtype=float)
    assert shades.shape == points.shape
    assert np.allclose(shades, np.where(points >= 0, points / maxima, points / minima))
    assert ax.get_ylim() == (len(points) - 0.5, -0.5)  # the top study first


def test_assessment_figures_are_every_figure_of_the_notebook(assessment, monkeypatch):
    figures = plots.assessment_figures(assessment, synthetic=True)
    assert list(figures) == ["rqs_distribution", "rqs_compliance", "rqs_heatmap", "rqs_vs_auc",
                             "rqs_agreement"]
    monkeypatch.setattr(quality, "HEATMAP_MAX_STUDIES", 10)
    assert "rqs_heatmap" not in plots.assessment_figures(assessment)


def _parents(artist) -> list:
    """Ticks hide their grid lines by hiding the tick, not the line."""
    out = []
    while hasattr(artist, "axes") and getattr(artist, "_parent_tick", None) is not None:
        artist = artist._parent_tick
        out.append(artist)
    return out


def _colours_used(fig) -> set[str]:
    out = set()
    for artist in fig.findobj(lambda a: a.get_visible()):
        if any(not parent.get_visible() for parent in _parents(artist)):
            continue
        for getter in ("get_facecolor", "get_edgecolor", "get_color"):
            if not hasattr(artist, getter):
                continue
            try:
                value = getattr(artist, getter)()
            except (TypeError, ValueError):
                continue
            values = value if hasattr(value, "ndim") and value.ndim == 2 else [value]
            for v in values:
                try:
                    rgba = mcolors.to_rgba(v)
                except (ValueError, TypeError):
                    continue
                if rgba[3] > 0:
                    out.add(mcolors.to_hex(rgba, keep_alpha=False))
    return out


def test_marks_use_the_style_colours_only(demo, assessment):
    names = {mcolors.to_hex(c) for c in (
        st.NEUTRAL, st.BACKGROUND, st.REFERENCE, st.LIGHT, st.POINTS_LOST, st.AGREEMENT,
        st.WARNING, *st.AIM_PALETTE)}
    forbidden = {mcolors.to_hex(c) for c in st.COHORT_COLOURS.values()}
    figs = plots.assessment_figures(assessment, synthetic=True)
    for name, fig in figs.items():
        if name == "rqs_heatmap":
            continue  # a continuous scale from POINTS_LOST through BACKGROUND to NEUTRAL
        fig.canvas.draw()
        used = _colours_used(fig)
        assert not used & forbidden, name
        assert used <= names, (name, used - names)


def test_plot_modules_hold_no_colour_literals():
    for module in ("quality", "overview"):
        source = (ROOT / "src" / "synth" / "plots" / f"{module}.py").read_text(encoding="utf-8")
        assert not re.search(r"#[0-9A-Fa-f]{6}\b", source), module
        assert not re.search(r"""["'](black|white|grey|gray|red|blue|C\d)["']""", source), module
        assert "OKABE_ITO" not in source, module
