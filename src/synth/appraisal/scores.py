"""Scores and item answers of any appraisal instrument: summaries, bands, compliance, agreement,
two instruments side by side, and the percentages a meta-regression takes as moderators.

Inputs are what :mod:`synth.instruments` makes: per-row scores (``study_id, rater`` and a score
column) and long item answers (:func:`synth.instruments.item_answers`). Nothing here assumes an
instrument, aim or rater name.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth import quality
from synth.quality import IccResult

__all__ = [
    "NA_ANSWERS",
    "MET_ANSWERS",
    "MIN_FIGURE_STUDIES",
    "figure_skip_reason",
    "rater_rows",
    "score_summary",
    "band_counts",
    "item_compliance",
    "category_compliance",
    "answer_table",
    "item_agreement",
    "total_icc",
    "PairedScores",
    "compare_scores",
    "quality_moderators",
]

NA_ANSWERS: frozenset[str] = frozenset({"", "n/a", "n.a.", "na", "nan", "none"})
"""Answers meaning the item does not apply (compared in lower case, stripped)."""
MET_ANSWERS: frozenset[str] = frozenset({"yes", "y", "true", "1"})
"""Answers meaning the item is met, for items answered in words rather than points."""

MIN_FIGURE_STUDIES = 3
"""Fewest studies a figure of one rater's appraisals is drawn for; with fewer the table says
everything there is and the figure is replaced by a note (:func:`figure_skip_reason`)."""


def figure_skip_reason(n_studies: int, what: str) -> str | None:
    """Why the figure ``what`` is not drawn (fewer than :data:`MIN_FIGURE_STUDIES`), else None."""
    if n_studies < MIN_FIGURE_STUDIES:
        return (f"No {what}: {n_studies} {'study' if n_studies == 1 else 'studies'}, at least "
                f"{MIN_FIGURE_STUDIES} are needed; the table holds every answer.")
    return None


def rater_rows(frame: pd.DataFrame, *, rater: str) -> pd.DataFrame:
    """The rows of one rater (:func:`synth.quality.rows_of_rater`)."""
    return quality.rows_of_rater(frame, rater=rater)


# --- scores ----------------------------------------------------------------------------------

def _describe(values: pd.Series) -> dict[str, float]:
    v = values.astype(float).dropna()
    return {"n_studies": len(v), "mean": v.mean(), "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
            "median": v.median(), "q1": v.quantile(0.25), "q3": v.quantile(0.75),
            "min": v.min(), "max": v.max()}


def score_summary(scores: pd.DataFrame, groups: pd.DataFrame | None = None, *,
                  value: str = "percent", aims: Sequence[str] | None = None) -> pd.DataFrame:
    """Distribution of one rater's scores, overall and by subgroup.

    Parameters
    ----------
    scores
        One rater's scores, one row per study: ``study_id`` and ``value``.
    groups
        Subgroups from :func:`synth.quality.study_groups` (``study_id, group, category``); None
        gives the overall row only.
    value
        The column summarised (``percent``; ``total`` for points).
    aims
        The aims shown, in this order (the categories of group ``aim``); None keeps every aim
        in ``groups`` in its order.

    Returns
    -------
    pandas.DataFrame
        ``group, category, n_studies, mean, sd, median, q1, q3, min, max``: first the row
        ``overall / all studies``, then one row per category of each group (quartiles
        interpolated linearly, pandas' default).
    """
    rows = [{"group": "overall", "category": "all studies", **_describe(scores[value])}]
    if groups is not None:
        merged = groups.merge(scores[["study_id", value]], on="study_id", how="inner")
        for group in dict.fromkeys(groups["group"]):
            sub = merged[merged["group"] == group]
            cats = list(dict.fromkeys(sub["category"]))
            if group == "aim" and aims is not None:
                cats = [a for a in aims if a in cats] + [c for c in cats if c not in aims
                                                         and c == quality.NO_AUC_LABEL]
            rows += [{"group": group, "category": c,
                      **_describe(sub.loc[sub["category"] == c, value])} for c in cats]
    return pd.DataFrame(rows)


def band_counts(scores: pd.DataFrame, bands: Sequence[tuple[str, float, float]], *,
                value: str = "percent") -> pd.DataFrame:
    """How many studies' scores fall in each quality band (e.g. METRICS' five bands).

    Parameters
    ----------
    scores
        One rater's scores (``study_id`` and ``value``).
    bands
        ``(name, lower, upper)`` per band, lowest first, as the instrument declares them; a
        score belongs to the band with ``lower <= score < upper`` (the last band includes its
        upper limit).

    Returns
    -------
    pandas.DataFrame
        ``band, lower, upper, n_studies, percent_studies``, one row per band.
    """
    v = scores[value].astype(float).dropna().to_numpy()
    rows = []
    for i, (name, lower, upper) in enumerate(bands):
        last = i == len(bands) - 1
        inside = (v >= lower) & ((v <= upper) if last else (v < upper))
        rows.append({"band": name, "lower": float(lower), "upper": float(upper),
                     "n_studies": int(inside.sum()),
                     "percent_studies": inside.mean() * 100 if len(v) else np.nan})
    return pd.DataFrame(rows)


# --- items -----------------------------------------------------------------------------------

def _norm(answer: Any) -> str:
    return "" if answer is None or (isinstance(answer, float) and np.isnan(answer)) else \
        str(answer).strip().lower()


def _long(answers: pd.DataFrame) -> pd.DataFrame:
    """Long answers with ``applicable`` and ``met`` resolved (see :func:`item_compliance`)."""
    out = answers.copy()
    text = out["answer"].map(_norm)
    if "applicable" not in out.columns:
        out["applicable"] = out["applies"] if "applies" in out.columns else \
            ~text.isin(NA_ANSWERS)
    out["applicable"] = out["applicable"].astype(bool)
    if "points" in out.columns:
        met = pd.to_numeric(out["points"], errors="coerce").fillna(0) > 0
    else:
        numeric = pd.to_numeric(out["answer"], errors="coerce")
        met = numeric.gt(0) if numeric.notna().all() else text.isin(MET_ANSWERS)
    out["met"] = met & out["applicable"]
    if "category" not in out.columns:
        out["category"] = ""
    return out


def item_compliance(answers: pd.DataFrame, *, rater: str) -> pd.DataFrame:
    """Per item: how many of the studies it applies to answer yes or earn points.

    Parameters
    ----------
    answers
        Long per-item answers, one row per study x rater x item, as
        :func:`synth.instruments.item_answers` makes them: ``study_id, rater, item, answer``
        and optionally ``category``, ``label`` (the item's number and short name),
        ``applies`` or ``applicable`` (bool; else an answer in :data:`NA_ANSWERS` does not
        apply), ``points`` (the points earned; else a numeric answer is the points, a word
        answer is met when in :data:`MET_ANSWERS`), ``max_points``, ``weight``.
    rater
        Whose answers.

    Returns
    -------
    pandas.DataFrame
        ``item, label, category, n_studies, n_applicable, n_met, percent_met`` in the items'
        order; ``percent_met`` is of the applicable studies (NaN when it applies to none).
    """
    rows = _long(rater_rows(answers, rater=rater))
    if "label" not in rows.columns:
        rows["label"] = rows["item"].astype(str)
    out = []
    for item, sub in rows.groupby("item", sort=False):
        n_app, n_met = int(sub["applicable"].sum()), int(sub["met"].sum())
        out.append({"item": item, "label": sub["label"].iloc[0],
                    "category": sub["category"].iloc[0], "n_studies": int(sub["study_id"]
                                                                          .nunique()),
                    "n_applicable": n_app, "n_met": n_met,
                    "percent_met": n_met / n_app * 100 if n_app else np.nan})
    return pd.DataFrame(out, columns=["item", "label", "category", "n_studies", "n_applicable",
                                      "n_met", "percent_met"])


def category_compliance(answers: pd.DataFrame, *, rater: str) -> pd.DataFrame:
    """Per category: the share of applicable study x item answers that are met.

    Parameters
    ----------
    answers
        As for :func:`item_compliance`, with a ``category`` column; a ``weight`` column (the
        item's weight, METRICS) adds the weighted share, Σ weight met / Σ weight applicable,
        which is how the instrument's own score weighs the items.

    Returns
    -------
    pandas.DataFrame
        ``category, n_items, n_studies, n_applicable, n_met, percent_met`` (and
        ``percent_weighted`` with weights), categories in the items' order.
    """
    rows = _long(rater_rows(answers, rater=rater))
    weighted = "weight" in rows.columns and bool(rows["weight"].notna().any())
    out = []
    for category, sub in rows.groupby("category", sort=False):
        n_app, n_met = int(sub["applicable"].sum()), int(sub["met"].sum())
        row = {"category": category, "n_items": int(sub["item"].nunique()),
               "n_studies": int(sub["study_id"].nunique()),
               "n_applicable": n_app, "n_met": n_met,
               "percent_met": n_met / n_app * 100 if n_app else np.nan}
        if weighted:
            w = sub["weight"].astype(float)
            denominator = float(w[sub["applicable"]].sum())
            row["percent_weighted"] = (float(w[sub["met"]].sum()) / denominator * 100
                                       if denominator else np.nan)
        out.append(row)
    return pd.DataFrame(out)


def answer_table(answers: pd.DataFrame, *, rater: str, labels: pd.Series | None = None,
                 scores: pd.DataFrame | None = None, value: str = "percent") -> pd.DataFrame:
    """One rater's answers study x item, for a heat map; studies by score, highest first.

    Parameters
    ----------
    answers
        As for :func:`item_compliance`.
    labels
        Study labels by ``study_id`` (:attr:`synth.review.Review.study_labels`); default the id.
    scores
        The rater's scores (``study_id`` and ``value``) to sort by and show; None keeps the
        file's order.

    Returns
    -------
    pandas.DataFrame
        Long: ``study_id, label, item, item_label, answer, applicable, met, shade`` plus
        ``score``; ``shade`` is the share of the item's maximum earned (points answers) or 1
        for met, 0 for not met, NaN for not applicable. Rows in display order (study, then
        item).
    """
    rows = _long(rater_rows(answers, rater=rater))
    rows["item_label"] = rows["label"] if "label" in rows.columns else rows["item"].astype(str)
    points = pd.to_numeric(rows["points"] if "points" in rows.columns else rows["answer"],
                           errors="coerce")
    if "points" in rows.columns or points[rows["applicable"]].notna().all():
        maxima = (rows["max_points"].astype(float) if "max_points" in rows.columns
                  else points.groupby(rows["item"]).transform("max"))
        shade = (points / maxima.replace(0, np.nan)).fillna(0.0)
    else:
        shade = rows["met"].astype(float)
    rows["shade"] = shade.where(rows["applicable"])
    studies = list(dict.fromkeys(rows["study_id"]))
    rows["score"] = np.nan
    if scores is not None:
        s = scores.set_index("study_id")[value].astype(float)
        rows["score"] = rows["study_id"].map(s)
        studies.sort(key=lambda sid: (-s.get(sid, -np.inf), str(sid)))
    rows["label"] = rows["study_id"].map(labels).fillna(rows["study_id"]) if labels is not None \
        else rows["study_id"].astype(str)
    order = {sid: i for i, sid in enumerate(studies)}
    rows = rows.assign(_o=rows["study_id"].map(order)).sort_values("_o", kind="stable")
    return rows[["study_id", "label", "item", "item_label", "answer", "applicable", "met",
                 "shade", "score"]].reset_index(drop=True)


# --- agreement -------------------------------------------------------------------------------

def _kappa(x: list, y: list, levels: list, weighted: bool) -> tuple[float, float, float]:
    """Cohen's kappa and its 95 % CI (:func:`synth.quality.kappa_with_ci`)."""
    index = {v: i for i, v in enumerate(levels)}
    table = np.zeros((len(levels), len(levels)))
    for u, v in zip(x, y, strict=True):
        table[index[u], index[v]] += 1
    return quality.kappa_with_ci(table, weighted=weighted)


def _check_raters(raters: Sequence[str]) -> tuple[str, str]:
    raters = tuple(raters)
    if len(raters) != 2 or raters[0] == raters[1]:
        raise ValueError(f"raters={raters!r}: give two different raters, e.g. ('A', 'B')")
    return raters  # type: ignore[return-value]


def item_agreement(answers: pd.DataFrame, *, raters: Sequence[str]) -> pd.DataFrame:
    """Two raters' agreement per item: percentage agreement and Cohen's kappa.

    Parameters
    ----------
    answers
        Long answers (``study_id, rater, item, answer``; optionally ``label``, ``category``)
        or QUADAS-2 judgements in the same shape (``answer`` the judgement).
    raters
        The two raters compared, over the studies both answered. With ``points`` and
        ``max_points`` (:func:`synth.instruments.item_answers`), items worth more than one
        point are compared on their points.

    Returns
    -------
    pandas.DataFrame
        ``item, label, category, weights, levels, n_studies, n_agree, percent_agreement,
        kappa, ci_low, ci_high`` in the items' order. The answers' categories are the levels
        (so "n/a" against "no" is a disagreement); an item answered in numbers with more than
        two observed levels gets a linearly weighted kappa on the levels' ranks, as
        :func:`synth.quality.rater_agreement` does for RQS, others an unweighted one. Kappa is
        NaN when both raters gave one answer throughout; the interval is statsmodels'
        asymptotic 95 % CI bounded to [-1, 1].
    """
    a_name, b_name = _check_raters(raters)
    frame = answers.copy()
    if "label" not in frame.columns:
        frame["label"] = frame["item"].astype(str)
    if "category" not in frame.columns:
        frame["category"] = ""
    frame["_value"] = frame["answer"].astype(object).map(
        lambda v: v if isinstance(v, int | float | np.number) and not pd.isna(v) else _norm(v)
    ).astype(object)
    if "points" in frame.columns and "max_points" in frame.columns:
        scored = frame["max_points"].astype(float) > 1  # items scored in points (RQS, RQS 2.0)
        points = frame["points"].astype(float)
        frame.loc[scored & points.notna(), "_value"] = points[scored & points.notna()]
    a = frame[frame["rater"] == a_name]
    b = frame[frame["rater"] == b_name]
    both = a.merge(b[["study_id", "item", "_value"]], on=["study_id", "item"],
                   suffixes=("", "_b"))
    out = []
    for item, sub in both.groupby("item", sort=False):
        x, y = list(sub["_value"]), list(sub["_value_b"])
        levels = sorted(set(x) | set(y), key=lambda v: (isinstance(v, str), v))
        weighted = len(levels) > 2 and all(isinstance(v, int | float | np.number)
                                           for v in levels)
        kappa, low, high = _kappa(x, y, levels, weighted)
        agree = int(sum(u == v for u, v in zip(x, y, strict=True)))
        out.append({"item": item, "label": sub["label"].iloc[0],
                    "category": sub["category"].iloc[0],
                    "weights": "linear" if weighted else "none",
                    "levels": " / ".join(map(str, levels)), "n_studies": len(x),
                    "n_agree": agree, "percent_agreement": agree / len(x) * 100,
                    "kappa": kappa, "ci_low": low, "ci_high": high})
    return pd.DataFrame(out, columns=["item", "label", "category", "weights", "levels",
                                      "n_studies", "n_agree", "percent_agreement", "kappa",
                                      "ci_low", "ci_high"])


def total_icc(scores: pd.DataFrame, *, raters: Sequence[str], value: str = "percent"
              ) -> IccResult | None:
    """ICC(2,1) of two raters' scores (:func:`synth.quality.icc_totals`), or None with fewer
    than :data:`synth.quality.MIN_PAIRED` studies rated by both."""
    raters = _check_raters(raters)
    paired = quality.paired_scores(scores, raters=raters)
    if quality.agreement_skip_reason(paired, raters=raters) is not None:
        return None
    return quality.icc_totals(paired, values=value)


# --- two instruments side by side ------------------------------------------------------------

@dataclass(frozen=True)
class PairedScores:
    """Two instruments' percentages on the same studies (e.g. RQS 1.0 and METRICS).

    ``points`` holds ``study_id, label, x, y, difference`` (``y - x``); ``rho``/``pvalue`` are
    Spearman's rank correlation (:func:`scipy.stats.spearmanr`), NaN with fewer than
    :data:`synth.quality.MIN_CORRELATION` studies or constant scores; the mean difference comes
    with its SD and the 95 % limits of agreement (mean ± 1.96 SD, Bland & Altman).
    """

    points: pd.DataFrame = field(compare=False, repr=False)
    x_name: str
    y_name: str
    n: int
    rho: float
    pvalue: float
    mean_difference: float
    sd_difference: float
    loa_low: float
    loa_high: float

    def text(self) -> str:
        """``Spearman ρ = 0.41, p = 0.01; METRICS − RQS: mean 38.2 points of %`` or why not."""
        if self.n < quality.MIN_CORRELATION:
            return f"{self.n} studies scored by both: no correlation"
        rho = ("Spearman \u03c1 undefined (constant scores)" if not np.isfinite(self.rho)
               else f"Spearman \u03c1 = {self.rho:.2f}, p = {self.pvalue:.2g}")
        return (f"{rho}; {self.y_name} \u2212 {self.x_name}: mean {self.mean_difference:.1f} "
                f"percentage points (SD {self.sd_difference:.1f})")

    def summary_frame(self) -> pd.DataFrame:
        """One row: ``x, y, n_studies, mean_x, mean_y, mean_difference, sd_difference, loa_low,
        loa_high, rho, pvalue``."""
        return pd.DataFrame([{
            "x": self.x_name, "y": self.y_name, "n_studies": self.n,
            "mean_x": self.points["x"].mean(), "mean_y": self.points["y"].mean(),
            "mean_difference": self.mean_difference, "sd_difference": self.sd_difference,
            "loa_low": self.loa_low, "loa_high": self.loa_high, "rho": self.rho,
            "pvalue": self.pvalue}])


def compare_scores(x: pd.Series, y: pd.Series, *, names: tuple[str, str] = ("RQS", "METRICS"),
                   labels: pd.Series | None = None) -> PairedScores:
    """Two instruments' percentages on the studies both scored, and how they agree.

    Parameters
    ----------
    x, y
        Percentages indexed by ``study_id`` (e.g. :func:`synth.quality.consensus_percent` and
        a METRICS score's ``percent``).
    names
        The instruments' names, for tables and axes.
    labels
        Study labels by ``study_id``.

    Returns
    -------
    PairedScores
    """
    from scipy import stats  # on use: keeps `import synth` fast

    both = pd.DataFrame({"x": x.astype(float), "y": y.astype(float)}).dropna()
    both.index.name = "study_id"
    points = both.reset_index()
    points.insert(1, "label", points["study_id"].map(labels).fillna(points["study_id"])
                  if labels is not None else points["study_id"].astype(str))
    points["difference"] = points["y"] - points["x"]
    n = len(points)
    rho = pvalue = np.nan
    if n >= quality.MIN_CORRELATION:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant input: NaN, said by PairedScores.text
            res = stats.spearmanr(points["x"], points["y"])
        rho, pvalue = float(res.statistic), float(res.pvalue)
    d = points["difference"]
    mean, sd = float(d.mean()) if n else np.nan, float(d.std(ddof=1)) if n > 1 else np.nan
    return PairedScores(points=points, x_name=names[0], y_name=names[1], n=n, rho=rho,
                        pvalue=pvalue, mean_difference=mean, sd_difference=sd,
                        loa_low=mean - 1.96 * sd, loa_high=mean + 1.96 * sd)


# --- moderators ------------------------------------------------------------------------------

def quality_moderators(percents: Mapping[str, pd.Series | None]) -> pd.DataFrame:
    """Each study's percentage by several instruments, one column each (a moderator frame).

    Parameters
    ----------
    percents
        Moderator name (``rqs``, ``metrics``, ``rqs2``) to a percentage per ``study_id``; a
        None entry (the review has no such instrument) is left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``study_id`` (every study any instrument scored, in first-seen order), one
        float column per instrument given; NaN where an instrument did not score a study.
        Each column is what :func:`synth.regression.fit_meta_regression` takes as ``rqs``.
    """
    columns = {name: s.astype(float) for name, s in percents.items() if s is not None}
    if not columns:
        return pd.DataFrame(index=pd.Index([], name="study_id"))
    ids = list(dict.fromkeys(i for s in columns.values() for i in s.index))
    out = pd.DataFrame({n: s.reindex(ids) for n, s in columns.items()}, index=ids)
    out.index.name = "study_id"
    return out


