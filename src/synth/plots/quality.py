"""Quality-assessment figures: score distribution, compliance per component, study x component
heat map, score against AUC, and rater agreement.

Each function draws one result of :mod:`synth.quality` and computes nothing the result does not
hold; :func:`assessment_figures` draws every figure of a :class:`~synth.quality.QualityAssessment`.
Colours come from :mod:`synth.plots.style`: marks of no category are ``NEUTRAL``, points lost
``POINTS_LOST``, percentage agreement ``AGREEMENT``, aims their colour
(:func:`~synth.plots.style.aim_colours`, by the review's declared order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from synth import quality
from synth.plots import style as st
from synth.quality import GROUPS, RQS, IccResult, Instrument, Negative, ScoreAucResult
from synth.vocabulary import Vocabulary

__all__ = [
    "plot_distribution",
    "plot_compliance",
    "plot_heatmap",
    "plot_score_vs_auc",
    "plot_agreement",
    "assessment_figures",
]

_RNG_SEED = 0
"""Seed of the horizontal jitter of strip plots, so figures are byte-stable between runs."""

_BAR_ALPHA = 0.75
"""Bars of :data:`~synth.plots.style.NEUTRAL` are drawn a little lighter than lines and text."""


def _percent_label(instrument: Instrument) -> str:
    return f"{instrument.name} (% of {instrument.max_total})"


def _box_strip(ax: Axes, values: list[np.ndarray], labels: list[str], *, rng) -> None:
    """Horizontal box plots with the individual studies jittered over them, first on top."""
    positions = np.arange(len(values))[::-1]
    line = {"color": st.NEUTRAL, "linewidth": st.MANUSCRIPT.line_width * 0.8}
    ax.boxplot(values, positions=positions, orientation="horizontal", widths=0.6,
               showfliers=False, medianprops={"color": st.NEUTRAL, "linewidth": 1.6},
               boxprops=line, whiskerprops=line, capprops=line)
    for pos, vals in zip(positions, values, strict=True):
        jitter = rng.uniform(-0.18, 0.18, size=len(vals))
        ax.scatter(vals, pos + jitter, s=6, color=st.NEUTRAL, alpha=0.45, linewidths=0,
                   zorder=3)
    ax.set_yticks(positions, labels)
    ax.set_ylim(-0.6, len(values) - 0.4)


def plot_distribution(scores: pd.DataFrame | pd.Series, groups: pd.DataFrame | None = None, *,
                      vocabulary: Vocabulary | None = None, negative: Negative = "floor",
                      instrument: Instrument = RQS, synthetic: bool = False,
                      width: str | float = "two") -> Figure:
    """Distribution of the percentage score: overall (box + histogram), by aim, modality, year.

    Parameters
    ----------
    scores
        One rater's scores: :func:`synth.quality.rater_scores` rows (``study_id, percent``) or
        the Series of :func:`synth.quality.consensus_percent`.
    groups
        Subgroups from :func:`synth.quality.study_groups`; None draws the overall panels only.
    vocabulary
        ``review.vocabulary``: the aims' labels (None: their names).
    negative, instrument
        How the percentages were computed, stated in the caption and axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        Each subgroup is a box plot (median, quartiles, whiskers to 1.5 x IQR) with the
        studies over it; the histogram's dashed line is the mean (``mean_percent`` of
        :func:`synth.quality.rqs_summary`).
    """
    if isinstance(scores, pd.Series):
        scores = scores.rename("percent").rename_axis("study_id").reset_index()
    note = quality.negative_note(negative)
    rng = np.random.default_rng(_RNG_SEED)
    percent = scores["percent"].to_numpy(dtype=float)
    merged = None if groups is None else groups.merge(scores, on="study_id")
    panels = [g for g in GROUPS if merged is not None and (merged["group"] == g).any()]
    titles = {"aim": "By aim", "modality": "By modality", "year": "By publication year"}
    n_rows = {g: merged.loc[merged["group"] == g, "category"].nunique() for g in panels}
    with st.MANUSCRIPT:
        if panels:
            height = 40 + 4.2 * max(n_rows.get("aim", 0) + 3, n_rows.get("modality", 0)
                                    + n_rows.get("year", 0) + 3)
            fig, _ = st.new_figure(width, min(height, 230))
            fig.clf()
            gs = fig.add_gridspec(3, 2, height_ratios=[1.2, 3, 2 + n_rows.get("year", 0) / 3])
            ax_box = fig.add_subplot(gs[0, 0])
            ax_hist = fig.add_subplot(gs[1, 0], sharex=ax_box)
            axes = {"aim": fig.add_subplot(gs[0:2, 1]), "modality": fig.add_subplot(gs[2, 0]),
                    "year": fig.add_subplot(gs[2, 1])}
        else:
            fig, (ax_box, ax_hist) = st.new_figure(width, 60, nrows=2,
                                                   gridspec_kw={"height_ratios": [1, 3]},
                                                   sharex=True)
            axes = {}
        lo = min(0.0, float(np.floor(percent.min() / 5) * 5))
        _box_strip(ax_box, [percent], [f"all (n={len(percent)})"], rng=rng)
        ax_box.tick_params(axis="x", labelbottom=False)
        ax_box.set_title("All studies", loc="left")
        bins = np.arange(lo, 105, 5)
        ax_hist.hist(percent, bins=bins, color=st.NEUTRAL, alpha=_BAR_ALPHA,
                     edgecolor=st.BACKGROUND, linewidth=0.4)
        ax_hist.set_xlabel(_percent_label(instrument))
        ax_hist.set_ylabel("Studies")
        ax_hist.yaxis.get_major_locator().set_params(integer=True)
        mean = float(np.mean(percent))
        st.reference_line(ax_hist, mean, axis="x", zorder=3)
        ax_hist.annotate(f"mean {mean:.0f} %", (mean, 1), xycoords=("data", "axes fraction"),
                         xytext=(3, -2), textcoords="offset points", va="top", ha="left",
                         fontsize=st.MANUSCRIPT.font_size - 0.5)
        hi = max(100.0, float(percent.max()))
        ax_hist.set_xlim(lo - 2, hi + 2)
        for group, ax in axes.items():
            if group not in panels:
                ax.set_visible(False)
                continue
            sub = merged[merged["group"] == group]
            cats = list(dict.fromkeys(sub["category"]))
            vals = [sub.loc[sub["category"] == c, "percent"].to_numpy(float) for c in cats]
            names = vocabulary.aim_labels if vocabulary is not None and group == "aim" else {}
            _box_strip(ax, vals, [f"{names.get(c, c)} (n={len(v)})"
                                  for c, v in zip(cats, vals, strict=True)], rng=rng)
            ax.set_xlim(lo - 2, hi + 2)
            ax.set_xlabel(_percent_label(instrument))
            ax.set_title(titles[group], loc="left")
        fig.supxlabel(f"{instrument.name} percentage of the maximum {instrument.max_total}; "
                      f"{note}.\nBoxes: median and quartiles, whiskers to 1.5 \u00d7 IQR; "
                      "dots: studies; dashed line: mean.",
                      fontsize=st.MANUSCRIPT.font_size - 0.5)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_compliance(items: pd.DataFrame, *, instrument: Instrument = RQS,
                    synthetic: bool = False, width: str | float = "one") -> Figure:
    """Share of studies earning points per component, in instrument order.

    ``items`` is :func:`synth.quality.item_summary`; components that can lose points also show
    the share losing them (:data:`~synth.plots.style.POINTS_LOST`).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per component, labelled with ``percent_earning`` (and ``percent_negative``).
    """
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 18 + 4.2 * len(items))
        labels = [instrument.items[int(n) - 1].label for n in items["number"]]
        y = np.arange(len(items))[::-1]
        earn = items["percent_earning"].to_numpy(float)
        neg = items["percent_negative"].to_numpy(float)
        ax.barh(y, earn, color=st.NEUTRAL, alpha=_BAR_ALPHA, height=0.7,
                label="earning points")
        can_lose = items["min_points"].to_numpy() < 0
        if can_lose.any():
            ax.barh(y[can_lose], -neg[can_lose], color=st.POINTS_LOST, height=0.7,
                    edgecolor=st.NEUTRAL, linewidth=0.4, label="losing points")
        for yi, e, ng, lose in zip(y, earn, neg, can_lose, strict=True):
            ax.text(e + 1.5, yi, f"{e:.0f} %", va="center", fontsize=st.MANUSCRIPT.font_size - 1)
            if lose and ng > 0:
                ax.text(-ng - 1.5, yi, f"{ng:.0f} %", va="center", ha="right",
                        fontsize=st.MANUSCRIPT.font_size - 1)
        ax.set_yticks(y, labels)
        left = -float(neg[can_lose].max()) - 22 if can_lose.any() and neg.max() > 0 else 0
        ax.set_xlim(left, 112)
        ax.set_xticks(list(range(0, 101, 25)))
        ax.axvline(0, color=st.NEUTRAL, linewidth=0.6)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"Studies (%), n = {int(items['n_studies'].iloc[0])}")
        if can_lose.any():
            fig.legend(loc="outside lower center", ncols=2, handlelength=1)
        st.mark_synthetic(fig, synthetic)
    return fig


def _points_colourmap() -> LinearSegmentedColormap:
    """Points lost (:data:`~synth.plots.style.POINTS_LOST`) through 0 to the maximum earned
    (:data:`~synth.plots.style.NEUTRAL` at the bars' weight)."""
    return LinearSegmentedColormap.from_list(
        "synth_points", [st.POINTS_LOST, st.BACKGROUND, to_rgba(st.NEUTRAL, _BAR_ALPHA)])


def plot_heatmap(table: pd.DataFrame, *, negative: Negative = "floor",
                 instrument: Instrument = RQS, synthetic: bool = False,
                 width: str | float = "two") -> Figure:
    """Study x component points, studies sorted by total (highest on top).

    ``table`` is :func:`synth.quality.heatmap_table`; rows are labelled "first author year".
    Each cell shows the points; its shade is the points as a share of the component's maximum
    (grey to black) or, for negative points, of its minimum
    (:data:`~synth.plots.style.POINTS_LOST`), so that components of different weight compare.
    The right-hand columns give the total and percentage.

    Raises
    ------
    ValueError
        More than :data:`synth.quality.HEATMAP_MAX_STUDIES` studies
        (:func:`synth.quality.heatmap_skip_reason`).
    """
    rater = str(table["rater"].iloc[0]) if len(table) else ""
    reason = quality.heatmap_skip_reason(table, rater=rater)
    if reason:
        raise ValueError(reason)
    note = quality.negative_note(negative)
    points = table[list(instrument.columns)].astype(int).to_numpy()
    maxima = np.array([i.max_points for i in instrument.items], dtype=float)
    minima = np.array([abs(i.min_points) or 1 for i in instrument.items], dtype=float)
    shade = np.where(points >= 0, points / maxima, points / minima)
    n = len(points)
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, min(35 + 3.1 * n, 240))
        k = len(instrument.items)
        image = st.cell_grid(ax, shade, cmap=_points_colourmap(),
                             norm=TwoSlopeNorm(vmin=-1, vcenter=0, vmax=1))
        fs = st.MANUSCRIPT.font_size - (1.5 if n > 30 else 1)
        for (r, c), v in np.ndenumerate(points):
            ax.text(c, r, str(v), ha="center", va="center", fontsize=fs,
                    color=st.BACKGROUND if shade[r, c] > 0.6 else st.NEUTRAL)
        for r, (t, p) in enumerate(zip(table["total"], table["percent"], strict=True)):
            ax.text(k + 0.2, r, f"{t}", ha="center", va="center", fontsize=fs)
            ax.text(k + 1.3, r, f"{p:.0f}", ha="center", va="center", fontsize=fs)
        ax.set_xlim(-0.5, k + 1.9)
        ax.set_xticks(list(range(k)) + [k + 0.2, k + 1.3],
                      [i.label for i in instrument.items] + ["total", "%"],
                      rotation=60, ha="left", va="bottom", rotation_mode="anchor")
        ax.set_yticks(range(n), table["label"], fontsize=fs)
        ax.tick_params(length=0)
        ax.xaxis.tick_top()
        ax.tick_params(axis="x", labeltop=True, labelbottom=False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, location="bottom", shrink=0.45, aspect=30, pad=0.01)
        bar.set_ticks([-1, 0, 1], labels=["component minimum\n(negative points)", "0 points",
                                          "component maximum"])
        bar.ax.tick_params(labelsize=st.MANUSCRIPT.font_size - 1)
        bar.outline.set_linewidth(0.4)
        ax.set_title(f"Studies sorted by {instrument.name} total ({rater}); "
                     f"% of {instrument.max_total}, {note}", loc="left",
                     fontsize=st.MANUSCRIPT.font_size, pad=4)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_score_vs_auc(result: ScoreAucResult, *, vocabulary: Vocabulary | None = None,
                      negative: Negative = "floor", instrument: Instrument = RQS,
                      synthetic: bool = False, width: str | float = "one") -> Figure:
    """Percentage score against each study's representative AUC, one dot per study and aim.

    ``result`` is :func:`synth.quality.score_vs_auc`; its Spearman correlation
    (:meth:`~synth.quality.ScoreAucResult.text`) is printed in the panel. The AUC axis is
    :func:`synth.plots.style.auc_axis`, with the dashed line at AUC 0.5. ``vocabulary``
    (``review.vocabulary``) gives the aims' order, colours and labels; None: the aims of the
    points, sorted, labelled by name.

    Returns
    -------
    matplotlib.figure.Figure
        Dots coloured by aim (:func:`~synth.plots.style.aim_colours`), one legend entry per aim
        with points.
    """
    note = quality.negative_note(negative)
    points = result.points
    aims = st.aim_style(vocabulary, points["aim"])
    shown = [a for a in aims.names if (points["aim"] == a).any()]
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 66 + 3.5 * -(-len(shown) // 2))
        for aim in shown:
            sub = points[points["aim"] == aim]
            ax.scatter(sub["percent"], sub["auc"], s=12, color=aims.colours[aim],
                       label=f"{aims.labels[aim]} (n={len(sub)})", edgecolors=st.BACKGROUND,
                       linewidths=0.4, zorder=3)
        ax.text(0.02, 0.03, result.text(), transform=ax.transAxes, va="bottom",
                fontsize=st.MANUSCRIPT.font_size - 1)
        ax.set_xlabel(f"{_percent_label(instrument)}\n({note})")
        # start below AUC 0.5 so that the chance line is not hidden by the axis
        low = min(0.45, float(points["auc"].min()) - 0.02) if len(points) else 0.45
        st.auc_axis(ax, axis="y", low=np.floor(round(low * 10, 6)) / 10,
                    label="Representative AUC")
        fig.legend(loc="outside lower center", ncols=2, handlelength=1, columnspacing=1.0)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_agreement(agreement: pd.DataFrame, icc: IccResult | None = None, *,
                   instrument: Instrument = RQS, synthetic: bool = False,
                   width: str | float = "two") -> Figure:
    """Per component: Cohen's kappa with its CI (filled: weighted) and percentage agreement.

    ``agreement`` is :func:`synth.quality.rater_agreement`; the ICC of totals, when given, is
    stated in the title (:meth:`~synth.quality.IccResult.text`).

    Returns
    -------
    matplotlib.figure.Figure
        Kappas (:data:`~synth.plots.style.NEUTRAL`) beside bars of percentage agreement
        (:data:`~synth.plots.style.AGREEMENT`); the dashed line is kappa 0 (chance agreement).
    """
    with st.MANUSCRIPT:
        fig, (ax_k, ax_p) = st.new_figure(width, 20 + 4.4 * len(agreement), ncols=2,
                                          sharey=True, gridspec_kw={"width_ratios": [3, 2]})
        y = np.arange(len(agreement))[::-1]
        labels = [instrument.items[int(n) - 1].label for n in agreement["number"]]
        kappa = agreement["kappa"].to_numpy(float)
        low, high = agreement["ci_low"].to_numpy(float), agreement["ci_high"].to_numpy(float)
        weighted = (agreement["weights"] == "linear").to_numpy()
        ok = np.isfinite(kappa)
        ax_k.hlines(y[ok], np.clip(low[ok], -1, 1), np.clip(high[ok], -1, 1),
                    color=st.NEUTRAL, linewidth=0.8)
        ax_k.scatter(kappa[ok & weighted], y[ok & weighted], s=16, color=st.NEUTRAL,
                     zorder=3)
        ax_k.scatter(kappa[ok & ~weighted], y[ok & ~weighted], s=16, facecolors=st.BACKGROUND,
                     edgecolors=st.NEUTRAL, zorder=3)
        for yi in y[~ok]:
            ax_k.text(0.0, yi, "undefined (no variation)", va="center",
                      fontsize=st.MANUSCRIPT.font_size - 1, color=st.NEUTRAL)
        st.reference_line(ax_k, 0.0, axis="x")
        ax_k.set_xlim(-1.02, 1.02)
        ax_k.set_yticks(y, labels)
        ax_k.set_xlabel("Cohen's kappa (95 % CI)")
        pa = agreement["percent_agreement"].to_numpy(float)
        ax_p.barh(y, pa, color=st.AGREEMENT, height=0.7)
        for yi, v in zip(y, pa, strict=True):
            ax_p.text(v - 2, yi, f"{v:.0f}", va="center", ha="right", color=st.NEUTRAL,
                      fontsize=st.MANUSCRIPT.font_size - 1.5)
        ax_p.set_xlim(0, 100)
        ax_p.set_xlabel("Agreement (% of studies)")
        ax_p.tick_params(axis="y", length=0)
        handles = [Line2D([], [], marker="o", linestyle="", color=st.NEUTRAL, markersize=4,
                          label="weighted (linear), ordinal component"),
                   Line2D([], [], marker="o", linestyle="", color=st.NEUTRAL,
                          markerfacecolor=st.BACKGROUND, markeredgecolor=st.NEUTRAL, markersize=4,
                          label="unweighted, two-level component"),
                   Line2D([], [], color=st.REFERENCE, linestyle="--",
                          linewidth=st.MANUSCRIPT.line_width * 0.75,
                          label="kappa 0 (chance agreement)")]
        n = int(agreement["n_studies"].iloc[0]) if len(agreement) else 0
        who = f"Raters {' and '.join(icc.raters)}" if icc is not None else "Raters"
        title = f"{who} before consensus, n = {n} studies"
        if icc is not None:
            title += f"; totals: {icc.text()}"
        ax_k.set_title(title, loc="left", fontsize=st.MANUSCRIPT.font_size)
        fig.legend(handles=handles, loc="outside lower center", ncols=3, handlelength=1.5)
        st.mark_synthetic(fig, synthetic)
    return fig


def assessment_figures(assessment: quality.QualityAssessment, *,
                       vocabulary: Vocabulary | None = None, synthetic: bool = False
                       ) -> dict[str, Figure]:
    """Every figure of a :func:`synth.quality.assess` result, by file stem; ``vocabulary``
    gives the aims' order, labels and colours (None: the assessment's, its review's).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``rqs_distribution``, ``rqs_compliance``, ``rqs_heatmap`` (unless the review has more
        studies than :data:`synth.quality.HEATMAP_MAX_STUDIES`), ``rqs_vs_auc`` and, when rater
        agreement was computed, ``rqs_agreement``; the notes of ``assessment`` say why one is
        missing.
    """
    qa = assessment
    vocabulary = vocabulary or qa.vocabulary
    opts = {"instrument": qa.instrument, "synthetic": synthetic}
    figures = {
        "rqs_distribution": plot_distribution(qa.chosen, qa.groups, vocabulary=vocabulary,
                                              negative=qa.negative, **opts),
        "rqs_compliance": plot_compliance(qa.items, **opts),
    }
    if quality.heatmap_skip_reason(qa.heatmap, rater=qa.rater) is None:
        figures["rqs_heatmap"] = plot_heatmap(qa.heatmap, negative=qa.negative, **opts)
    figures["rqs_vs_auc"] = plot_score_vs_auc(qa.score_auc, vocabulary=vocabulary,
                                              negative=qa.negative, **opts)
    if qa.agreement is not None:
        figures["rqs_agreement"] = plot_agreement(qa.agreement, qa.icc, **opts)
    return figures
