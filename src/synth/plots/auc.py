"""AUC figures: AUC by aim, evidence map and forest plots.

Each function takes a result of :mod:`synth.auc` (and ``ax=None``) and returns the Figure; it
draws only what the result holds. The forest plot is drawn from
:meth:`synth.auc.AimPooling.summary_frame` (written as ``auc_studies`` and ``auc_pooled``).
Meta-regression and funnel plots are :mod:`synth.plots.regression`.

Colours follow :mod:`synth.plots.style`: cohorts in their cohort colours, pooled estimates in
their aim's colour, studies not pooled in ``NOT_POOLED``, everything else ``NEUTRAL``; every AUC
axis has the same ticks and the dashed line at AUC 0.5 (:func:`synth.plots.style.auc_axis`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerLine2D
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from synth.auc import AimPooling, auc_ranges
from synth.plots.style import (
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
    RISK_COLOURS,
    RISK_SYMBOLS,
    WARNING,
    aim_style,
    auc_axis,
    figure_for,
    is_one_column,
    mark_synthetic,
)
from synth.vocabulary import COHORTS, DEFAULT_VOCABULARY, Aim, Vocabulary

__all__ = [
    "FOREST_MAX_STUDIES",
    "FOREST_QUALITY_MM",
    "forest_skip_reason",
    "plot_auc_by_aim",
    "auc_figures",
    "plot_forest",
    "plot_forests",
    "plot_evidence_map",
]

FOREST_MAX_STUDIES = 55
"""Most study rows one forest plot draws: at 3.6 mm a row, 55 rows fill a 240 mm journal page."""

FOREST_QUALITY_MM = 120.0
"""Width of a one-column forest plot with a quality column (85 mm cannot hold it): 1.5 columns."""

_DERIVED_LS = (0, (2.0, 1.2))
"""Line style of an interval derived from an SE or counts (reported intervals are solid)."""


# ---------------------------------------------------------------------------------------------
# Shared pieces (also of synth.plots.regression)
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
    """One legend below the figure, two columns on a figure narrower than 150 mm (one
    column, or a 1.5-column forest plot), four on a two-column one.

    A tuple of artists is one entry drawn on top of each other, labelled by its last artist.
    """
    if not handles:
        return
    narrow = fig.get_figwidth() * MM_PER_INCH < 150
    n = len(handles)
    ncols = min(n, 2 if narrow else 4)
    labels = [(h[-1] if isinstance(h, tuple) else h).get_label() for h in handles]
    capped = {h: HandlerLine2D(numpoints=2) for h in handles
              if isinstance(h, Line2D) and h.get_marker() == "|"}
    fig.legend(handles=list(handles), labels=labels, loc="outside lower center", ncols=ncols,
               handlelength=1.6, columnspacing=1.0, handletextpad=0.4, handler_map=capped)


def _aim_label(aim: str, vocabulary: Vocabulary | None) -> str:
    """The aim's label (``vocabulary``'s, else its name), first letter capitalised."""
    label = (vocabulary.aim_labels if vocabulary is not None else {}).get(aim, aim)
    return label[:1].upper() + label[1:]


def _wrap_aim(aim: str, vocabulary: Vocabulary | None) -> str:
    """An aim's label as declared, on lines of at most 14 characters (a y tick label)."""
    label = (vocabulary.aim_labels if vocabulary is not None else {}).get(aim, aim)
    return "\n".join(textwrap.wrap(label, 14)) or aim


def _wrap_text(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _reported_ci_name(representative: pd.DataFrame) -> str:
    """``95% CI``, the one level of every reported CI (its ``ci_level``), or ``CI`` when the
    studies report them at several levels."""
    with_ci = representative[["ci_low", "ci_high"]].notna().all(axis=1)
    levels = {0.95} if "ci_level" not in representative else set(
        representative.loc[with_ci, "ci_level"].astype(float).fillna(0.95).round(4))
    return f"{100 * levels.pop():g}% CI" if len(levels) == 1 else "CI"


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
    vocabulary: Vocabulary | None = None,
    aims: Sequence[str] | None = None,
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
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: rows in its declared aim order, labelled by its aim labels;
        None: the aims of ``representative``, sorted, labelled by name.
    aims : sequence of str, optional
        Rows, top to bottom (default: every aim of ``vocabulary``, or of ``representative``).
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
    if aims is None:
        aims = aim_style(vocabulary, representative["aim"]).names
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
        ax.set_yticks(range(len(aims)), [_wrap_aim(a, vocabulary) for a in reversed(aims)])
        ax.set_ylim(-0.5, len(aims) - 0.5)
        ax.set_xlim(max(0.0, np.floor(lowest * 10) / 10 - 0.02), 1.0)
        ci_name = _reported_ci_name(representative)
        auc_axis(ax, axis="x", label=f"AUC (representative per study; bars: reported {ci_name})")
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color=GRID, lw=0.5)
        ax.set_axisbelow(True)
        handles = _cohort_handles(list(representative["cohort"].unique()))
        if representative[["ci_low", "ci_high"]].notna().all(axis=1).any():
            handles.append(Line2D([], [], color=NEUTRAL, lw=0.7,
                                  label=f"reported {ci_name} (cohort colour)"))
        _legend(fig, handles + _axes_handles([ax]))
        mark_synthetic(fig, synthetic)
    return fig


def plot_evidence_map(
    by_modality: pd.DataFrame,
    *,
    vocabulary: Vocabulary | None = None,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float | None = None,
) -> Figure:
    """Evidence map: aims x modalities, bubble area by number of studies, empty cells marked.

    Rows are the aims and columns the modalities of ``by_modality``, in its order (so pass
    ``aims=review.vocabulary.aim_names, modalities=review.vocabulary.modalities`` to
    :func:`synth.auc.auc_ranges` for the declared ones, gaps included); bubbles take each aim's
    colour and rows its label from ``vocabulary``.

    Parameters
    ----------
    by_modality : pandas.DataFrame
        Output of ``synth.auc.auc_ranges(..., by="modality")`` (every aim x modality, zeros
        included).
    vocabulary : Vocabulary, optional
        ``review.vocabulary`` (aim colours and labels); None: the aims of ``by_modality``,
        sorted, coloured in that order and labelled by name.
    ax : matplotlib Axes, optional
        Draw into this axes; a new figure otherwise.
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two", float or None
        Journal width of a new figure; None: one column for up to five modalities, else two.

    Returns
    -------
    matplotlib.figure.Figure
    """
    aims = list(dict.fromkeys(by_modality["aim"]))
    modalities = list(dict.fromkeys(by_modality["modality"]))
    colours = aim_style(vocabulary, aims).colours
    if width is None:
        width = "one" if len(modalities) <= 5 else "two"
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
            colour = colours[row["aim"]]
            ax.plot(x, y, ls="", marker="o", markersize=size, color=colour,
                    markeredgecolor=BACKGROUND)
            ax.text(x, y, str(n), ha="center", va="center", color=_text_colour(colour),
                    fontweight="bold", fontsize=MANUSCRIPT.font_size - 0.5)
            ax.annotate(f"{row['auc_range']}", xy=(x, y), xytext=(0, -(size / 2 + 1)),
                        textcoords="offset points", ha="center", va="top",
                        fontsize=MANUSCRIPT.font_size - 1.5, color=NEUTRAL)
        ax.set_xticks(range(len(modalities)), ["\n".join(textwrap.wrap(m, 11))
                                               for m in modalities])
        ax.set_yticks(range(len(aims)), [_wrap_aim(a, vocabulary) for a in reversed(aims)])
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


def auc_figures(representative: pd.DataFrame, by_modality: pd.DataFrame, *,
                aims: Sequence[str] | None = None, **kw: Any) -> dict[str, Figure]:
    """``auc_by_aim`` (:func:`plot_auc_by_aim`) and ``auc_evidence_map``
    (:func:`plot_evidence_map` of ``by_modality``) by file stem, as notebook 03 saves them;
    none when ``representative`` holds no AUC. ``kw``: ``vocabulary``, ``synthetic``, ``width``.
    """
    return {} if representative.empty else {
        "auc_by_aim": plot_auc_by_aim(representative, aims=aims, **kw),
        "auc_evidence_map": plot_evidence_map(by_modality, **kw)}


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
    vocabulary: Vocabulary | None = None,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
    quality: pd.Series | None = None,
    quality_label: str | None = None,
) -> Figure:
    """Forest plot of one aim, drawn from :meth:`synth.auc.AimPooling.summary_frame`.

    Studies (square area by weight, colour and shape by cohort; open mark and † when not
    pooled) with the interval the table holds: the reported CI as a solid line, an interval
    derived from an SE, a CI at another level or counts dashed, all at the pooling's level
    (``1 - alpha``, 95 % by default). The pooled estimate is a diamond in the aim's colour (its
    confidence interval) with the prediction interval as a line. Columns "Study",
    "AUC [95% CI]" and "Weight" frame the plot, and an optional quality column on the right.
    Without a pooled estimate the reason is written under the studies.

    Parameters
    ----------
    pooling : AimPooling
        One aim's result from :func:`synth.auc.pool_by_aim`.
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: the aim's colour (by its place in the declared order) and its
        label in the title; None: the first aim colour and the aim's name.
    ax : matplotlib Axes, optional
        Draw into this axes; a new figure (height by number of studies) otherwise.
    synthetic : bool, default False
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width of a new figure.
    quality : pandas.Series, optional
        Text by ``study_id`` for a right-hand column on each study's row, e.g. a METRICS
        percentage ("58.7", :func:`synth.appraisal.forest_quality`); a QUADAS-2 judgement
        (low / unclear / high) is drawn as its symbol in its colour, as in the traffic-light
        plot. A study without a value shows "n/a"; None: no column. A new figure asked one
        column wide is drawn :data:`FOREST_QUALITY_MM` wide, as the column does not fit.
    quality_label : str, optional
        The column's header; None: ``quality.name``, else "Quality".

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
    if quality is not None and ax is None and is_one_column(width):
        width = FOREST_QUALITY_MM
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
        ci = f"{100 * (1 - pooling.alpha):g}% CI"
        labels = [f"{r.label}{'' if r.poolable else ' †'}" for r in studies.itertuples()]
        ticks = list(y_studies)
        ci_texts = [_ci_text(r.auc, r.ci_low, r.ci_high) for r in studies.itertuples()]
        weights = [f"{w:.0f}%" if np.isfinite(w) else "" for w in studies["weight"]]
        rows_y = list(y_studies)
        lows = [studies["auc"].min(), studies["ci_low"].min()]
        has_pi = False
        if len(pooled):
            p = pooled.iloc[0]
            colour = aim_style(vocabulary, [pooling.aim]).colours[pooling.aim]
            has_pi = bool(np.isfinite(p["pi_low"]) and np.isfinite(p["pi_high"]))
            if has_pi:
                ax.hlines(0.0, p["pi_low"], p["pi_high"], color=NEUTRAL, lw=0.8)
                ax.vlines([p["pi_low"], p["pi_high"]], -0.18, 0.18, color=NEUTRAL, lw=0.8)
            ax.add_patch(Polygon([(p["ci_low"], 0), (p["auc"], 0.32), (p["ci_high"], 0),
                                  (p["auc"], -0.32)], closed=True, facecolor=colour,
                                 edgecolor=NEUTRAL, lw=0.5, zorder=4))
            ax.axvline(p["auc"], color=REFERENCE, lw=0.5, ls=":", zorder=0)
            labels.append(f"{pooling.label}\nk = {pooling.k_pooled}, "
                          f"I² = {p['i2']:.0f}%, τ² {_fmt_tau2(p['tau2'])}")
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
        # Text columns right of the plot: AUC [CI], then the weight, each under a header.
        gap = 5.0
        header_y = top + 1.0
        ci_artists = _text_column(ax, rows_y, ci_texts, offset=gap, ha="left", fontsize=size)
        ci_head = _text_column(ax, [header_y], [f"AUC [{ci}]"], offset=gap, ha="left",
                               fontsize=size, fontweight="bold")
        right = gap + _width_pt(fig, ci_artists + ci_head) + gap
        if any(weights):  # without a pooled estimate no study has a weight: no column
            weight_head = _text_column(ax, [header_y], ["Weight"], offset=right, ha="left",
                                       fontsize=size, fontweight="bold")
            weight_right = right + _width_pt(fig, weight_head)
            _text_column(ax, rows_y, weights, offset=weight_right, ha="right", fontsize=size)
            right = weight_right + 2 * gap
        judged = [] if quality is None else _quality_column(
            ax, list(y_studies), studies["study_id"].map(quality), offset=right, size=size,
            header=(header_y, quality_label or str(quality.name or "Quality")))
        ax.annotate("Study", xy=(0.0, header_y), xycoords=("axes fraction", "data"),
                    xytext=(-3.5, 0), textcoords="offset points", ha="right", va="center",
                    fontsize=size, fontweight="bold", annotation_clip=False)
        low = float(np.nanmin(lows))
        ax.set_xlim(max(0.0, np.floor(low * 20) / 20 - 0.02), 1.0)
        # the AUC 0.5 line never sits on the axis' edge: start at 0.4 or lower
        auc_axis(ax, axis="x", low=min(ax.get_xlim()[0], 0.45), label=f"AUC ({ci})")
        if one:  # a narrow axis: a tick every 0.1 as everywhere, a label every 0.2
            ticks = ax.get_xticks()
            ax.set_xticks(ticks, [f"{t:.1f}" if round(t * 10) % 2 == 0 else "" for t in ticks])
        title = _aim_label(pooling.aim, vocabulary)
        if not one:
            title += (f": {pooling.k_pooled} of {pooling.k_shown} "
                      f"stud{'y' if pooling.k_shown == 1 else 'ies'} pooled")
        ax.set_title(title, loc="left", fontsize=MANUSCRIPT.title_size, pad=10)
        _legend(fig, _forest_handles(studies, colour if len(pooled) else None, ci,
                                     has_pi=has_pi)
                + _axes_handles([ax]) + judged)
        mark_synthetic(fig, synthetic)
    return fig


def _quality_column(ax: Axes, ys: Sequence[float], values: pd.Series, *,
                    header: tuple[float, str], offset: float, size: float) -> list[Line2D]:
    """The forest plot's quality column: a bold header over each study's text, centred; a
    QUADAS-2 judgement as its symbol in a circle of its colour; "n/a" where there is none.
    Returns a legend entry per judgement shown."""
    head = _text_column(ax, [header[0]], [header[1]], offset=offset, ha="left",
                        fontsize=size, fontweight="bold")
    centre = offset + _width_pt(ax.figure, head) / 2  # type: ignore[arg-type]
    texts = ["n/a" if pd.isna(v) or str(v) == "" else str(v) for v in values]
    for y, text in zip(ys, texts, strict=True):
        circle = {"boxstyle": "circle,pad=0.15", "facecolor": RISK_COLOURS.get(text),
                  "edgecolor": NEUTRAL, "linewidth": 0.4} if text in RISK_SYMBOLS else None
        _text_column(ax, [y], [RISK_SYMBOLS.get(text, text)], offset=centre, ha="center",
                     fontsize=size, bbox=circle)
    return [Line2D([], [], ls="", marker="o", color=RISK_COLOURS[j], markeredgecolor=NEUTRAL,
                   markeredgewidth=0.4, markersize=5, label=f"{RISK_SYMBOLS[j]} {j} ({header[1]})")
            for j in RISK_SYMBOLS if j in texts]


def plot_forests(poolings: Mapping[str, AimPooling], *, vocabulary: Vocabulary | None = None,
                 **kw: Any) -> dict[str, Figure]:
    """:func:`plot_forest` for every aim that gets one (:func:`forest_skip_reason` is None).

    Parameters
    ----------
    poolings : mapping of str to AimPooling
        Output of :func:`synth.auc.pool_by_aim`.
    vocabulary : Vocabulary, optional
        ``review.vocabulary`` (aim colours and labels); None: the aims of ``poolings``, sorted,
        coloured in that order and labelled by name.
    **kw
        Passed to :func:`plot_forest` (``synthetic``, ``width``, ``quality``,
        ``quality_label``).

    Returns
    -------
    dict of str to Figure
        Aim to figure, in the order of ``poolings``; aims without a forest plot are left out.
    """
    if vocabulary is None and poolings:
        vocabulary = _names_only(poolings)
    return {aim: plot_forest(p, vocabulary=vocabulary, **kw) for aim, p in poolings.items()
            if forest_skip_reason(p) is None}


def _names_only(aims: Sequence[str] | Mapping[str, Any]) -> Vocabulary:
    """A vocabulary of ``aims`` only, sorted and labelled by name (for ``vocabulary=None``)."""
    return replace(DEFAULT_VOCABULARY, aims=tuple(Aim(a, a) for a in sorted(aims)))


def _fmt_tau2(tau2: float) -> str:
    """``= 0.13``; ``< 0.0001`` for an estimate that is zero up to the optimiser's tolerance."""
    return f"= {tau2:.2g}" if tau2 >= 1e-4 or tau2 == 0 else "< 0.0001"


_DERIVED_FROM = {"derived from SE": "SE", "derived from CI": "CI at another level",
                 "derived from counts": "counts"}


def _forest_handles(studies: pd.DataFrame, pooled_colour: str | None, ci: str, *,
                    has_pi: bool = True) -> list[Any]:
    """Legend entries of a forest plot: cohorts, the kinds of interval shown, not pooled,
    pooled and prediction interval; ``ci`` names the intervals' level ("95% CI")."""
    has_pooled = pooled_colour is not None
    handles: list[Any] = _cohort_handles(list(studies["cohort"].unique()))
    sources = set(studies["ci_source"])
    if "reported" in sources:
        handles.append(Line2D([], [], color=NEUTRAL, lw=0.6, label=f"reported {ci}"))
    if studies["ci_derived"].any():
        whence = [s for f, s in _DERIVED_FROM.items() if f in sources] or ["its variance"]
        text = ", ".join(whence[:-1]) + " or " + whence[-1] if len(whence) > 1 else whence[0]
        handles.append(Line2D([], [], color=NEUTRAL, lw=0.6, ls=_DERIVED_LS,
                              label=f"derived {ci} ({text})"))
    if not studies["poolable"].all():
        shapes = {COHORT_MARKERS[c] for c in studies.loc[~studies["poolable"], "cohort"]}
        handles.append(Line2D([], [], ls="", marker=shapes.pop() if len(shapes) == 1 else "o",
                              markerfacecolor="none",
                              markeredgecolor=NOT_POOLED, markersize=4,
                              label="† not pooled (see auc_studies)"))
    if has_pooled:
        handles.append((Line2D([], [], color=REFERENCE, lw=0.5, ls=":"),
                        Line2D([], [], ls="", marker=POOLED_MARKER, color=pooled_colour,
                               markeredgecolor=NEUTRAL, markeredgewidth=0.5, markersize=4.5,
                               label=f"pooled AUC, {ci}")))
    if has_pooled and has_pi:
        handles.append(Line2D([], [], color=NEUTRAL, lw=0.8, marker="|", markersize=4,
                              markeredgewidth=0.8, label="prediction interval"))
    return handles
