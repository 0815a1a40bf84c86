"""Figures of the sensitivity analyses: Baujat plots of each aim's studies.

A Baujat plot (Baujat et al., Stat Med 2002;21:2641-2652) puts each study at its squared Pearson
residual (x: its contribution to heterogeneity) and at its influence on the pooled estimate
(y: the squared change of the estimate when it is left out, over the variance without it); a
study far to the right or top drives the result. Everything drawn is a column of
:func:`synth.sensitivity.sensitivity_by_aim`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from synth.plots.style import (
    MANUSCRIPT,
    MM_PER_INCH,
    NEUTRAL,
    WARNING,
    figure_for,
    is_one_column,
    mark_synthetic,
    new_figure,
)
from synth.vocabulary import Vocabulary

__all__ = ["plot_baujat", "plot_baujat_panels"]

_MARKER = "o"


def _title(aim: str, vocabulary: Vocabulary | None) -> str:
    """The aim's label (``vocabulary``'s, else its name), first letter capitalised."""
    label = (vocabulary.aim_labels if vocabulary is not None else {}).get(aim, aim)
    return label[:1].upper() + label[1:]


def plot_baujat(
    sensitivity: pd.DataFrame,
    aim: str,
    *,
    vocabulary: Vocabulary | None = None,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Baujat plot of one aim: contribution to heterogeneity against influence on the result.

    Studies flagged influential by metafor's criteria (``influential``) are drawn in the warning
    colour and labelled; the study furthest out on either axis is labelled too. An aim
    that was not analysed gets a panel saying why (its ``note``).

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        Output of :func:`synth.sensitivity.sensitivity_by_aim`.
    aim : str
        The aim to draw.
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: the aim's label in the title (None: its name).
    ax : matplotlib Axes, optional
        Draw into this axes; a new figure otherwise.
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = sensitivity[sensitivity["aim"] == aim]
    if rows.empty:
        raise ValueError(f"aim: {aim!r} is not in the table; use one of: "
                         f"{', '.join(dict.fromkeys(sensitivity['aim']))}")
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 62)
        studies = rows[rows["study_id"].astype(str) != ""]
        if studies.empty:
            ax.set_axis_off()
            ax.set_title(_title(aim, vocabulary), loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
            text = str(rows["note"].iloc[0]).replace("k ≥ ", "k\u00a0≥\u00a0")
            ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 30)), transform=ax.transAxes,
                    ha="center", va="center", fontsize=MANUSCRIPT.font_size - 1, color=WARNING)
        else:
            x = studies["baujat_x"].to_numpy(dtype=float)
            y = studies["baujat_y"].to_numpy(dtype=float)
            flagged = studies["influential"].astype(bool).to_numpy()
            ax.plot(x[~flagged], y[~flagged], ls="", marker=_MARKER, markersize=3.5,
                    markerfacecolor="none", markeredgecolor=NEUTRAL, markeredgewidth=0.6,
                    label="study", clip_on=False)  # a study at 0 sits on the axes, whole
            if flagged.any():
                ax.plot(x[flagged], y[flagged], ls="", marker=_MARKER, markersize=3.5,
                        color=WARNING, markeredgecolor=WARNING, clip_on=False,
                        label="influential (metafor criteria)")
            far = {int(np.argmax(x)), int(np.argmax(y))} | set(np.flatnonzero(flagged))
            labels = studies["label"].astype(str).to_numpy()
            for i in sorted(far):
                ax.annotate(labels[i], (x[i], y[i]), xytext=(3, 2), textcoords="offset points",
                            fontsize=MANUSCRIPT.font_size - 1.5,
                            color=WARNING if flagged[i] else NEUTRAL)
            ax.set_xlim(left=0, right=max(float(x.max()) * 1.3, 1e-3))
            ax.set_ylim(bottom=0, top=max(float(y.max()) * 1.2, 1e-3))
            ax.set_xlabel("Contribution to heterogeneity\n(squared Pearson residual)")
            ax.set_ylabel("Influence on pooled logit AUC")
            ax.set_title(f"{_title(aim, vocabulary)}\nk = {len(studies)}", loc="left",
                         fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


def plot_baujat_panels(
    sensitivity: pd.DataFrame,
    *,
    vocabulary: Vocabulary | None = None,
    aims: Sequence[str] | None = None,
    synthetic: bool = False,
    width: str | float = "two",
) -> Figure:
    """One :func:`plot_baujat` panel per aim, with one legend below.

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        Output of :func:`synth.sensitivity.sensitivity_by_aim`.
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: aim labels in the panel titles (None: names).
    aims : sequence of str, optional
        Aims to draw, in panel order (default: every aim of the table, in its order).
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float, default "two"
        Journal width.

    Returns
    -------
    matplotlib.figure.Figure
    """
    aims = list(dict.fromkeys(sensitivity["aim"])) if aims is None else list(aims)
    if not aims:
        raise ValueError("aims is empty; pass at least one aim of the table.")
    with MANUSCRIPT:
        narrow = is_one_column(width)
        ncols = 1 if len(aims) == 1 else (2 if narrow else min(len(aims), 4))
        nrows = int(np.ceil(len(aims) / ncols))
        fig, axes = new_figure(width, 16 + 55 * nrows, nrows=nrows, ncols=ncols, squeeze=False)
        flat = np.asarray(axes).ravel()
        for aim, ax in zip(aims, flat, strict=False):
            plot_baujat(sensitivity, aim, vocabulary=vocabulary, ax=ax)
        for ax in flat[len(aims):]:
            ax.set_axis_off()
        shown = sensitivity[sensitivity["aim"].isin(aims)]
        handles = [Line2D([], [], ls="", marker=_MARKER, markersize=4, markerfacecolor="none",
                          markeredgecolor=NEUTRAL, label="study")
                   ] if (shown["study_id"].astype(str) != "").any() else []
        if shown["influential"].eq(True).any():  # NaN on the rows of aims not analysed
            handles.append(Line2D([], [], ls="", marker=_MARKER, markersize=4, color=WARNING,
                                  label="influential (metafor criteria)"))
        if handles:
            ncols_legend = min(len(handles),
                               2 if fig.get_figwidth() * MM_PER_INCH < 120 else 4)
            fig.legend(handles=handles, loc="outside lower center", ncols=ncols_legend)
        mark_synthetic(fig, synthetic)
    return fig
