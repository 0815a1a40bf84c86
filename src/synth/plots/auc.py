"""AUC figures: AUC by aim, forest plots, evidence map, meta-regression and funnel plots.

Each function takes a result of :mod:`synth.auc` or :mod:`synth.regression` (and ``ax=None``)
and returns the Figure; it draws only what the result holds. The forest plot is drawn from
:meth:`synth.auc.AimPooling.summary_frame` (written as ``auc_studies`` and ``auc_pooled``), the
meta-regression band from :meth:`synth.regression.RegressionFit.fitted`, the funnel from
:meth:`synth.regression.SmallStudyTest.funnel_limits`.

Colours follow :mod:`synth.plots.style`: cohorts in their cohort colours, pooled estimates in
their aim's colour, studies not pooled in ``NOT_POOLED``, everything else ``NEUTRAL``; every AUC
axis has the same ticks and the dashed line at AUC 0.5 (:func:`synth.plots.style.auc_axis`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerLine2D
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator

from synth.auc import AimPooling, auc_ranges
from synth.plots.style import (
    AIM_COLOURS,
    BACKGROUND,
    COHORT_COLOURS,
    COHORT_MARKERS,
    GRID,
    LIGHT,
    MANUSCRIPT,
    MM_PER_INCH,
    NEUTRAL,
    NOT_POOLED,
    POOLED_MARKER,
    REFERENCE,
    WARNING,
    auc_axis,
    figure_for,
    is_one_column,
    mark_synthetic,
    new_figure,
)
from synth.regression import RegressionFit, SmallStudyTest
from synth.schema import AIMS, COHORTS, MODALITIES

__all__ = [
    "FOREST_MAX_STUDIES",
    "forest_skip_reason",
    "plot_auc_by_aim",
    "plot_forest",
    "plot_forests",
    "plot_evidence_map",
    "plot_meta_regression",
    "plot_meta_regression_panels",
    "plot_meta_regressions",
    "plot_funnel",
    "plot_funnel_panels",
]

FOREST_MAX_STUDIES = 55
"""Most study rows one forest plot draws: at 3.6 mm a row, 55 rows fill a 240 mm journal page."""

_COHORT_SHORT = {"training": "train", "internal validation": "int", "external validation": "ext"}
_DERIVED_LS = (0, (2.0, 1.2))
"""Line style of an interval derived from an SE or counts (reported intervals are solid)."""
_MODERATOR_LABELS = {"year": "Publication year", "cohort": "Cohort", "rqs": "RQS (%)"}


# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------


def _cohort_handles(cohorts: Sequence[str]) -> list[Line2D]:
    return [Line2D([], [], ls="", marker=COHORT_MARKERS[c], color=COHORT_COLOURS[c],
                   markeredgecolor=NEUTRAL, markeredgewidth=0.3, markersize=4, label=c)
            for c in COHORTS if c in cohorts]


def _axes_handles(axes: Sequence[Axes]) -> list[Any]:
    """Labelled artists of ``axes``, one per label, in the order first drawn."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return [_relabel(h, label) for label, h in seen.items()]


def _relabel(handle: Any, label: str) -> Any:
    """A legend proxy for an axvline/axhline (so the legend shows a short line, not the axis)."""
    if isinstance(handle, Line2D):
        return Line2D([], [], color=handle.get_color(), ls=handle.get_linestyle(),
                      lw=handle.get_linewidth(), label=label)
    return handle


def _legend(fig: Figure, handles: Sequence[Any]) -> None:
    """One legend below the figure, two columns on a one-column figure with many entries.

    A tuple of artists is one entry drawn on top of each other, labelled by its last artist.
    """
    if not handles:
        return
    narrow = fig.get_figwidth() * MM_PER_INCH < 120
    n = len(handles)
    ncols = min(n, 2 if narrow else 4)
    labels = [(h[-1] if isinstance(h, tuple) else h).get_label() for h in handles]
    capped = {h: HandlerLine2D(numpoints=2) for h in handles
              if isinstance(h, Line2D) and h.get_marker() == "|"}
    fig.legend(handles=list(handles), labels=labels, loc="outside lower center", ncols=ncols,
               handlelength=1.6, columnspacing=1.0, handletextpad=0.4, handler_map=capped)


def _wrap_aim(aim: str) -> str:
    return aim.replace("differential diagnosis", "differential\ndiagnosis")


def _wrap_text(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _no_result_panel(ax: Axes, aim: str, text: str) -> None:
    """A panel that only says why there is nothing to show."""
    ax.set_axis_off()
    ax.set_title(aim.capitalize(), loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
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
    span = abs(hi - lo) / (6.0 if axis == "x" else 8.0)
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


def _text_colour(background: str) -> str:
    """NEUTRAL or BACKGROUND, whichever reads better on ``background`` (WCAG luminance)."""
    rgb = np.asarray(to_rgb(background))
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    return NEUTRAL if luminance > 0.179 else BACKGROUND


# ---------------------------------------------------------------------------------------------
# AUC by aim and evidence map
# ---------------------------------------------------------------------------------------------


def plot_auc_by_aim(
    representative: pd.DataFrame,
    *,
    aims: Sequence[str] = AIMS,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Representative AUC of every study, one row per aim, coloured by cohort type.

    One mark per study (colour and shape by the cohort of its representative AUC), its
    reported 95 % CI as a bar where the study gives one; each aim's range and number of
    studies (:func:`synth.auc.auc_ranges`) written at the right. An aim with no studies keeps
    its row and says so.

    Parameters
    ----------
    representative : pandas.DataFrame
        Output of :func:`synth.auc.representative_auc`.
    aims : sequence of str, default all aims
        Rows, top to bottom in the data dictionary's order.
    ax : matplotlib Axes, optional
        Draw into this axes; a new figure otherwise.
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width of a new figure (85 mm, 170 mm or millimetres).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ranges = auc_ranges(representative, aims=aims)
    aims = list(ranges["aim"])
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 22 + 17 * len(aims))
        lowest = float(np.nanmin(np.r_[representative["ci_low"].astype(float).to_numpy(),
                                       representative["auc"].astype(float).to_numpy(), 0.7]))
        for i, aim in enumerate(aims):
            y0 = len(aims) - 1 - i
            sel = representative[representative["aim"] == aim].copy()
            sel = sel.sort_values(["auc", "study_id"], kind="mergesort")
            offsets = np.linspace(-0.32, 0.32, len(sel)) if len(sel) > 1 else np.zeros(len(sel))
            sel["y"] = y0 + offsets
            for cohort, part in sel.groupby("cohort", sort=False):
                colour = COHORT_COLOURS[cohort]
                ci = part.dropna(subset=["ci_low", "ci_high"])
                if len(ci):
                    ax.hlines(ci["y"], ci["ci_low"].astype(float), ci["ci_high"].astype(float),
                              color=colour, lw=0.7, alpha=0.8)
                ax.plot(part["auc"].astype(float), part["y"], ls="",
                        marker=COHORT_MARKERS[cohort], color=colour, markersize=3.2,
                        markeredgecolor=BACKGROUND, markeredgewidth=0.3, zorder=3,
                        clip_on=False)
            if sel.empty:
                ax.text(0.5, y0, "no studies", transform=ax.get_yaxis_transform(),
                        ha="center", va="center", color=NEUTRAL,
                        fontsize=MANUSCRIPT.font_size - 1, style="italic")
            info = ranges[ranges["aim"] == aim].iloc[0]
            text = f"{info['auc_range']}\n{info['n_studies']} stud" + (
                "y" if info["n_studies"] == 1 else "ies") if info["n_studies"] else "–"
            ax.annotate(text, xy=(1.0, y0), xycoords=("axes fraction", "data"),
                        xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=MANUSCRIPT.font_size - 1, linespacing=1.1, color=NEUTRAL)
            if i:
                ax.axhline(y0 + 0.5, color=LIGHT, lw=0.5, zorder=0)
        ax.set_yticks(range(len(aims)), [_wrap_aim(a) for a in reversed(aims)])
        ax.set_ylim(-0.5, len(aims) - 0.5)
        ax.set_xlim(max(0.0, np.floor(lowest * 10) / 10 - 0.02), 1.0)
        auc_axis(ax, axis="x", label="AUC (representative per study; bars: reported 95% CI)")
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color=GRID, lw=0.5)
        ax.set_axisbelow(True)
        handles = _cohort_handles(list(representative["cohort"].unique()))
        if representative[["ci_low", "ci_high"]].notna().all(axis=1).any():
            handles.append(Line2D([], [], color=NEUTRAL, lw=0.7,
                                  label="reported 95% CI (cohort colour)"))
        _legend(fig, handles + _axes_handles([ax]))
        mark_synthetic(fig, synthetic)
    return fig


def plot_evidence_map(
    by_modality: pd.DataFrame,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Evidence map: aims x modalities, bubble area by number of studies, empty cells marked.

    Parameters
    ----------
    by_modality : pandas.DataFrame
        Output of ``synth.auc.auc_ranges(..., by="modality")`` (every aim x modality, zeros
        included).
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
    aims = [a for a in AIMS if a in set(by_modality["aim"])]
    modalities = [m for m in MODALITIES if m in set(by_modality["modality"])]
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 22 + 16 * len(aims))
        biggest = max(1, int(by_modality["n_studies"].max()))
        for _, row in by_modality.iterrows():
            x = modalities.index(row["modality"])
            y = len(aims) - 1 - aims.index(row["aim"])
            n = int(row["n_studies"])
            if n == 0:
                ax.plot(x, y, ls="", marker="o", markersize=9, markerfacecolor="none",
                        markeredgecolor=LIGHT, markeredgewidth=0.6)
                ax.text(x, y, "0", ha="center", va="center", color=NEUTRAL, alpha=0.45,
                        fontsize=MANUSCRIPT.font_size - 1)
                continue
            size = 9 + 15 * np.sqrt(n / biggest)
            colour = AIM_COLOURS[row["aim"]]
            ax.plot(x, y, ls="", marker="o", markersize=size, color=colour,
                    markeredgecolor=BACKGROUND)
            ax.text(x, y, str(n), ha="center", va="center", color=_text_colour(colour),
                    fontweight="bold", fontsize=MANUSCRIPT.font_size - 0.5)
            ax.annotate(f"{row['auc_range']}", xy=(x, y), xytext=(0, -(size / 2 + 1)),
                        textcoords="offset points", ha="center", va="top",
                        fontsize=MANUSCRIPT.font_size - 1.5, color=NEUTRAL)
        ax.set_xticks(range(len(modalities)), modalities)
        ax.set_yticks(range(len(aims)), [_wrap_aim(a) for a in reversed(aims)])
        ax.set_xlim(-0.5, len(modalities) - 0.5)
        ax.set_ylim(-0.5, len(aims) - 0.5)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks(np.arange(len(modalities) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(aims) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color=GRID, lw=0.5)
        ax.tick_params(which="minor", length=0)
        ax.xaxis.set_ticks_position("top")
        ax.set_xlabel("Number of studies (AUC range below)")
        mark_synthetic(fig, synthetic)
    return fig


# ---------------------------------------------------------------------------------------------
# Forest plot
# ---------------------------------------------------------------------------------------------


def forest_skip_reason(pooling: AimPooling) -> str | None:
    """Why an aim gets no forest plot (no studies, or more than a page holds), else None."""
    if pooling.k_shown == 0:
        return f"{pooling.aim}: no studies, no forest plot."
    if pooling.k_shown > FOREST_MAX_STUDIES:
        return (f"{pooling.aim}: {pooling.k_shown} studies, more than the "
                f"{FOREST_MAX_STUDIES} rows a forest plot holds on one journal page; no forest "
                f"plot. The pooled estimate is in auc_pooled, every study in auc_studies; "
                f"synth.explore.subset narrows the review to draw one.")
    return None


def _fmt_ci(value: float) -> str:
    """Two decimals, or three when two would round a value below 1 up to 1.00."""
    return f"{value:.3f}" if round(value, 2) >= 1.0 > value else f"{value:.2f}"


def _ci_text(auc: float, low: float, high: float) -> str:
    text = _fmt_ci(auc)
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{_fmt_ci(low)}, {_fmt_ci(high)}]"
    return text


def _text_column(ax: Axes, ys: Sequence[float], texts: Sequence[str], *, offset: float,
                 ha: str, **kw: Any) -> list[Any]:
    """Texts right of the axes at data heights ``ys``, ``offset`` points from its edge."""
    return [ax.annotate(t, xy=(1.0, y), xycoords=("axes fraction", "data"),
                        xytext=(offset, 0), textcoords="offset points", ha=ha, va="center",
                        annotation_clip=False, **kw) for y, t in zip(ys, texts, strict=True)]


def _width_pt(fig: Figure, artists: Sequence[Any]) -> float:
    """Widest of ``artists`` in points (text layout only, nothing is computed from data)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    widths = [a.get_window_extent(renderer).width for a in artists]
    return max(widths, default=0.0) * 72.0 / fig.dpi


def plot_forest(
    pooling: AimPooling,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Forest plot of one aim, drawn from :meth:`synth.auc.AimPooling.summary_frame`.

    Studies (square area by weight, colour and shape by cohort; open mark and † when not
    pooled) with the interval the table holds: the reported 95 % CI as a solid line, an
    interval derived from an SE, a CI or counts dashed. The pooled estimate is a diamond in the
    aim's colour (its confidence interval) with the prediction interval as a line. Columns
    "Study", "AUC [95% CI]" and "Weight" frame the plot. Without a pooled estimate the reason
    is written under the studies.

    Parameters
    ----------
    pooling : AimPooling
        One aim's result from :func:`synth.auc.pool_by_aim`.
    ax : matplotlib Axes, optional
        Draw into this axes; a new figure (height by number of studies) otherwise.
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the aim has no studies, or more than :data:`FOREST_MAX_STUDIES`
        (:func:`forest_skip_reason` says which).

    Notes
    -----
    Hand-drawn rather than statsmodels' ``CombineResults.plot_forest``, which has no
    prediction interval, no rows for studies shown but not pooled, and no AUC back-transform.
    """
    reason = forest_skip_reason(pooling)
    if reason:
        raise ValueError(reason)
    frame = pooling.summary_frame()
    studies = frame[frame["kind"] == "study"].reset_index(drop=True)
    pooled = frame[frame["kind"] == "pooled"]
    message_rows = 0 if len(pooled) else 0.8
    one = is_one_column(width)
    size = MANUSCRIPT.font_size - 0.5
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 34 + 3.6 * (len(studies) + 2 + message_rows))
        y_studies = np.arange(len(studies))[::-1] + 2.0
        max_w = float(np.nanmax(studies["weight"])) if studies["pooled"].any() else 1.0
        for y, row in zip(y_studies, studies.itertuples(), strict=True):
            if np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
                ax.hlines(y, row.ci_low, row.ci_high, color=NEUTRAL, lw=0.6,
                          ls=_DERIVED_LS if row.ci_derived else "-")
            if row.poolable:
                marker_size = 2.0 + 4.0 * np.sqrt(row.weight / max_w) if row.pooled else 4.0
                ax.plot(row.auc, y, ls="", marker=COHORT_MARKERS[row.cohort],
                        color=COHORT_COLOURS[row.cohort], markersize=marker_size,
                        markeredgecolor=NEUTRAL, markeredgewidth=0.4, zorder=3, clip_on=False)
            else:
                ax.plot(row.auc, y, ls="", marker=COHORT_MARKERS[row.cohort],
                        markerfacecolor="none", markeredgecolor=NOT_POOLED, markersize=3.5,
                        zorder=3, clip_on=False)
        labels = [f"{r.label}{'' if r.poolable else ' †'}" for r in studies.itertuples()]
        ticks = list(y_studies)
        ci_texts = [_ci_text(r.auc, r.ci_low, r.ci_high) for r in studies.itertuples()]
        weights = [f"{w:.0f}%" if np.isfinite(w) else "" for w in studies["weight"]]
        rows_y = list(y_studies)
        lows = [studies["auc"].min(), studies["ci_low"].min()]
        has_pi = False
        if len(pooled):
            p = pooled.iloc[0]
            colour = AIM_COLOURS[pooling.aim]
            has_pi = bool(np.isfinite(p["pi_low"]) and np.isfinite(p["pi_high"]))
            if has_pi:
                ax.hlines(0.0, p["pi_low"], p["pi_high"], color=NEUTRAL, lw=0.8)
                ax.vlines([p["pi_low"], p["pi_high"]], -0.18, 0.18, color=NEUTRAL, lw=0.8)
            ax.add_patch(Polygon([(p["ci_low"], 0), (p["auc"], 0.32), (p["ci_high"], 0),
                                  (p["auc"], -0.32)], closed=True, facecolor=colour,
                                 edgecolor=NEUTRAL, lw=0.5, zorder=4))
            ax.axvline(p["auc"], color=REFERENCE, lw=0.5, ls=":", zorder=0)
            labels.append(f"{pooling.label}\nk = {pooling.k_pooled}, "
                          f"I² = {p['i2']:.0f}%, τ² = {p['tau2']:.2g}")
            pi_text = (f"PI {_fmt_ci(p['pi_low'])}–{_fmt_ci(p['pi_high'])}" if has_pi
                       else f"no PI (k < {pooling.result.pi_min_k})" if pooling.result
                       else "no PI")
            ci_texts.append(_ci_text(p["auc"], p["ci_low"], p["ci_high"]) + "\n" + pi_text)
            weights.append("")
            ticks.append(0.0)
            rows_y.append(0.0)
            lows.append(p["pi_low"] if has_pi else p["ci_low"])
        else:
            ax.text(0.5, 0.2, f"No pooled estimate: {_wrap_text(pooling.reason, 48)}.",
                    transform=ax.get_yaxis_transform(), ha="center", va="center",
                    fontsize=MANUSCRIPT.font_size - 1, color=WARNING, zorder=5,
                    bbox={"facecolor": BACKGROUND, "edgecolor": "none", "pad": 1.0})
        ax.set_yticks(ticks, labels)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        top = len(studies) + 1.0
        ax.set_ylim(-0.8 - message_rows, top + 1.3)
        # Text columns right of the plot: AUC [95% CI], then the weight, each under a header.
        gap = 5.0
        header_y = top + 1.0
        ci_artists = _text_column(ax, rows_y, ci_texts, offset=gap, ha="left", fontsize=size)
        ci_head = _text_column(ax, [header_y], ["AUC [95% CI]"], offset=gap, ha="left",
                               fontsize=size, fontweight="bold")
        right = gap + _width_pt(fig, ci_artists + ci_head) + gap
        if any(weights):  # without a pooled estimate no study has a weight: no column
            weight_head = _text_column(ax, [header_y], ["Weight"], offset=right, ha="left",
                                       fontsize=size, fontweight="bold")
            weight_right = right + _width_pt(fig, weight_head)
            _text_column(ax, rows_y, weights, offset=weight_right, ha="right", fontsize=size)
        ax.annotate("Study", xy=(0.0, header_y), xycoords=("axes fraction", "data"),
                    xytext=(-3.5, 0), textcoords="offset points", ha="right", va="center",
                    fontsize=size, fontweight="bold", annotation_clip=False)
        low = float(np.nanmin(lows))
        ax.set_xlim(max(0.0, np.floor(low * 20) / 20 - 0.02), 1.0)
        # the AUC 0.5 line never sits on the axis' edge: start at 0.4 or lower
        auc_axis(ax, axis="x", low=min(ax.get_xlim()[0], 0.45), label="AUC (95% CI)")
        if one:  # a narrow axis: a tick every 0.1 as everywhere, a label every 0.2
            ticks = ax.get_xticks()
            ax.set_xticks(ticks, [f"{t:.1f}" if round(t * 10) % 2 == 0 else "" for t in ticks])
        title = pooling.aim.capitalize()
        if not one:
            title += f": {pooling.k_pooled} of {pooling.k_shown} studies pooled"
        ax.set_title(title, loc="left", fontsize=MANUSCRIPT.title_size, pad=10)
        _legend(fig, _forest_handles(studies, pooling, has_pooled=bool(len(pooled)),
                                     has_pi=has_pi)
                + _axes_handles([ax]))
        mark_synthetic(fig, synthetic)
    return fig


def plot_forests(poolings: Mapping[str, AimPooling], **kw: Any) -> dict[str, Figure]:
    """:func:`plot_forest` for every aim that gets one (:func:`forest_skip_reason` is None).

    Parameters
    ----------
    poolings : mapping of str to AimPooling
        Output of :func:`synth.auc.pool_by_aim`.
    **kw
        Passed to :func:`plot_forest` (``synthetic``, ``width``).

    Returns
    -------
    dict of str to Figure
        Aim to figure, in the order of ``poolings``; aims without a forest plot are left out.
    """
    return {aim: plot_forest(p, **kw) for aim, p in poolings.items()
            if forest_skip_reason(p) is None}


def _forest_handles(studies: pd.DataFrame, pooling: AimPooling, *, has_pooled: bool,
                    has_pi: bool = True) -> list[Any]:
    handles: list[Any] = _cohort_handles(list(studies["cohort"].unique()))
    sources = set(studies["ci_source"])
    if "reported" in sources:
        handles.append(Line2D([], [], color=NEUTRAL, lw=0.6, label="reported 95% CI"))
    if studies["ci_derived"].any():
        handles.append(Line2D([], [], color=NEUTRAL, lw=0.6, ls=_DERIVED_LS,
                              label="derived CI (SE or counts)"))
    if not studies["poolable"].all():
        handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="none",
                              markeredgecolor=NOT_POOLED, markersize=4,
                              label="† not pooled (see auc_studies)"))
    if has_pooled:
        handles.append((Line2D([], [], color=REFERENCE, lw=0.5, ls=":"),
                        Line2D([], [], ls="", marker=POOLED_MARKER, color=AIM_COLOURS[pooling.aim],
                               markeredgecolor=NEUTRAL, markeredgewidth=0.5, markersize=4.5,
                               label="pooled AUC, 95% CI")))
    if has_pooled and has_pi:
        handles.append(Line2D([], [], color=NEUTRAL, lw=0.8, marker="|", markersize=4,
                              markeredgewidth=0.8, label="prediction interval"))
    return handles


# ---------------------------------------------------------------------------------------------
# Meta-regression and funnel plots
# ---------------------------------------------------------------------------------------------


def plot_meta_regression(
    fit: RegressionFit,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Bubble plot of logit AUC against the moderator, bubble area by weight, fitted line.

    Year and RQS: the fitted line with its confidence band (:meth:`RegressionFit.fitted`,
    from the coefficients and ``cov_intercept_slope``); cohort type: each cohort's fitted mean
    as a bar. The y axis is on the logit scale, labelled in AUC. The panel title gives k, the
    slope (or p-values of the cohort contrasts) and R². Without a fit (too few studies, no
    quality data, a moderator that does not vary) the panel says why instead.

    Parameters
    ----------
    fit : RegressionFit
        From :func:`synth.regression.fit_meta_regression`.
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
            _no_result_panel(ax, fit.aim, f"No meta-regression: {fit.reason}")
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
        ax.set_title(f"{fit.aim.capitalize()}\nk = {fit.k}, {stat}",
                     loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


def plot_funnel(
    test: SmallStudyTest,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Funnel plot (AUC on the logit scale against the SE of logit AUC, SE axis inverted).

    The funnel is centred on the pooled logit AUC with pseudo 95 % limits
    (:meth:`SmallStudyTest.funnel_limits`); the panel title gives k and Egger's z and p. With
    fewer than 3 studies the panel says so instead.

    Parameters
    ----------
    test : SmallStudyTest
        From :func:`synth.regression.small_study_test`.
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
            _no_result_panel(ax, test.aim, f"No funnel plot: {test.reason}")
            if fig.axes[0] is ax:
                mark_synthetic(fig, synthetic)
            return fig
        data = test.data
        se = data["se_logit"].to_numpy(dtype=float)
        top = float(np.nanmax(se)) * 1.1
        grid = np.linspace(0, top, 20)
        low, high = test.funnel_limits(grid)
        ax.fill_betweenx(grid, low, high, color=LIGHT, alpha=0.35, lw=0, zorder=0)
        ax.plot(low, grid, color=REFERENCE, lw=0.6, ls=":", label="pseudo 95% limits")
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
        ax.set_title(f"{test.aim.capitalize()}\nk = {test.k}, Egger z = {e.z:.2f}\n"
                     f"p = {e.pvalue:.2g}", loc="left",
                     fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


def _panels(items: Sequence[Any], draw: Any, extra: Sequence[Any], *, synthetic: bool,
            width: str | float) -> Figure:
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
            draw(item, ax=ax)
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
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """One :func:`plot_meta_regression` panel per fit (e.g. one per aim), with a shared legend.

    Parameters
    ----------
    fits : sequence of RegressionFit
        Fits to draw, in panel order (left to right, top to bottom).
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
    return _panels(fits, plot_meta_regression, [extra], synthetic=synthetic, width=width)


def plot_meta_regressions(fits: Mapping[str, Sequence[RegressionFit]], **kw: Any
                          ) -> dict[str, Figure]:
    """:func:`plot_meta_regression_panels` for every moderator with at least one fit.

    Parameters
    ----------
    fits : mapping of str to sequence of RegressionFit
        Output of :func:`synth.regression.meta_regressions` (moderator to one fit per aim).
    **kw
        Passed to :func:`plot_meta_regression_panels` (``synthetic``, ``width``).

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
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """One :func:`plot_funnel` panel per aim, with a shared legend.

    Parameters
    ----------
    tests : sequence of SmallStudyTest
        Tests to draw, in panel order.
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
    return _panels(tests, plot_funnel, [], synthetic=synthetic, width=width)
