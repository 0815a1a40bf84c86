"""Appraisal figures draw what their tables hold: bands and their counts, compliance bars,
heat-map cells, traffic-light judgements with their symbols, summary shares, paired dots; with
too few studies they say so instead of drawing."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import synth
from synth import appraisal, instruments
from synth.plots import appraisal as plots
from synth.plots import style as st
from synth.vocabulary import DEFAULT_VOCABULARY

CONSENSUS = DEFAULT_VOCABULARY.consensus


@pytest.fixture(scope="module")
def demo():
    return synth.load_review(DEMO)


@pytest.fixture(scope="module")
def sections(demo):
    return {s.instrument: s for s in appraisal.report(demo)}


def _texts(fig) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_score_bands_shade_every_band_and_label_its_count(sections):
    kind, args = sections["METRICS"].figures["metrics_bands"]
    fig = plots.plot_score_bands(**args, synthetic=True)
    assert isinstance(fig, Figure)
    texts = _texts(fig)
    for band in args["bands"].itertuples():
        assert f"{band.band}\nn = {band.n_studies}" in texts
    heights = [p.get_height() for p in fig.axes[0].containers[0]]
    assert sum(heights) == len(args["scores"]), "every study is in the histogram"
    assert st.SYNTHETIC_LABEL in texts


def test_category_compliance_bars_are_the_table(sections):
    compliance = sections["METRICS"].tables["metrics_categories"]
    fig = plots.plot_category_compliance(compliance, name="METRICS")
    widths = [p.get_width() for p in _bars(fig.axes[0])]
    assert widths == pytest.approx(compliance["percent_met"].tolist())
    assert f"{compliance['percent_met'].iloc[0]:.0f} %" in _texts(fig)


def test_answer_heatmap_cells_are_the_shades(sections):
    _, args = sections["METRICS"].figures["metrics_heatmap"]
    fig = plots.plot_answer_heatmap(**args)
    ax = fig.axes[0]
    assert not ax.images  # cells are vector rectangles, not an image resampled for print
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    image = mesh.get_array()
    table = args["table"]
    first = table[table["study_id"] == table["study_id"].iloc[0]]
    expected = np.ma.masked_invalid(first["shade"].to_numpy(float))
    assert np.ma.allequal(image[0], expected)
    assert (image.mask[0] == ~first["applicable"].to_numpy(bool)).all()
    assert first["label"].iloc[0] in _texts(fig)


def test_traffic_light_draws_every_judgement_in_its_colour_and_symbol(sections):
    _, args = sections["QUADAS-2"].figures["quadas2_traffic_light"]
    table = args["table"]
    fig = plots.plot_traffic_light(table)
    ax = fig.axes[0]
    dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    codes = [c for c in table.columns if c not in ("study_id", "label")]
    cells = table[codes].to_numpy().ravel()
    column_at = dict(zip(ax.get_xticks(), codes, strict=True))
    drawn = {}
    for d in dots:  # one artist per judgement, each dot at its study's row and domain's column
        colour = mcolors.to_hex(d.get_facecolor()[0]).upper()
        (judgement,) = [j for j, c in st.RISK_COLOURS.items() if c.upper() == colour]
        drawn[judgement] = sorted((int(y), column_at[x]) for x, y in d.get_offsets())
    expected = {j: sorted((r, c) for c in codes for r, v in enumerate(table[c]) if v == j)
                for j in appraisal.JUDGEMENTS if (cells == j).any()}
    assert drawn == expected
    texts = _texts(fig)
    for judgement, symbol in st.RISK_SYMBOLS.items():
        assert texts.count(symbol) >= int((cells == judgement).sum())
    assert "Risk of bias" in texts and "Applicability" in texts
    assert any("D1: Patient selection" in t for t in texts)


def test_risk_summary_bars_are_the_shares(sections):
    tallies = sections["QUADAS-2"].tables["quadas2_tallies"]
    fig = plots.plot_risk_summary(tallies)
    rob = tallies[tallies["kind"] == appraisal.RISK_OF_BIAS]
    widths = [p.get_width() for p in _bars(fig.axes[0])]
    expected = [v for j in appraisal.JUDGEMENTS for v in rob[f"share_{j}"]]
    assert widths == pytest.approx(expected)
    assert len(fig.axes) == 2
    assert "weighted" not in fig.axes[-1].get_xlabel()


def test_risk_summary_says_when_shares_are_weighted(sections):
    fig = plots.plot_risk_summary(sections["QUADAS-2"].tables["quadas2_tallies_weighted"])
    assert "weighted by study size" in fig.axes[-1].get_xlabel()


def test_paired_scores_dots_are_the_points(sections):
    _, args = sections["METRICS"].figures["rqs_vs_metrics"]
    paired = args["paired"]
    fig = plots.plot_paired_scores(paired)
    (dots,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert np.allclose(dots.get_offsets(), paired.points[["x", "y"]].to_numpy())
    assert fig.axes[0].get_title(loc="left").replace("\n", " ") == paired.text()
    assert not dots.get_clip_on()  # a 0 % score sits on the axis, drawn whole


def _few(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    keep = list(dict.fromkeys(frame["study_id"]))[:n]
    return frame[frame["study_id"].isin(keep)]


def test_too_few_studies_raise_a_note_instead_of_a_figure(demo):
    table = _few(demo.appraisals["METRICS"], 2)
    scores = appraisal.rater_rows(instruments.appraisal_scores("METRICS", table),
                                  rater=CONSENSUS)
    bands = appraisal.band_counts(scores, instruments.METRICS_BANDS, value="score")
    with pytest.raises(plots.NotDrawn, match="2 studies, at least 3"):
        plots.plot_score_bands(scores, bands, name="METRICS", value="score")
    answers = instruments.item_answers("METRICS", table)
    with pytest.raises(plots.NotDrawn, match="No heat map"):
        plots.plot_answer_heatmap(appraisal.answer_table(answers, rater=CONSENSUS), name="M")
    judged = instruments.quadas2_judgements(_few(demo.appraisals["QUADAS-2"], 1))
    with pytest.raises(plots.NotDrawn, match="1 study"):
        plots.plot_traffic_light(appraisal.traffic_light_table(judged, rater=CONSENSUS))
    with pytest.raises(plots.NotDrawn):
        plots.plot_risk_summary(appraisal.risk_tallies(judged, rater=CONSENSUS))
    with pytest.raises(plots.NotDrawn):
        plots.plot_paired_scores(appraisal.compare_scores(pd.Series({"a": 1.0}),
                                                          pd.Series({"a": 2.0})))


def test_traffic_light_with_more_studies_than_a_page_is_not_drawn():
    ids = [f"s{i:03d}" for i in range(plots.TRAFFIC_LIGHT_MAX_STUDIES + 1)]
    judged = pd.DataFrame({"study_id": ids, "rater": "lead", "domain": "Selection",
                           "kind": appraisal.RISK_OF_BIAS, "judgement": "low"})
    with pytest.raises(plots.NotDrawn, match="one journal page"):
        plots.plot_traffic_light(appraisal.traffic_light_table(judged, rater="lead"))


def test_section_figures_draw_every_figure_of_the_demo(sections):
    figures, notes = plots.section_figures(sections["METRICS"], synthetic=True)
    assert set(figures) == {"metrics_bands", "metrics_categories", "metrics_heatmap",
                            "rqs_vs_metrics"} and notes == []
    figures, _ = plots.section_figures(sections["QUADAS-2"])
    assert set(figures) == {"quadas2_traffic_light", "quadas2_summary",
                            "quadas2_summary_weighted"}
    figures, _ = plots.section_figures(sections["RQS"])
    assert {"rqs_distribution", "rqs_heatmap"} <= set(figures)
    assert all(isinstance(f, Figure) for f in figures.values())


def test_section_figures_turn_too_few_studies_into_notes(demo_copy):
    for name in ("metrics.csv", "quadas2.csv"):
        lines = (demo_copy / name).read_text().splitlines()
        (demo_copy / name).write_text("\n".join(lines[:7]) + "\n")  # two studies x 3 raters
    (demo_copy / "quality.csv").unlink()
    sections = appraisal.report(synth.load_review(demo_copy))
    figures, notes = plots.section_figures(sections[0])
    assert figures == {} and len(notes) == 3
    assert all("2 studies, at least 3" in n for n in notes)


def test_risk_colours_are_distinct_from_every_aim_and_cohort_colour():
    used = {c.upper() for c in (*st.AIM_PALETTE, *st.COHORT_COLOURS.values())}
    assert not {c.upper() for c in st.RISK_COLOURS.values()} & used
    assert not {c.upper() for c in st.BAND_FILLS} & used
    assert len(set(st.RISK_SYMBOLS.values())) == 3
