"""synth.plots.style: the font choice, AUC axes and the colour registry."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import font_manager

from synth.plots import style


def test_font_is_arial_metric_when_installed_else_dejavu(monkeypatch):
    names = {f.name for f in font_manager.fontManager.ttflist}
    expected = next((n for n in ("Liberation Sans", "Arimo", "Arial", "Helvetica")
                     if n in names), None)
    style.sans_family.cache_clear()
    try:
        if expected is not None:
            assert style.sans_family() == expected
        style.sans_family.cache_clear()
        monkeypatch.setattr(font_manager.fontManager, "ttflist",
                            [f for f in font_manager.fontManager.ttflist
                             if f.name not in ("Liberation Sans", "Arimo", "Arial",
                                               "Helvetica")])
        monkeypatch.setattr(font_manager, "findSystemFonts", lambda **kw: [])
        assert style.sans_family() == "DejaVu Sans"
    finally:
        style.sans_family.cache_clear()


@pytest.mark.parametrize("scale", ["linear", "logit"])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_an_auc_axis_has_the_shared_ticks_and_a_dashed_chance_line(axis, scale):
    fig, ax = style.new_figure("one", 40)
    values = [0.62, 0.97] if scale == "linear" else list(np.log([0.62 / 0.38, 0.97 / 0.03]))
    (ax.plot(values, [0, 1]) if axis == "x" else ax.plot([0, 1], values))
    style.auc_axis(ax, axis=axis, scale=scale)
    ticks = ax.get_xticks() if axis == "x" else ax.get_yticks()
    shared = style.AUC_TICKS if scale == "linear" else style.AUC_LOGIT_TICKS
    shown = ticks if scale == "linear" else 1 / (1 + np.exp(-ticks))
    assert all(np.isclose(t, shared).any() for t in shown)
    chance = [line for line in ax.get_lines() if line.get_label() == "AUC 0.5 (chance)"]
    assert len(chance) == 1 and chance[0].get_linestyle() == "--"
    at = chance[0].get_xdata()[0] if axis == "x" else chance[0].get_ydata()[0]
    assert at == (0.5 if scale == "linear" else 0.0)


def test_aim_colours_are_checked():
    assert style.aim_colours(["grade"]) == {"grade": style.AIM_COLOURS["grade"]}
    with pytest.raises(ValueError, match="aim='lung' has no colour; known aims: grade"):
        style.aim_colours(["lung"])
