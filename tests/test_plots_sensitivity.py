"""Baujat plots (synth.plots.sensitivity): every mark drawn comes from the sensitivity table."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO, ROOT

import synth
from synth import auc, sensitivity
from synth.plots import sensitivity as plots
from synth.plots.style import WARNING


def _table(path):
    rv = synth.load_review(path)
    return sensitivity.sensitivity_by_aim(
        auc.pool_by_aim(auc.study_variances(auc.representative_auc(rv))))


@pytest.fixture(scope="module")
def demo_table():
    return _table(DEMO)


def test_baujat_draws_the_table(demo_table) -> None:
    fig = plots.plot_baujat(demo_table, "grade")
    ax = fig.axes[0]
    rows = demo_table[demo_table["aim"] == "grade"]
    xs = np.concatenate([line.get_xdata() for line in ax.lines])
    assert sorted(xs) == pytest.approx(sorted(rows["baujat_x"]))
    flagged = [line for line in ax.lines if line.get_label().startswith("influential")]
    assert len(flagged[0].get_xdata()) == int(rows["influential"].sum())
    assert flagged[0].get_color() == WARNING
    # a study at 0 (no heterogeneity or no influence) is drawn whole, over the axis
    assert all(not line.get_clip_on() for line in ax.lines if line.get_label() != "_nolegend_"
               and line.get_label() in ("study", "influential (metafor criteria)"))


def test_an_aim_not_analysed_says_why(demo_table) -> None:
    fig = plots.plot_baujat(demo_table, "outcome")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("not analysed" in t for t in texts)


def test_panels_have_one_legend_and_no_legend_without_studies(demo_table) -> None:
    fig = plots.plot_baujat_panels(demo_table, synthetic=True)
    assert len(fig.legends) == 1
    empty = plots.plot_baujat_panels(_table(ROOT / "data" / "gepnet-public"))
    assert not empty.legends


def test_unknown_aim_is_an_error(demo_table) -> None:
    with pytest.raises(ValueError, match="aim"):
        plots.plot_baujat(demo_table, "survival")
    with pytest.raises(ValueError, match="aims is empty"):
        plots.plot_baujat_panels(demo_table, aims=[])
