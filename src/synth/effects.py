"""Effect sizes for pooling AUCs: logit(AUC) and its sampling variance, by every route.

The first of the two pooling steps (effect sizes first, then :mod:`synth.meta` pools them, as
statsmodels' ``effectsize_2proportions`` precedes ``combine_effects``): :func:`logit`,
:func:`expit` and the routes from a reported AUC to the sampling variance of logit(AUC) used by
R's metamisc — reported SE, reported CI, or the Hanley–McNeil / Newcombe formulas from the
numbers of positives and negatives. They are vectorised and map NaN to NaN, so a column with
missing reports goes through unchanged; scalars in give a float out, a Series keeps its index.
:func:`study_variances` takes, for every study, the first route its reporting allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth.errors import check_choice
from synth.vocabulary import DEFAULT_CI_LEVEL

__all__ = [
    "AucLike",
    "VARIANCE_METHODS",
    "ROUTES",
    "ci_levels",
    "study_variances",
    "expit",
    "logit",
    "var_auc_hanley_mcneil",
    "var_auc_newcombe",
    "var_logit_from_ci",
    "var_logit_from_se",
    "var_logit_from_var_auc",
]

AucLike = float | Sequence[float] | np.ndarray | pd.Series


def _arrays(**named: Any) -> dict[str, np.ndarray]:
    """Inputs as broadcast float arrays, keyed by parameter name."""
    arrays = {name: np.asarray(value, dtype=float) for name, value in named.items()}
    shaped = np.broadcast_arrays(*arrays.values())
    return dict(zip(arrays, shaped, strict=True))


def _wrap(result: np.ndarray, *templates: Any) -> Any:
    """Return a float for scalar inputs, a Series (index of the first Series input) for Series."""
    for template in templates:
        if isinstance(template, pd.Series):
            return pd.Series(result, index=template.index, name=template.name)
    if result.ndim == 0:
        return float(result)
    return result


def _require(ok: np.ndarray, values: np.ndarray, name: str, allowed: str) -> None:
    """Raise for the first non-NaN value that fails ``ok``; NaN always passes."""
    bad = np.flatnonzero(~(ok | np.isnan(values)).ravel())
    if bad.size:
        i = int(bad[0])
        value = float(values.ravel()[i])
        where = f"{name}[{i}]" if values.ndim else name
        raise ValueError(f"{where} = {value!r} is outside the allowed range: {allowed}.")


def _check_auc(auc: np.ndarray, name: str = "auc") -> None:
    _require((auc > 0) & (auc < 1), auc, name, "strictly between 0 and 1")


def _check_counts(n: np.ndarray, name: str) -> None:
    _require(n >= 1, n, name, "a count of at least 1")


def logit(p: AucLike) -> Any:
    """Log-odds log(p / (1 − p)).

    Parameters
    ----------
    p : float, array-like or Series
        Probabilities in [0, 1]; NaN stays NaN, 0 and 1 give −inf and +inf.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Same shape (and index) as ``p``.

    Raises
    ------
    ValueError
        If a value is outside [0, 1].
    """
    arr = _arrays(p=p)["p"]
    _require((arr >= 0) & (arr <= 1), arr, "p", "a probability between 0 and 1")
    with np.errstate(divide="ignore"):
        out = np.log(arr) - np.log1p(-arr)
    return _wrap(out, p)


def expit(x: AucLike) -> Any:
    """Inverse logit 1 / (1 + exp(−x)).

    Parameters
    ----------
    x : float, array-like or Series
        Log-odds; NaN stays NaN.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Probabilities, same shape (and index) as ``x``.
    """
    arr = _arrays(x=x)["x"]
    out = np.asarray(stats.logistic.cdf(arr), dtype=float)
    return _wrap(out, x)


def var_logit_from_ci(
    auc: AucLike, ci_low: AucLike, ci_high: AucLike, *, level: AucLike = 0.95
) -> Any:
    """Variance of logit(AUC) from a reported confidence interval of the AUC.

    var = ((logit(ci_high) − logit(ci_low)) / (2 z))², z the normal quantile for ``level``
    (1.959964 for 95 %), as metamisc's ``ccalc``.

    Parameters
    ----------
    auc : float, array-like or Series
        Reported AUCs, strictly between 0 and 1 (checked; not used in the formula).
    ci_low, ci_high : float, array-like or Series
        Reported interval bounds, strictly between 0 and 1, ``ci_low < ci_high``.
    level : float, array-like or Series, default 0.95
        Confidence level of the reported interval (one for all, or one per interval).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sampling variance of logit(AUC); NaN where any input is NaN.

    Raises
    ------
    ValueError
        If a value is outside (0, 1), or a lower bound is not below its upper bound.
    """
    a = _arrays(auc=auc, ci_low=ci_low, ci_high=ci_high, level=level)
    bad = ~((a["level"] > 0.0) & (a["level"] < 1.0))
    if bad.any():
        raise ValueError(f"level={a['level'][bad].ravel()[0]!r} must be strictly between 0 and "
                         "1, e.g. 0.95.")
    _check_auc(a["auc"])
    _check_auc(a["ci_low"], "ci_low")
    _check_auc(a["ci_high"], "ci_high")
    lo, hi = a["ci_low"], a["ci_high"]
    _require(lo < hi, np.where(np.isnan(hi), np.nan, lo), "ci_low", "below the matching ci_high")
    z = stats.norm.isf((1.0 - a["level"]) / 2.0)
    out = ((np.log(hi / (1 - hi)) - np.log(lo / (1 - lo))) / (2.0 * z)) ** 2
    out = np.where(np.isnan(a["auc"]), np.nan, out)  # the AUC is not in the formula: keep NaN
    return _wrap(out, auc, ci_low, ci_high)


def var_logit_from_se(auc: AucLike, se: AucLike) -> Any:
    """Variance of logit(AUC) from a reported standard error of the AUC (delta method).

    var = (se / (auc (1 − auc)))².

    Parameters
    ----------
    auc : float, array-like or Series
        Reported AUCs, strictly between 0 and 1.
    se : float, array-like or Series
        Reported standard errors of the AUC, > 0.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sampling variance of logit(AUC); NaN where any input is NaN.
    """
    a = _arrays(auc=auc, se=se)
    _check_auc(a["auc"])
    _require(a["se"] > 0, a["se"], "se", "a positive standard error")
    out = (a["se"] / (a["auc"] * (1 - a["auc"]))) ** 2
    return _wrap(out, auc, se)


def var_logit_from_var_auc(auc: AucLike, var_auc: AucLike) -> Any:
    """Variance of logit(AUC) from the variance of the AUC: var_auc / (auc (1 − auc))².

    Parameters
    ----------
    auc : float, array-like or Series
        AUCs, strictly between 0 and 1.
    var_auc : float, array-like or Series
        Variances of the AUC, > 0 (e.g. from :func:`var_auc_hanley_mcneil`).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sampling variance of logit(AUC); NaN where any input is NaN.
    """
    a = _arrays(auc=auc, var_auc=var_auc)
    _check_auc(a["auc"])
    _require(a["var_auc"] > 0, a["var_auc"], "var_auc", "a positive variance")
    out = a["var_auc"] / (a["auc"] * (1 - a["auc"])) ** 2
    return _wrap(out, auc, var_auc)


def var_auc_hanley_mcneil(auc: AucLike, n_pos: AucLike, n_neg: AucLike) -> Any:
    """Variance of the AUC by Hanley & McNeil (Radiology 1982;143:29-36).

    With A the AUC, n1 positives and n2 negatives, Q1 = A / (2 − A), Q2 = 2A² / (1 + A):
    var = [A(1 − A) + (n1 − 1)(Q1 − A²) + (n2 − 1)(Q2 − A²)] / (n1 n2).

    Parameters
    ----------
    auc : float, array-like or Series
        AUCs, strictly between 0 and 1.
    n_pos, n_neg : float, array-like or Series
        Numbers of positives (events) and negatives (non-events), each >= 1.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Variance of the AUC (not of its logit; see :func:`var_logit_from_var_auc`).
    """
    a = _arrays(auc=auc, n_pos=n_pos, n_neg=n_neg)
    _check_auc(a["auc"])
    _check_counts(a["n_pos"], "n_pos")
    _check_counts(a["n_neg"], "n_neg")
    A, n1, n2 = a["auc"], a["n_pos"], a["n_neg"]
    q1 = A / (2 - A)
    q2 = 2 * A**2 / (1 + A)
    out = (A * (1 - A) + (n1 - 1) * (q1 - A**2) + (n2 - 1) * (q2 - A**2)) / (n1 * n2)
    return _wrap(out, auc, n_pos, n_neg)


def var_auc_newcombe(auc: AucLike, n_pos: AucLike, n_neg: AucLike) -> Any:
    """Variance of the AUC by Newcombe (Stat Med 2006;25:543-557), "method 4", as metamisc.

    With A the AUC, N = n_pos + n_neg:
    var = A(1 − A) [1 + (N/2 − 1)(1 − A)/(2 − A) + (N/2 − 1) A/(1 + A)] / (n_pos n_neg).

    Parameters
    ----------
    auc : float, array-like or Series
        AUCs, strictly between 0 and 1.
    n_pos, n_neg : float, array-like or Series
        Numbers of positives (events) and negatives (non-events), each >= 1.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Variance of the AUC (not of its logit; see :func:`var_logit_from_var_auc`).
    """
    a = _arrays(auc=auc, n_pos=n_pos, n_neg=n_neg)
    _check_auc(a["auc"])
    _check_counts(a["n_pos"], "n_pos")
    _check_counts(a["n_neg"], "n_neg")
    A, n1, n2 = a["auc"], a["n_pos"], a["n_neg"]
    half = (n1 + n2) / 2 - 1
    out = A * (1 - A) * (1 + half * (1 - A) / (2 - A) + half * A / (1 + A)) / (n1 * n2)
    return _wrap(out, auc, n_pos, n_neg)


# ---------------------------------------------------------------------------------------------
# Every study's variance, by the first route its reporting allows
# ---------------------------------------------------------------------------------------------

VARIANCE_METHODS: tuple[str, ...] = ("hanley-mcneil", "newcombe")
"""Formula for var(AUC) from positives and negatives, used when neither SE nor CI is reported:
Hanley & McNeil (1982) or Newcombe (2006) method 4 (metamisc's choice)."""

ROUTES: tuple[str, ...] = ("reported SE", "reported CI", "Hanley-McNeil", "Newcombe", "none")
"""Where a study's variance of logit(AUC) came from, in the order they are tried."""


def ci_levels(frame: pd.DataFrame) -> np.ndarray:
    """Each row's ``ci_level`` (the level of its reported CI); 0.95 where missing or without
    the column."""
    if "ci_level" not in frame.columns:
        return np.full(len(frame), DEFAULT_CI_LEVEL)
    return frame["ci_level"].astype(float).fillna(DEFAULT_CI_LEVEL).to_numpy()


def study_variances(representative: pd.DataFrame, *, variance: str = "hanley-mcneil"
                    ) -> pd.DataFrame:
    """logit(AUC) and its sampling variance per study, with the route that gave it.

    The first route the study's reporting allows is taken (as R's metamisc does):

    1. ``reported SE``: var = (SE / (AUC (1 − AUC)))²;
    2. ``reported CI``: var = ((logit(upper) − logit(lower)) / (2 z))², z the normal quantile
       of the row's ``ci_level`` (1.959964 at 0.95, 1.644854 at 0.90; 0.95 without the
       column);
    3. ``Hanley-McNeil`` (default) or ``Newcombe`` (``variance="newcombe"``) from positives
       and negatives (one of them may be given as ``n`` minus the other);
    4. ``none``: the study is shown but not pooled; ``not_pooled_reason`` says why.

    A route is skipped when its numbers cannot give a finite variance (an interval bound of 0
    or 1, a class of size 0); an AUC of exactly 0 or 1 has no finite logit and is not pooled.

    Parameters
    ----------
    representative : pandas.DataFrame
        Output of :func:`synth.auc.representative_auc` (or any frame with ``auc``, ``ci_low``,
        ``ci_high``, ``auc_se``, ``n``, ``positives``, ``negatives``; optional ``ci_level``).
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
    this module. Reporting the route per study lets a reader match metamisc or metafor.
    """
    variance = str(check_choice("variance", variance, VARIANCE_METHODS))
    out = representative.copy()
    auc = out["auc"].astype(float).to_numpy()
    se = out["auc_se"].astype(float).to_numpy()
    lo = out["ci_low"].astype(float).to_numpy()
    hi = out["ci_high"].astype(float).to_numpy()
    level = ci_levels(out)
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
    var_ci = var_logit_from_ci(safe_auc, np.where(ok_ci, lo, np.nan), np.where(ok_ci, hi, np.nan),
                               level=level)
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
        np.where(inner, "no SE, CI or positives/negatives reported",
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
