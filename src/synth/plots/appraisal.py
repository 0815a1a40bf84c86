"""Appraisal figures: score against quality bands, compliance per category, item heat maps,
QUADAS-2 traffic lights and summary bars, and two instruments side by side.

Each function draws one table of :mod:`synth.appraisal` and computes nothing the table does not
hold; with fewer than :data:`synth.appraisal.MIN_FIGURE_STUDIES` studies it raises a ValueError
saying so (:func:`synth.appraisal.figure_skip_reason`), and :func:`section_figures` leaves the
figure out with that note. Colours come from :mod:`synth.plots.style`: QUADAS-2 judgements are
``RISK_COLOURS`` and always carry their ``RISK_SYMBOLS``; quality bands are ``BAND_FILLS``;
marks of no category ``NEUTRAL``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from synth import appraisal
from synth.appraisal import APPLICABILITY, JUDGEMENTS, RISK_OF_BIAS, PairedScores, Section
from synth.plots import quality as quality_plots
from synth.plots import style as st

__all__ = [
    "NotDrawn",
    "TRAFFIC_LIGHT_MAX_STUDIES",
    "plot_score_bands",
    "plot_category_compliance",
    "plot_answer_heatmap",
    "plot_traffic_light",
    "plot_risk_summary",
    "plot_paired_scores",
    "section_figures",
]

TRAFFIC_LIGHT_MAX_STUDIES = 66
"""Most study rows a traffic-light plot or heat map draws on one journal page (as
:data:`synth.quality.HEATMAP_MAX_STUDIES`)."""

_MAX_NAMED_ITEMS = 45
"""Most items a heat map names in full (METRICS' 30, RQS 2.0's 42); beyond (CLEAR's 58) the
columns carry the item numbers and ``<instrument>_items`` names them."""

_BAR_ALPHA = 0.75
"""Bars of :data:`~synth.plots.style.NEUTRAL` are drawn a little lighter than lines and text."""


class NotDrawn(ValueError):
    """A figure not drawn, with the reason a notebook prints instead (too few or too many
    studies)."""


def _check_studies(n: int, what: str) -> None:
    reason = appraisal.figure_skip_reason(n, what)
    if reason:
        raise NotDrawn(reason)
    if n > TRAFFIC_LIGHT_MAX_STUDIES and what in ("traffic-light plot", "heat map"):
        raise NotDrawn(f"No {what}: {n} studies, more than the {TRAFFIC_LIGHT_MAX_STUDIES} "
                         "rows one journal page holds; the table holds every answer.")


def plot_score_bands(scores: pd.DataFrame, bands: pd.DataFrame, *, name: str,
                     value: str = "percent", synthetic: bool = False,
                     width: str | float = "one") -> Figure:
    """Histogram of one rater's scores over the instrument's quality bands.

    Parameters
    ----------
    scores
        One rater's scores (``study_id`` and ``value``).
    bands
        :func:`synth.appraisal.band_counts` of the same scores: each band is shaded
        (:data:`~synth.plots.style.BAND_FILLS`, lowest first) and labelled with its name and
        ``n_studies``.
    name
        The instrument, for the axis label.

    Returns
    -------
    matplotlib.figure.Figure
        Bars of 5 percentage points; the dashed line is the mean.

    Raises
    ------
    NotDrawn
        Fewer than :data:`synth.appraisal.MIN_FIGURE_STUDIES` scores.
    """
    v = scores[value].astype(float).dropna().to_numpy()
    _check_studies(len(v), f"{name} score distribution")
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 62)
        for i, band in enumerate(bands.itertuples(index=False)):
            ax.axvspan(band.lower, band.upper, color=st.BAND_FILLS[i % len(st.BAND_FILLS)],
                       alpha=0.55, linewidth=0, zorder=0)
            ax.text((band.lower + band.upper) / 2, 1.0, f"{band.band}\nn = {band.n_studies}",
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=st.MANUSCRIPT.font_size - 1.5)
        ax.hist(v, bins=np.arange(0, 105, 5), color=st.NEUTRAL, alpha=_BAR_ALPHA,
                edgecolor=st.BACKGROUND, linewidth=0.4, zorder=2)
        mean = float(v.mean())
        st.reference_line(ax, mean, axis="x", zorder=3)
        ax.annotate(f"mean {mean:.1f} %", (mean, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -2), textcoords="offset points", ha="left", va="top",
                    fontsize=st.MANUSCRIPT.font_size - 1)
        ax.set_xlim(0, 100)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.2)
        ax.set_xlabel(f"{name} score (%), n = {len(v)} studies")
        ax.set_ylabel("Studies")
        ax.yaxis.get_major_locator().set_params(integer=True)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_category_compliance(compliance: pd.DataFrame, *, name: str, synthetic: bool = False,
                             width: str | float = "one") -> Figure:
    """Share of applicable answers met per category (:func:`synth.appraisal.category_compliance`).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per category, in order, labelled with ``percent_met`` (the weighted share,
        ``percent_weighted``, is in the table).
    """
    n = int(compliance["n_studies"].max()) if len(compliance) else 0
    _check_studies(n, f"{name} compliance plot")
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 20 + 6 * len(compliance))
        y = np.arange(len(compliance))[::-1]
        share = compliance["percent_met"].to_numpy(float)
        ax.barh(y, share, color=st.NEUTRAL, alpha=_BAR_ALPHA, height=0.7)
        for yi, v in zip(y, share, strict=True):
            ax.text(v + 1.5 if np.isfinite(v) else 1.5, yi,
                    f"{v:.0f} %" if np.isfinite(v) else "applies to no study", va="center",
                    fontsize=st.MANUSCRIPT.font_size - 1)
        ax.set_yticks(y, [_wrap(str(c), 26) for c in compliance["category"]])
        ax.set_ylim(-0.7, len(compliance) - 0.3)
        ax.set_xlim(0, 112)
        ax.set_xticks(list(range(0, 101, 25)))
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("Applicable answers met (%)")
        ax.set_title(f"{name}, n = {n} studies", loc="left",
                     fontsize=st.MANUSCRIPT.font_size)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_answer_heatmap(table: pd.DataFrame, *, name: str, synthetic: bool = False,
                        width: str | float = "two") -> Figure:
    """Study x item answers of one rater (:func:`synth.appraisal.answer_table`).

    Each cell's shade is ``shade`` (the share of the item's maximum earned, or met / not met),
    from white to :data:`~synth.plots.style.NEUTRAL`; items that do not apply are
    :data:`~synth.plots.style.LIGHT` and marked "·". Points answers are printed in the cells.
    Items are named by their label (number and short name), by number alone when there are more
    than 45.
    Studies are in the table's order (highest score on top); the score is printed at the right.
    """
    studies = list(dict.fromkeys(table["study_id"]))
    _check_studies(len(studies), "heat map")
    items = list(dict.fromkeys(table["item"]))
    item_labels = list(dict.fromkeys(zip(table["item"], table["item_label"], strict=True)))
    grid = table.pivot_table(index="study_id", columns="item", values="shade", aggfunc="first",
                             dropna=False, sort=False).reindex(index=studies, columns=items)
    answers = table.pivot_table(index="study_id", columns="item", values="answer",
                                aggfunc="first", dropna=False, sort=False).reindex(
        index=studies, columns=items)
    labels = table.drop_duplicates("study_id").set_index("study_id")["label"].reindex(studies)
    score = table.drop_duplicates("study_id").set_index("study_id")["score"].reindex(studies)
    numeric = pd.to_numeric(table["answer"], errors="coerce")
    show_points = bool(numeric[table["applicable"].astype(bool)].notna().all())
    n, k = len(studies), len(items)
    shade = grid.to_numpy(float)
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, min(38 + 3.1 * n, 240))
        cmap = LinearSegmentedColormap.from_list(
            "synth_answers", [st.BACKGROUND, to_rgba(st.NEUTRAL, _BAR_ALPHA)]).with_extremes(
            bad=st.LIGHT)
        st.cell_grid(ax, np.ma.masked_invalid(shade), cmap=cmap, vmin=0, vmax=1)
        fs = st.MANUSCRIPT.font_size - (2 if n > 30 else 1.5)
        for (r, c), v in np.ndenumerate(shade):
            if not np.isfinite(v):
                ax.text(c, r, "\u00b7", ha="center", va="center", fontsize=fs,
                        color=st.NEUTRAL)
            elif show_points:
                ax.text(c, r, f"{answers.iat[r, c]:g}" if isinstance(answers.iat[r, c], float)
                        else str(answers.iat[r, c]), ha="center", va="center", fontsize=fs,
                        color=st.BACKGROUND if v > 0.6 else st.NEUTRAL)
        has_score = bool(score.notna().any())
        for r, s in enumerate(score):
            if np.isfinite(s):
                ax.text(k + 0.6, r, f"{s:.0f}", ha="center", va="center", fontsize=fs)
        ax.set_xlim(-0.5, k + 1.2 if has_score else k - 0.5)
        names = [str(lab) for _, lab in item_labels]
        if k > _MAX_NAMED_ITEMS:  # too many to name: numbers only, the table names them
            names = [lab.split(" ", 1)[0] for lab in names]
        ticks = names + (["%"] if has_score else [])
        ax.set_xticks(list(range(k)) + ([k + 0.6] if has_score else []), ticks, rotation=60,
                      ha="left", va="bottom", rotation_mode="anchor",
                      fontsize=st.MANUSCRIPT.font_size - 1.5)
        ax.set_yticks(range(n), labels, fontsize=fs)
        ax.tick_params(length=0)
        ax.xaxis.tick_top()
        for spine in ax.spines.values():
            spine.set_visible(False)
        key = [Patch(facecolor=to_rgba(st.NEUTRAL, _BAR_ALPHA), edgecolor=st.LIGHT,
                     label="yes / item maximum"),
               Patch(facecolor=st.BACKGROUND, edgecolor=st.LIGHT, label="no / 0 points"),
               Patch(facecolor=st.LIGHT, edgecolor=st.LIGHT, label="\u00b7 not applicable")]
        fig.legend(handles=key, loc="outside lower center", ncols=3, handlelength=1)
        ax.set_title(f"{name}: studies sorted by score (highest on top)", loc="left",
                     fontsize=st.MANUSCRIPT.font_size, pad=4)
        st.mark_synthetic(fig, synthetic)
    return fig


def _risk_key(*, circles: bool = False) -> list[Patch | Line2D]:
    """Legend entries of the judgements: colour and symbol (circles, as traffic-light cells)."""
    if circles:
        return [Line2D([], [], marker="o", linestyle="", markersize=6,
                       markerfacecolor=st.RISK_COLOURS[j], markeredgecolor=st.NEUTRAL,
                       markeredgewidth=0.4, label=f"{st.RISK_SYMBOLS[j]}  {j}")
                for j in JUDGEMENTS]
    return [Patch(facecolor=st.RISK_COLOURS[j], edgecolor=st.NEUTRAL, linewidth=0.4,
                  label=f"{st.RISK_SYMBOLS[j]}  {j}") for j in JUDGEMENTS]


def plot_traffic_light(table: pd.DataFrame, *, synthetic: bool = False,
                       width: str | float = "one") -> Figure:
    """QUADAS-2 traffic-light plot: one row per study, one column per domain.

    ``table`` is :func:`synth.appraisal.traffic_light_table`; its ``attrs["domains"]`` names
    each column and ``attrs["note"]`` says how the overall judgement was made (the key under
    the plot). Risk-of-bias columns (and an ``Overall``) come first,
    applicability after a gap. Each judgement is a circle in its
    :data:`~synth.plots.style.RISK_COLOURS` holding its :data:`~synth.plots.style.RISK_SYMBOLS`
    symbol; an empty cell has no judgement.
    """
    n = len(table)
    _check_studies(n, "traffic-light plot")
    domains: dict[str, tuple[str, str]] = table.attrs.get("domains", {})
    codes = [c for c in table.columns if c not in ("study_id", "label")]
    kinds = [domains.get(c, (RISK_OF_BIAS, c))[0] for c in codes]
    overall = [domains.get(c, ("", c))[1].lower() == "overall" for c in codes]
    x, pos = [], 0.0
    for i, kind in enumerate(kinds):
        if i and kind != kinds[i - 1]:
            pos += 0.7
        elif overall[i]:
            pos += 0.5
        x.append(pos)
        pos += 1.0
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, min(42 + 3.4 * n, 240))
        fs = st.MANUSCRIPT.font_size - (1.5 if n > 30 else 1)
        size = 34 if n > 30 else 60
        cells = [(x[ci], r, j) for ci, code in enumerate(codes)
                 for r, j in enumerate(table[code])
                 if isinstance(j, str) and j in st.RISK_COLOURS]
        for judgement in JUDGEMENTS:  # one artist per judgement, not one per cell: faster saves
            at = [(cx, cy) for cx, cy, j in cells if j == judgement]
            if at:
                ax.scatter(*zip(*at, strict=True), s=size, color=st.RISK_COLOURS[judgement],
                           edgecolors=st.NEUTRAL, linewidths=0.4, zorder=2)
        for cx, cy, j in cells:
            ax.text(cx, cy, st.RISK_SYMBOLS[j], ha="center", va="center_baseline",
                    fontsize=fs, zorder=3)
        ax.set_xlim(min(x) - 0.6, max(x) + 0.6)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_yticks(range(n), table["label"], fontsize=fs)
        ax.set_xticks(x, ["Overall" if o else c for c, o in zip(codes, overall, strict=True)],
                      fontsize=st.MANUSCRIPT.font_size - 1)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for kind, label in ((RISK_OF_BIAS, "Risk of bias"), (APPLICABILITY, "Applicability")):
            at = [xi for xi, k in zip(x, kinds, strict=True) if k == kind]
            if at:
                ax.annotate(label, ((min(at) + max(at)) / 2, 1.0),
                            xycoords=("data", "axes fraction"), xytext=(0, 12),
                            textcoords="offset points", ha="center", va="bottom",
                            fontsize=st.MANUSCRIPT.font_size, fontweight="bold")
        key = "; ".join(f"{c}: {domains[c][1]}" for c, o in zip(codes, overall, strict=True)
                        if c in domains and not o)
        if table.attrs.get("note"):
            key += f". Overall: {table.attrs['note']}"
        fig.legend(handles=_risk_key(circles=True), loc="outside lower center", ncols=3,
                   handlelength=1.2)
        ax.xaxis.set_label_position("bottom")
        ax.set_xlabel(_wrap(key, 62 if st.is_one_column(width) else 130),
                      fontsize=st.MANUSCRIPT.font_size - 1.5)
        st.mark_synthetic(fig, synthetic)
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) if text else ""


def plot_risk_summary(tallies: pd.DataFrame, *, synthetic: bool = False,
                      width: str | float = "one") -> Figure:
    """robvis-style summary: the share of studies low / unclear / high per domain, stacked.

    ``tallies`` is :func:`synth.appraisal.risk_tallies`; one panel for risk of bias, one for
    applicability (when judged), domains top to bottom in order. Segments of 3 % or more carry
    their symbol (and from 10 % their share); the axis says whether shares are weighted.
    """
    n = int(tallies["n_studies"].max()) if len(tallies) else 0
    _check_studies(n, "QUADAS-2 summary plot")
    kinds = [k for k in (RISK_OF_BIAS, APPLICABILITY) if (tallies["kind"] == k).any()]
    sizes = [int((tallies["kind"] == k).sum()) for k in kinds]
    with st.MANUSCRIPT:
        fig, axes = st.new_figure(width, 26 + 7 * sum(sizes), nrows=len(kinds), sharex=True,
                                  gridspec_kw={"height_ratios": sizes})
        axes = np.atleast_1d(axes)
        for ax, kind in zip(axes, kinds, strict=True):
            sub = tallies[tallies["kind"] == kind]
            y = np.arange(len(sub))[::-1]
            left = np.zeros(len(sub))
            for j in JUDGEMENTS:
                share = sub[f"share_{j}"].to_numpy(float)
                ax.barh(y, share, left=left, color=st.RISK_COLOURS[j], edgecolor=st.NEUTRAL,
                        linewidth=0.4, height=0.7)
                for yi, lo, s in zip(y, left, share, strict=True):
                    if s >= 3:
                        ax.text(lo + s / 2, yi, st.RISK_SYMBOLS[j] + (f" {s:.0f}" if s >= 10
                                                                      else ""),
                                ha="center", va="center", fontsize=st.MANUSCRIPT.font_size - 1.5)
                left = left + share
            ax.set_yticks(y, ["Overall" if str(d).lower() == "overall" else f"{c} {d}"
                              for c, d in zip(sub["code"], sub["domain"], strict=True)])
            ax.tick_params(axis="y", length=0)
            ax.spines["left"].set_visible(False)
            ax.set_title("Risk of bias" if kind == RISK_OF_BIAS else "Concerns regarding "
                         "applicability", loc="left", fontsize=st.MANUSCRIPT.font_size)
            ax.set_xlim(0, 100)
        weighted = bool(tallies["weighted"].any()) if len(tallies) else False
        axes[-1].set_xlabel(f"Studies (%{', weighted by study size' if weighted else ''}), "
                            f"n = {n}")
        fig.legend(handles=_risk_key(), loc="outside lower center", ncols=3, handlelength=1.2)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_paired_scores(paired: PairedScores, *, synthetic: bool = False,
                       width: str | float = "one") -> Figure:
    """Two instruments' percentages per study (:func:`synth.appraisal.compare_scores`).

    Each dot is a study; the dashed line is equality; Spearman's rho and the mean difference
    (:meth:`~synth.appraisal.PairedScores.text`) are printed in the panel.
    """
    _check_studies(paired.n, f"{paired.x_name} against {paired.y_name} plot")
    p = paired.points
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 78)
        ax.plot([0, 100], [0, 100], color=st.REFERENCE, linestyle="--",
                linewidth=st.MANUSCRIPT.line_width * 0.75, zorder=0)
        ax.scatter(p["x"], p["y"], s=12, color=st.NEUTRAL, edgecolors=st.BACKGROUND,
                   linewidths=0.4, zorder=3, clip_on=False)  # a 0 % score sits on the axis
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_aspect("equal")
        ax.set_xlabel(f"{paired.x_name} (%)")
        ax.set_ylabel(f"{paired.y_name} (%)")
        ax.set_title(_wrap(paired.text(), 60), loc="left",
                     fontsize=st.MANUSCRIPT.font_size - 1)
        handles = [Line2D([], [], marker="o", linestyle="", color=st.NEUTRAL, markersize=4,
                          label=f"study (n = {paired.n})"),
                   Line2D([], [], color=st.REFERENCE, linestyle="--",
                          linewidth=st.MANUSCRIPT.line_width * 0.75, label="equal scores")]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, handlelength=1.5)
        st.mark_synthetic(fig, synthetic)
    return fig


_DRAW = {
    "score_bands": plot_score_bands,
    "category_compliance": plot_category_compliance,
    "answer_heatmap": plot_answer_heatmap,
    "traffic_light": plot_traffic_light,
    "risk_summary": plot_risk_summary,
    "paired_scores": plot_paired_scores,
}
"""The plot function of each figure kind a :class:`synth.appraisal.Section` names."""


def section_figures(section: Section, *, synthetic: bool = False
                    ) -> tuple[dict[str, Figure], list[str]]:
    """Every figure of one :class:`synth.appraisal.Section`, by file stem, and why any is not.

    Returns
    -------
    (dict of str to matplotlib.figure.Figure, list of str)
        The figures (RQS 1.0's are :func:`synth.plots.quality.assessment_figures`), and one
        note per figure not drawn (:class:`NotDrawn`: too few or too many studies).
    """
    figures: dict[str, Figure] = {}
    notes: list[str] = []
    for stem, (kind, arguments) in section.figures.items():
        if kind == "rqs_assessment":
            figures |= quality_plots.assessment_figures(arguments["assessment"],
                                                        synthetic=synthetic)
            continue
        try:
            figures[stem] = _DRAW[kind](**arguments, synthetic=synthetic)
        except NotDrawn as exc:
            notes.append(str(exc))
    return figures, notes
