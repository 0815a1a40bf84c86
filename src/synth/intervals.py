"""Confidence and prediction intervals shared by the pooling functions.

The reference distributions of :mod:`synth.meta`'s intervals: normal or t quantiles, the
prediction interval's distribution options (z, t(k − 1), t(k − 2)) and its study-count guard.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "PI_DISTRIBUTIONS",
    "PI_MIN_K",
    "critical_value",
    "two_sided_p",
    "pi_df",
    "pi_note",
    "prediction_interval",
    "pi_label",
    "check_min_k",
    "check_alpha",
]

PI_DISTRIBUTIONS: tuple[str, ...] = ("ci", "z", "t(k-1)", "t(k-2)")
"""Reference distribution of a prediction interval: ``"ci"`` that of the confidence interval
(normal, or t(k − 1) with Knapp–Hartung: metafor's ``predict``), ``"z"`` the normal, ``"t(k-1)"``
t with k − 1 df, ``"t(k-2)"`` t with k − 2 df (Higgins, Thompson & Spiegelhalter, J R Stat Soc A
2009;172:137-159, and metamisc's ``valmeta``)."""

PI_MIN_K = 3
"""Default fewest studies for a prediction interval: with 2 studies tau² has one degree of
freedom and t(k − 2) none, so the interval says nothing (Higgins et al. 2009; IntHout et al.,
BMJ Open 2016;6:e010247)."""


def critical_value(alpha: float, df: int | None) -> float:
    """Two-sided critical value: normal, or t with ``df`` degrees of freedom."""
    if df is None:
        return float(stats.norm.isf(alpha / 2))
    return float(stats.t.isf(alpha / 2, df))


def pi_df(distribution: str, k: int, knapp_hartung: bool) -> int | None:
    """Degrees of freedom of a prediction interval's t distribution (None: normal)."""
    if distribution == "ci":
        return k - 1 if knapp_hartung else None
    return {"z": None, "t(k-1)": k - 1, "t(k-2)": k - 2}[distribution]


def pi_note(k: int, min_k: int) -> str:
    return "" if k >= min_k else (
        f"no prediction interval: k = {k} < {min_k} (pi_min_k; Higgins et al. 2009)")


def prediction_interval(estimate: float, se: float, tau2: float, alpha: float,
                         df: int | None, k: int, min_k: int) -> tuple[float, float]:
    """estimate ± crit sqrt(se² + tau²), or NaNs below ``min_k`` studies or without df."""
    if k < min_k or (df is not None and df < 1):
        return np.nan, np.nan
    crit = critical_value(alpha, df)
    half = crit * float(np.sqrt(se**2 + tau2))
    return estimate - half, estimate + half


def pi_label(distribution: str, df: int | None) -> str:
    """A prediction interval's distribution in words: ``z``, ``t, df = 12`` (the CI's) or
    ``t(k-2): t, df = 11`` (chosen)."""
    name = "z" if df is None else f"t, df = {df}"
    return name if distribution == "ci" else f"{distribution}: {name}"


def two_sided_p(statistic: float, df: int | None) -> float:
    if df is None:
        return float(2.0 * stats.norm.sf(abs(statistic)))
    return float(2.0 * stats.t.sf(abs(statistic), df))


def check_min_k(name: str, value: int, least: int) -> int:
    """A study-count threshold: a whole number ≥ ``least``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"{name}: {value!r} — allowed: a whole number ≥ {least}")
    return int(value)


def check_alpha(alpha: float) -> float:
    """A significance level strictly between 0 and 1."""
    if not (isinstance(alpha, int | float) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha={alpha!r} must be a number strictly between 0 and 1, e.g. 0.05.")
    return float(alpha)
