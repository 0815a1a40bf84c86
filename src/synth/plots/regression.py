"""Meta-regression bubble plots and funnel plots of logit AUC, one panel per aim.

Each function takes a result of :mod:`synth.regression` (and ``ax=None``) and returns the
Figure; it draws only what the result holds: the meta-regression line and band from
:meth:`synth.regression.RegressionFit.fitted`, the funnel from
:meth:`synth.regression.SmallStudyTest.funnel_limits`. A result without a fit (too few studies,
no quality data) is a panel that says why.

Colours follow :mod:`synth.plots.style`: studies in their cohort colours and shapes, everything
else ``NEUTRAL``; the y (meta-regression) or x (funnel) axis is AUC on the logit scale with the
dashed line at AUC 0.5 (:func:`synth.plots.style.auc_axis`). Legends and aim titles are the
ones of :mod:`synth.plots.auc`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from synth.plots.auc import _aim_label, _axes_handles, _cohort_handles, _legend, _wrap_text
from synth.plots.style import (
    COHORT_COLOURS,
    COHORT_MARKERS,
    LIGHT,
    MANUSCRIPT,
    NEUTRAL,
    REFERENCE,
    WARNING,
    auc_axis,
    figure_for,
    is_one_column,
    mark_synthetic,
    new_figure,
)
from synth.regression import FUNNEL_LEVEL, RegressionFit, SmallStudyTest
from synth.vocabulary import COHORTS, Vocabulary

__all__ = [
    "plot_meta_regression",
    "plot_meta_regression_panels",
    "plot_meta_regressions",
    "plot_funnel",
    "plot_funnel_panels",
]

_COHORT_SHORT = {"training": "train", "internal validation": "int", "external validation": "ext"}
_MODERATOR_LABELS = {"year": "Publication year", "cohort": "Cohort", "rqs": "RQS (%)",
                     "metrics": "METRICS (%)", "rqs2": "RQS 2.0 (%)"}


def _no_result_panel(ax: Axes, title: str, text: str) -> None:
    """A panel that only says why there is nothing to show."""
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
    text = text.replace("k = ", "k\u00a0=\u00a0").replace(" < ", "\u00a0<\u00a0")  # "k = 4 < 10"
    ax.text(0.5, 0.5, _wrap_text(text, 30), transform=ax.transAxes, ha="center",
            va="center", fontsize=MANUSCRIPT.font_size - 1, color=WARNING)


def _logit_auc_axis(ax: Axes, axis: str) -> None:
    """:func:`auc_axis` on the logit scale, with room below the AUC 0.5 line so it clears the
    spine, and only the tick labels that do not collide (every tick keeps its mark)."""
    lim = ax.get_xlim() if axis == "x" else ax.get_ylim()
    low = min(lim) if axis == "x" else lim[0]
    high = max(lim) if axis == "x" else lim[1]
    auc_axis(ax, axis=axis, scale="logit", low=min(low, -0.04 * (high - min(low, 0.0))),
             label="AUC (logit scale)")
    lo, hi = (ax.get_xlim() if axis == "x" else ax.get_ylim())
    span = abs(hi - lo) / (6.0 if axis == "x" else 11.0)  # a label is wider than high
    ticks = ax.get_xticks() if axis == "x" else ax.get_yticks()
    labels = [t.get_text() for t in (ax.get_xticklabels() if axis == "x"
                                     else ax.get_yticklabels())]
    kept: list[float] = []
    shown = []
    for at, label in zip(ticks, labels, strict=True):
        keep = not kept or at - kept[-1] >= span
        kept += [at] if keep else []
        shown.append(label if keep else "")
    (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, shown)


def plot_meta_regression(
    fit: RegressionFit,
    *,
    vocabulary: Vocabulary | None = None,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Bubble plot of logit AUC against the moderator, bubble area by weight, fitted line.

    Year and a quality percentage (RQS, METRICS, RQS 2.0): the fitted line with its confidence
    band (:meth:`RegressionFit.fitted`, from the coefficients and ``cov_intercept_slope``);
    cohort type: each cohort's fitted mean as a bar. The y axis is on the logit scale,
    labelled in AUC. The panel title gives k, the slope (or p-values of the cohort contrasts)
    and R². Without a fit (too few studies, no quality data, a moderator that does not vary)
    the panel says why instead.

    Parameters
    ----------
    fit : RegressionFit
        From :func:`synth.regression.fit_meta_regression`.
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
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 62)
        res = fit.result
        if res is None:
            _no_result_panel(ax, _aim_label(fit.aim, vocabulary),
                             f"No meta-regression: {fit.reason}")
            if fig.axes[0] is ax:
                mark_synthetic(fig, synthetic)
            return fig
        data = fit.data
        line = fit.fitted()
        categorical = fit.moderator == "cohort"
        if categorical:
            present = list(line["x"])
            xs = data["x"].map({c: i for i, c in enumerate(present)}).to_numpy(dtype=float)
        else:
            xs = data["x"].to_numpy(dtype=float)
        weights = data["weight"].to_numpy(dtype=float)
        sizes = 6 + 54 * weights / np.nanmax(weights)
        y = data["logit_auc"].to_numpy(dtype=float)
        for cohort in COHORTS:
            mask = (data["cohort"] == cohort).to_numpy()
            if mask.any():
                ax.scatter(xs[mask], y[mask], s=sizes[mask], marker=COHORT_MARKERS[cohort],
                           color=COHORT_COLOURS[cohort], edgecolor=NEUTRAL, linewidth=0.3,
                           alpha=0.85, zorder=3)
        if categorical:
            ax.hlines(line["estimate"], np.arange(len(present)) - 0.3,
                      np.arange(len(present)) + 0.3, color=NEUTRAL, lw=1.0, zorder=4,
                      label="fitted cohort mean")
            stat = f"R² {res.r2:.0f}%\np vs {_COHORT_SHORT[present[0]]}: " + ", ".join(
                f"{v:.2g}" for v in res.pvalue[1:])
            ax.set_xticks(range(len(present)), [_COHORT_SHORT[c] for c in present])
            ax.set_xlim(-0.6, len(present) - 0.4)
        else:
            ax.plot(line["x"], line["estimate"], color=NEUTRAL, lw=0.9, zorder=4,
                    label="fitted line")
            ax.fill_between(line["x"], line["ci_low"], line["ci_high"], color=LIGHT,
                            alpha=0.6, lw=0, zorder=1, label="95% CI of the line")
            stat = f"slope {res.coef[1]:.2g}\np = {res.pvalue[1]:.2g}, R² {res.r2:.0f}%"
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=fit.moderator == "year"))
        ax.margins(x=0.08, y=0.12)
        _logit_auc_axis(ax, "y")
        ax.set_xlabel(_MODERATOR_LABELS[fit.moderator])
        ax.set_title(f"{_aim_label(fit.aim, vocabulary)}\nk = {fit.k}, {stat}",
                     loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


def plot_funnel(
    test: SmallStudyTest,
    *,
    vocabulary: Vocabulary | None = None,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Funnel plot (AUC on the logit scale against the SE of logit AUC, SE axis inverted).

    The funnel is centred on the pooled logit AUC with pseudo limits at
    :data:`synth.regression.FUNNEL_LEVEL` (:meth:`SmallStudyTest.funnel_limits`); the panel
    title gives k and Egger's z and p. With fewer than 3 studies the panel says so instead.

    Parameters
    ----------
    test : SmallStudyTest
        From :func:`synth.regression.small_study_test`.
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
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 62)
        if test.egger is None:
            _no_result_panel(ax, _aim_label(test.aim, vocabulary),
                             f"No funnel plot: {test.reason}")
            if fig.axes[0] is ax:
                mark_synthetic(fig, synthetic)
            return fig
        data = test.data
        se = data["se_logit"].to_numpy(dtype=float)
        top = float(np.nanmax(se)) * 1.1
        grid = np.linspace(0, top, 20)
        low, high = test.funnel_limits(grid)
        ax.fill_betweenx(grid, low, high, color=LIGHT, alpha=0.35, lw=0, zorder=0)
        ax.plot(low, grid, color=REFERENCE, lw=0.6, ls=":",
                label=f"pseudo {100 * FUNNEL_LEVEL:g}% limits")
        ax.plot(high, grid, color=REFERENCE, lw=0.6, ls=":")
        ax.axvline(test.centre, color=NEUTRAL, lw=0.6, label="pooled AUC")
        for cohort in COHORTS:
            mask = (data["cohort"] == cohort).to_numpy()
            if mask.any():
                ax.plot(data["logit_auc"].to_numpy()[mask], se[mask], ls="",
                        marker=COHORT_MARKERS[cohort], color=COHORT_COLOURS[cohort],
                        markersize=3.5, markeredgecolor=NEUTRAL, markeredgewidth=0.3,
                        zorder=3)
        e = test.egger
        ax.set_ylim(top, 0)
        _logit_auc_axis(ax, "x")
        ax.set_ylabel("SE of logit AUC")
        ax.set_title(f"{_aim_label(test.aim, vocabulary)}\nk = {test.k}, Egger z = {e.z:.2f}\n"
                     f"p = {e.pvalue:.2g}", loc="left",
                     fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


def _panels(items: Sequence[Any], draw: Any, extra: Sequence[Any], *, synthetic: bool,
            width: str | float, vocabulary: Vocabulary | None) -> Figure:
    """A grid of one panel per item drawn by ``draw(item, ax=)``, with one legend: cohorts,
    ``extra`` and every labelled mark of the panels."""
    with MANUSCRIPT:
        n = len(items)
        ncols = 1 if n == 1 else 2
        if not is_one_column(width) and n > 2:
            ncols = min(n, 4)
        nrows = int(np.ceil(n / ncols))
        fig, axes = new_figure(width, 14 + 48 * nrows, nrows=nrows, ncols=ncols,
                               squeeze=False)
        axes = np.asarray(axes).ravel()
        for item, ax in zip(items, axes, strict=False):
            draw(item, ax=ax, vocabulary=vocabulary)
        for ax in axes[n:]:
            ax.set_visible(False)
        cohorts = set().union(*[set(item.data["cohort"]) for item in items])
        _legend(fig, _cohort_handles(list(cohorts)) + list(extra)
                + _axes_handles(list(axes[:n])))
        mark_synthetic(fig, synthetic)
    return fig


def plot_meta_regression_panels(
    fits: Sequence[RegressionFit],
    *,
    vocabulary: Vocabulary | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """One :func:`plot_meta_regression` panel per fit (e.g. one per aim), with a shared legend.

    Parameters
    ----------
    fits : sequence of RegressionFit
        Fits to draw, in panel order (left to right, top to bottom).
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: each aim's label in its panel's title (None: its name).
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not fits:
        raise ValueError("fits is empty; pass at least one RegressionFit.")
    extra = Line2D([], [], ls="", marker="o", markerfacecolor="none", markeredgecolor=NEUTRAL,
                   markeredgewidth=0.5, markersize=5, label="area by weight")
    return _panels(fits, plot_meta_regression, [extra], synthetic=synthetic, width=width,
                   vocabulary=vocabulary)


def plot_meta_regressions(fits: Mapping[str, Sequence[RegressionFit]], **kw: Any
                          ) -> dict[str, Figure]:
    """:func:`plot_meta_regression_panels` for every moderator with at least one fit.

    Parameters
    ----------
    fits : mapping of str to sequence of RegressionFit
        Output of :func:`synth.regression.meta_regressions` (moderator to one fit per aim).
    **kw
        Passed to :func:`plot_meta_regression_panels` (``vocabulary``, ``synthetic``,
        ``width``).

    Returns
    -------
    dict of str to Figure
        Moderator to figure; a moderator without any fit (its reasons are in
        :func:`synth.regression.meta_regression_table`) is left out.
    """
    return {moderator: plot_meta_regression_panels(panel, **kw)
            for moderator, panel in fits.items() if any(f.result is not None for f in panel)}


def plot_funnel_panels(
    tests: Sequence[SmallStudyTest],
    *,
    vocabulary: Vocabulary | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """One :func:`plot_funnel` panel per aim, with a shared legend.

    Parameters
    ----------
    tests : sequence of SmallStudyTest
        Tests to draw, in panel order.
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: each aim's label in its panel's title (None: its name).
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not tests:
        raise ValueError("tests is empty; pass at least one SmallStudyTest.")
    return _panels(tests, plot_funnel, [], synthetic=synthetic, width=width,
                   vocabulary=vocabulary)
