"""Meta-regression and small-study effects of logit AUC within each aim.

:func:`fit_meta_regression` regresses one aim's logit AUCs on a study-level moderator
(publication year, cohort type, a quality percentage: RQS 1.0, METRICS or RQS 2.0) with
:func:`synth.meta.meta_regression`;
:func:`meta_regressions` does it for every aim and moderator. :func:`small_study_test` gives the
funnel data and Egger's test of one aim (:func:`synth.meta.egger_test`), :func:`small_study_tests`
of every aim. Results are frozen dataclasses whose ``summary_frame()`` rows make the tables
``auc_meta_regression`` and ``auc_egger``; every number a figure of
:mod:`synth.plots.regression` shows (fitted line, its confidence band, funnel limits) is a
field or method of these results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth.auc import aim_order, with_labels
from synth.errors import check_choice, check_choices
from synth.meta import (
    EggerResult,
    MetaRegressionResult,
    TooFewStudiesError,
    egger_test,
    meta_regression,
    pool,
)
from synth.vocabulary import COHORTS

__all__ = [
    "MODERATORS",
    "QUALITY_MODERATORS",
    "MIN_K_SMALL_STUDY",
    "MIN_K_PER_MODERATOR",
    "FUNNEL_LEVEL",
    "RegressionFit",
    "fit_meta_regression",
    "meta_regressions",
    "meta_regression_table",
    "SmallStudyTest",
    "small_study_test",
    "small_study_tests",
    "egger_table",
]

QUALITY_MODERATORS: dict[str, tuple[str, str]] = {
    "rqs": ("RQS 1.0", "quality.csv"),
    "metrics": ("METRICS", "metrics.csv"),
    "rqs2": ("RQS 2.0", "rqs2.csv"),
}
"""The quality moderators: name (a column of the per-study quality table,
:func:`synth.appraisal.study_quality`) → (instrument, the file its scores come from). Each is the
consensus rater's percentage: RQS 1.0's total as a percentage, METRICS's score (the official
calculator's), RQS 2.0's percentage of the study's maximum."""

MODERATORS: tuple[str, ...] = ("year", "cohort", *QUALITY_MODERATORS)
"""Study-level moderators for :func:`fit_meta_regression`: publication year, cohort type of the
representative AUC (training as reference), and the :data:`QUALITY_MODERATORS` (each needs its
instrument's file)."""

MIN_K_SMALL_STUDY = 10
"""Default fewest studies for Egger's test: with fewer the test cannot tell asymmetry from chance
(Sterne et al., BMJ 2011;343:d4002; Cochrane Handbook for Systematic Reviews of Interventions
6.4, section 13.3.5.4)."""

MIN_K_PER_MODERATOR = 10
"""Default fewest studies per moderator term of a meta-regression (Cochrane Handbook 6.4,
section 10.11.5.1: "at least ten studies for each characteristic modelled")."""

FUNNEL_LEVEL = 0.95
"""Level of a funnel plot's pseudo confidence limits, centre ± z·SE."""

_LOW_POWER = "fewer than 10 studies: low power"

_TABLE_COLUMNS = ["aim", "moderator", "method", "k", "term", "estimate", "se", "pvalue",
                  "ci_low", "ci_high", "tau2", "r2", "cov_intercept_slope", "note"]


def _check_aim(aim: str) -> str:
    """An aim is a name (one with no study in the table gives a fit that says so)."""
    if not isinstance(aim, str) or not aim:
        raise ValueError(f"aim={aim!r}: give an aim's name, e.g. review.vocabulary.aim_names[0]")
    return aim


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
    cov_intercept_slope : float
        Covariance of the intercept and the first moderator coefficient (metafor's
        ``vcov(fit)[1, 2]``), which the confidence band of a one-moderator fit needs; NaN
        without a fit.
    """

    aim: str
    moderator: str
    method: str
    data: pd.DataFrame
    result: MetaRegressionResult | None
    reason: str
    cov_intercept_slope: float = np.nan

    @property
    def k(self) -> int:
        """Studies in the fit (those with a variance and a moderator value)."""
        return int(len(self.data))

    def fitted(self, *, points: int = 50) -> pd.DataFrame:
        """The fitted logit AUC with its confidence interval, as a figure draws it.

        Parameters
        ----------
        points : int, default 50
            Points of the line across the observed range of a numeric moderator.

        Returns
        -------
        pandas.DataFrame
            ``x`` (moderator value; for ``cohort`` each cohort present, reference first),
            ``estimate``, ``ci_low``, ``ci_high`` on the logit scale at the fit's ``alpha``:
            intercept + slope·x ± z·sqrt(se0² + x² se1² + 2x cov01) for a numeric moderator,
            each cohort's fitted mean for ``cohort``. Empty without a fit.
        """
        res = self.result
        if res is None:
            return pd.DataFrame(columns=["x", "estimate", "ci_low", "ci_high"])
        z = float(stats.norm.isf(res.alpha / 2))
        coef = np.asarray(res.coef)
        cov = np.asarray(res.cov)
        if self.moderator == "cohort":
            present = [c for c in COHORTS if (self.data["x"] == c).any()]
            contrast = np.eye(len(coef))
            contrast[:, 0] = 1.0  # level i: intercept + coefficient i (reference: intercept)
            x: Any = present
        else:
            values = self.data["x"].to_numpy(dtype=float)
            x = np.linspace(np.nanmin(values), np.nanmax(values), points)
            contrast = np.column_stack([np.ones_like(x), x])
        estimate = contrast @ coef
        se = np.sqrt(np.einsum("ij,jk,ik->i", contrast, cov, contrast))
        return pd.DataFrame({"x": x, "estimate": estimate, "ci_low": estimate - z * se,
                             "ci_high": estimate + z * se})

    def summary_frame(self) -> pd.DataFrame:
        """Coefficients with the fit's context (one row per term; one row with a note if no fit).

        Returns
        -------
        pandas.DataFrame
            ``aim, moderator, method, k, term, estimate, se, pvalue, ci_low, ci_high, tau2, r2,
            cov_intercept_slope, note``; estimates on the logit-AUC scale.
        """
        base = {"aim": self.aim, "moderator": self.moderator, "method": self.method,
                "k": self.k}
        if self.result is None:
            return pd.DataFrame([base | {"term": "", "estimate": np.nan, "se": np.nan,
                                         "pvalue": np.nan, "ci_low": np.nan,
                                         "ci_high": np.nan, "tau2": np.nan, "r2": np.nan,
                                         "cov_intercept_slope": np.nan,
                                         "note": self.reason}])
        s = self.result.summary_frame()
        for key, value in reversed(base.items()):
            s.insert(0, key, value)
        s["tau2"] = self.result.tau2
        s["r2"] = self.result.r2
        s["cov_intercept_slope"] = self.cov_intercept_slope
        s["note"] = _LOW_POWER if self.k < 10 else ""
        return s[_TABLE_COLUMNS]


def fit_meta_regression(
    table: pd.DataFrame,
    *,
    aim: str,
    moderator: str,
    quality: pd.DataFrame | None = None,
    method: str = "REML",
    min_k_per_moderator: int = MIN_K_PER_MODERATOR,
) -> RegressionFit:
    """Mixed-effects meta-regression of logit AUC on a study-level moderator within an aim.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`; only poolable studies are used.
    aim : str
        The aim whose studies are regressed (aims are not mixed).
    moderator : {"year", "cohort", "rqs", "metrics", "rqs2"}
        Publication year; cohort type of the representative AUC (indicator variables with
        ``training`` as reference, or the least independent cohort present); a quality
        percentage (:data:`QUALITY_MODERATORS`), the column of that name in ``quality``.
    quality : pandas.DataFrame, optional
        Per-study quality table indexed by ``study_id``, one percentage column per quality
        moderator the review has (:func:`synth.appraisal.study_quality`). A quality moderator
        without its column (the review has no such file) gives no fit and a ``reason`` naming
        the file, as does ``quality=None``.
    method : str, default "REML"
        tau² estimator (:data:`synth.meta.METHODS`).
    min_k_per_moderator : int, default :data:`MIN_K_PER_MODERATOR` (10)
        Fewest studies per moderator term (one for year or RQS, one per non-reference cohort);
        with fewer the regression is not run and ``reason`` says so.

    Returns
    -------
    RegressionFit
        With ``result=None`` and a ``reason`` when there are too few studies, no data for a
        quality moderator, or the moderator does not vary; ``cov_intercept_slope`` from the
        fit's covariance.

    Notes
    -----
    Weights are the random-effects weights 1/(v + tau²); coefficients from statsmodels' WLS
    with the scale fixed at 1 (metafor's z test), see :func:`synth.meta.meta_regression`.
    """
    aim = _check_aim(aim)
    moderator = str(check_choice("moderator", moderator, MODERATORS))
    min_k_per_moderator = _check_min_k("min_k_per_moderator", min_k_per_moderator)
    used = with_labels(table[(table["aim"] == aim) & table["poolable"]].copy())
    reason = ""
    if moderator in QUALITY_MODERATORS:
        instrument, filename = QUALITY_MODERATORS[moderator]
        scores = (quality[moderator].dropna() if quality is not None
                  and moderator in quality.columns else None)
        if scores is None or scores.empty:
            reason = f"no quality data ({filename}) for the {instrument} percentage"
            used["x"] = np.nan
        else:
            used["x"] = used["study_id"].map(scores.astype(float))
            missing = int(used["x"].isna().sum())
            used = used[used["x"].notna()]
            if missing:
                reason = (f"{missing} studies without {instrument} scores left out"
                          if len(used) else "")
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
    needed = min_k_per_moderator * design.shape[1]
    if len(data) < needed:
        return RegressionFit(aim, moderator, method, data, None,
                             f"not run: k = {len(data)} < {needed} ({min_k_per_moderator} "
                             f"studies per moderator term x {design.shape[1]}; "
                             "min_k_per_moderator, Cochrane Handbook 10.11.5.1)")
    try:
        result = meta_regression(data["logit_auc"], data["var_logit"], design, method=method)
    except TooFewStudiesError as exc:
        return RegressionFit(aim, moderator, method, data, None,
                             f"too few studies: k = {exc.k}, needs {exc.needed}")
    except (ValueError, RuntimeError) as exc:
        return RegressionFit(aim, moderator, method, data, None, f"no fit: {exc}")
    data["weight"] = result.weights
    return RegressionFit(aim, moderator, method, data, result, "",
                         cov_intercept_slope=result.cov[0][1])


def meta_regressions(
    table: pd.DataFrame,
    *,
    aims: Sequence[str] | None = None,
    moderators: Sequence[str] = MODERATORS,
    quality: pd.DataFrame | None = None,
    method: str = "REML",
    min_k_per_moderator: int = MIN_K_PER_MODERATOR,
) -> dict[str, list[RegressionFit]]:
    """:func:`fit_meta_regression` for every moderator and every aim that has studies.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`synth.auc.study_variances`.
    aims : sequence of str, optional
        Aims to fit, in this order (:func:`synth.auc.aim_order`; None: the aims in ``table``,
        sorted); an aim without a study in ``table`` is left out (it has nothing to show, not
        even a reason).
    moderators : sequence of str, default :data:`MODERATORS`
        Moderators, one list of fits each.
    quality : pandas.DataFrame, optional
        Per-study quality table (:func:`synth.appraisal.study_quality`); a quality moderator
        without its column gives fits whose reason names the missing file (a note in
        :func:`meta_regression_table`, no figure), not an error.
    method : str, default "REML"
        tau² estimator (:data:`synth.meta.METHODS`).
    min_k_per_moderator : int, default :data:`MIN_K_PER_MODERATOR` (10)
        As in :func:`fit_meta_regression`.

    Returns
    -------
    dict of str to list of RegressionFit
        Per moderator (in the order given), one fit per aim with studies (a panel each).
    """
    moderators = check_choices("moderators", moderators, MODERATORS)
    shown = [a for a in aim_order(aims, table["aim"]) if (table["aim"] == a).any()]
    return {m: [fit_meta_regression(table, aim=a, moderator=m, quality=quality, method=method,
                                    min_k_per_moderator=min_k_per_moderator)
                for a in shown] for m in moderators}


def meta_regression_table(
    fits: Sequence[RegressionFit] | Mapping[str, Sequence[RegressionFit]],
) -> pd.DataFrame:
    """Coefficient tables of several fits stacked (``auc_meta_regression.csv``).

    Parameters
    ----------
    fits : sequence of RegressionFit, or the mapping :func:`meta_regressions` returns
        Fits, in row order.

    Returns
    -------
    pandas.DataFrame
        Columns of :meth:`RegressionFit.summary_frame`; no rows without fits.
    """
    if isinstance(fits, Mapping):
        fits = [f for panel in fits.values() for f in panel]
    if not fits:
        return pd.DataFrame(columns=_TABLE_COLUMNS)
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
        """Studies in the test (those with a variance)."""
        return int(len(self.data))

    def funnel_limits(self, se: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pseudo confidence limits centre ± z·SE at :data:`FUNNEL_LEVEL`, for standard errors
        ``se`` (logit scale): the funnel's two edges."""
        z = float(stats.norm.isf((1.0 - FUNNEL_LEVEL) / 2))
        se = np.asarray(se, dtype=float)
        return self.centre - z * se, self.centre + z * se

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
            row["note"] = _LOW_POWER if self.k < 10 else ""
        return pd.DataFrame([row])


def egger_table(tests: Sequence[SmallStudyTest]) -> pd.DataFrame:
    """Egger's tests of several aims stacked (``auc_egger.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns of :meth:`SmallStudyTest.summary_frame`; no rows without tests.
    """
    if not tests:
        return pd.DataFrame(columns=["aim", "k", "z", "pvalue", "slope", "slope_se",
                                     "limit_estimate", "limit_se", "note"])
    return pd.concat([t.summary_frame() for t in tests], ignore_index=True)


def small_study_test(table: pd.DataFrame, *, aim: str, method: str = "REML",
                     min_k: int = MIN_K_SMALL_STUDY) -> SmallStudyTest:
    """Funnel data and Egger's regression test (logit AUC on its SE) for an aim.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`.
    aim : str
        The aim.
    method : str, default "REML"
        tau² estimator of the pooled centre and of the test's mixed-effects model.
    min_k : int, default :data:`MIN_K_SMALL_STUDY` (10)
        Fewest studies with a variance for the test (at least 3); the funnel data are kept
        either way.

    Returns
    -------
    SmallStudyTest
        ``egger=None`` with a reason when fewer than ``min_k`` studies have a variance.
    """
    aim = _check_aim(aim)
    min_k = _check_min_k("min_k", min_k, least=3)
    used = table[(table["aim"] == aim) & table["poolable"]]
    data = used[["study_id", "cohort", "logit_auc", "se_logit"]].reset_index(drop=True)
    centre = np.nan
    if len(data) < min_k:
        if len(data) >= 2:
            centre = pool(data["logit_auc"], data["se_logit"] ** 2, method=method).estimate
        return SmallStudyTest(aim, data, centre, None,
                              f"not run: k = {len(data)} < {min_k} (min_k; Sterne et al. 2011)")
    try:
        egger = egger_test(data["logit_auc"], data["se_logit"] ** 2, method=method)
        centre = pool(data["logit_auc"], data["se_logit"] ** 2, method=method).estimate
    except TooFewStudiesError as exc:
        return SmallStudyTest(aim, data, centre, None,
                              f"Egger's test needs k ≥ {exc.needed} studies, k = {exc.k}")
    except (ValueError, RuntimeError) as exc:
        return SmallStudyTest(aim, data, centre, None, f"no test: {exc}")
    return SmallStudyTest(aim, data, centre, egger, "")


def small_study_tests(table: pd.DataFrame, *, aims: Sequence[str] | None = None,
                      method: str = "REML", min_k: int = MIN_K_SMALL_STUDY
                      ) -> list[SmallStudyTest]:
    """:func:`small_study_test` for every aim that has studies.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`synth.auc.study_variances`.
    aims : sequence of str, optional
        Aims to test, in this order (:func:`synth.auc.aim_order`; None: the aims in ``table``,
        sorted); an aim without a study in ``table`` is left out.
    method : str, default "REML"
        tau² estimator.
    min_k : int, default :data:`MIN_K_SMALL_STUDY` (10)
        As in :func:`small_study_test`.

    Returns
    -------
    list of SmallStudyTest
        One per aim with studies (a funnel panel each).
    """
    return [small_study_test(table, aim=a, method=method, min_k=min_k)
            for a in aim_order(aims, table["aim"]) if (table["aim"] == a).any()]


def _check_min_k(name: str, value: int, least: int = 1) -> int:
    """A study-count threshold: a whole number ≥ ``least``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"{name}: {value!r} — allowed: a whole number ≥ {least}")
    return int(value)
