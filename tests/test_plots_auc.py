"""Tests for synth.plots.auc: every AUC figure draws its result, with the house style."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO
from matplotlib.lines import Line2D
from test_auc import _review, _row, bcg_frame

import synth
from synth import auc
from synth.plots import auc as plots
from synth.plots.style import (
    AIM_PALETTE,
    CHANCE_AUC,
    COHORT_COLOURS,
    COHORT_MARKERS,
    MANUSCRIPT,
    REFERENCE,
    SYNTHETIC_LABEL,
)
from synth.vocabulary import Aim

AIMS = ("grade", "differential diagnosis", "response", "outcome")
MODALITIES = ("CT", "MRI", "PET", "multiple")


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
    poolings = auc.pool_by_aim(t, aims=["grade", "response"])
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
    fig = plots.plot_auc_by_aim(reps, vocabulary=demo.vocabulary)
    texts = _texts(fig)
    assert texts.count("no studies") == 3
    assert any(s.startswith("0.80\n1 study") for s in texts)
    by_modality = auc.auc_ranges(reps, by="modality", aims=AIMS, modalities=MODALITIES)
    fig = plots.plot_evidence_map(by_modality, width="two")
    assert _texts(fig).count("0") == len(AIMS) * len(MODALITIES) - 1


def test_figures_show_the_declared_labels_order_and_colours(demo) -> None:
    vocabulary = replace(demo.vocabulary, aims=(
        Aim("outcome", "Survival"), Aim("grade", "WHO grade"), Aim("response", "Response"),
        Aim("differential diagnosis", "Differential diagnosis")))
    reps = auc.representative_auc(demo, aims=vocabulary.aim_names)
    fig = plots.plot_auc_by_aim(reps, vocabulary=vocabulary)
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()][::-1]  # top to bottom
    assert rows == ["Survival", "WHO grade", "Response", "Differential\ndiagnosis"]
    by_modality = auc.auc_ranges(reps, by="modality", aims=vocabulary.aim_names,
                                 modalities=["PET", "CT", "MRI", "multiple"])
    fig = plots.plot_evidence_map(by_modality, vocabulary=vocabulary)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["PET", "CT", "MRI", "multiple"]
    bubbles = {tuple(np.round(line.get_xydata()[0])): line.get_color() for line in ax.lines
               if line.get_markerfacecolor() != "none"}
    grade_row = 2  # second row from the top of four
    assert {c for (_, y), c in bubbles.items() if y == grade_row} == {AIM_PALETTE[1]}
    pooling = auc.pool_by_aim(auc.study_variances(reps), aims=["grade"])["grade"]
    fig = plots.plot_forest(pooling, vocabulary=vocabulary)
    assert fig.axes[0].get_title(loc="left") == "WHO grade"


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
    assert "reported 95% CI" in labels and "derived 95% CI (SE or counts)" in labels
    assert "pooled AUC, 95% CI" in labels and "prediction interval" in labels
    assert "AUC 0.5 (chance)" in labels
    # the weight column holds the table's weights
    assert f"{studies['weight'].max():.0f}%" in texts
    # the pooled diamond is in the aim's colour
    diamond = [p for p in ax.patches if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert any(np.allclose(p.get_facecolor()[:3], _rgb(AIM_PALETTE[0])) for p in diamond)


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


def test_cohort_marks_use_cohort_colours_only(demo) -> None:
    reps = auc.representative_auc(demo)
    fig = plots.plot_auc_by_aim(reps)
    handles = [h for legend in fig.legends for h in legend.legend_handles]
    cohort_handles = {h.get_label(): h.get_color() for h in handles
                      if h.get_label() in COHORT_COLOURS}
    assert cohort_handles == {c: COHORT_COLOURS[c] for c in cohort_handles}
    assert set(AIM_PALETTE).isdisjoint(cohort_handles.values())


@pytest.mark.parametrize("n_aims", [1, 10])
def test_one_to_ten_aims_each_keep_a_row_a_colour_and_a_label(demo, n_aims: int) -> None:
    aims = tuple(Aim(f"aim{i}", f"Aim number {i}") for i in range(n_aims))
    vocabulary = replace(demo.vocabulary, aims=aims)
    rows = [_row(f"s{i}{j}", "training", "radiomics", 0.7 + 0.02 * j, aim=f"aim{i}",
                 positives=20 + j, negatives=40) for i in range(n_aims) for j in range(3)]
    reps = auc.representative_auc(_review(rows), aims=vocabulary.aim_names)
    fig = plots.plot_auc_by_aim(reps, vocabulary=vocabulary)
    labels = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()][::-1]
    assert labels == [a.label for a in aims]
    by_modality = auc.auc_ranges(reps, by="modality", aims=vocabulary.aim_names,
                                 modalities=["CT", "MRI"])
    fig = plots.plot_evidence_map(by_modality, vocabulary=vocabulary)
    colours = {line.get_color() for line in fig.axes[0].lines
               if line.get_markerfacecolor() != "none"}
    assert colours == set(AIM_PALETTE[:n_aims])
    with MANUSCRIPT:  # as outputs.save_figure draws it (the font family)
        fig.canvas.draw()
    box = fig.bbox
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible()):
        if text.get_text():
            extent = text.get_window_extent()
            assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()
    poolings = auc.pool_by_aim(auc.study_variances(reps), aims=vocabulary.aim_names)
    forests = plots.plot_forests(poolings, vocabulary=vocabulary)
    assert list(forests) == list(vocabulary.aim_names)


def _forest_pooling():
    t = auc.study_variances(auc.representative_auc(_review([
        _row("a", "training", "radiomics", 0.8, auc_se=0.04),
        _row("b", "external validation", "radiomics", 0.85, auc_se=0.05),
        _row("c", "internal validation", "radiomics", 0.9, auc_se=0.03)])))
    return auc.pool_by_aim(t)["grade"]


def test_forest_quality_column_sits_on_each_study_row_under_its_header() -> None:
    pooling = _forest_pooling()
    quality = pd.Series({"a": "58.7", "c": "41.0"}, name="METRICS (%)")
    fig = plots.plot_forest(pooling, quality=quality, width="two")
    ax = fig.axes[0]
    texts = {t.get_text(): t for t in ax.texts}
    ci_rows = {t.xy[1] for t in ax.texts if t.get_text().startswith("0.")}
    header = texts["METRICS (%)"]
    assert header.xy[1] == texts["AUC [95% CI]"].xy[1] == texts["Weight"].xy[1]
    studies = pooling.summary_frame().query("kind == 'study'").reset_index(drop=True)
    for study_id, text in (("a", "58.7"), ("b", "n/a"), ("c", "41.0")):
        row = studies.index[studies["study_id"] == study_id][0]
        y = len(studies) - 1 - row + 2.0  # rows top to bottom as the study labels
        assert texts[text].xy[1] == y and y in ci_rows
        assert texts[text].xyann[0] > texts["Weight"].xyann[0]  # right of the weights
    fig.canvas.draw()  # nothing outside the figure: the column is inside its right edge
    right = max(t.get_window_extent().x1 for t in ax.texts)
    assert right <= fig.bbox.x1 + 0.5
    assert fig.get_figwidth() * 25.4 == pytest.approx(170)


def test_forest_quality_label_overrides_the_series_name_and_widens_one_column() -> None:
    quality = pd.Series({"a": "1", "b": "2", "c": "3"})
    fig = plots.plot_forest(_forest_pooling(), quality=quality, quality_label="RQS (%)")
    assert "RQS (%)" in _texts(fig)
    assert fig.get_figwidth() * 25.4 == pytest.approx(plots.FOREST_QUALITY_MM)
    fig = plots.plot_forest(_forest_pooling(), quality=quality)
    assert "Quality" in _texts(fig)  # an unnamed series
    fig = plots.plot_forest(_forest_pooling())
    assert fig.get_figwidth() * 25.4 == pytest.approx(85)  # no column: one column as asked


def test_forest_quadas2_column_draws_robvis_symbols_in_their_colours() -> None:
    from synth.plots.style import RISK_COLOURS, RISK_SYMBOLS

    quality = pd.Series({"a": "low", "b": "high", "c": "low"}, name="QUADAS-2")
    fig = plots.plot_forest(_forest_pooling(), quality=quality, width="two")
    symbols = [t for t in fig.axes[0].texts if t.get_text() in RISK_SYMBOLS.values()]
    assert sorted(t.get_text() for t in symbols) == sorted(["+", "+", RISK_SYMBOLS["high"]])
    for t in symbols:
        judgement = {v: k for k, v in RISK_SYMBOLS.items()}[t.get_text()]
        assert np.allclose(t.get_bbox_patch().get_facecolor()[:3],
                           _rgb(RISK_COLOURS[judgement]))
    labels = _legend_labels(fig)
    assert "+ low (QUADAS-2)" in labels and f"{RISK_SYMBOLS['high']} high (QUADAS-2)" in labels
    assert not any("unclear" in label for label in labels)  # only judgements shown


def test_forests_pass_the_quality_column_on(demo) -> None:
    from synth import appraisal

    poolings = auc.pool_by_aim(auc.study_variances(auc.representative_auc(demo)),
                               aims=["grade"])
    column = appraisal.forest_quality(demo, "metrics")
    (fig,) = plots.plot_forests(poolings, quality=column, width="two").values()
    grade = poolings["grade"].summary_frame().query("kind == 'study'")
    assert set(column[grade["study_id"]]) <= set(_texts(fig))


def test_auc_figures_by_stem_and_none_without_an_auc(demo) -> None:
    reps = auc.representative_auc(demo)
    by_modality = auc.auc_ranges(reps, by="modality")
    figures = plots.auc_figures(reps, by_modality, aims=["grade"], synthetic=True)
    assert list(figures) == ["auc_by_aim", "auc_evidence_map"]
    assert plots.auc_figures(reps.iloc[0:0], by_modality) == {}


def test_forest_plot_names_the_level_it_pools_at() -> None:
    t = auc.study_variances(auc.representative_auc(_review([
        _row("a", "training", "radiomics", 0.8, auc_se=0.04),
        _row("b", "external validation", "radiomics", 0.85, positives=30, negatives=50),
        _row("c", "internal validation", "radiomics", 0.9, auc_se=0.03)])))
    fig = plots.plot_forest(auc.pool_by_aim(t, alpha=0.1)["grade"])
    assert "AUC [90% CI]" in _texts(fig)
    assert fig.axes[0].get_xlabel() == "AUC (90% CI)"
    labels = _legend_labels(fig)
    assert "pooled AUC, 90% CI" in labels and "derived 90% CI (SE or counts)" in labels
    assert not any("95%" in label for label in labels)


def test_forest_plot_title_counts_one_study_in_the_singular() -> None:
    t = auc.study_variances(auc.representative_auc(_review([
        _row("a", "external validation", "radiomics", 0.8)])))
    fig = plots.plot_forest(auc.pool_by_aim(t)["grade"], width="two")
    assert fig.axes[0].get_title(loc="left") == "Grade: 0 of 1 study pooled"
    # the one study not pooled is an external validation: its legend entry has that shape
    (entry,) = [h for legend in fig.legends for h in legend.legend_handles
                if h.get_label().startswith("† not pooled")]
    assert entry.get_marker() == COHORT_MARKERS["external validation"] != "o"


@pytest.mark.parametrize(("tau2", "text"), [(0.13, "= 0.13"), (0.0, "= 0"),
                                            (2.9e-12, "< 0.0001")])
def test_a_tau2_zero_up_to_the_optimiser_reads_as_such(tau2, text) -> None:
    assert plots._fmt_tau2(tau2) == text
