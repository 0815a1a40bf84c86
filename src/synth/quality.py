"""Quality assessment: instruments declared as data, scoring, summaries, rater agreement.

An instrument is a table of items with their allowed points; RQS (Lambin et al., Nat Rev Clin
Oncol 2017;14:749-762) is the first. Another instrument (RQS 2.0, METRICS) is added by declaring
another :class:`Instrument`, not by branching code.

Scoring turns the ``quality`` table (one row per study x rater) into totals and percentages of
the instrument's maximum; how a negative total becomes a percentage is the ``negative``
parameter (``"floor"``: 0 %, the default; ``"keep"``: a negative percentage). Agreement between
two raters before consensus is Cohen's kappa per component (statsmodels; linearly weighted for
ordinal components) and the ICC(2,1) of totals (pingouin).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from synth import style as st
from synth.instruments import (
    INSTRUMENTS,
    NEGATIVE_TOTALS,
    RQS,
    Instrument,
    Item,
    Negative,
    get_instrument,
    negative_note,
    to_percent,
)
from synth.overview import NO_AUC_LABEL, study_aims
from synth.schema import AIMS, MODALITIES

if TYPE_CHECKING:
    from synth.review import Review

__all__ = [
    "HEATMAP_MAX_STUDIES",
    "heatmap_skip_reason",
    "Item",
    "Instrument",
    "RQS",
    "INSTRUMENTS",
    "get_instrument",
    "NEGATIVE_TOTALS",
    "NO_AUC_LABEL",
    "NO_QUALITY_NOTE",
    "Negative",
    "IccResult",
    "negative_note",
    "to_percent",
    "score",
    "rater_scores",
    "study_groups",
    "rqs_summary",
    "item_summary",
    "MIN_PAIRED",
    "paired_scores",
    "rater_agreement",
    "icc_totals",
    "plot_distribution",
    "plot_compliance",
    "plot_heatmap",
    "plot_score_vs_auc",
    "plot_agreement",
]


NO_QUALITY_NOTE = ("No quality assessment: this review has no quality.csv, so there are no RQS "
                   "scores, summaries, figures or rater agreement to show.")


# --- scoring ---------------------------------------------------------------------------------

def score(quality: pd.DataFrame, *, instrument: Instrument = RQS, negative: Negative = "floor",
          source: str = "quality.csv") -> pd.DataFrame:
    """Score every row of ``quality`` with ``instrument``; see :meth:`Instrument.score`.

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater, total, percent``, one row per input row.
    """
    return instrument.score(quality, negative=negative, source=source)


def rater_scores(scores: pd.DataFrame, *, rater: str = "consensus") -> pd.DataFrame:
    """The rows of one rater (by default the consensus); an absent rater lists those present.

    Returns
    -------
    pandas.DataFrame
        The rows of ``scores`` whose ``rater`` is ``rater``, index reset.
    """
    present = sorted(scores["rater"].unique())
    if rater not in present:
        raise ValueError(f"rater={rater!r} has no scores; raters present: "
                         f"{', '.join(present) or 'none'}")
    return scores[scores["rater"] == rater].reset_index(drop=True)


# --- summaries -------------------------------------------------------------------------------

_GROUPS = ("aim", "modality", "year")


def study_groups(review: Review) -> pd.DataFrame:
    """Every subgroup each study belongs to: its aims, its modality, its publication year.

    Returns
    -------
    pandas.DataFrame
        ``study_id, group, category`` with ``group`` one of aim, modality, year. A study counts
        under each aim it reports an AUC for (performance.csv); one with no AUC counts under
        "no AUC reported". Categories are in the data dictionary's order, years ascending.
    """
    aims = study_aims(review)
    aims["order"] = aims["aim"].map({a: i for i, a in enumerate((*AIMS, NO_AUC_LABEL))})
    aims = aims.sort_values(["order", "study_id"])
    studies = review.studies
    mod_order = {m: i for i, m in enumerate(MODALITIES)}
    mods = studies.assign(order=studies["modality"].map(mod_order)).sort_values(
        ["order", "study_id"])
    years = studies.sort_values(["year", "study_id"])
    return pd.concat([
        pd.DataFrame({"study_id": aims["study_id"], "group": "aim", "category": aims["aim"]}),
        pd.DataFrame({"study_id": mods["study_id"], "group": "modality",
                      "category": mods["modality"]}),
        pd.DataFrame({"study_id": years["study_id"], "group": "year",
                      "category": years["year"].astype(int).astype(str)}),
    ], ignore_index=True)


def _describe(df: pd.DataFrame) -> dict[str, float]:
    t, p = df["total"].astype(float), df["percent"].astype(float)
    return {
        "n_studies": len(df),
        "mean_total": t.mean(),
        "sd_total": t.std(ddof=1) if len(df) > 1 else np.nan,
        "median_total": t.median(),
        "q1_total": t.quantile(0.25),
        "q3_total": t.quantile(0.75),
        "min_total": t.min(),
        "max_total": t.max(),
        "mean_percent": p.mean(),
        "sd_percent": p.std(ddof=1) if len(df) > 1 else np.nan,
        "median_percent": p.median(),
        "n_negative_total": int((t < 0).sum()),
    }


def rqs_summary(scores: pd.DataFrame, groups: pd.DataFrame | None = None, *,
                negative: Negative = "floor") -> pd.DataFrame:
    """Distribution of totals and percentages, overall and by subgroup.

    Parameters
    ----------
    scores
        One rater's scores (``study_id, total, percent``), e.g. the consensus from
        :func:`rater_scores`.
    groups
        Subgroups from :func:`study_groups`; None gives the overall row only.
    negative
        The treatment ``scores`` were computed with, recorded in the table.

    Returns
    -------
    pandas.DataFrame
        ``group, category, n_studies, mean_total, sd_total, median_total, q1_total, q3_total,
        min_total, max_total, mean_percent, sd_percent, median_percent, n_negative_total,
        negative_totals``; the first row is ``overall / all studies``, then one row per
        category of aim, modality and year (quartiles interpolated linearly, pandas' default).
    """
    negative_note(negative)  # validates the option
    rows = [{"group": "overall", "category": "all studies", **_describe(scores)}]
    if groups is not None:
        merged = groups.merge(scores[["study_id", "total", "percent"]], on="study_id",
                              how="inner")
        for group in _GROUPS:
            sub = merged[merged["group"] == group]
            for category in dict.fromkeys(sub["category"]):
                rows.append({"group": group, "category": category,
                             **_describe(sub[sub["category"] == category])})
    out = pd.DataFrame(rows)
    out["negative_totals"] = negative_note(negative)
    return out


def item_summary(quality: pd.DataFrame, *, instrument: Instrument = RQS,
                 rater: str = "consensus") -> pd.DataFrame:
    """Per component: how many studies earn points, mean points, the maximum.

    Returns
    -------
    pandas.DataFrame
        ``number, component, short, column, n_studies, n_earning, percent_earning,
        n_negative, percent_negative, mean_points, max_points, min_points`` in instrument
        order; "earning" is more than 0 points, "negative" fewer than 0 (RQS 5 and 12).
    """
    instrument.check(quality)
    rows = quality[quality["rater"] == rater]
    if rows.empty:
        raise ValueError(f"rater={rater!r} has no rows; raters present: "
                         f"{', '.join(sorted(quality['rater'].unique()))}")
    out = []
    for item in instrument.items:
        points = rows[item.column].astype(int)
        n = len(points)
        out.append({
            "number": item.number, "component": item.name, "short": item.short,
            "column": item.column, "n_studies": n,
            "n_earning": int((points > 0).sum()),
            "percent_earning": (points > 0).mean() * 100,
            "n_negative": int((points < 0).sum()),
            "percent_negative": (points < 0).mean() * 100,
            "mean_points": points.mean(),
            "max_points": item.max_points, "min_points": item.min_points,
        })
    return pd.DataFrame(out)


# --- agreement -------------------------------------------------------------------------------

def _paired(quality: pd.DataFrame, raters: tuple[str, str], instrument: Instrument
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of the two raters for the studies both rated, aligned by study_id."""
    if len(raters) != 2 or raters[0] == raters[1]:
        raise ValueError(f"raters={raters!r}: give two different raters, e.g. ('A', 'B')")
    instrument.check(quality)
    a = quality[quality["rater"] == raters[0]].set_index("study_id")
    b = quality[quality["rater"] == raters[1]].set_index("study_id")
    both = a.index.intersection(b.index).sort_values()
    return a.loc[both], b.loc[both]


MIN_PAIRED = 3
"""Fewest studies rated by both raters for which agreement is computed (the ICC needs 3)."""


def paired_scores(scores: pd.DataFrame, *, raters: tuple[str, str] = ("A", "B")
                  ) -> pd.DataFrame:
    """The scores of two raters, restricted to the studies both of them rated.

    Returns
    -------
    pandas.DataFrame
        The rows of ``scores`` (``study_id, rater, total, percent``) of the two raters for the
        studies rated by both, sorted by study and rater; empty when there are none.
    """
    if len(raters) != 2 or raters[0] == raters[1]:
        raise ValueError(f"raters={raters!r}: give two different raters, e.g. ('A', 'B')")
    rows = scores[scores["rater"].isin(raters)]
    both = rows.groupby("study_id")["rater"].nunique()
    keep = both[both == 2].index
    return rows[rows["study_id"].isin(keep)].sort_values(["study_id", "rater"]).reset_index(
        drop=True)


def rater_agreement(quality: pd.DataFrame, *, raters: tuple[str, str] = ("A", "B"),
                    instrument: Instrument = RQS) -> pd.DataFrame:
    """Agreement of two raters per component: percentage agreement and Cohen's kappa.

    Kappa is statsmodels' ``cohens_kappa`` on the k x k table over the component's allowed
    points; for ordinal components (:attr:`Item.ordinal`) it is weighted with linear weights on
    the rank of the allowed points (equal spacing: for RQS 12, -5 and 2 are one step apart, as 4
    and 5 are), otherwise unweighted. Kappa is undefined (NaN) when both raters gave every
    study the same points (chance agreement is then 1).

    Returns
    -------
    pandas.DataFrame
        ``number, component, short, weights, n_studies, n_agree, percent_agreement, kappa,
        ci_low, ci_high`` in instrument order; ``weights`` is "linear" or "none"; the interval
        is statsmodels' asymptotic 95 % confidence interval.
    """
    from statsmodels.stats.inter_rater import cohens_kappa  # on use: keeps `import synth` fast

    a, b = _paired(quality, raters, instrument)
    out = []
    for item in instrument.items:
        x, y = a[item.column].astype(int).to_numpy(), b[item.column].astype(int).to_numpy()
        levels = {v: i for i, v in enumerate(sorted(item.allowed))}
        table = np.zeros((len(levels), len(levels)))
        for u, v in zip(x, y, strict=True):
            table[levels[u], levels[v]] += 1
        n = len(x)
        kappa = low = high = np.nan
        used = set(x) | set(y)
        if n and len(used) > 1:
            res = cohens_kappa(table, wt="linear" if item.ordinal else None)
            kappa, low, high = float(res.kappa), float(res.kappa_low), float(res.kappa_upp)
        agree = int((x == y).sum())
        out.append({
            "number": item.number, "component": item.name, "short": item.short,
            "weights": "linear" if item.ordinal else "none", "n_studies": n, "n_agree": agree,
            "percent_agreement": agree / n * 100 if n else np.nan,
            "kappa": kappa, "ci_low": low, "ci_high": high,
        })
    return pd.DataFrame(out)


@dataclass(frozen=True)
class IccResult:
    """Intraclass correlation of totals: ICC(2,1), two-way random effects, absolute agreement,
    single rater (Shrout & Fleiss 1979; McGraw & Wong's ICC(A,1)), from pingouin."""

    icc: float
    ci_low: float
    ci_high: float
    f: float
    df1: int
    df2: int
    pvalue: float
    n_studies: int
    raters: tuple[str, ...]

    def summary_frame(self) -> pd.DataFrame:
        """One row: ``measure, raters, n_studies, icc, ci_low, ci_high, f, df1, df2, pvalue``."""
        return pd.DataFrame([{
            "measure": "ICC(2,1) of totals", "raters": " vs ".join(self.raters),
            "n_studies": self.n_studies, "icc": self.icc, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "f": self.f, "df1": self.df1, "df2": self.df2,
            "pvalue": self.pvalue}])

    def text(self) -> str:
        """``ICC(2,1) 0.91 (95 % CI 0.84-0.95)``."""
        return (f"ICC(2,1) {self.icc:.2f} (95 % CI {self.ci_low:.2f}\u2013{self.ci_high:.2f})")


def icc_totals(ratings: pd.DataFrame, *, targets: str = "study_id", raters: str = "rater",
               values: str = "total") -> IccResult:
    """ICC(2,1) of ``values`` between raters over targets, by ``pingouin.intraclass_corr``.

    Parameters
    ----------
    ratings
        Long table, one row per target x rater (e.g. :func:`score` output restricted to two
        raters and the studies both rated). Every target must be rated by every rater.

    Returns
    -------
    IccResult
        ICC, its 95 % confidence interval (pingouin reports it to two decimals), the F test.
    """
    import pingouin  # imported on use: it takes seconds, and synth.schema imports this module

    names = tuple(sorted(ratings[raters].unique()))
    counts = ratings.groupby(targets)[raters].nunique()
    incomplete = counts[counts < len(names)]
    if len(incomplete):
        raise ValueError(f"ICC needs every {targets} rated by every rater ({', '.join(names)}); "
                         f"not so for: {', '.join(map(str, incomplete.index[:5]))}")
    if len(counts) < 3 or len(names) < 2:
        raise ValueError(f"ICC needs at least 3 {targets} and 2 raters; got {len(counts)} and "
                         f"{len(names)}")
    data = ratings[[targets, raters, values]].copy()
    data[values] = data[values].astype(float)
    with warnings.catch_warnings():
        # pingouin 0.7 calls DataFrame.dropna(inplace=True), which pandas 3.1 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword", module="pingouin")
        table = pingouin.intraclass_corr(data=data, targets=targets, raters=raters,
                                         ratings=values)
    row = table[table["Type"] == "ICC(A,1)"].iloc[0]
    low, high = (float(v) for v in row["CI95"])
    return IccResult(icc=float(row["ICC"]), ci_low=low, ci_high=high, f=float(row["F"]),
                     df1=int(row["df1"]), df2=int(row["df2"]), pvalue=float(row["pval"]),
                     n_studies=int(len(counts)), raters=names)


# --- figures ---------------------------------------------------------------------------------

_RNG_SEED = 0
"""Seed of the horizontal jitter of strip plots, so figures are byte-stable between runs."""

_BOX_COLOUR = "#555555"
_POINT_COLOUR = "#0072B2"  # Okabe-Ito blue


def _percent_label(instrument: Instrument) -> str:
    return f"{instrument.name} (% of {instrument.max_total})"


def _box_strip(ax: Axes, values: list[np.ndarray], labels: list[str], *, rng) -> None:
    """Horizontal box plots with the individual studies jittered over them, first on top."""
    positions = np.arange(len(values))[::-1]
    ax.boxplot(values, positions=positions, orientation="horizontal", widths=0.6,
               showfliers=False, medianprops={"color": "black"},
               boxprops={"color": _BOX_COLOUR}, whiskerprops={"color": _BOX_COLOUR},
               capprops={"color": _BOX_COLOUR})
    for pos, vals in zip(positions, values, strict=True):
        jitter = rng.uniform(-0.18, 0.18, size=len(vals))
        ax.scatter(vals, pos + jitter, s=6, color=_POINT_COLOUR, alpha=0.7, linewidths=0,
                   zorder=3)
    ax.set_yticks(positions, labels)
    ax.set_ylim(-0.6, len(values) - 0.4)


def plot_distribution(scores: pd.DataFrame, groups: pd.DataFrame | None = None, *,
                      negative: Negative = "floor", instrument: Instrument = RQS,
                      synthetic: bool = False, width: str | float = "two") -> Figure:
    """Distribution of the percentage score: overall (box + histogram), by aim, modality, year.

    ``scores`` is one rater's :func:`score` output; ``groups`` from :func:`study_groups`
    (None draws the overall panels only). Each subgroup is a box plot with the studies over it.
    """
    note = negative_note(negative)
    rng = np.random.default_rng(_RNG_SEED)
    percent = scores["percent"].to_numpy(dtype=float)
    merged = None if groups is None else groups.merge(scores, on="study_id")
    panels = [g for g in _GROUPS if merged is not None and (merged["group"] == g).any()]
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
        ax_hist.hist(percent, bins=bins, color=_POINT_COLOUR, edgecolor="white", linewidth=0.4)
        ax_hist.set_xlabel(_percent_label(instrument))
        ax_hist.set_ylabel("Studies")
        ax_hist.yaxis.get_major_locator().set_params(integer=True)
        mean = float(np.mean(percent))
        ax_hist.axvline(mean, color="black", linestyle="--", linewidth=0.8)
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
            _box_strip(ax, vals, [f"{c} (n={len(v)})" for c, v in zip(cats, vals, strict=True)],
                       rng=rng)
            ax.set_xlim(lo - 2, hi + 2)
            ax.set_xlabel(_percent_label(instrument))
            ax.set_title(titles[group], loc="left")
        fig.supxlabel(f"{instrument.name} percentage of the maximum {instrument.max_total}; "
                      f"{note}.\nBoxes: median and quartiles, whiskers to 1.5 \u00d7 IQR; "
                      "dots: studies.",
                      fontsize=st.MANUSCRIPT.font_size - 0.5)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_compliance(items: pd.DataFrame, *, instrument: Instrument = RQS,
                    synthetic: bool = False, width: str | float = "one") -> Figure:
    """Share of studies earning points per component, in instrument order (from
    :func:`item_summary`); components that can lose points also show the share losing them."""
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 18 + 4.2 * len(items))
        labels = [instrument.items[int(n) - 1].label for n in items["number"]]
        y = np.arange(len(items))[::-1]
        earn = items["percent_earning"].to_numpy(float)
        neg = items["percent_negative"].to_numpy(float)
        ax.barh(y, earn, color=st.OKABE_ITO[4], height=0.7, label="earning points")
        can_lose = items["min_points"].to_numpy() < 0
        if can_lose.any():
            ax.barh(y[can_lose], -neg[can_lose], color=st.OKABE_ITO[5], height=0.7,
                    label="losing points")
        for yi, e, ng, lose in zip(y, earn, neg, can_lose, strict=True):
            ax.text(e + 1.5, yi, f"{e:.0f} %", va="center", fontsize=st.MANUSCRIPT.font_size - 1)
            if lose and ng > 0:
                ax.text(-ng - 1.5, yi, f"{ng:.0f} %", va="center", ha="right",
                        fontsize=st.MANUSCRIPT.font_size - 1)
        ax.set_yticks(y, labels)
        left = -float(neg[can_lose].max()) - 22 if can_lose.any() and neg.max() > 0 else 0
        ax.set_xlim(left, 112)
        ax.set_xticks([t for t in range(0, 101, 25)])
        ax.axvline(0, color="black", linewidth=0.6)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"Studies (%), n = {int(items['n_studies'].iloc[0])}")
        if can_lose.any():
            fig.legend(loc="outside lower center", ncols=2, handlelength=1)
        st.mark_synthetic(fig, synthetic)
    return fig


HEATMAP_MAX_STUDIES = 66
"""Most study rows the heat map draws: 35 mm of labels plus 3.1 mm a row fill a 240 mm page."""


def heatmap_skip_reason(quality: pd.DataFrame, *, rater: str = "consensus") -> str | None:
    """Why the study x component heat map is not drawn (too many studies), else None."""
    n = int(quality.loc[quality["rater"] == rater, "study_id"].nunique())
    if n > HEATMAP_MAX_STUDIES:
        return (f"{n} studies rated by {rater!r}, more than the {HEATMAP_MAX_STUDIES} rows the "
                f"heat map holds on one journal page; no heat map. Every study's points are in "
                f"rqs_scores, the share per component in rqs_items.")
    return None


def plot_heatmap(quality: pd.DataFrame, *, rater: str = "consensus", negative: Negative = "floor",
                 instrument: Instrument = RQS, synthetic: bool = False,
                 width: str | float = "two") -> Figure:
    """Study x component points, studies sorted by total (highest on top).

    Each cell shows the points; its colour is the points as a share of the component's
    maximum (blue) or, for negative points, of its minimum (red), so that components of
    different weight compare. The right-hand columns give the total and percentage. More than
    :data:`HEATMAP_MAX_STUDIES` studies raise ValueError (:func:`heatmap_skip_reason`).
    """
    reason = heatmap_skip_reason(quality, rater=rater)
    if reason:
        raise ValueError(reason)
    note = negative_note(negative)
    rows = quality[quality["rater"] == rater]
    scored = instrument.score(rows, negative=negative)
    points = rows[list(instrument.columns)].astype(int).to_numpy()
    order = np.lexsort((scored["study_id"].to_numpy(), -scored["total"].to_numpy()))
    points, scored = points[order], scored.iloc[order].reset_index(drop=True)
    maxima = np.array([i.max_points for i in instrument.items], dtype=float)
    minima = np.array([abs(i.min_points) or 1 for i in instrument.items], dtype=float)
    shade = np.where(points >= 0, points / maxima, points / minima)
    n = len(points)
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, min(35 + 3.1 * n, 240))
        cmap = "RdBu"
        image = ax.imshow(shade, cmap=cmap, norm=TwoSlopeNorm(vmin=-1, vcenter=0, vmax=1),
                          aspect="auto", interpolation="nearest")
        fs = st.MANUSCRIPT.font_size - (1.5 if n > 30 else 1)
        for (r, c), v in np.ndenumerate(points):
            ax.text(c, r, str(v), ha="center", va="center", fontsize=fs,
                    color="white" if abs(shade[r, c]) > 0.6 else "black")
        k = len(instrument.items)
        for r, (t, p) in enumerate(zip(scored["total"], scored["percent"], strict=True)):
            ax.text(k + 0.2, r, f"{t}", ha="center", va="center", fontsize=fs)
            ax.text(k + 1.3, r, f"{p:.0f}", ha="center", va="center", fontsize=fs)
        ax.set_xlim(-0.5, k + 1.9)
        ax.set_xticks(list(range(k)) + [k + 0.2, k + 1.3],
                      [i.label for i in instrument.items] + ["total", "%"],
                      rotation=60, ha="left", va="bottom", rotation_mode="anchor")
        ax.set_yticks(range(n), scored["study_id"], fontsize=fs)
        ax.tick_params(length=0)
        ax.xaxis.tick_top()
        ax.tick_params(axis="x", labeltop=True, labelbottom=False)
        _hide_spines(ax)
        bar = fig.colorbar(image, ax=ax, location="bottom", shrink=0.45, aspect=30, pad=0.01)
        bar.set_ticks([-1, 0, 1], labels=["component minimum\n(negative points)", "0 points",
                                          "component maximum"])
        bar.ax.tick_params(labelsize=st.MANUSCRIPT.font_size - 1)
        ax.set_title(f"Studies sorted by {instrument.name} total ({rater}); "
                     f"% of {instrument.max_total}, {note}", loc="left",
                     fontsize=st.MANUSCRIPT.font_size, pad=4)
        st.mark_synthetic(fig, synthetic)
    return fig


def _hide_spines(ax: Axes) -> None:
    """Hide every spine of ``ax`` (heat maps need no frame)."""
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_score_vs_auc(scores: pd.DataFrame, representative: pd.DataFrame, *,
                      negative: Negative = "floor", instrument: Instrument = RQS,
                      synthetic: bool = False, width: str | float = "one") -> Figure:
    """Percentage score against each study's representative AUC, one dot per study and aim.

    ``scores`` holds one rater's ``study_id, percent`` (:func:`rater_scores`);
    ``representative`` one AUC per study and aim, ``study_id, aim, auc``, as
    :func:`synth.auc.representative_auc` chooses it. Spearman's rank correlation (pingouin)
    over the dots is shown in the panel.
    """
    import pingouin  # imported on use: it takes seconds, and synth.schema imports this module

    note = negative_note(negative)
    reps = representative[["study_id", "aim", "auc"]].astype({"auc": float}).merge(
        scores[["study_id", "percent"]], on="study_id")
    with st.MANUSCRIPT:
        fig, ax = st.new_figure(width, 72)
        for aim in AIMS:
            sub = reps[reps["aim"] == aim]
            if sub.empty:
                continue
            ax.scatter(sub["percent"], sub["auc"], s=12, color=st.AIM_COLOURS[aim],
                       label=f"{aim} (n={len(sub)})", edgecolors="white", linewidths=0.4)
        if len(reps) >= 3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                corr = pingouin.corr(reps["percent"].to_numpy(float),
                                     reps["auc"].to_numpy(float), method="spearman")
            rho, p = float(corr["r"].iloc[0]), float(corr["p_val"].iloc[0])
            text = (f"Spearman \u03c1 = {rho:.2f}, p = {p:.2f}" if np.isfinite(rho)
                    else "Spearman \u03c1 undefined (constant scores)")
            ax.text(0.02, 0.03, text, transform=ax.transAxes, fontsize=st.MANUSCRIPT.font_size - 1)
        ax.set_xlabel(f"{_percent_label(instrument)}\n({note})")
        ax.set_ylabel("Representative AUC")
        ax.set_ylim(min(0.5, float(reps["auc"].min()) - 0.02) if len(reps) else 0.5, 1.0)
        fig.legend(loc="outside lower center", ncols=2, handlelength=1, columnspacing=1.0)
        st.mark_synthetic(fig, synthetic)
    return fig


def plot_agreement(agreement: pd.DataFrame, icc: IccResult | None = None, *,
                   instrument: Instrument = RQS, synthetic: bool = False,
                   width: str | float = "two") -> Figure:
    """Per component: Cohen's kappa with its CI (filled: weighted) and percentage agreement.

    ``agreement`` from :func:`rater_agreement`; the ICC of totals, when given, is stated in
    the figure.
    """
    with st.MANUSCRIPT:
        fig, (ax_k, ax_p) = st.new_figure(width, 20 + 4.4 * len(agreement), ncols=2, sharey=True,
                                       gridspec_kw={"width_ratios": [3, 2]})
        y = np.arange(len(agreement))[::-1]
        labels = [instrument.items[int(n) - 1].label for n in agreement["number"]]
        kappa = agreement["kappa"].to_numpy(float)
        low, high = agreement["ci_low"].to_numpy(float), agreement["ci_high"].to_numpy(float)
        weighted = (agreement["weights"] == "linear").to_numpy()
        ok = np.isfinite(kappa)
        ax_k.hlines(y[ok], np.clip(low[ok], -1, 1), np.clip(high[ok], -1, 1),
                    color=_BOX_COLOUR, linewidth=0.8)
        ax_k.scatter(kappa[ok & weighted], y[ok & weighted], s=16, color=_POINT_COLOUR,
                     zorder=3)
        ax_k.scatter(kappa[ok & ~weighted], y[ok & ~weighted], s=16, facecolors="white",
                     edgecolors=_POINT_COLOUR, zorder=3)
        for yi in y[~ok]:
            ax_k.text(0.0, yi, "undefined (no variation)", va="center",
                      fontsize=st.MANUSCRIPT.font_size - 1, color=_BOX_COLOUR)
        ax_k.axvline(0, color="black", linewidth=0.6)
        ax_k.set_xlim(-1.02, 1.02)
        ax_k.set_yticks(y, labels)
        ax_k.set_xlabel("Cohen's kappa (95 % CI)")
        pa = agreement["percent_agreement"].to_numpy(float)
        ax_p.barh(y, pa, color=st.OKABE_ITO[1], height=0.7)
        for yi, v in zip(y, pa, strict=True):
            ax_p.text(v - 2, yi, f"{v:.0f}", va="center", ha="right",
                      fontsize=st.MANUSCRIPT.font_size - 1.5)
        ax_p.set_xlim(0, 100)
        ax_p.set_xlabel("Agreement (% of studies)")
        ax_p.tick_params(axis="y", length=0)
        handles = [Line2D([], [], marker="o", linestyle="", color=_POINT_COLOUR, markersize=4,
                          label="weighted (linear), ordinal component"),
                   Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                          markeredgecolor=_POINT_COLOUR, markersize=4,
                          label="unweighted, two-level component")]
        n = int(agreement["n_studies"].iloc[0]) if len(agreement) else 0
        who = f"Raters {' and '.join(icc.raters)}" if icc is not None else "Raters"
        title = f"{who} before consensus, n = {n} studies"
        if icc is not None:
            title += f"; totals: {icc.text()}"
        ax_k.set_title(title, loc="left", fontsize=st.MANUSCRIPT.font_size)
        fig.legend(handles=handles, loc="outside lower center", ncols=2, handlelength=1)
        st.mark_synthetic(fig, synthetic)
    return fig
