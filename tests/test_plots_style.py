"""synth.plots.style: the font choice, AUC axes and the colour registry."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import font_manager

from synth.plots import style
from synth.vocabulary import MAX_AIMS


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


def test_aim_colours_go_by_place_in_the_declared_order():
    declared = ["grade", "differential diagnosis", "response", "outcome"]
    assert style.aim_colours(declared) == {  # the GEP-NET figures keep their colours
        "grade": "#0072B2", "differential diagnosis": "#E69F00", "response": "#009E73",
        "outcome": "#CC79A7"}
    ten = [f"aim {i}" for i in range(MAX_AIMS)]
    assert list(style.aim_colours(ten).values()) == list(style.AIM_PALETTE)
    assert len(set(style.AIM_PALETTE)) == MAX_AIMS == 10
    with pytest.raises(ValueError, match="give 1 to 10 distinct aims"):
        style.aim_colours([*ten, "one more"])
    with pytest.raises(ValueError, match="give 1 to 10 distinct aims"):
        style.aim_colours(["grade", "grade"])


def test_aim_style_takes_the_vocabulary_or_sorts_the_aims_present():
    from synth.vocabulary import DEFAULT_VOCABULARY

    bare = style.aim_style(None, ["outcome", "grade", "outcome"])
    assert bare.names == ("grade", "outcome") and bare.labels == {"grade": "grade",
                                                                   "outcome": "outcome"}
    assert bare.colours == {"grade": style.AIM_PALETTE[0], "outcome": style.AIM_PALETTE[1]}
    declared = style.aim_style(DEFAULT_VOCABULARY, ["grade"])
    assert declared.names == DEFAULT_VOCABULARY.aim_names
    assert declared.colours["grade"] == style.AIM_PALETTE[
        DEFAULT_VOCABULARY.aim_names.index("grade")]
    assert declared.labels["molecular"] == "molecular status"
    with pytest.raises(ValueError, match=r"aims \['lung'\] are not declared in review.yaml"):
        style.aim_style(DEFAULT_VOCABULARY, ["lung"])
