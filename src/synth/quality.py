"""Quality assessment: scoring, summaries, score against AUC, rater agreement.

Instruments are declared as data in :mod:`synth.instruments` (RQS, Lambin et al., Nat Rev Clin
Oncol 2017;14:749-762, is the first; RQS 2.0 or METRICS are added by declaring another
:class:`Instrument`, not by branching code) and re-exported here.

Scoring turns the ``quality`` table (one row per study x rater) into totals and percentages of
the instrument's maximum; how a negative total becomes a percentage is the ``negative``
parameter (``"floor"``: 0 %, the default; ``"keep"``: a negative percentage). Agreement between
two raters before consensus is Cohen's kappa per component (statsmodels; linearly weighted for
ordinal components) and the ICC(2,1) of totals (pingouin). Spearman's rank correlation of the
percentage with each study's representative AUC is :func:`score_vs_auc`. :func:`assess` makes
every table of notebook 04 in one call. The figures are drawn by :mod:`synth.plots.quality`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

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
from synth.review import Review, study_labels
from synth.vocabulary import Vocabulary

__all__ = [
    "kappa_with_ci",
    "rows_of_rater",
    "Item",
    "Instrument",
    "RQS",
    "INSTRUMENTS",
    "get_instrument",
    "NEGATIVE_TOTALS",
    "NO_AUC_LABEL",
    "NO_QUALITY_NOTE",
    "Negative",
    "negative_note",
    "to_percent",
    "score",
    "rater_scores",
    "consensus_percent",
    "study_groups",
    "GROUPS",
    "rqs_summary",
    "mean_text",
    "item_summary",
    "HEATMAP_MAX_STUDIES",
    "heatmap_skip_reason",
    "heatmap_table",
    "MIN_CORRELATION",
    "ScoreAucResult",
    "score_vs_auc",
    "MIN_PAIRED",
    "paired_scores",
    "agreement_skip_reason",
    "rater_agreement",
    "IccResult",
    "icc_totals",
    "QualityAssessment",
    "assess",
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


def _rater(review: Review, rater: str | None) -> str:
    """``rater``, or the consensus rater ``review``'s vocabulary names (None)."""
    return review.vocabulary.consensus if rater is None else rater


def rater_scores(scores: pd.DataFrame, *, rater: str) -> pd.DataFrame:
    """The rows of one rater (e.g. ``review.vocabulary.consensus``); an absent rater lists
    those present.

    Returns
    -------
    pandas.DataFrame
        The rows of ``scores`` whose ``rater`` is ``rater``, index reset.
    """
    return rows_of_rater(scores, rater=rater, what="scores")


def rows_of_rater(frame: pd.DataFrame, *, rater: str, what: str = "rows") -> pd.DataFrame:
    """The rows of ``frame`` whose ``rater`` is ``rater``, index reset; an absent rater raises
    a ValueError naming the raters present (``rater='B' has no <what>; raters present: A``).
    The one rater filter of every instrument (:func:`rater_scores`, :mod:`synth.appraisal`).
    """
    raters = frame["rater"].astype(str)
    present = sorted(raters.unique())
    if rater not in present:
        raise ValueError(f"rater={rater!r} has no {what}; raters present: "
                         f"{', '.join(present) or 'none'}")
    return frame[raters == rater].reset_index(drop=True)


def consensus_percent(review: Review, *, instrument: Instrument = RQS,
                      negative: Negative = "floor", rater: str | None = None
                      ) -> pd.Series | None:
    """Each study's percentage score by one rater (the consensus), or None without quality data.

    The one place the quality percentage a meta-regression, the RQS-vs-AUC figure or an
    exploration uses is computed: :func:`score` of ``review.quality``, then :func:`rater_scores`.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    instrument
        The instrument ``review.quality`` follows.
    negative
        How a negative total becomes a percentage (``"floor"``: 0 %; ``"keep"``).
    rater
        Whose scores (None: the consensus rater, ``review.vocabulary.consensus``); an absent
        rater raises a ValueError listing the raters present.

    Returns
    -------
    pandas.Series or None
        ``percent`` indexed by ``study_id`` (one value per study the rater scored, in
        quality.csv's order); None when the review has no quality data.
    """
    if not review.has_quality:
        return None
    scores = rater_scores(score(review.quality, instrument=instrument, negative=negative),
                          rater=_rater(review, rater))
    return scores.set_index("study_id")["percent"].rename("percent")


# --- summaries -------------------------------------------------------------------------------

GROUPS: tuple[str, ...] = ("aim", "modality", "year")
"""The subgroups of :func:`study_groups`, in the order tables and figures show them."""


def study_groups(review: Review) -> pd.DataFrame:
    """Every subgroup each study belongs to: its aims, its modality, its publication year.

    Returns
    -------
    pandas.DataFrame
        ``study_id, group, category`` with ``group`` one of aim, modality, year. A study counts
        under each aim it reports an AUC for (performance.csv); one with no AUC counts under
        "no AUC reported". Aims and modalities are in the order ``review.vocabulary`` declares
        them, years ascending.
    """
    vocabulary = review.vocabulary
    aims = study_aims(review)
    aims["order"] = aims["aim"].map({a: i for i, a in enumerate((*vocabulary.aim_names,
                                                                 NO_AUC_LABEL))})
    aims = aims.sort_values(["order", "study_id"])
    studies = review.studies
    mod_order = {m: i for i, m in enumerate(vocabulary.modalities)}
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
        "q1_percent": p.quantile(0.25),
        "q3_percent": p.quantile(0.75),
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
        min_total, max_total, mean_percent, sd_percent, median_percent, q1_percent, q3_percent,
        n_negative_total, negative_totals``; the first row is ``overall / all studies``, then
        one row per category of aim, modality and year (quartiles interpolated linearly,
        pandas' default, as the box plots of :func:`synth.plots.quality.plot_distribution`).
    """
    negative_note(negative)  # validates the option
    rows = [{"group": "overall", "category": "all studies", **_describe(scores)}]
    if groups is not None:
        merged = groups.merge(scores[["study_id", "total", "percent"]], on="study_id",
                              how="inner")
        for group in GROUPS:
            sub = merged[merged["group"] == group]
            for category in dict.fromkeys(sub["category"]):
                rows.append({"group": group, "category": category,
                             **_describe(sub[sub["category"] == category])})
    out = pd.DataFrame(rows)
    out["negative_totals"] = negative_note(negative)
    return out


def mean_text(summary: pd.DataFrame, *, instrument: Instrument = RQS, rater: str) -> str:
    """One sentence on the overall row of :func:`rqs_summary`: mean points and percentage.

    Returns
    -------
    str
        E.g. ``Mean RQS (consensus): 6.4 points, 18 % of 36 (negative totals set to 0 %)``.
    """
    overall = summary.iloc[0]
    return (f"Mean {instrument.name} ({rater}): {overall['mean_total']:.1f} points, "
            f"{overall['mean_percent']:.0f} % of {instrument.max_total} "
            f"({overall['negative_totals']})")


def item_summary(quality: pd.DataFrame, *, instrument: Instrument = RQS, rater: str
                 ) -> pd.DataFrame:
    """Per component, over ``rater``'s rows: how many studies earn points, mean points, the
    maximum.

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


# --- heat map data and score against AUC -------------------------------------------------------

HEATMAP_MAX_STUDIES = 66
"""Most study rows the heat map draws: 35 mm of labels plus 3.1 mm a row fill a 240 mm page."""


def heatmap_skip_reason(quality: pd.DataFrame, *, rater: str) -> str | None:
    """Why the study x component heat map is not drawn (too many studies), else None.

    ``quality`` is the quality table or :func:`heatmap_table` (both have ``study_id, rater``).
    """
    n = int(quality.loc[quality["rater"] == rater, "study_id"].nunique())
    if n > HEATMAP_MAX_STUDIES:
        return (f"{n} studies rated by {rater!r}, more than the {HEATMAP_MAX_STUDIES} rows the "
                f"heat map holds on one journal page; no heat map. Every study's points are in "
                f"rqs_scores, the share per component in rqs_items.")
    return None


def heatmap_table(review: Review, *, rater: str | None = None, negative: Negative = "floor",
                  instrument: Instrument = RQS) -> pd.DataFrame:
    """One rater's points per study and component, studies sorted by total (highest first).

    ``rater`` None: the consensus rater, ``review.vocabulary.consensus``.

    Returns
    -------
    pandas.DataFrame
        ``study_id, label, rater, <one column per component>, total, percent``; ``label`` is
        the study's "first author year" (:func:`synth.review.study_labels`). Ties of the total
        are ordered by study_id.
    """
    if not review.has_quality:
        raise ValueError(f"{review.name} has no quality data: no heat map")
    rater = _rater(review, rater)
    rows = review.quality[review.quality["rater"] == rater]
    if rows.empty:
        raise ValueError(f"rater={rater!r} has no rows; raters present: "
                         f"{', '.join(sorted(review.quality['rater'].unique()))}")
    scored = instrument.score(rows, negative=negative)
    labels = study_labels(review.studies)
    points = rows[list(instrument.columns)].astype(int).reset_index(drop=True)
    out = pd.concat([scored[["study_id", "rater"]], points, scored[["total", "percent"]]],
                    axis=1)
    out.insert(1, "label", out["study_id"].map(labels).fillna(out["study_id"]))
    order = np.lexsort((out["study_id"].to_numpy(), -out["total"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


MIN_CORRELATION = 3
"""Fewest points for which the rank correlation of score and AUC is computed."""


@dataclass(frozen=True)
class ScoreAucResult:
    """Quality percentage against each study's representative AUC, and Spearman's rho.

    ``points`` holds one row per study and aim (``study_id, aim, auc, percent``); ``rho`` and
    ``pvalue`` are :func:`scipy.stats.spearmanr` over all of them (NaN with fewer than
    :data:`MIN_CORRELATION` points or when the scores or AUCs do not vary).
    """

    points: pd.DataFrame = field(compare=False, repr=False)
    rho: float
    pvalue: float
    n: int
    n_studies: int

    def text(self) -> str:
        """``Spearman ρ = -0.20, p = 0.18`` as the figure shows it (or why there is no ρ)."""
        if self.n < MIN_CORRELATION:
            return f"Spearman \u03c1 not computed (fewer than {MIN_CORRELATION} points)"
        if not np.isfinite(self.rho):
            return "Spearman \u03c1 undefined (constant scores)"
        return f"Spearman \u03c1 = {self.rho:.2f}, p = {self.pvalue:.2f}"

    def summary_frame(self) -> pd.DataFrame:
        """One row: ``measure, n_points, n_studies, rho, pvalue``."""
        return pd.DataFrame([{
            "measure": "Spearman rank correlation of quality percentage and representative AUC",
            "n_points": self.n, "n_studies": self.n_studies, "rho": self.rho,
            "pvalue": self.pvalue}])


def score_vs_auc(scores: pd.DataFrame | pd.Series, representative: pd.DataFrame
                 ) -> ScoreAucResult:
    """Each study's percentage score beside its representative AUC(s), and their correlation.

    Parameters
    ----------
    scores
        One rater's scores: :func:`rater_scores` rows (``study_id, percent``) or the Series of
        :func:`consensus_percent`.
    representative
        One AUC per study and aim (``study_id, aim, auc``), as
        :func:`synth.auc.representative_auc` chooses it.

    Returns
    -------
    ScoreAucResult
        The points (``study_id, aim, auc, percent``; studies without a score are left out)
        and Spearman's rank correlation over them (a study reporting two aims counts twice).
    """
    from scipy import stats  # on use: keeps `import synth` fast

    if isinstance(scores, pd.Series):
        scores = scores.rename("percent").rename_axis("study_id").reset_index()
    points = representative[["study_id", "aim", "auc"]].astype({"auc": float}).merge(
        scores[["study_id", "percent"]].astype({"percent": float}), on="study_id")
    points = points.reset_index(drop=True)
    rho = pvalue = np.nan
    if len(points) >= MIN_CORRELATION:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant input: NaN, said by ScoreAucResult.text
            res = stats.spearmanr(points["percent"], points["auc"])
        rho, pvalue = float(res.statistic), float(res.pvalue)
    return ScoreAucResult(points=points, rho=rho, pvalue=pvalue, n=len(points),
                          n_studies=int(points["study_id"].nunique()))


# --- agreement -------------------------------------------------------------------------------

def _check_raters(raters: tuple[str, str]) -> None:
    if len(raters) != 2 or raters[0] == raters[1]:
        raise ValueError(f"raters={raters!r}: give two different raters, e.g. the first two "
                         "of review.vocabulary.raters")


def _paired(quality: pd.DataFrame, raters: tuple[str, str], instrument: Instrument
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of the two raters for the studies both rated, aligned by study_id."""
    _check_raters(raters)
    instrument.check(quality)
    a = quality[quality["rater"] == raters[0]].set_index("study_id")
    b = quality[quality["rater"] == raters[1]].set_index("study_id")
    both = a.index.intersection(b.index).sort_values()
    return a.loc[both], b.loc[both]


MIN_PAIRED = 3
"""Fewest studies rated by both raters for which agreement is computed (the ICC needs 3)."""


def paired_scores(scores: pd.DataFrame, *, raters: tuple[str, str]) -> pd.DataFrame:
    """The scores of two raters, restricted to the studies both of them rated.

    Returns
    -------
    pandas.DataFrame
        The rows of ``scores`` (``study_id, rater, total, percent``) of the two raters for the
        studies rated by both, sorted by study and rater; empty when there are none.
    """
    _check_raters(raters)
    rows = scores[scores["rater"].isin(raters)]
    both = rows.groupby("study_id")["rater"].nunique()
    keep = both[both == 2].index
    return rows[rows["study_id"].isin(keep)].sort_values(["study_id", "rater"]).reset_index(
        drop=True)


def agreement_skip_reason(paired: pd.DataFrame, *, raters: tuple[str, str]) -> str | None:
    """Why rater agreement is not computed (fewer than :data:`MIN_PAIRED` studies), else None.

    ``paired`` is :func:`paired_scores` output for ``raters``.
    """
    n = int(paired["study_id"].nunique())
    if n < MIN_PAIRED:
        return (f"Rater agreement not computed: {n} studies rated by both "
                f"{' and '.join(raters)}; at least {MIN_PAIRED} are needed.")
    return None


def kappa_with_ci(table: np.ndarray, *, weighted: bool) -> tuple[float, float, float]:
    """Cohen's kappa of a k x k agreement table and its 95 % CI, bounded to [-1, 1].

    statsmodels' ``cohens_kappa`` (linear weights when ``weighted``). NaN when fewer than two
    levels are used (chance agreement is then 1); when one rater gave one answer throughout,
    statsmodels' variance is negative and the limits are NaN (its RuntimeWarning is silenced).
    The one kappa of every instrument (:func:`rater_agreement`, :mod:`synth.appraisal`).
    """
    from statsmodels.stats.inter_rater import cohens_kappa  # on use: keeps `import synth` fast

    used = (np.asarray(table).sum(axis=0) + np.asarray(table).sum(axis=1)) > 0
    if used.sum() < 2:
        return np.nan, np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = cohens_kappa(table, wt="linear" if weighted else None)
    low, high = (float(np.clip(v, -1.0, 1.0)) for v in (res.kappa_low, res.kappa_upp))
    return float(res.kappa), low, high


def rater_agreement(quality: pd.DataFrame, *, raters: tuple[str, str],
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
        is statsmodels' asymptotic 95 % confidence interval (kappa ± 1.96 SE), bounded to
        [−1, 1], the range of kappa (with few studies and high agreement the Wald limits
        pass 1).
    """
    a, b = _paired(quality, raters, instrument)
    out = []
    for item in instrument.items:
        x, y = a[item.column].astype(int).to_numpy(), b[item.column].astype(int).to_numpy()
        levels = {v: i for i, v in enumerate(sorted(item.allowed))}
        table = np.zeros((len(levels), len(levels)))
        for u, v in zip(x, y, strict=True):
            table[levels[u], levels[v]] += 1
        n = len(x)
        kappa, low, high = kappa_with_ci(table, weighted=item.ordinal)
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
        ICC, its 95 % confidence interval at full precision, the F test.

    Notes
    -----
    pingouin gives the ICC and F test but rounds the interval to two decimals; the interval is
    recomputed here from the two-way ANOVA mean squares with the same formula (McGraw & Wong,
    Psychol Methods 1996;1:30-46, case 2A; the F approximation of Satterthwaite), so the
    tables carry it unrounded (``tests/test_quality.py`` checks it against pingouin's).
    """
    import pingouin  # imported on use: it takes seconds and pulls in matplotlib

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
    low, high = _icc_a1_interval(data, targets, raters, values, float(row["ICC"]))
    return IccResult(icc=float(row["ICC"]), ci_low=low, ci_high=high, f=float(row["F"]),
                     df1=int(row["df1"]), df2=int(row["df2"]), pvalue=float(row["pval"]),
                     n_studies=int(len(counts)), raters=names)


def _icc_a1_interval(data: pd.DataFrame, targets: str, raters: str, values: str, icc: float,
                     level: float = 0.95) -> tuple[float, float]:
    """95 % CI of ICC(A,1) (McGraw & Wong 1996, case 2A), unrounded; as pingouin computes it."""
    wide = data.pivot(index=targets, columns=raters, values=values).to_numpy(dtype=float)
    n, k = wide.shape
    grand = wide.mean()
    ss_rows = k * ((wide.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((wide.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((wide - grand) ** 2).sum() - ss_rows - ss_cols
    msb, msj = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    alpha = 1.0 - level
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc * fj + n * (1 + (k - 1) * icc) - k * icc) ** 2
    vd = (n - 1) * (k * icc * fj) ** 2 + (n * (1 + (k - 1) * icc) - k * icc) ** 2
    v = vn / vd
    f_upper = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f_lower = stats.f.ppf(1 - alpha / 2, v, n - 1)
    low = n * (msb - f_upper * mse) / (f_upper * (k * msj + (k * n - k - n) * mse) + n * msb)
    high = n * (f_lower * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f_lower * msb)
    return float(low), float(high)


# --- everything notebook 04 writes -----------------------------------------------------------

@dataclass(frozen=True)
class QualityAssessment:
    """Every table of one review's quality assessment, for one instrument, rater and treatment
    of negative totals (made by :func:`assess`; drawn by :func:`synth.plots.quality`)."""

    instrument: Instrument
    rater: str
    negative: Negative
    raters: tuple[str, ...]
    scores: pd.DataFrame = field(repr=False)
    """Every rater's :func:`score` rows."""
    chosen: pd.DataFrame = field(repr=False)
    """``rater``'s rows of ``scores``."""
    groups: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)
    items: pd.DataFrame = field(repr=False)
    heatmap: pd.DataFrame = field(repr=False)
    score_auc: ScoreAucResult = field(repr=False)
    agreement: pd.DataFrame | None = field(repr=False)
    """:func:`rater_agreement`, or None with fewer than :data:`MIN_PAIRED` paired studies."""
    icc: IccResult | None
    notes: tuple[str, ...] = ()
    """Why a table or figure is missing (too few paired studies, too many for a heat map)."""
    vocabulary: Vocabulary | None = field(default=None, repr=False)
    """The review's vocabulary (aim order, labels and colours of the figures)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to write, by file stem: ``rqs_scores``, ``rqs_summary``, ``rqs_items``,
        ``rqs_vs_auc`` (:meth:`ScoreAucResult.summary_frame`) and, when computed,
        ``rqs_agreement`` and ``rqs_icc``."""
        out = {"rqs_scores": self.scores, "rqs_summary": self.summary, "rqs_items": self.items,
               "rqs_vs_auc": self.score_auc.summary_frame()}
        if self.agreement is not None and self.icc is not None:
            out["rqs_agreement"] = self.agreement
            out["rqs_icc"] = self.icc.summary_frame()
        return out

    def mean_text(self) -> str:
        """:func:`mean_text` of the summary."""
        return mean_text(self.summary, instrument=self.instrument, rater=self.rater)


def assess(review: Review, representative: pd.DataFrame, *, instrument: Instrument = RQS,
           rater: str | None = None, negative: Negative = "floor",
           raters: Sequence[str] | None = None) -> QualityAssessment | None:
    """Score, summarise and compare the raters of ``review``'s quality data in one call.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    representative
        One AUC per study and aim (:func:`synth.auc.representative_auc`), for
        :func:`score_vs_auc`.
    instrument, rater, negative
        As for :func:`score`, :func:`rater_scores` and :func:`rqs_summary`; ``rater`` None:
        the consensus rater (``review.vocabulary.consensus``).
    raters
        The two independent raters compared before consensus (:func:`rater_agreement`,
        :func:`icc_totals`), when at least :data:`MIN_PAIRED` studies were rated by both;
        None: the first two of ``review.vocabulary.raters`` other than the consensus (with
        fewer than two, a note says there is no agreement to compute).

    Returns
    -------
    QualityAssessment or None
        None when the review has no quality data (:data:`NO_QUALITY_NOTE`).
    """
    if not review.has_quality:
        return None
    rater = _rater(review, rater)
    vocabulary = review.vocabulary
    if raters is None:
        raters = [r for r in vocabulary.raters if r != vocabulary.consensus][:2]
    pair = tuple(raters)
    scores = score(review.quality, instrument=instrument, negative=negative)
    chosen = rater_scores(scores, rater=rater)
    groups = study_groups(review)
    if len(pair) < 2:
        skip: str | None = (f"Rater agreement not computed: review.yaml names "
                            f"{len(pair)} rater(s) besides the consensus; two are compared.")
    else:
        skip = agreement_skip_reason(paired_scores(scores, raters=pair), raters=pair)
    notes = [n for n in (skip, heatmap_skip_reason(review.quality, rater=rater)) if n]
    agreement = icc = None
    if skip is None:
        paired = paired_scores(scores, raters=pair)
        agreement = rater_agreement(review.quality, raters=pair, instrument=instrument)
        icc = icc_totals(paired)
    return QualityAssessment(
        instrument=instrument, rater=rater, negative=negative, raters=pair, scores=scores,
        chosen=chosen, groups=groups, summary=rqs_summary(chosen, groups, negative=negative),
        items=item_summary(review.quality, instrument=instrument, rater=rater),
        heatmap=heatmap_table(review, rater=rater, negative=negative, instrument=instrument),
        score_auc=score_vs_auc(chosen, representative), agreement=agreement, icc=icc,
        notes=tuple(notes), vocabulary=vocabulary)
