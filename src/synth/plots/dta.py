"""Figures of diagnostic accuracy: paired forest plot, SROC, Deeks' funnel, Fagan nomogram.

Each function takes a result of :mod:`synth.dta` (or :mod:`synth.bivariate`) and ``ax=None``
and returns the Figure; every number drawn comes from the result's tables and methods.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from synth.dta import DeeksTest, DtaPooling, FaganResult, SubgroupResult, fagan
from synth.plots.style import (
    BACKGROUND,
    COHORT_COLOURS,
    COHORT_MARKERS,
    MANUSCRIPT,
    NEUTRAL,
    POOLED_MARKER,
    REFERENCE,
    WARNING,
    aim_style,
    figure_for,
    mark_synthetic,
    new_figure,
    reference_line,
)
from synth.vocabulary import COHORTS, Vocabulary

__all__ = [
    "FOREST_MAX_STUDIES",
    "plot_paired_forest",
    "plot_sroc",
    "plot_subgroup_sroc",
    "plot_deeks_funnel",
    "plot_fagan",
    "pooling_figures",
]

FOREST_MAX_STUDIES = 80
"""Most studies a paired forest plot shows (a page's height); larger aims are in the tables."""

_RECONSTRUCTED = "†"
_GROUP_LINES = ("-", "--", ":", "-.")

CHANCE_LABEL = "chance (sensitivity = FPR)"
"""The diagonal of ROC space, drawn dotted on every SROC plot."""


def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def _capital(title: str) -> str:
    """A title starts with a capital, whatever case the aim's label is declared in."""
    return title[:1].upper() + title[1:]


_TITLE_CHARS = 62
"""Characters of a title or note line that fit a one-column (85 mm) figure."""


# ---------------------------------------------------------------------------------------------
# Paired forest plot
# ---------------------------------------------------------------------------------------------


def _aim_look(aim: str, vocabulary: Vocabulary | None) -> tuple[str, str]:
    """The aim's colour (its place in ``vocabulary``'s declared order) and its label."""
    look = aim_style(vocabulary, [aim])
    return look.colours[aim], _capital(look.labels[aim])


def plot_paired_forest(pooling: DtaPooling, *, vocabulary: Vocabulary | None = None,
                       axes: Sequence[Axes] | None = None, synthetic: bool = False,
                       width: str | float = "two") -> Figure:
    """Sensitivity | specificity of each study with 95 % Wilson CIs and the pooled estimates.

    Drawn from :meth:`synth.dta.DtaPooling.forest_frame`: studies as squares (colour and shape
    by cohort), the pooled value as a diamond spanning its 95 % CI; studies whose cells were
    reconstructed from sensitivity and specificity are marked †. The columns TP, FN, FP, TN
    stand left of the panels.

    Parameters
    ----------
    pooling : DtaPooling
        One aim's result of :func:`synth.dta.pool_by_aim`.
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: the pooled diamond in the aim's colour (None: the first aim
        colour).
    axes : pair of Axes, optional
        Draw into these (sensitivity, specificity); a new figure otherwise.
    synthetic : bool
        Mark the figure as synthetic demonstration data.
    width : "one", "two" or float
        Journal width of a new figure.

    Raises
    ------
    ValueError
        With more than :data:`FOREST_MAX_STUDIES` studies.
    """
    if pooling.k > FOREST_MAX_STUDIES:
        raise ValueError(f"{pooling.aim}: {pooling.k} studies, more than a forest plot shows "
                         f"(FOREST_MAX_STUDIES = {FOREST_MAX_STUDIES}); see the tables.")
    frame = pooling.forest_frame()
    studies = frame[frame["cells"] != "pooled"].reset_index(drop=True)
    pooled = frame[frame["cells"] == "pooled"].iloc[0]
    k = len(studies)
    colour_of_aim = _aim_look(pooling.aim, vocabulary)[0]
    with MANUSCRIPT:
        if axes is None:
            fig, axs = new_figure(width, 30 + 3.6 * (k + 2), ncols=2, sharey=True)
        else:
            axs = list(axes)
            fig = axs[0].figure
        ys = np.arange(k)[::-1] + 2.0
        for ax, name, key in ((axs[0], "sensitivity", "sens"), (axs[1], "specificity", "spec")):
            cohorts = pooling.studies["cohort"] if "cohort" in pooling.studies else \
                pd.Series([COHORTS[0]] * k)
            for y, row, cohort in zip(ys, studies.itertuples(), cohorts, strict=True):
                colour = COHORT_COLOURS.get(cohort, NEUTRAL)
                ax.plot([getattr(row, f"{key}_low"), getattr(row, f"{key}_high")], [y, y],
                        color=NEUTRAL, lw=MANUSCRIPT.line_width)
                ax.plot(getattr(row, name), y, ls="", marker=COHORT_MARKERS.get(cohort, "s"),
                        color=colour, markeredgecolor=NEUTRAL, markeredgewidth=0.3,
                        markersize=4, clip_on=False, zorder=3)
            if np.isfinite(pooled[name]):
                lo, hi, est = pooled[f"{key}_low"], pooled[f"{key}_high"], pooled[name]
                ax.fill([lo, est, hi, est], [0.8, 1.1, 0.8, 0.5],
                        facecolor=colour_of_aim, edgecolor=NEUTRAL,
                        lw=0.5)
                reference_line(ax, est, axis="x")
            ax.set_xlim(0, 1)
            ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.5", "0.75", "1"])
            ax.set_xlabel(f"{name.capitalize()} (95% CI)")
            ax.tick_params(axis="y", length=0)
            ax.spines["left"].set_visible(False)
        labels = [f"{lab}{_RECONSTRUCTED if c == 'reconstructed' else ''}"
                  for lab, c in zip(studies["label"], studies["cells"], strict=True)]
        pooled_label = f"Pooled ({pooling.fit.method}, k = {k})" if pooling.fit else \
            "Not pooled"
        axs[0].set_yticks([*ys, 0.8], [*labels, pooled_label])
        axs[0].set_ylim(0.2, k + 2.8)
        axs[0].text(0, k + 2.3, "Study", transform=axs[0].get_yaxis_transform(),
                    ha="right", va="bottom", fontweight="bold")
        counts = axs[1].get_yaxis_transform()
        for j, cell in enumerate(("tp", "fn", "fp", "tn")):
            x = 1.12 + 0.1 * j
            axs[1].text(x, k + 2.3, cell.upper(), transform=counts, ha="right", va="bottom",
                        fontweight="bold")
            for y, value in zip(ys, studies[cell], strict=True):
                axs[1].text(x, y, f"{value:.0f}", transform=counts, ha="right", va="center",
                            fontsize=MANUSCRIPT.font_size - 0.5)
        for ax, name, key in ((axs[0], "sensitivity", "sens"), (axs[1], "specificity", "spec")):
            if np.isfinite(pooled[name]):
                ax.set_title(f"{pooled[name]:.2f} ({pooled[f'{key}_low']:.2f}–"
                             f"{pooled[f'{key}_high']:.2f})", fontsize=MANUSCRIPT.font_size,
                             loc="center")
        cohorts = [c for c in COHORTS if c in set(pooling.studies.get("cohort", []))]
        handles: list[Any] = [Line2D([], [], ls="", marker=COHORT_MARKERS[c],
                                     color=COHORT_COLOURS[c], markeredgecolor=NEUTRAL,
                                     markeredgewidth=0.3, markersize=4, label=c)
                              for c in cohorts]
        handles.append(Line2D([], [], ls="", marker=POOLED_MARKER,
                              color=colour_of_aim,
                              markeredgecolor=NEUTRAL, markeredgewidth=0.5, markersize=4,
                              label="pooled (95% CI)"))
        notes = "Wilson 95% CIs of the reported counts"
        if (studies["cells"] == "reconstructed").any():
            notes += f"; {_RECONSTRUCTED} cells reconstructed from sensitivity and specificity"
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                   title=notes, title_fontsize=MANUSCRIPT.font_size - 1)
        mark_synthetic(fig, synthetic)
    return fig


# ---------------------------------------------------------------------------------------------
# SROC
# ---------------------------------------------------------------------------------------------


def _roc_axes(ax: Axes) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xlabel("False-positive rate (1 − specificity)")
    ax.set_ylabel("Sensitivity")
    ax.plot([0, 1], [0, 1], color=REFERENCE, ls=":", lw=MANUSCRIPT.line_width * 0.75, zorder=0,
            label=CHANCE_LABEL)


def _study_points(ax: Axes, studies: pd.DataFrame, max_n: float) -> list[Any]:
    handles = []
    n = studies[["tp", "fn", "fp", "tn"]].sum(axis=1).to_numpy(float)
    sizes = 6 + 60 * n / max_n
    fpr = studies["fp"] / (studies["fp"] + studies["tn"])
    sens = studies["tp"] / (studies["tp"] + studies["fn"])
    cohort = studies["cohort"] if "cohort" in studies else pd.Series([COHORTS[0]] * len(studies))
    for c in COHORTS:
        sel = (cohort == c).to_numpy()
        if not sel.any():
            continue
        ax.scatter(fpr[sel], sens[sel], s=sizes[sel], marker=COHORT_MARKERS[c],
                   facecolor=COHORT_COLOURS[c], edgecolor=NEUTRAL, linewidth=0.3, alpha=0.85,
                   zorder=2, clip_on=False)
        handles.append(Line2D([], [], ls="", marker=COHORT_MARKERS[c], color=COHORT_COLOURS[c],
                              markeredgecolor=NEUTRAL, markeredgewidth=0.3, markersize=4,
                              label=f"study, {c} (area by n)"))
    return handles


def plot_sroc(pooling: DtaPooling, *, vocabulary: Vocabulary | None = None,
              ax: Axes | None = None, level: float = 0.95, synthetic: bool = False,
              width: str | float = "one") -> Figure:
    """SROC plot of one aim: studies sized by n, summary point, confidence and prediction
    regions and the Rutter–Gatsonis SROC curve over the observed FPR range.

    Parameters
    ----------
    pooling : DtaPooling
        One aim with a fit (:func:`synth.dta.pool_by_aim`).
    vocabulary : Vocabulary, optional
        ``review.vocabulary``: the summary point in the aim's colour, its label in the title
        (None: the first aim colour and the aim's name).
    ax : Axes, optional
    level : float, default 0.95
        Level of both regions.
    synthetic : bool
    width : "one", "two" or float

    Raises
    ------
    ValueError
        If the aim has no fit (its note says why).
    """
    fit = pooling.fit
    if fit is None:
        raise ValueError(pooling.note or "no fit")
    colour, label = _aim_look(pooling.aim, vocabulary)
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 92)
        _roc_axes(ax)
        max_n = float(pooling.studies[["tp", "fn", "fp", "tn"]].sum(axis=1).max())
        handles = _study_points(ax, pooling.studies, max_n)
        curve = pooling.sroc_frame()
        ax.plot(curve["fpr"], curve["sensitivity"], color=NEUTRAL, zorder=3,
                label=f"SROC curve (AUC {fit.auc():.2f})")
        conf, pred = fit.confidence_region(level), fit.prediction_region(level)
        pct = f"{100 * level:g}%"
        ax.plot(conf["fpr"], conf["sensitivity"], color=NEUTRAL, lw=MANUSCRIPT.line_width,
                zorder=3, label=f"{pct} confidence region")
        ax.plot(pred["fpr"], pred["sensitivity"], color=REFERENCE, ls="--",
                lw=MANUSCRIPT.line_width, zorder=3, label=f"{pct} prediction region")
        s = fit.summary_frame().set_index("quantity")["estimate"]
        ax.plot(s["false positive rate"], s["sensitivity"], ls="", marker=POOLED_MARKER,
                color=colour, markeredgecolor=NEUTRAL,
                markeredgewidth=0.6, markersize=5, zorder=4,
                label=f"summary: sens {_pct(s['sensitivity'])}%, "
                      f"spec {_pct(s['specificity'])}%")
        lines = [h for h in ax.get_legend_handles_labels()[0]]
        ax.set_title(f"{label}: k = {fit.k}, {fit.method}", loc="left")
        ax.legend(handles=[*handles, *lines], loc="lower right", fontsize=MANUSCRIPT.font_size
                  - 1.5, handlelength=1.4, borderaxespad=0.2)
        mark_synthetic(fig, synthetic)
    return fig


def plot_subgroup_sroc(result: SubgroupResult, *, vocabulary: Vocabulary | None = None,
                       ax: Axes | None = None, level: float = 0.95, synthetic: bool = False,
                       width: str | float = "one") -> Figure:
    """Two (or more) subgroups on one SROC plot: each subgroup's studies, summary point,
    confidence region and SROC curve (over its own observed FPR range), in the cohort's colour
    when the subgroups are cohorts, else in line styles; the likelihood-ratio test of the
    difference (or why there is none) under the title, headed by the aim's label
    (``vocabulary``'s; None: its name)."""
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 92)
        _roc_axes(ax)
        handles: list[Any] = []
        max_n = max(float(p.studies[["tp", "fn", "fp", "tn"]].sum(axis=1).max())
                    for p in result.poolings.values() if p.k)
        for i, (group, pooling) in enumerate(result.poolings.items()):
            colour = COHORT_COLOURS.get(group, NEUTRAL)
            line = "-" if group in COHORT_COLOURS else _GROUP_LINES[i % len(_GROUP_LINES)]
            if pooling.k:
                _study_points(ax, pooling.studies, max_n)
            fit = pooling.fit
            if fit is None:
                handles.append(Line2D([], [], ls="", label=f"{group}: k = {pooling.k}, not "
                                      "pooled"))
                continue
            curve = pooling.sroc_frame()
            ax.plot(curve["fpr"], curve["sensitivity"], color=colour, ls=line, zorder=3)
            conf = fit.confidence_region(level)
            ax.plot(conf["fpr"], conf["sensitivity"], color=colour, ls=line,
                    lw=MANUSCRIPT.line_width, zorder=3)
            s = fit.summary_frame().set_index("quantity")["estimate"]
            ax.plot(s["false positive rate"], s["sensitivity"], ls="", marker=POOLED_MARKER,
                    color=colour, markeredgecolor=NEUTRAL, markersize=5, zorder=4)
            handles.append(Line2D([], [], color=colour, ls=line, marker=POOLED_MARKER,
                                  markeredgecolor=NEUTRAL, markersize=4,
                                  label=f"{group}: k = {fit.k}, sens {_pct(s['sensitivity'])}%,"
                                        f" spec {_pct(s['specificity'])}%"))
        handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="none",
                              markeredgecolor=NEUTRAL, markersize=4,
                              label="study (marker by cohort, area by n)"))
        handles.append(Line2D([], [], color=REFERENCE, ls=":", lw=MANUSCRIPT.line_width * 0.75,
                              label=CHANCE_LABEL))
        if result.test is not None:
            t = result.test
            sub = f"LR test of difference: χ² = {t.statistic:.2f}, df = {t.df}, p = {t.pvalue:.3f}"
        else:
            sub = result.note or ""
        lines = [f"{_aim_look(result.aim, vocabulary)[1]} by {result.by}"]
        if any(p.fit is not None for p in result.poolings.values()):
            lines.append(f"per group: summary point, {100 * level:g}% confidence region and "
                         "SROC curve")
        lines += textwrap.wrap(sub, _TITLE_CHARS)
        ax.set_title("\n".join(lines), loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
        ax.legend(handles=handles, loc="lower right", fontsize=MANUSCRIPT.font_size - 1.5,
                  handlelength=1.6, borderaxespad=0.2)
        mark_synthetic(fig, synthetic)
    return fig


# ---------------------------------------------------------------------------------------------
# Deeks' funnel plot and Fagan nomogram
# ---------------------------------------------------------------------------------------------


def plot_deeks_funnel(test: DeeksTest, *, ax: Axes | None = None, title: str = "",
                      synthetic: bool = False, width: str | float = "one") -> Figure:
    """Deeks' funnel plot: ln DOR against 1/√ESS per study, with the weighted regression line
    and its p-value; with too few studies the points and the note saying why there is no test.
    """
    p = test.points
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 70)
        ax.scatter(p["ln_dor"], p["inv_sqrt_ess"], s=12, facecolor=NEUTRAL, edgecolor=NEUTRAL,
                   zorder=3, label="study")
        ax.set_xlabel("ln diagnostic odds ratio")
        ax.set_ylabel("1 / √(effective sample size)")
        if test.note is None:
            y = np.linspace(0, float(p["inv_sqrt_ess"].max()) * 1.05, 50)
            ax.plot(test.intercept + test.slope * y, y, color=REFERENCE, ls="--",
                    label=f"regression line (p = {test.pvalue:.3f})")
            ax.legend(loc="upper right", fontsize=MANUSCRIPT.font_size - 1)
            ax.set_title(_capital(f"{title + ': ' if title else ''}Deeks' test, k = {test.k}"),
                         loc="left")
        else:
            ax.set_title(_capital(title), loc="left")
            ax.text(0.5, 0.97, "\n".join(textwrap.wrap(test.note, _TITLE_CHARS)),
                    transform=ax.transAxes, ha="center", va="top", color=WARNING,
                    fontsize=MANUSCRIPT.font_size - 1)
        ax.set_ylim(0, float(p["inv_sqrt_ess"].max()) * 1.25 if len(p) else 1)
        mark_synthetic(fig, synthetic)
    return fig


_FAGAN_PROB = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
_FAGAN_LR = (0.001, 0.01, 0.05, 0.2, 1, 5, 20, 100, 1000)


def _logit(p: Any) -> Any:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


def plot_fagan(result: FaganResult, *, ax: Axes | None = None, title: str = "",
               synthetic: bool = False, width: str | float = "one") -> Figure:
    """Fagan's nomogram: pre-test probability (left), likelihood ratio (middle), post-test
    probability (right); a straight line through the pooled LR+ (solid) and LR− (dashed).

    Scales: left −logit(pre-test), right logit(post-test), middle ln(LR)/2, so each line is
    straight (logit post = logit pre + ln LR).
    """
    with MANUSCRIPT:
        fig, ax = figure_for(ax, width, 90)
        lim = float(_logit(0.9995))
        for x, values, pos, fmt, name in (
                (0.0, _FAGAN_PROB, lambda v: -_logit(v), _pct, "Pre-test\nprobability (%)"),
                (0.5, _FAGAN_LR, lambda v: np.log(v) / 2, lambda v: f"{v:g}",
                 "Likelihood\nratio"),
                (1.0, _FAGAN_PROB, _logit, _pct, "Post-test\nprobability (%)")):
            ax.plot([x, x], [-lim, lim], color=NEUTRAL, lw=MANUSCRIPT.line_width)
            side = -1 if x < 1 else 1
            for v in values:
                y = float(pos(v))
                ax.plot([x, x + 0.015 * side], [y, y], color=NEUTRAL, lw=MANUSCRIPT.line_width)
                label = fmt(v) if fmt is not _pct else (f"{100 * v:g}")
                # the middle scale's labels lie on the lines' way: on the page, above them
                box = {"facecolor": BACKGROUND, "edgecolor": "none", "pad": 0.6} if x == 0.5 \
                    else None
                ax.text(x + 0.03 * side, y, label, ha="right" if side < 0 else "left",
                        va="center", fontsize=MANUSCRIPT.font_size - 1.5, bbox=box, zorder=4)
            ax.text(x, lim * 1.04, name, ha="center", va="bottom",
                    fontsize=MANUSCRIPT.font_size - 0.5)
        y0 = float(-_logit(result.pretest))
        for lr, post, ls, sign in ((result.lr_positive, result.post_positive, "-", "+"),
                                   (result.lr_negative, result.post_negative, "--", "−")):
            ax.plot([0, 1], [y0, float(_logit(post))], color=NEUTRAL, ls=ls,
                    label=f"LR{sign} {lr:.2f}: post-test {100 * post:.0f}%")
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(-lim * 1.02, lim * 1.3)
        ax.axis("off")
        ax.set_title(_capital(f"{title + ': ' if title else ''}pre-test probability "
                              f"{100 * result.pretest:g}%"), loc="left")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.12), ncols=1,
                  fontsize=MANUSCRIPT.font_size - 1)
        mark_synthetic(fig, synthetic)
    return fig


def pooling_figures(poolings: Mapping[str, DtaPooling], *, pretest: float,
                    vocabulary: Vocabulary | None = None, width: str | float = "one",
                    synthetic: bool = False) -> dict[str, Figure]:
    """Every figure of each aim's pooling, by file stem (what notebook 05 saves).

    Per aim (``stem`` its name with ``_`` for spaces): ``dta_forest_<stem>``
    (:func:`plot_paired_forest`, two columns wide; for 1 to :data:`FOREST_MAX_STUDIES`
    studies) and, when the aim has a fit, ``dta_sroc_<stem>`` (:func:`plot_sroc`) and
    ``dta_fagan_<stem>`` (:func:`plot_fagan` at ``pretest``, titled with the aim's label), both
    ``width`` wide. ``vocabulary`` (``review.vocabulary``) gives the aims' colours and labels.
    """
    figures: dict[str, Figure] = {}
    for aim, p in poolings.items():
        stem = aim.replace(" ", "_")
        if 0 < p.k <= FOREST_MAX_STUDIES:
            figures[f"dta_forest_{stem}"] = plot_paired_forest(p, vocabulary=vocabulary,
                                                               synthetic=synthetic)
        if p.fit is not None:
            figures[f"dta_sroc_{stem}"] = plot_sroc(p, vocabulary=vocabulary, width=width,
                                                    synthetic=synthetic)
            figures[f"dta_fagan_{stem}"] = plot_fagan(
                fagan(pretest, p), title=_aim_look(aim, vocabulary)[1], width=width,
                synthetic=synthetic)
    return figures
