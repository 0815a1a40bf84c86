"""AUC synthesis by clinical aim: representative AUCs, ranges, pooled estimates and figures.

Three steps, each a tidy DataFrame or a small result object:

1. :func:`representative_auc` picks one reported AUC per study and aim by a documented rule
   (default: external > internal > training validation; radiomics over other models).
2. :func:`auc_ranges` summarises those AUCs per aim (and per aim x modality): the ranges a
   review's abstract quotes. :func:`study_variances` adds logit(AUC) and its sampling variance,
   saying for every study which route gave the variance (reported SE, reported CI,
   Hanley-McNeil or Newcombe from positives/negatives) or why there is none.
3. :func:`pool_by_aim` pools the logit AUCs of an aim with :func:`synth.meta.pool` (REML, DL, PM;
   optional Knapp-Hartung); :func:`pooled_table` tabulates every aim x method.
   :func:`fit_meta_regression` and :func:`small_study_test` go beyond the ranges.

Plot functions take those results (``ax=None``) and return a Figure; the forest plot is drawn
from :meth:`AimPooling.summary_frame`, so figure and table cannot disagree.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator
from scipy import stats

from synth.meta import (
    METHODS,
    EggerResult,
    MetaRegressionResult,
    PooledResult,
    TooFewStudiesError,
    egger_test,
    expit,
    meta_regression,
    pool,
    var_auc_hanley_mcneil,
    var_auc_newcombe,
    var_logit_from_ci,
    var_logit_from_se,
    var_logit_from_var_auc,
)
from synth.review import Review
from synth.schema import AIMS, COHORTS, MODALITIES, MODELS
from synth.style import (
    AIM_COLOURS,
    COHORT_COLOURS,
    MANUSCRIPT,
    MM_PER_INCH,
    mark_synthetic,
    new_figure,
)

__all__ = [
    "RULES",
    "TIE_BREAKS",
    "COHORT_PREFERENCE",
    "MODEL_PREFERENCE",
    "VARIANCE_METHODS",
    "MODERATORS",
    "ROUTES",
    "representative_auc",
    "auc_ranges",
    "study_variances",
    "AimPooling",
    "pool_by_aim",
    "FOREST_MAX_STUDIES",
    "forest_skip_reason",
    "pooled_table",
    "studies_table",
    "RegressionFit",
    "fit_meta_regression",
    "meta_regression_table",
    "SmallStudyTest",
    "small_study_test",
    "egger_table",
    "plot_auc_by_aim",
    "plot_forest",
    "plot_evidence_map",
    "plot_meta_regression",
    "plot_meta_regression_panels",
    "plot_funnel",
    "plot_funnel_panels",
]

RULES: tuple[str, ...] = ("validation", "best")
"""Rules for the representative AUC of a study and aim.

``"validation"`` (default, the seed review's rule): the most independent cohort
(:data:`COHORT_PREFERENCE`), within it the model kind first in :data:`MODEL_PREFERENCE`.
``"best"``: the highest AUC the study reports for the aim, whatever the cohort or model
(an optimistic sensitivity analysis)."""

TIE_BREAKS: tuple[str, ...] = ("lowest", "highest", "first")
"""How rule ``"validation"`` chooses between rows of the same cohort and model kind, after
preferring the larger ``n``: the lowest AUC (default; conservative when a paper reports several
models of one kind, e.g. the best of 45 classifiers), the highest, or the first in the file."""

COHORT_PREFERENCE: tuple[str, ...] = ("external validation", "internal validation", "training")
"""Default cohort order of rule ``"validation"``: most to least independent of model fitting."""

MODEL_PREFERENCE: tuple[str, ...] = (
    "radiomics", "deep learning", "combined", "clinical", "single feature")
"""Default model order of rule ``"validation"``: a radiomics review represents a study by its
radiomics model; deep learning is image-derived too; a combined model mixes in clinical data;
clinical-only and single-feature models come last."""

VARIANCE_METHODS: tuple[str, ...] = ("hanley-mcneil", "newcombe")
"""Formula for var(AUC) from positives and negatives, used when neither SE nor CI is reported:
Hanley & McNeil (1982) or Newcombe (2006) method 4 (metamisc's choice)."""

ROUTES: tuple[str, ...] = ("reported SE", "reported CI", "Hanley-McNeil", "Newcombe", "none")
"""Where a study's variance of logit(AUC) came from, in the order they are tried."""

MODERATORS: tuple[str, ...] = ("year", "cohort", "rqs")
"""Study-level moderators for :func:`fit_meta_regression`: publication year, cohort type of the
representative AUC (training as reference), RQS percentage (needs quality data)."""


_Z95 = float(stats.norm.isf(0.025))
_COHORT_MARKERS = dict(zip(COHORTS, ("o", "s", "D"), strict=True))
_COHORT_SHORT = {"training": "train", "internal validation": "int", "external validation": "ext"}
_NOT_POOLED_COLOUR = "#666666"
_NO_STUDIES = "no studies"

_REPRESENTATIVE_COLUMNS = [
    "study_id", "first_author", "year", "modality", "n_patients", "aim", "target", "model",
    "model_name", "cohort", "auc", "ci_low", "ci_high", "auc_se", "n", "positives",
    "negatives", "performance_row", "n_candidates", "selection",
]


# ---------------------------------------------------------------------------------------------
# Validation of options
# ---------------------------------------------------------------------------------------------


def _check_choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; use one of: "
                         f"{', '.join(repr(a) for a in allowed)}.")
    return str(value)


def _check_aims(aims: Sequence[str]) -> tuple[str, ...]:
    if isinstance(aims, str):
        aims = [aims]
    out = tuple(aims)
    for aim in out:
        _check_choice("aims", aim, AIMS)
    if not out:
        raise ValueError(f"aims is empty; use one or more of: {', '.join(AIMS)}.")
    # AIMS order, whatever order the caller gave
    return tuple(a for a in AIMS if a in out)


def _check_order(name: str, order: Sequence[str], vocabulary: Sequence[str]) -> tuple[str, ...]:
    out = tuple(order)
    for value in out:
        _check_choice(name, value, vocabulary)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}={list(out)!r} repeats a value; list each at most once.")
    return out


# ---------------------------------------------------------------------------------------------
# 1. Representative AUC
# ---------------------------------------------------------------------------------------------


def representative_auc(
    review: Review,
    *,
    rule: str = "validation",
    cohort_order: Sequence[str] = COHORT_PREFERENCE,
    model_order: Sequence[str] = MODEL_PREFERENCE,
    tie: str = "lowest",
    aims: Sequence[str] = AIMS,
) -> pd.DataFrame:
    """One reported AUC per study and aim, chosen by a documented rule.

    Parameters
    ----------
    review : Review
        A loaded review (:func:`synth.load_review`).
    rule : {"validation", "best"}, default "validation"
        ``"validation"``: the first cohort of ``cohort_order`` the study reports for the aim,
        within it the first model kind of ``model_order``; rows still tied go to the larger
        ``n`` (unknown n last), then to ``tie``. ``"best"``: the highest AUC; equal AUCs are
        ordered by cohort, then model preference.
    cohort_order : sequence of str, default :data:`COHORT_PREFERENCE`
        Cohorts from most to least preferred; cohorts left out are used only when nothing
        listed is reported, in the data dictionary's order.
    model_order : sequence of str, default :data:`MODEL_PREFERENCE`
        Model kinds from most to least preferred; same handling of left-out kinds.
    tie : {"lowest", "highest", "first"}, default "lowest"
        Rule ``"validation"`` only: among rows of the same cohort, model kind and ``n``, take
        the lowest AUC, the highest, or the first in ``performance.csv``. Any remaining tie
        goes to the first row in the file, so the choice is always deterministic.
    aims : sequence of str, default all aims
        Aims to keep (returned in the data dictionary's order).

    Returns
    -------
    pandas.DataFrame
        One row per study and aim, ordered by aim, then year and study: ``study_id``,
        ``first_author``, ``year``, ``modality``, ``n_patients`` (from studies.csv); ``aim``,
        ``target``, ``model``, ``model_name``, ``cohort``, ``auc``, ``ci_low``, ``ci_high``,
        ``auc_se``, ``n``, ``positives``, ``negatives`` (the chosen performance row);
        ``performance_row`` (its row in performance.csv as a spreadsheet numbers it, header =
        row 1), ``n_candidates`` (rows the study reports for the aim) and ``selection`` (why
        this row, in words).

    Raises
    ------
    ValueError
        For an unknown rule, tie break, aim, cohort or model kind (the message lists the
        allowed values).
    """
    rule = _check_choice("rule", rule, RULES)
    tie = _check_choice("tie", tie, TIE_BREAKS)
    aims = _check_aims(aims)
    cohorts = _check_order("cohort_order", cohort_order, COHORTS)
    models = _check_order("model_order", model_order, MODELS)
    cohorts = cohorts + tuple(c for c in COHORTS if c not in cohorts)
    models = models + tuple(m for m in MODELS if m not in models)

    perf = review.performance.copy()
    perf["performance_row"] = np.arange(len(perf)) + 2
    perf = perf[perf["aim"].isin(aims)]
    auc = perf["auc"].astype(float)
    n = perf["n"].astype(float)
    keys = pd.DataFrame({
        "cohort_rank": perf["cohort"].map({c: i for i, c in enumerate(cohorts)}),
        "model_rank": perf["model"].map({m: i for i, m in enumerate(models)}),
        "n_key": -n.fillna(-1.0),  # larger n first, unknown n last
        "file": perf["performance_row"],
    }, index=perf.index)
    if rule == "best":
        keys["auc_key"] = -auc
        order = ["auc_key", "cohort_rank", "model_rank", "file"]
    else:
        keys["auc_key"] = {"lowest": auc, "highest": -auc, "first": 0.0}[tie]
        order = ["cohort_rank", "model_rank", "n_key", "auc_key", "file"]
    perf = perf.join(keys)
    perf = perf.sort_values(["study_id", "aim", *order], kind="mergesort")
    grouped = perf.groupby(["study_id", "aim"], sort=False)
    chosen = grouped.head(1).copy()
    chosen["n_candidates"] = grouped["auc"].transform("size").loc[chosen.index].astype(int)
    same = perf.groupby(["study_id", "aim", "cohort", "model"], sort=False)["auc"]
    chosen["n_same"] = same.transform("size").loc[chosen.index].astype(int)
    chosen["selection"] = [
        _describe_selection(total, n_same, cohort, model, rule, tie)
        for total, n_same, cohort, model in zip(chosen["n_candidates"], chosen["n_same"],
                                                chosen["cohort"], chosen["model"], strict=True)
    ]
    study_cols = ["study_id", "first_author", "year", "modality", "n_patients"]
    out = chosen.merge(review.studies[study_cols], on="study_id", how="left")
    out["aim"] = pd.Categorical(out["aim"], categories=list(AIMS), ordered=True)
    out = out.sort_values(["aim", "year", "study_id"], kind="mergesort")
    out["aim"] = out["aim"].astype(str)
    return out[_REPRESENTATIVE_COLUMNS].reset_index(drop=True)


def _describe_selection(total: int, n_same: int, cohort: str, model: str, rule: str,
                        tie: str) -> str:
    """Why the chosen row represents its study, in words (for the output table).

    ``total`` is the study's number of AUCs for the aim; ``n_same`` how many of them share the
    chosen row's cohort and model kind.
    """
    if total == 1:
        return "only AUC reported"
    if rule == "best":
        return f"highest of {total} AUCs"
    text = f"{cohort}, {model} (of {total} AUCs)"
    if n_same > 1:
        text += f"; {n_same} such rows: larger n, then {tie}"
    return text


# ---------------------------------------------------------------------------------------------
# 2. Ranges
# ---------------------------------------------------------------------------------------------


def _fmt_auc(value: float) -> str:
    """An AUC as printed in a range: two decimals, three when needed (0.997 stays 0.997)."""
    two = f"{value:.2f}"
    return two if abs(float(two) - value) < 1e-9 else f"{value:.3f}"


def _range_text(values: pd.Series) -> str:
    if values.empty:
        return _NO_STUDIES
    lo, hi = float(values.min()), float(values.max())
    return _fmt_auc(lo) if lo == hi else f"{_fmt_auc(lo)}–{_fmt_auc(hi)}"


def auc_ranges(
    representative: pd.DataFrame,
    *,
    by: str | None = None,
    aims: Sequence[str] = AIMS,
) -> pd.DataFrame:
    """Range summary of representative AUCs per aim (optionally per aim x modality or cohort).

    Parameters
    ----------
    representative : pandas.DataFrame
        Output of :func:`representative_auc`.
    by : {None, "modality", "cohort"}, default None
        Second grouping. Every aim (and every modality or cohort of the data dictionary) gets a
        row, with ``n_studies = 0`` when there is no study, so gaps in the evidence show.
    aims : sequence of str, default all aims
        Aims to report, in the data dictionary's order.

    Returns
    -------
    pandas.DataFrame
        ``aim``, [``modality`` or ``cohort``], ``n_studies``, ``n_patients`` (sum of the
        studies' ``n_patients``; a study with several aims counts in each; 0 without studies,
        missing when no study of the cell reports it),
        ``n_patients_unknown`` (studies without a patient count), ``auc_min``, ``auc_max``,
        ``auc_median``, ``auc_q1``, ``auc_q3`` (quartiles by linear interpolation, R's type 7),
        ``auc_range`` (text, e.g. ``0.74–0.96``), and ``n_training``,
        ``n_internal_validation``, ``n_external_validation`` (studies by the cohort of their
        representative AUC).
    """
    aims = _check_aims(aims)
    levels: dict[str, tuple[str, ...]] = {"modality": MODALITIES, "cohort": COHORTS}
    if by is not None:
        _check_choice("by", by, tuple(levels))
    rows: list[dict[str, Any]] = []
    cells = [(aim, None) for aim in aims] if by is None else [
        (aim, level) for aim in aims for level in levels[by]]
    for aim, level in cells:
        sel = representative[representative["aim"] == aim]
        if by is not None:
            sel = sel[sel[by] == level]
        auc = sel["auc"].astype(float)
        patients = sel["n_patients"].astype(float)
        row: dict[str, Any] = {"aim": aim}
        if by is not None:
            row[by] = level
        row |= {
            "n_studies": int(sel["study_id"].nunique()),
            "n_patients": int(patients.sum()) if patients.notna().any() or sel.empty
            else pd.NA,
            "n_patients_unknown": int(patients.isna().sum()),
            "auc_min": auc.min() if len(auc) else np.nan,
            "auc_max": auc.max() if len(auc) else np.nan,
            "auc_median": auc.median() if len(auc) else np.nan,
            "auc_q1": auc.quantile(0.25) if len(auc) else np.nan,
            "auc_q3": auc.quantile(0.75) if len(auc) else np.nan,
            "auc_range": _range_text(auc),
        }
        for cohort in COHORTS:
            row["n_" + cohort.replace(" ", "_")] = int((sel["cohort"] == cohort).sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["n_patients"] = out["n_patients"].astype("Int64")
    return out


# ---------------------------------------------------------------------------------------------
# 3. Variances and pooling
# ---------------------------------------------------------------------------------------------


def study_variances(representative: pd.DataFrame, *, variance: str = "hanley-mcneil"
                    ) -> pd.DataFrame:
    """logit(AUC) and its sampling variance per study, with the route that gave it.

    The first route the study's reporting allows is taken (as R's metamisc does):

    1. ``reported SE``: var = (SE / (AUC (1 − AUC)))²;
    2. ``reported CI``: var = ((logit(upper) − logit(lower)) / (2 × 1.959964))²;
    3. ``Hanley-McNeil`` (default) or ``Newcombe`` (``variance="newcombe"``) from positives
       and negatives (one of them may be given as ``n`` minus the other);
    4. ``none``: the study is shown but not pooled; ``not_pooled_reason`` says why.

    A route is skipped when its numbers cannot give a finite variance (an interval bound of 0
    or 1, a class of size 0); an AUC of exactly 0 or 1 has no finite logit and is not pooled.

    Parameters
    ----------
    representative : pandas.DataFrame
        Output of :func:`representative_auc` (or any frame with ``auc``, ``ci_low``,
        ``ci_high``, ``auc_se``, ``n``, ``positives``, ``negatives``).
    variance : {"hanley-mcneil", "newcombe"}, default "hanley-mcneil"
        Formula for route 3.

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``logit_auc``, ``var_logit``, ``se_logit``,
        ``variance_route`` (one of :data:`ROUTES`), ``poolable`` (bool: finite logit and
        variance) and ``not_pooled_reason`` (empty when poolable).

    Notes
    -----
    The routes follow R's metamisc (``ccalc``; Debray et al., BMJ 2017;356:i6460); no Python
    library offers them, so the dispatch is written here over the formulas of
    :mod:`synth.meta`. Reporting the route per study lets a reader match metamisc or metafor.
    """
    variance = _check_choice("variance", variance, VARIANCE_METHODS)
    out = representative.copy()
    auc = out["auc"].astype(float).to_numpy()
    se = out["auc_se"].astype(float).to_numpy()
    lo = out["ci_low"].astype(float).to_numpy()
    hi = out["ci_high"].astype(float).to_numpy()
    n = out["n"].astype(float).to_numpy()
    pos = out["positives"].astype(float).to_numpy()
    neg = out["negatives"].astype(float).to_numpy()
    pos = np.where(np.isnan(pos) & ~np.isnan(neg), n - neg, pos)
    neg = np.where(np.isnan(neg) & ~np.isnan(pos), n - pos, neg)

    inner = (auc > 0) & (auc < 1)
    safe_auc = np.where(inner, auc, np.nan)
    ok_se = inner & (se > 0)
    ok_ci = inner & (lo > 0) & (hi < 1) & (lo < hi)
    ok_counts = inner & (pos >= 1) & (neg >= 1)

    var_se = var_logit_from_se(safe_auc, np.where(ok_se, se, np.nan))
    var_ci = var_logit_from_ci(safe_auc, np.where(ok_ci, lo, np.nan), np.where(ok_ci, hi, np.nan))
    formula = var_auc_hanley_mcneil if variance == "hanley-mcneil" else var_auc_newcombe
    var_auc = formula(safe_auc, np.where(ok_counts, pos, np.nan), np.where(ok_counts, neg, np.nan))
    with np.errstate(invalid="ignore"):
        var_auc = np.where(var_auc > 0, var_auc, np.nan)
    var_counts = var_logit_from_var_auc(safe_auc, var_auc)
    counts_route = "Hanley-McNeil" if variance == "hanley-mcneil" else "Newcombe"

    routes = np.full(len(out), "none", dtype=object)
    var = np.full(len(out), np.nan)
    for values, name in ((var_counts, counts_route), (var_ci, "reported CI"),
                         (var_se, "reported SE")):  # last assignment wins: SE first
        usable = np.isfinite(values) & (values > 0)
        routes = np.where(usable, name, routes)
        var = np.where(usable, values, var)
    reasons = np.where(
        routes != "none", "",
        np.where(inner, "no SE, 95% CI or positives/negatives reported",
                 "AUC of 0 or 1 has no finite logit"))
    with np.errstate(divide="ignore", invalid="ignore"):
        logit_auc = np.log(auc) - np.log1p(-auc)
    out["logit_auc"] = np.where(inner, logit_auc, np.nan)
    out["var_logit"] = var
    out["se_logit"] = np.sqrt(var)
    out["variance_route"] = routes
    out["poolable"] = routes != "none"
    out["not_pooled_reason"] = reasons
    return out


@dataclass(frozen=True, eq=False)
class AimPooling:
    """Random-effects pooling of the logit AUCs of one aim.

    Attributes
    ----------
    aim : str
        The clinical aim.
    method : str
        tau² estimator (:data:`synth.meta.METHODS`).
    knapp_hartung : bool
        Whether the Knapp-Hartung adjustment was applied.
    studies : pandas.DataFrame
        All studies of the aim (output of :func:`study_variances`), with a column ``pooled``
        (True for those in the pooled estimate) and ``weight`` (percent, NaN if not pooled).
    result : PooledResult or None
        The pooled result on the logit scale; None when it could not be estimated.
    reason : str
        Why there is no pooled estimate ("" when there is one).
    alpha : float
        Significance level of the intervals.
    """

    aim: str
    method: str
    knapp_hartung: bool
    studies: pd.DataFrame
    result: PooledResult | None
    reason: str
    alpha: float = 0.05

    @property
    def k_shown(self) -> int:
        """Studies of the aim (shown in the forest plot)."""
        return int(len(self.studies))

    @property
    def k_pooled(self) -> int:
        """Studies in the pooled estimate (0 without one)."""
        return int(self.studies["pooled"].sum()) if self.k_shown else 0

    @property
    def label(self) -> str:
        """Name of the model, e.g. ``Random effects (REML, Knapp-Hartung)``."""
        kind = "Fixed effect" if self.method == "FE" else f"Random effects ({self.method}"
        if self.method != "FE":
            kind += ", Knapp-Hartung)" if self.knapp_hartung else ")"
        return kind

    def pooled_frame(self) -> pd.DataFrame:
        """One row of ``auc_pooled.csv`` for this aim and method.

        Returns
        -------
        pandas.DataFrame
            ``aim, method, knapp_hartung, k, k_shown, estimate_logit, se_logit, tau2, i2,
            auc_pooled, ci_low, ci_high, pi_low, pi_high, q, q_pvalue, note``; the AUC-scale
            columns are back-transformed (expit) from the logit scale; NaN and a ``note``
            saying why when there is no pooled estimate.
        """
        row: dict[str, Any] = {"aim": self.aim, "method": self.method,
                               "knapp_hartung": self.knapp_hartung, "k": self.k_pooled,
                               "k_shown": self.k_shown}
        keys = ["estimate_logit", "se_logit", "tau2", "i2", "auc_pooled", "ci_low", "ci_high",
                "pi_low", "pi_high", "q", "q_pvalue"]
        if self.result is None:
            row |= dict.fromkeys(keys, np.nan)
            row["note"] = self.reason
        else:
            s = self.result.summary_frame(alpha=self.alpha).iloc[0]
            row |= {
                "estimate_logit": s["estimate"], "se_logit": s["se"], "tau2": s["tau2"],
                "i2": s["i2"], "auc_pooled": expit(s["estimate"]),
                "ci_low": expit(s["ci_low"]), "ci_high": expit(s["ci_high"]),
                "pi_low": expit(s["pi_low"]), "pi_high": expit(s["pi_high"]),
                "q": s["q"], "q_pvalue": s["q_pvalue"],
            }
            shown_not_pooled = self.k_shown - self.k_pooled
            row["note"] = (f"{shown_not_pooled} of {self.k_shown} studies not pooled (no "
                           "variance)" if shown_not_pooled else "")
        return pd.DataFrame([row])

    def summary_frame(self) -> pd.DataFrame:
        """The forest-plot table: one row per study, then the pooled row.

        Returns
        -------
        pandas.DataFrame
            ``kind`` ("study" or "pooled"), ``label`` (first author and year, or the model
            name), ``study_id``, ``cohort``, ``auc``, ``ci_low``, ``ci_high`` (study: the
            interval implied by the variance used for pooling, expit(logit ± z·SE); pooled:
            its confidence interval), ``pi_low``, ``pi_high`` (pooled row only), ``weight``
            (percent), ``poolable`` (bool: has a variance), ``pooled`` (bool: in the pooled
            estimate), ``variance_route``. Studies are ordered by year,
            then study id.
        """
        z = float(stats.norm.isf(self.alpha / 2))
        s = self.studies.sort_values(["year", "study_id"], kind="mergesort")
        logit = s["logit_auc"].to_numpy(dtype=float)
        se = s["se_logit"].to_numpy(dtype=float)
        frame = pd.DataFrame({
            "kind": "study",
            "label": [_study_label(r) for r in s.itertuples()],
            "study_id": s["study_id"].to_numpy(),
            "cohort": s["cohort"].to_numpy(),
            "auc": s["auc"].astype(float).to_numpy(),
            "ci_low": expit(logit - z * se),
            "ci_high": expit(logit + z * se),
            "pi_low": np.nan,
            "pi_high": np.nan,
            "weight": s["weight"].to_numpy(dtype=float),
            "poolable": s["poolable"].to_numpy(dtype=bool),
            "pooled": s["pooled"].to_numpy(dtype=bool),
            "variance_route": s["variance_route"].to_numpy(),
        })
        if self.result is not None:
            p = self.pooled_frame().iloc[0]
            frame.loc[len(frame)] = {
                "kind": "pooled", "label": self.label, "study_id": "", "cohort": "",
                "auc": p["auc_pooled"], "ci_low": p["ci_low"], "ci_high": p["ci_high"],
                "pi_low": p["pi_low"], "pi_high": p["pi_high"], "weight": 100.0,
                "poolable": True, "pooled": True, "variance_route": "",
            }
        return frame


def _study_label(row: Any) -> str:
    author = str(row.first_author) if isinstance(row.first_author, str) else str(row.study_id)
    year = "" if pd.isna(row.year) else f" {int(row.year)}"
    return f"{author}{year}"


def pool_by_aim(
    table: pd.DataFrame,
    *,
    method: str = "REML",
    knapp_hartung: bool = False,
    aims: Sequence[str] = AIMS,
    alpha: float = 0.05,
) -> dict[str, AimPooling]:
    """Pool logit AUCs per aim with :func:`synth.meta.pool`.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`.
    method : {"REML", "DL", "PM", "FE"}, default "REML"
        Estimator of tau² (REML is metafor's default and the recommended one).
    knapp_hartung : bool, default False
        Knapp-Hartung adjustment of the SE, t(k − 1) intervals (metamisc's default).
    aims : sequence of str, default all aims
        Aims to pool, in the data dictionary's order.
    alpha : float, default 0.05
        Significance level of confidence and prediction intervals.

    Returns
    -------
    dict of str to AimPooling
        One entry per aim, in the data dictionary's order; an aim with fewer than 2 poolable
        studies has ``result=None`` and a ``reason``.

    Notes
    -----
    The prediction interval is metafor's (normal quantile; t(k − 1) with Knapp-Hartung);
    metamisc uses t(k − 2), which is wider for small k.
    """
    aims = _check_aims(aims)
    if str(method).upper() not in METHODS:
        raise ValueError(f"method={method!r} is not allowed; use one of: {', '.join(METHODS)}.")
    out: dict[str, AimPooling] = {}
    for aim in aims:
        studies = table[table["aim"] == aim].copy()
        poolable = studies["poolable"].to_numpy(dtype=bool)
        k = int(poolable.sum())
        studies["pooled"] = False
        studies["weight"] = np.nan
        result: PooledResult | None = None
        reason = ""
        if len(studies) == 0:
            reason = "no studies"
        elif k < 2:
            reason = (f"only {k} of {len(studies)} studies with a variance (SE, CI or "
                      "positives/negatives); pooling needs 2")
        else:
            used = studies[poolable]
            try:
                result = pool(used["logit_auc"], used["var_logit"], method=method,
                              knapp_hartung=knapp_hartung, alpha=alpha)
            except (TooFewStudiesError, ValueError, RuntimeError) as exc:
                reason = f"pooling failed: {exc}"
            else:
                studies.loc[used.index, "pooled"] = True
                studies.loc[used.index, "weight"] = result.weights
        out[aim] = AimPooling(aim=aim, method=str(method).upper(),
                              knapp_hartung=bool(knapp_hartung), studies=studies,
                              result=result, reason=reason, alpha=alpha)
    return out


def pooled_table(
    table: pd.DataFrame,
    *,
    methods: Sequence[str] = ("REML", "DL", "PM"),
    knapp_hartung: bool = False,
    aims: Sequence[str] = AIMS,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Pooled AUC per aim and estimator (``auc_pooled.csv``).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`.
    methods : sequence of str, default ("REML", "DL", "PM")
        tau² estimators, one row each per aim.
    knapp_hartung, aims, alpha
        As in :func:`pool_by_aim`.

    Returns
    -------
    pandas.DataFrame
        Rows aim x method in that order; columns of :meth:`AimPooling.pooled_frame`: ``aim,
        method, knapp_hartung, k, k_shown, estimate_logit, se_logit, tau2, i2, auc_pooled,
        ci_low, ci_high, pi_low, pi_high, q, q_pvalue, note``.
    """
    frames = []
    per_method = {m: pool_by_aim(table, method=m, knapp_hartung=knapp_hartung, aims=aims,
                                 alpha=alpha) for m in methods}
    for aim in _check_aims(aims):
        for m in methods:
            frames.append(per_method[m][aim].pooled_frame())
    return pd.concat(frames, ignore_index=True)


_STUDIES_COLUMNS = [
    "study_id", "aim", "cohort", "model", "first_author", "year", "modality",
    "performance_row", "auc", "ci_low", "ci_high", "auc_se", "n", "positives", "negatives",
    "logit_auc", "var_logit", "variance_route", "poolable", "pooled", "weight",
    "not_pooled_reason",
]


def studies_table(poolings: dict[str, AimPooling]) -> pd.DataFrame:
    """Per-study table of the pooling (``auc_studies.csv``).

    Parameters
    ----------
    poolings : dict of str to AimPooling
        Output of :func:`pool_by_aim`.

    Returns
    -------
    pandas.DataFrame
        One row per study and aim, aims in the data dictionary's order: ``study_id, aim,
        cohort, model, first_author, year, modality, performance_row, auc, ci_low, ci_high,
        auc_se, n, positives, negatives, logit_auc, var_logit, variance_route, poolable,
        pooled, weight, not_pooled_reason``. ``poolable``: the study has a variance;
        ``pooled``: it is in the aim's pooled estimate (False for every study of an aim with
        fewer than 2 poolable studies); ``weight``: percent of the pooled estimate.
    """
    frames = [p.studies[_STUDIES_COLUMNS] for p in poolings.values() if p.k_shown]
    if not frames:
        return pd.DataFrame(columns=_STUDIES_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    reason = out["not_pooled_reason"].astype(str)
    no_estimate = out["poolable"] & ~out["pooled"].astype(bool)
    out["not_pooled_reason"] = np.where(no_estimate, "no pooled estimate for this aim", reason)
    return out


# ---------------------------------------------------------------------------------------------
# Meta-regression and small-study effects
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RegressionFit:
    """Meta-regression of logit AUC on one moderator, within one aim.

    Attributes
    ----------
    aim : str
        The aim.
    moderator : str
        One of :data:`MODERATORS`.
    method : str
        tau² estimator.
    data : pandas.DataFrame
        The studies used: ``study_id``, ``label``, ``cohort``, ``x`` (moderator value; for
        ``cohort`` the cohort name), ``logit_auc``, ``var_logit``, ``weight`` (percent).
    result : MetaRegressionResult or None
        The fit; None when it could not be made.
    reason : str
        Why there is no fit ("" when there is one).
    """

    aim: str
    moderator: str
    method: str
    data: pd.DataFrame
    result: MetaRegressionResult | None
    reason: str

    @property
    def k(self) -> int:
        return int(len(self.data))

    def summary_frame(self) -> pd.DataFrame:
        """Coefficients with the fit's context (one row per term; one row with a note if no fit).

        Returns
        -------
        pandas.DataFrame
            ``aim, moderator, method, k, term, estimate, se, pvalue, ci_low, ci_high, tau2, r2,
            note``; estimates on the logit-AUC scale.
        """
        base = {"aim": self.aim, "moderator": self.moderator, "method": self.method,
                "k": self.k}
        if self.result is None:
            return pd.DataFrame([base | {"term": "", "estimate": np.nan, "se": np.nan,
                                         "pvalue": np.nan, "ci_low": np.nan,
                                         "ci_high": np.nan, "tau2": np.nan, "r2": np.nan,
                                         "note": self.reason}])
        s = self.result.summary_frame()
        for key, value in reversed(base.items()):
            s.insert(0, key, value)
        s["tau2"] = self.result.tau2
        s["r2"] = self.result.r2
        s["note"] = "fewer than 10 studies: low power" if self.k < 10 else ""
        return s[["aim", "moderator", "method", "k", "term", "estimate", "se", "pvalue",
                  "ci_low", "ci_high", "tau2", "r2", "note"]]


def fit_meta_regression(
    table: pd.DataFrame,
    *,
    aim: str,
    moderator: str,
    rqs: pd.Series | None = None,
    method: str = "REML",
) -> RegressionFit:
    """Mixed-effects meta-regression of logit AUC on a study-level moderator within an aim.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`; only poolable studies are used.
    aim : str
        The aim whose studies are regressed (aims are not mixed).
    moderator : {"year", "cohort", "rqs"}
        Publication year; cohort type of the representative AUC (indicator variables with
        ``training`` as reference, or the least independent cohort present); RQS percentage.
    rqs : pandas.Series, optional
        Quality score (percentage) per ``study_id``, needed for ``"rqs"``; e.g. the consensus
        ``percent`` of :func:`synth.quality.score`, indexed by study.
    method : str, default "REML"
        tau² estimator (:data:`synth.meta.METHODS`).

    Returns
    -------
    RegressionFit
        With ``result=None`` and a ``reason`` when there are too few studies, no quality data,
        or the moderator does not vary.

    Notes
    -----
    Weights are the random-effects weights 1/(v + tau²); coefficients from statsmodels' WLS
    with the scale fixed at 1 (metafor's z test), see :func:`synth.meta.meta_regression`.
    """
    aim = _check_aims([aim])[0]
    moderator = _check_choice("moderator", moderator, MODERATORS)
    used = table[(table["aim"] == aim) & table["poolable"]].copy()
    used["label"] = [_study_label(r) for r in used.itertuples()]
    reason = ""
    if moderator == "rqs":
        if rqs is None or rqs.empty:
            reason = "no quality data (quality.csv) for the RQS percentage"
            used["x"] = np.nan
        else:
            used["x"] = used["study_id"].map(rqs)
            missing = int(used["x"].isna().sum())
            used = used[used["x"].notna()]
            if missing:
                reason = f"{missing} studies without RQS scores left out" if len(used) else ""
    elif moderator == "year":
        used["x"] = used["year"].astype(float)
    else:
        used["x"] = used["cohort"]
    columns = ["study_id", "label", "cohort", "x", "logit_auc", "var_logit"]
    data = used[columns].reset_index(drop=True)
    data["weight"] = np.nan
    if reason.startswith("no quality"):
        return RegressionFit(aim, moderator, method, data.iloc[0:0], None, reason)
    if moderator == "cohort":
        present = [c for c in COHORTS if (data["x"] == c).any()]
        design = pd.DataFrame({c: (data["x"] == c).astype(float) for c in present[1:]})
    else:
        design = pd.DataFrame({moderator: data["x"].astype(float)})
    if len(data) < 3:
        return RegressionFit(aim, moderator, method, data, None,
                             f"too few studies with a variance: k = {len(data)}, needs 3")
    if design.shape[1] == 0 or (design.nunique() <= 1).any():
        values = "cohort type" if moderator == "cohort" else moderator
        why = f"the {values} is the same for all {len(data)} studies" if len(data) else \
            "no studies with a variance"
        return RegressionFit(aim, moderator, method, data, None, why)
    try:
        result = meta_regression(data["logit_auc"], data["var_logit"], design, method=method)
    except TooFewStudiesError as exc:
        return RegressionFit(aim, moderator, method, data, None,
                             f"too few studies: k = {exc.k}, needs {exc.needed}")
    except (ValueError, RuntimeError) as exc:
        return RegressionFit(aim, moderator, method, data, None, f"no fit: {exc}")
    data["weight"] = result.weights
    return RegressionFit(aim, moderator, method, data, result, "")


def meta_regression_table(fits: Sequence[RegressionFit]) -> pd.DataFrame:
    """Coefficient tables of several fits stacked (``auc_meta_regression.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns of :meth:`RegressionFit.summary_frame`.
    """
    return pd.concat([f.summary_frame() for f in fits], ignore_index=True)


@dataclass(frozen=True, eq=False)
class SmallStudyTest:
    """Funnel-plot data and Egger's regression test for one aim.

    Attributes
    ----------
    aim : str
        The aim.
    data : pandas.DataFrame
        Poolable studies: ``study_id``, ``cohort``, ``logit_auc``, ``se_logit``.
    centre : float
        Pooled logit AUC (centre of the funnel), NaN if not estimable.
    egger : EggerResult or None
        metafor's ``regtest`` equivalent; None with a ``reason`` when k < 3.
    reason : str
        Why there is no test ("" when there is one).
    """

    aim: str
    data: pd.DataFrame
    centre: float
    egger: EggerResult | None
    reason: str

    @property
    def k(self) -> int:
        return int(len(self.data))

    def summary_frame(self) -> pd.DataFrame:
        """One row: the aim's Egger test.

        Returns
        -------
        pandas.DataFrame
            ``aim, k, z, pvalue, slope, slope_se, limit_estimate, limit_se, note``; NaN and a
            note saying why when there is no test, a low-power note when k < 10.
        """
        row: dict[str, Any] = {"aim": self.aim, "k": self.k}
        keys = ("z", "pvalue", "slope", "slope_se", "limit_estimate", "limit_se")
        if self.egger is None:
            row |= dict.fromkeys(keys, np.nan)
            row["note"] = self.reason
        else:
            row |= {key: getattr(self.egger, key) for key in keys}
            row["note"] = "fewer than 10 studies: low power" if self.k < 10 else ""
        return pd.DataFrame([row])


def egger_table(tests: Sequence[SmallStudyTest]) -> pd.DataFrame:
    """Egger's tests of several aims stacked (``auc_egger.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns of :meth:`SmallStudyTest.summary_frame`.
    """
    return pd.concat([t.summary_frame() for t in tests], ignore_index=True)


def small_study_test(table: pd.DataFrame, *, aim: str, method: str = "REML") -> SmallStudyTest:
    """Funnel data and Egger's regression test (logit AUC on its SE) for an aim.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`.
    aim : str
        The aim.
    method : str, default "REML"
        tau² estimator of the pooled centre and of the test's mixed-effects model.

    Returns
    -------
    SmallStudyTest
        ``egger=None`` with a reason when fewer than 3 studies have a variance. With fewer than
        10 studies the test has little power (Sterne et al., BMJ 2011;343:d4002).
    """
    aim = _check_aims([aim])[0]
    used = table[(table["aim"] == aim) & table["poolable"]]
    data = used[["study_id", "cohort", "logit_auc", "se_logit"]].reset_index(drop=True)
    centre = np.nan
    try:
        egger = egger_test(data["logit_auc"], data["se_logit"] ** 2, method=method)
        centre = pool(data["logit_auc"], data["se_logit"] ** 2, method=method).estimate
    except TooFewStudiesError as exc:
        return SmallStudyTest(aim, data, centre, None,
                              f"Egger's test needs k ≥ {exc.needed} studies, k = {exc.k}")
    except (ValueError, RuntimeError) as exc:
        return SmallStudyTest(aim, data, centre, None, f"no test: {exc}")
    return SmallStudyTest(aim, data, centre, egger, "")


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _figure(ax: Axes | None, width: str | float, height_mm: float) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = new_figure(width, height_mm)
        return fig, ax  # type: ignore[return-value]
    return ax.figure, ax  # type: ignore[return-value]


def _is_one_column(width: str | float) -> bool:
    return width == "one" or (isinstance(width, int | float) and width < 120)


def _cohort_legend(fig: Figure, cohorts: Sequence[str], *, extra: Sequence[Any] = ()) -> None:
    handles = [Line2D([], [], ls="", marker=_COHORT_MARKERS[c], color=COHORT_COLOURS[c],
                      markersize=4, label=c) for c in COHORTS if c in cohorts]
    handles += list(extra)
    narrow = fig.get_figwidth() * MM_PER_INCH < 120
    if handles:
        fig.legend(handles=handles, loc="outside lower center",
                   ncols=min(len(handles), 2 if narrow and len(handles) > 3 else 3 if narrow
                             else 5),
                   handlelength=1, columnspacing=1.0, handletextpad=0.4)


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
    studies written at the right. An aim with no studies keeps its row and says so.

    Parameters
    ----------
    representative : pandas.DataFrame
        Output of :func:`representative_auc`.
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
    aims = _check_aims(aims)
    with MANUSCRIPT:
        fig, ax = _figure(ax, width, 22 + 17 * len(aims))
        ranges = auc_ranges(representative, aims=aims)
        lowest = float(np.nanmin(np.r_[representative["ci_low"].astype(float).to_numpy(),
                                       representative["auc"].astype(float).to_numpy(), 0.7]))
        x_min = max(0.0, np.floor(lowest * 10) / 10 - 0.02)
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
                        marker=_COHORT_MARKERS[cohort], color=colour, markersize=3.2,
                        markeredgecolor="white", markeredgewidth=0.3, zorder=3, clip_on=False)
            if sel.empty:
                ax.text(0.5, y0, "no studies", transform=ax.get_yaxis_transform(),
                        ha="center", va="center", color="#777777",
                        fontsize=MANUSCRIPT.font_size - 1, style="italic")
            info = ranges[ranges["aim"] == aim].iloc[0]
            text = f"{info['auc_range']}\n{info['n_studies']} stud" + (
                "y" if info["n_studies"] == 1 else "ies") if info["n_studies"] else "–"
            ax.annotate(text, xy=(1.0, y0), xycoords=("axes fraction", "data"),
                        xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=MANUSCRIPT.font_size - 1, linespacing=1.1,
                        color="#555555" if info["n_studies"] == 0 else "black")
            if i:
                ax.axhline(y0 + 0.5, color="#DDDDDD", lw=0.5, zorder=0)
        ax.set_yticks(range(len(aims)), [_wrap_aim(a) for a in reversed(aims)])
        ax.set_ylim(-0.5, len(aims) - 0.5)
        ax.set_xlim(x_min, 1.0)
        ax.set_xlabel("AUC (representative per study; bars: reported 95% CI)")
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#EEEEEE", lw=0.5)
        ax.set_axisbelow(True)
        _cohort_legend(fig, list(representative["cohort"].unique()))
        mark_synthetic(fig, synthetic)
    return fig


def _wrap_aim(aim: str) -> str:
    return aim.replace("differential diagnosis", "differential\ndiagnosis")


FOREST_MAX_STUDIES = 55
"""Most study rows one forest plot draws: at 3.6 mm a row, 55 rows fill a 240 mm journal page."""


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


def plot_forest(
    pooling: AimPooling,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Forest plot of one aim, drawn from :meth:`AimPooling.summary_frame`.

    Studies (square area by weight, colour and shape by cohort; open grey mark and † when
    not pooled), the pooled estimate as a diamond (its confidence interval) with the
    prediction interval as a line, and AUC [95 % CI] and weight on the right. Without a pooled
    estimate the reason is written under the studies.

    Parameters
    ----------
    pooling : AimPooling
        One aim's result from :func:`pool_by_aim`.
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
    one = _is_one_column(width)
    with MANUSCRIPT:
        fig, ax = _figure(ax, width, 30 + 3.6 * (len(studies) + 2 + message_rows))
        y_studies = np.arange(len(studies))[::-1] + 2.0
        max_w = float(np.nanmax(studies["weight"])) if studies["pooled"].any() else 1.0
        for y, row in zip(y_studies, studies.itertuples(), strict=True):
            colour = COHORT_COLOURS[row.cohort]
            marker = _COHORT_MARKERS[row.cohort]
            if row.poolable:
                if np.isfinite(row.ci_low):
                    ax.hlines(y, row.ci_low, row.ci_high, color="black", lw=0.6)
                size = 2.0 + 4.0 * np.sqrt(row.weight / max_w) if row.pooled else 4.0
                ax.plot(row.auc, y, ls="", marker=marker, color=colour, markersize=size,
                        markeredgecolor="black", markeredgewidth=0.4, zorder=3,
                        clip_on=False)
            else:
                ax.plot(row.auc, y, ls="", marker=marker, markerfacecolor="white",
                        markeredgecolor=_NOT_POOLED_COLOUR, markersize=3.5, zorder=3,
                        clip_on=False)
        labels = [f"{r.label}{'' if r.poolable else ' †'}" for r in studies.itertuples()]
        right = [_ci_text(r.auc, r.ci_low, r.ci_high, r.weight) for r in studies.itertuples()]
        ticks = list(y_studies)
        lows = [studies["auc"].min(), studies["ci_low"].min()]
        if len(pooled):
            p = pooled.iloc[0]
            ax.hlines(0.0, p["pi_low"], p["pi_high"], color="black", lw=0.8)
            ax.vlines([p["pi_low"], p["pi_high"]], -0.18, 0.18, color="black", lw=0.8)
            ax.add_patch(Polygon([(p["ci_low"], 0), (p["auc"], 0.32), (p["ci_high"], 0),
                                  (p["auc"], -0.32)], closed=True, facecolor=AIM_COLOURS.get(
                                      pooling.aim, "black"), edgecolor="black", lw=0.5,
                                  zorder=4))
            ax.axvline(p["auc"], color="#999999", lw=0.5, ls=":", zorder=0)
            het = pooling.pooled_frame().iloc[0]
            labels.append(f"{pooling.label}\nk = {pooling.k_pooled}, "
                          f"I² = {het['i2']:.0f}%, τ² = {het['tau2']:.2g}")
            right.append(_ci_text(p["auc"], p["ci_low"], p["ci_high"], None)
                         + f"\nPI {_fmt_ci(p['pi_low'])}–{_fmt_ci(p['pi_high'])}")
            ticks.append(0.0)
            lows.append(p["pi_low"])
        else:
            ax.text(0.5, 0.2, f"No pooled estimate: {_wrap_text(pooling.reason, 48)}.",
                    transform=ax.get_yaxis_transform(), ha="center", va="center",
                    fontsize=MANUSCRIPT.font_size - 1, color="#B00000")
        ax.set_yticks(ticks, labels)
        sec = ax.secondary_yaxis("right")
        sec.set_yticks(ticks, right)
        sec.tick_params(length=0)
        sec.spines["right"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        low = float(np.nanmin(lows))
        ax.set_xlim(max(0.0, np.floor(low * 20) / 20 - 0.02), 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4 if one else 8, steps=[1, 2, 5, 10]))
        ax.set_ylim(-0.8 - message_rows, len(studies) + 1.6)
        ax.set_xlabel("AUC (95% CI)")
        title = pooling.aim.capitalize()
        if not one:
            title += f": {pooling.k_pooled} of {pooling.k_shown} studies pooled"
        ax.set_title(title, loc="left", fontsize=MANUSCRIPT.title_size)
        extra = []
        if not studies["poolable"].all():
            extra.append(Line2D([], [], ls="", marker="o", markerfacecolor="white",
                                markeredgecolor=_NOT_POOLED_COLOUR, markersize=4,
                                label="† no SE, CI or counts: not pooled"))
        if len(pooled):
            extra.append(Line2D([], [], color="black", lw=0.8, label="prediction interval"))
        _cohort_legend(fig, list(studies["cohort"].unique()), extra=extra)
        mark_synthetic(fig, synthetic)
    return fig


def _fmt_ci(value: float) -> str:
    """Two decimals, or three when two would round a value below 1 up to 1.00."""
    return f"{value:.3f}" if round(value, 2) >= 1.0 > value else f"{value:.2f}"


def _ci_text(auc: float, low: float, high: float, weight: float | None) -> str:
    text = _fmt_ci(auc)
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{_fmt_ci(low)}, {_fmt_ci(high)}]"
    if weight is not None and np.isfinite(weight):
        text += f"  {weight:.0f}%"
    return text


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
        Output of ``auc_ranges(..., by="modality")`` (every aim x modality, zeros included).
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
        fig, ax = _figure(ax, width, 22 + 16 * len(aims))
        biggest = max(1, int(by_modality["n_studies"].max()))
        for _, row in by_modality.iterrows():
            x = modalities.index(row["modality"])
            y = len(aims) - 1 - aims.index(row["aim"])
            n = int(row["n_studies"])
            if n == 0:
                ax.plot(x, y, ls="", marker="o", markersize=9, markerfacecolor="none",
                        markeredgecolor="#BBBBBB", markeredgewidth=0.6)
                ax.text(x, y, "0", ha="center", va="center", color="#999999",
                        fontsize=MANUSCRIPT.font_size - 1)
                continue
            size = 9 + 15 * np.sqrt(n / biggest)
            colour = AIM_COLOURS[row["aim"]]
            ax.plot(x, y, ls="", marker="o", markersize=size, color=colour,
                    markeredgecolor="white")
            ax.text(x, y, str(n), ha="center", va="center", color=_text_colour(colour),
                    fontweight="bold", fontsize=MANUSCRIPT.font_size - 0.5)
            ax.annotate(f"{row['auc_range']}", xy=(x, y), xytext=(0, -(size / 2 + 1)),
                        textcoords="offset points", ha="center", va="top",
                        fontsize=MANUSCRIPT.font_size - 1.5, color="#333333")
        ax.set_xticks(range(len(modalities)), modalities)
        ax.set_yticks(range(len(aims)), [_wrap_aim(a) for a in reversed(aims)])
        ax.set_xlim(-0.5, len(modalities) - 0.5)
        ax.set_ylim(-0.5, len(aims) - 0.5)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks(np.arange(len(modalities) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(aims) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="#E5E5E5", lw=0.5)
        ax.tick_params(which="minor", length=0)
        ax.xaxis.set_ticks_position("top")
        ax.set_xlabel("Number of studies (AUC range below)")
        mark_synthetic(fig, synthetic)
    return fig


def _text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""
    rgb = np.asarray(to_rgb(background))
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    return "black" if luminance > 0.179 else "white"


def plot_meta_regression(
    fit: RegressionFit,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Bubble plot of logit AUC against the moderator, bubble area by weight, fitted line.

    Year and RQS: the fitted line with its 95 % confidence band; cohort type: each cohort's
    fitted mean as a bar. The y axis is on the logit scale, labelled in AUC. The panel title
    gives k, the slope (or p-values of the cohort contrasts) and R². Without a fit (too few
    studies, no quality data, a moderator that does not vary) the panel says why instead.

    Parameters
    ----------
    fit : RegressionFit
        From :func:`fit_meta_regression`.
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
    labels = {"year": "Publication year", "cohort": "Cohort",
              "rqs": "RQS (%)"}
    with MANUSCRIPT:
        fig, ax = _figure(ax, width, 62)
        res = fit.result
        if res is None:
            _no_result_panel(ax, fit.aim, f"No meta-regression: {fit.reason}")
            if fig.axes[0] is ax:
                mark_synthetic(fig, synthetic)
            return fig
        data = fit.data
        categorical = fit.moderator == "cohort"
        present = [c for c in COHORTS if (data["x"] == c).any()]
        cohorts = [c for c in COHORTS if (data["cohort"] == c).any()]
        if categorical:
            xs = data["x"].map({c: i for i, c in enumerate(present)}).to_numpy(dtype=float)
        else:
            xs = data["x"].to_numpy(dtype=float)
        weights = data["weight"].to_numpy(dtype=float)
        sizes = 6 + 54 * weights / np.nanmax(weights)
        y = data["logit_auc"].to_numpy(dtype=float)
        for cohort in cohorts:
            mask = (data["cohort"] == cohort).to_numpy()
            ax.scatter(xs[mask], y[mask], s=sizes[mask], marker=_COHORT_MARKERS[cohort],
                       color=COHORT_COLOURS[cohort], edgecolor="black", linewidth=0.3,
                       alpha=0.85, zorder=3)
        coef = np.asarray(res.coef)
        if categorical:
            for i in range(len(present)):
                mean = coef[0] + (coef[i] if i else 0.0)
                ax.hlines(mean, i - 0.3, i + 0.3, color="black", lw=1.0, zorder=4)
            stat = f"R² {res.r2:.0f}%\np vs {_COHORT_SHORT[present[0]]}: " + ", ".join(
                f"{v:.2g}" for v in res.pvalue[1:])
            ax.set_xticks(range(len(present)), [_COHORT_SHORT[c] for c in present])
            ax.set_xlim(-0.6, len(present) - 0.4)
        else:
            grid = np.linspace(np.nanmin(xs), np.nanmax(xs), 50)
            line = coef[0] + coef[1] * grid
            se0, se1 = res.se
            band = np.sqrt(se0**2 + grid**2 * se1**2 + 2 * grid * _coef_cov(fit))
            ax.plot(grid, line, color="black", lw=0.9, zorder=4)
            ax.fill_between(grid, line - _Z95 * band, line + _Z95 * band, color="#BBBBBB",
                            alpha=0.4, lw=0, zorder=1)
            stat = f"slope {coef[1]:.2g}\np = {res.pvalue[1]:.2g}, R² {res.r2:.0f}%"
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=fit.moderator == "year"))
        ax.margins(x=0.08, y=0.12)
        _auc_ticks(ax)
        ax.set_xlabel(labels[fit.moderator])
        ax.set_ylabel("AUC (logit scale)")
        ax.set_title(f"{fit.aim.capitalize()}\nk = {fit.k}, {stat}",
                     loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


_AUC_TICKS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)


def _auc_ticks(ax: Axes) -> None:
    """Label a logit-scale y axis in AUC, with ticks at familiar AUC values in view."""
    low, high = ax.get_ylim()
    ticks: list[float] = []
    for t in _AUC_TICKS:  # ticks in view, at least 1/7 of the axis apart
        at = float(np.log(t / (1 - t)))
        if low <= at <= high and (not ticks or at - float(np.log(ticks[-1] / (1 - ticks[-1])))
                                  >= (high - low) / 7):
            ticks.append(t)
    if len(ticks) < 2:
        ticks = [float(expit(v)) for v in np.linspace(low, high, 3)]
    ax.set_yticks([float(np.log(t / (1 - t))) for t in ticks],
                  [f"{t:.3g}" for t in ticks])


def _no_result_panel(ax: Axes, aim: str, text: str) -> None:
    """A panel that only says why there is nothing to show."""
    ax.set_axis_off()
    ax.set_title(aim.capitalize(), loc="left", fontsize=MANUSCRIPT.font_size - 0.5)
    text = text.replace("k = ", "k\u00a0=\u00a0")  # keep "k = 1" on one line
    ax.text(0.5, 0.5, _wrap_text(text, 30), transform=ax.transAxes, ha="center",
            va="center", fontsize=MANUSCRIPT.font_size - 1, color="#B00000")


def _coef_cov(fit: RegressionFit) -> float:
    """Covariance of intercept and slope of a one-moderator fit (metafor's vb[1, 2])."""
    data = fit.data
    tau2 = fit.result.tau2 if fit.result is not None else 0.0
    w = 1.0 / (data["var_logit"].to_numpy(dtype=float) + tau2)
    x = data["x"].to_numpy(dtype=float)
    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    return float(cov[0, 1])


def _wrap_text(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _panel_grid(n: int, width: str | float, panel_mm: float) -> tuple[Figure, np.ndarray]:
    ncols = 1 if n == 1 else 2
    if not _is_one_column(width) and n > 2:
        ncols = min(n, 4)
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(width, 14 + panel_mm * nrows, nrows=nrows, ncols=ncols,
                           squeeze=False)
    return fig, np.asarray(axes)


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
    extra = Line2D([], [], ls="", marker="o", color="#BBBBBB", markersize=5,
                   label="area ∝ weight")
    return _panels(fits, plot_meta_regression, extra, synthetic=synthetic, width=width)


def plot_funnel(
    test: SmallStudyTest,
    *,
    ax: Axes | None = None,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """Funnel plot (logit AUC against its SE, SE axis inverted) with Egger's test.

    The funnel is centred on the pooled logit AUC with pseudo 95 % limits centre ± 1.96 SE;
    the panel title gives k and Egger's z and p. With fewer than 3 studies the panel says so
    instead.

    Parameters
    ----------
    test : SmallStudyTest
        From :func:`small_study_test`.
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
        fig, ax = _figure(ax, width, 62)
        if test.egger is None:
            _no_result_panel(ax, test.aim, f"No funnel plot: {test.reason}")
            if fig.axes[0] is ax:
                mark_synthetic(fig, synthetic)
            return fig
        data = test.data
        se = data["se_logit"].to_numpy(dtype=float)
        top = float(np.nanmax(se)) * 1.1
        grid = np.linspace(0, top, 20)
        ax.fill_betweenx(grid, test.centre - _Z95 * grid, test.centre + _Z95 * grid,
                         color="#F2F2F2", lw=0, zorder=0)
        for sign in (-1, 1):
            ax.plot(test.centre + sign * _Z95 * grid, grid, color="#999999", lw=0.6, ls="--")
        ax.axvline(test.centre, color="black", lw=0.6)
        for cohort in COHORTS:
            mask = (data["cohort"] == cohort).to_numpy()
            if mask.any():
                ax.plot(data["logit_auc"].to_numpy()[mask], se[mask], ls="",
                        marker=_COHORT_MARKERS[cohort], color=COHORT_COLOURS[cohort],
                        markersize=3.5, markeredgecolor="black", markeredgewidth=0.3,
                        zorder=3)
        e = test.egger
        ax.set_ylim(top, 0)
        ax.set_xlabel("logit AUC")
        ax.set_ylabel("SE of logit AUC")
        ax.set_title(f"{test.aim.capitalize()}\nk = {test.k}, Egger z = {e.z:.2f}\n"
                     f"p = {e.pvalue:.2g}", loc="left",
                     fontsize=MANUSCRIPT.font_size - 0.5)
        if fig.axes[0] is ax:
            mark_synthetic(fig, synthetic)
    return fig


def plot_funnel_panels(
    tests: Sequence[SmallStudyTest],
    *,
    synthetic: bool = False,
    width: str | float = "one",
) -> Figure:
    """One :func:`plot_funnel` panel per aim, with a shared cohort legend.

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
    extra = Line2D([], [], color="#999999", lw=0.6, ls="--", label="pseudo 95% limits")
    return _panels(tests, plot_funnel, extra, synthetic=synthetic, width=width)


def _panels(items: Sequence[Any], draw: Any, extra: Line2D, *, synthetic: bool,
            width: str | float) -> Figure:
    """A grid of one panel per item drawn by ``draw(item, ax=)``, with a shared cohort legend
    completed by ``extra``."""
    with MANUSCRIPT:
        fig, axes = _panel_grid(len(items), width, 48)
        for item, ax in zip(items, axes.ravel(), strict=False):
            draw(item, ax=ax)
        for ax in axes.ravel()[len(items):]:
            ax.set_visible(False)
        cohorts = set().union(*[set(item.data["cohort"]) for item in items])
        _cohort_legend(fig, list(cohorts), extra=[extra])
        mark_synthetic(fig, synthetic)
    return fig
