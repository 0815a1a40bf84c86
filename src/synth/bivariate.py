"""The bivariate random-effects model of diagnostic accuracy (Reitsma et al. 2005).

Each study contributes the pair (logit sensitivity, logit false-positive rate) with within-study
variances 1/TP + 1/FN and 1/FP + 1/TN (within-study correlation 0). Between studies the pair
varies around the summary point with a 2x2 covariance Ψ (two τ² and a correlation ρ).

No well-kept Python library fits this model (statsmodels has no bivariate meta-analysis; the
PyPI ports are young), so it is written here on scipy: the restricted (REML, default) or full
(ML) log-likelihood is maximised over Ψ, parametrised by its Cholesky factor so that every step
is a valid covariance, and the summary logits (or meta-regression coefficients) are the
generalised-least-squares estimates given Ψ. ``method="fixed"`` sets Ψ = 0.

Everything a summary needs is derived from one :class:`BivariateFit` with the definitions of
R's mada 0.5 (``reitsma``): the Rutter–Gatsonis SROC curve, its AUC and partial AUC (mada's
trapezoid rule over 99 FPR values), the HSROC parameters (Harbord et al. 2007), the
Zhou–Dendukuri I² as mada computes it, and confidence and prediction ellipses (R's ``ellipse``
package). Validated against mada 0.5.12 and metafor ``rma.mv(struct = "UN")`` on AuditC
(tests/results/dta_auditc.R): logits, SEs and Ψ to 1e-6, AUC and partial AUC to 1e-4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, stats

from synth.errors import check_choice
from synth.meta import TooFewStudiesError

__all__ = [
    "ESTIMATORS",
    "ZERO_RULES",
    "CORRECTION",
    "MIN_STUDIES",
    "SROC_FPR",
    "HSROC",
    "LikelihoodRatioTest",
    "BivariateFit",
    "continuity_correction",
    "fit_bivariate",
    "likelihood_ratio_test",
    "ellipse",
]

ESTIMATORS: tuple[str, ...] = ("REML", "ML", "fixed")
"""Estimation of Ψ: restricted maximum likelihood (default, mada's and metafor's), maximum
likelihood (for likelihood-ratio tests of meta-regressions), or Ψ = 0 (fixed effect)."""

ZERO_RULES: tuple[str, ...] = ("all", "single")
"""Continuity correction for zero cells, as mada's ``correction.control``: ``"all"`` (default)
adds :data:`CORRECTION` to every cell of every study when any cell of any study is 0;
``"single"`` only to the four cells of the studies that have a zero."""

CORRECTION = 0.5
"""The value added to the cells by the zero-cell rule (mada's ``correction``)."""

MIN_STUDIES = 3
"""Fewest studies a random-effects bivariate fit needs: Ψ has three parameters."""

SROC_FPR: npt.NDArray[np.float64] = np.arange(1, 100) / 100
"""The false-positive rates at which mada evaluates the SROC curve for its AUC (1 % to 99 %)."""

_CELLS = ("tp", "fn", "fp", "tn")


def _logit(p: npt.ArrayLike) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


def _expit(x: npt.ArrayLike) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def continuity_correction(counts: npt.ArrayLike, *, zero_rule: str = "all",
                          correction: float = CORRECTION) -> tuple[np.ndarray, np.ndarray]:
    """Apply the zero-cell rule to a k x 4 array of (TP, FN, FP, TN).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The corrected k x 4 counts and a boolean array saying which studies were corrected.
    """
    zero_rule = str(check_choice("zero_rule", zero_rule, ZERO_RULES))
    counts = np.asarray(counts, dtype=float)
    has_zero = (counts == 0).any(axis=1)
    if zero_rule == "all":
        corrected = np.full(len(counts), bool(has_zero.any()))
    else:
        corrected = has_zero
    return counts + correction * corrected[:, None], corrected


@dataclass(frozen=True)
class HSROC:
    """Parameters of the hierarchical SROC model implied by a bivariate fit (Harbord et al.
    2007, as mada's ``calc_hsroc_coef``): accuracy Θ, threshold Λ, shape β and the variances of
    the random accuracy (σ²_α) and threshold (σ²_θ) effects."""

    theta: float
    lambda_: float
    beta: float
    sigma2_theta: float
    sigma2_alpha: float


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Likelihood-ratio test of nested bivariate models fitted by ML."""

    statistic: float
    df: int
    pvalue: float
    loglik_full: float
    loglik_null: float


@dataclass(frozen=True, eq=False)
class BivariateFit:
    """A fitted bivariate model (Reitsma), with or without covariates.

    Attributes
    ----------
    method : str
        One of :data:`ESTIMATORS`.
    zero_rule : str
        One of :data:`ZERO_RULES`.
    k : int
        Number of studies.
    terms : tuple of str
        Names of the regression terms (``"intercept"`` first); the coefficients are
        ``coef[:p]`` for logit sensitivity and ``coef[p:]`` for logit FPR.
    coef : numpy.ndarray
        GLS coefficients (2p).
    vcov : numpy.ndarray
        Their 2p x 2p covariance.
    psi : numpy.ndarray
        Between-study covariance Ψ of (logit sensitivity, logit FPR).
    loglik : float
        Maximised (restricted) log-likelihood, normal constants included.
    converged : bool
        Whether the optimiser reported convergence.
    y, v : numpy.ndarray
        k x 2 study logits (sensitivity, FPR) and their within-study variances (after the
        zero-cell rule).
    counts : numpy.ndarray
        k x 4 (TP, FN, FP, TN) as given (before the zero-cell rule).
    corrected : numpy.ndarray
        Boolean per study: the zero-cell correction was added to its cells.
    labels : tuple of str
        Study labels, in the order of the rows.
    """

    method: str
    zero_rule: str
    k: int
    terms: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    psi: np.ndarray
    loglik: float
    converged: bool
    y: np.ndarray
    v: np.ndarray
    counts: np.ndarray
    corrected: np.ndarray
    labels: tuple[str, ...] = field(default=())

    # --- summary point ---------------------------------------------------------------------

    @property
    def p(self) -> int:
        """Number of regression terms per logit."""
        return len(self.terms)

    @property
    def mu(self) -> np.ndarray:
        """Summary (logit sensitivity, logit FPR): the intercepts."""
        return np.array([self.coef[0], self.coef[self.p]])

    @property
    def mu_vcov(self) -> np.ndarray:
        """2 x 2 covariance of :attr:`mu`."""
        idx = [0, self.p]
        return self.vcov[np.ix_(idx, idx)]

    @property
    def se(self) -> np.ndarray:
        """Standard errors of all coefficients."""
        return np.sqrt(np.diag(self.vcov))

    @property
    def tau2(self) -> tuple[float, float]:
        """Between-study variances of logit sensitivity and logit FPR."""
        return float(self.psi[0, 0]), float(self.psi[1, 1])

    @property
    def rho(self) -> float:
        """Between-study correlation of logit sensitivity and logit FPR (NaN if a τ² is 0)."""
        denom = np.sqrt(self.psi[0, 0] * self.psi[1, 1])
        return float(self.psi[0, 1] / denom) if denom > 0 else float("nan")

    @property
    def is_summary(self) -> bool:
        """True without covariates: SROC, AUC and HSROC are defined only then (as in mada)."""
        return self.p == 1

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Pooled accuracy as a tidy table, one row per quantity.

        Rows: ``sensitivity``, ``specificity``, ``false positive rate`` (back-transformed Wald
        intervals of the logits), ``LR+``, ``LR-`` (delta method on the log scale from the
        covariance of the two logits), ``DOR`` (exact on the log scale: log DOR = logit sens −
        logit FPR), ``logit sensitivity``, ``logit false positive rate`` (with ``se``).

        Returns
        -------
        pandas.DataFrame
            Columns ``quantity``, ``estimate``, ``se`` (logit or log scale), ``ci_low``,
            ``ci_high``.
        """
        z = stats.norm.ppf(1 - alpha / 2)
        m1, m2 = self.mu
        c = self.mu_vcov
        s, f = float(_expit(m1)), float(_expit(m2))
        rows: list[dict[str, Any]] = []

        def add(name: str, est: float, se: float, back) -> None:
            rows.append({"quantity": name, "estimate": float(back(est)), "se": float(se),
                         "ci_low": float(back(est - z * se)),
                         "ci_high": float(back(est + z * se))})

        se1, se2 = np.sqrt(c[0, 0]), np.sqrt(c[1, 1])
        add("sensitivity", m1, se1, _expit)
        add("specificity", -m2, se2, _expit)
        add("false positive rate", m2, se2, _expit)
        g_pos = np.array([1 - s, -(1 - f)])  # d log(sens/fpr) / d(mu1, mu2)
        g_neg = np.array([-s, f])  # d log((1-sens)/(1-fpr)) / d(mu1, mu2)
        g_dor = np.array([1.0, -1.0])
        add("LR+", np.log(s / f), np.sqrt(g_pos @ c @ g_pos), np.exp)
        add("LR-", np.log((1 - s) / (1 - f)), np.sqrt(g_neg @ c @ g_neg), np.exp)
        add("DOR", m1 - m2, np.sqrt(g_dor @ c @ g_dor), np.exp)
        add("logit sensitivity", m1, se1, float)
        add("logit false positive rate", m2, se2, float)
        return pd.DataFrame(rows)

    def coef_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Every coefficient: ``outcome`` (logit sensitivity / logit FPR), ``term``,
        ``estimate``, ``se``, ``z``, ``pvalue``, ``ci_low``, ``ci_high`` (Wald)."""
        z = stats.norm.ppf(1 - alpha / 2)
        se = self.se
        outcome = ["logit sensitivity"] * self.p + ["logit false positive rate"] * self.p
        stat = self.coef / se
        return pd.DataFrame({
            "outcome": outcome, "term": list(self.terms) * 2, "estimate": self.coef, "se": se,
            "z": stat, "pvalue": 2 * stats.norm.sf(np.abs(stat)),
            "ci_low": self.coef - z * se, "ci_high": self.coef + z * se,
        })

    # --- SROC curve and HSROC ----------------------------------------------------------------

    def _require_summary(self, what: str) -> None:
        if not self.is_summary:
            raise ValueError(f"{what} is defined for a fit without covariates only (as in mada);"
                             " fit the subgroups separately.")

    def hsroc(self) -> HSROC:
        """HSROC parameters (Harbord et al. 2007), mada's ``calc_hsroc_coef``."""
        self._require_summary("HSROC")
        m1, m2 = self.mu
        s1, s2 = np.sqrt(np.diag(self.psi))
        if s1 <= 0 or s2 <= 0:
            nan = float("nan")
            return HSROC(nan, nan, nan, nan, nan)
        r = np.sqrt(s2 / s1)
        return HSROC(
            theta=float(0.5 * (r * m1 + m2 / r)),
            lambda_=float(r * m1 - m2 / r),
            beta=float(np.log(s2 / s1)),
            sigma2_theta=float(0.5 * (s1 * s2 + self.psi[0, 1])),
            sigma2_alpha=float(2 * (s1 * s2 - self.psi[0, 1])),
        )

    def sroc(self, fpr: npt.ArrayLike) -> np.ndarray:
        """Sensitivity on the Rutter–Gatsonis SROC curve at ``fpr`` (mada's default type):
        logit sens = Λ·e^(−β/2) + e^(−β)·logit FPR."""
        h = self.hsroc()
        return _expit(h.lambda_ * np.exp(-h.beta / 2) + np.exp(-h.beta) * _logit(fpr))

    def observed_fpr_range(self) -> tuple[float, float]:
        """Smallest and largest study FPR (uncorrected counts), as mada's partial AUC uses."""
        fp, tn = self.counts[:, 2], self.counts[:, 3]
        f = fp / (fp + tn)
        return float(f.min()), float(f.max())

    def auc(self) -> float:
        """Area under the SROC curve as mada's ``AUC``: trapezoids over :data:`SROC_FPR`,
        divided by their number (99)."""
        return _mada_area(self.sroc(SROC_FPR))

    def partial_auc(self) -> float:
        """Partial AUC over the observed FPR range (clipped to 0.01–0.99), normalised by its
        width, as mada's ``pAUC``: the same rule over 99 equally spaced FPR values."""
        lo, hi = self.observed_fpr_range()
        grid = np.linspace(max(0.01, lo), min(0.99, hi), 99)
        return _mada_area(self.sroc(grid))

    # --- heterogeneity ---------------------------------------------------------------------

    def i2_zhou(self) -> float:
        """Bivariate I² of Zhou & Dendukuri (2014) in percent, computed as mada 0.5.12 does.

        mada takes the summary's squared standard errors as the two variances, the between-study
        correlation from Ψ, and the study sizes TP + FP and TN + FN of the uncorrected counts;
        that is the definition the reference numbers (AuditC: 40.4 %) follow.
        """
        self._require_summary("The Zhou–Dendukuri I²")
        tau_a, tau_b = np.diag(self.mu_vcov)
        theta_a, theta_b = self.mu[0], -self.mu[1]
        rho2 = self.rho**2 if np.isfinite(self.rho) else 0.0
        tp, fn, fp, tn = self.counts.T
        k = self.k
        na = np.sum(1 / (tp + fp))
        nb = np.sum(1 / (tn + fn))
        tau = (1 - rho2) * tau_a * tau_b
        em = ((np.exp(tau_a / 2 + theta_a) + np.exp(tau_a / 2 - theta_a) + 2) * na / k) * (
            (np.exp(tau_b / 2 + theta_b) + np.exp(tau_b / 2 - theta_b) + 2) * nb / k)
        return float(100 * np.sqrt(tau) / (np.sqrt(em) + np.sqrt(tau)))

    # --- regions -----------------------------------------------------------------------------

    def confidence_region(self, level: float = 0.95, points: int = 100) -> pd.DataFrame:
        """Confidence ellipse of the summary point, back-transformed: columns ``fpr``,
        ``sensitivity`` (mada's ``ROCellipse``)."""
        return _region(self.mu, self.mu_vcov, level, points)

    def prediction_region(self, level: float = 0.95, points: int = 100) -> pd.DataFrame:
        """Prediction ellipse for a new study (Ψ + covariance of the summary), as mada's
        ``plot(..., predict = TRUE)``: columns ``fpr``, ``sensitivity``."""
        return _region(self.mu, self.psi + self.mu_vcov, level, points)

    def study_frame(self) -> pd.DataFrame:
        """The studies as fitted: ``label``, ``tp``, ``fn``, ``fp``, ``tn`` (as given),
        ``corrected``, ``n``, ``sensitivity``, ``fpr``, ``specificity`` (as given; corrected
        counts when a cell is zero), ``logit_sens``, ``logit_fpr``, ``var_sens``, ``var_fpr``."""
        tp, fn, fp, tn = self.counts.T
        labels = list(self.labels) if self.labels else [str(i + 1) for i in range(self.k)]
        sens, fpr = _expit(self.y[:, 0]), _expit(self.y[:, 1])
        return pd.DataFrame({
            "label": labels, "tp": tp, "fn": fn, "fp": fp, "tn": tn,
            "corrected": self.corrected, "n": tp + fn + fp + tn,
            "sensitivity": sens, "fpr": fpr, "specificity": 1 - fpr,
            "logit_sens": self.y[:, 0], "logit_fpr": self.y[:, 1],
            "var_sens": self.v[:, 0], "var_fpr": self.v[:, 1],
        })


def _mada_area(s: np.ndarray) -> float:
    n = len(s)
    return float((s[0] / 2 + s[1:-1].sum() + s[-1] / 2) / n)


def ellipse(centre: npt.ArrayLike, cov: npt.ArrayLike, level: float = 0.95,
            points: int = 100) -> np.ndarray:
    """Points of the ``level`` ellipse of a bivariate normal (R's ``ellipse::ellipse``:
    radius √χ²₂(level), ``points`` angles from 0 to 2π); a ``points`` x 2 array."""
    cov = np.asarray(cov, dtype=float)
    centre = np.asarray(centre, dtype=float)
    t = np.sqrt(stats.chi2.ppf(level, 2))
    sd = np.sqrt(np.diag(cov))
    r = cov[0, 1] / (sd[0] * sd[1]) if sd[0] > 0 and sd[1] > 0 else 0.0
    d = np.arccos(np.clip(r, -1, 1))
    a = np.linspace(0, 2 * np.pi, points)
    return np.column_stack([t * sd[0] * np.cos(a + d / 2) + centre[0],
                            t * sd[1] * np.cos(a - d / 2) + centre[1]])


def _region(mu: np.ndarray, cov: np.ndarray, level: float, points: int) -> pd.DataFrame:
    e = ellipse(mu, cov, level, points)
    return pd.DataFrame({"fpr": _expit(e[:, 1]), "sensitivity": _expit(e[:, 0])})


# ---------------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------------


def _design(covariate: Sequence[Any] | None, k: int, levels: Sequence[Any] | None
            ) -> tuple[np.ndarray, tuple[str, ...]]:
    if covariate is None:
        return np.ones((k, 1)), ("intercept",)
    values = pd.Series(list(covariate))
    if len(values) != k:
        raise ValueError(f"covariate has {len(values)} values for {k} studies.")
    if values.isna().any():
        raise ValueError("covariate has missing values; drop those studies first.")
    if pd.api.types.is_numeric_dtype(values) and levels is None:
        return np.column_stack([np.ones(k), values.to_numpy(float)]), ("intercept", "slope")
    lev = list(levels) if levels is not None else sorted(values.astype(str).unique())
    values = values.astype(str)
    unknown = sorted(set(values) - {str(v) for v in lev})
    if unknown:
        raise ValueError(f"covariate values {unknown} are not among levels {lev}.")
    lev = [str(v) for v in lev if str(v) in set(values)]
    if len(lev) < 2:
        raise ValueError(f"covariate has one level only ({lev}); nothing to compare.")
    cols = [np.ones(k)] + [(values == lv).to_numpy(float) for lv in lev[1:]]
    return np.column_stack(cols), ("intercept", *lev[1:])


def _gls(y: np.ndarray, v: np.ndarray, x: np.ndarray, psi: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """GLS given Ψ: coefficients, A = Σ Dᵢ'Wᵢ Dᵢ, Σ log|Vᵢ|, log|A|, quadratic form."""
    a11 = v[:, 0] + psi[0, 0]
    a22 = v[:, 1] + psi[1, 1]
    det = a11 * a22 - psi[0, 1] ** 2
    w11, w22, w12 = a22 / det, a11 / det, -psi[0, 1] / det
    p = x.shape[1]
    big = np.empty((2 * p, 2 * p))
    big[:p, :p] = x.T @ (w11[:, None] * x)
    big[p:, p:] = x.T @ (w22[:, None] * x)
    big[:p, p:] = x.T @ (w12[:, None] * x)
    big[p:, :p] = big[:p, p:].T
    rhs = np.concatenate([x.T @ (w11 * y[:, 0] + w12 * y[:, 1]),
                          x.T @ (w12 * y[:, 0] + w22 * y[:, 1])])
    coef = np.linalg.solve(big, rhs)
    r1 = y[:, 0] - x @ coef[:p]
    r2 = y[:, 1] - x @ coef[p:]
    quad = float(np.sum(w11 * r1**2 + 2 * w12 * r1 * r2 + w22 * r2**2))
    sign, logdet_a = np.linalg.slogdet(big)
    return coef, big, float(np.sum(np.log(det))), float(logdet_a), quad


def _loglik(y: np.ndarray, v: np.ndarray, x: np.ndarray, psi: np.ndarray, reml: bool) -> float:
    _, _, logdet_v, logdet_a, quad = _gls(y, v, x, psi)
    n = 2 * len(y)
    if reml:
        n_eff = n - 2 * x.shape[1]
        logdet_xx = 2 * np.linalg.slogdet(x.T @ x)[1]  # metafor keeps this constant
        return -0.5 * (n_eff * np.log(2 * np.pi) + logdet_v + logdet_a + quad - logdet_xx)
    return -0.5 * (n * np.log(2 * np.pi) + logdet_v + quad)


def _psi(theta: np.ndarray) -> np.ndarray:
    chol = np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    return chol @ chol.T


def _start(y: np.ndarray, v: np.ndarray) -> np.ndarray:
    cov = np.cov(y.T) if len(y) > 1 else np.zeros((2, 2))
    var = np.maximum(np.diag(cov) - v.mean(axis=0), 0.05)
    r = np.clip(cov[0, 1] / np.sqrt(np.diag(cov).prod()), -0.9, 0.9) if cov[0, 0] > 0 else 0.0
    start = np.array([[var[0], r * np.sqrt(var.prod())], [r * np.sqrt(var.prod()), var[1]]])
    chol = np.linalg.cholesky(start)
    return np.array([chol[0, 0], chol[1, 0], chol[1, 1]])


def fit_bivariate(
    counts: pd.DataFrame | npt.ArrayLike,
    *,
    method: str = "REML",
    zero_rule: str = "all",
    correction: float = CORRECTION,
    covariate: Sequence[Any] | None = None,
    levels: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
) -> BivariateFit:
    """Fit the bivariate random-effects model (Reitsma) to 2x2 tables.

    Parameters
    ----------
    counts : DataFrame or array
        One row per study: a DataFrame with columns ``tp``, ``fn``, ``fp``, ``tn`` (upper case
        accepted), or a k x 4 array in the order TP, FN, FP, TN (mada's).
    method : {"REML", "ML", "fixed"}, default "REML"
        Estimation of Ψ (:data:`ESTIMATORS`).
    zero_rule : {"all", "single"}, default "all"
        Continuity correction (:data:`ZERO_RULES`); mada's default is ``"all"``.
    correction : float, default 0.5
        The value the zero-cell rule adds.
    covariate : sequence, optional
        One value per study for a bivariate meta-regression: numbers give a slope, text gives
        one indicator per level after the first (the reference).
    levels : sequence, optional
        Levels of a categorical ``covariate``, reference first (default sorted).
    labels : sequence of str, optional
        Study labels, kept for tables and figures.

    Returns
    -------
    BivariateFit

    Raises
    ------
    TooFewStudiesError
        With fewer than :data:`MIN_STUDIES` studies (random effects) or fewer than 1 (fixed),
        or not more studies than coefficients.
    ValueError
        For an unknown method or zero rule, negative or non-finite counts, a study without
        positives or negatives, or a bad covariate.
    """
    method = str(check_choice("method", method, ESTIMATORS))
    raw = _counts_array(counts)
    k = len(raw)
    x, terms = _design(covariate, k, levels)
    needed = 1 if method == "fixed" else max(MIN_STUDIES, x.shape[1] + 2)
    if k < needed:
        raise TooFewStudiesError(k, needed, "the bivariate model")
    fixed, corrected = continuity_correction(raw, zero_rule=zero_rule, correction=correction)
    tp, fn, fp, tn = fixed.T
    y = np.column_stack([_logit(tp / (tp + fn)), _logit(fp / (fp + tn))])
    v = np.column_stack([1 / tp + 1 / fn, 1 / fp + 1 / tn])
    if not np.isfinite(y).all() or not np.isfinite(v).all():
        bad = int(np.flatnonzero(~np.isfinite(np.column_stack([y, v])).all(axis=1))[0]) + 1
        raise ValueError(f"study {bad} has a zero cell left after zero_rule={zero_rule!r}; "
                         "use zero_rule='single' or 'all' with a correction > 0.")
    reml = method == "REML"
    converged = True
    if method == "fixed":
        psi = np.zeros((2, 2))
    else:
        res = optimize.minimize(lambda t: -_loglik(y, v, x, _psi(t), reml), _start(y, v),
                                method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
        converged = bool(res.success) or res.status == 2  # 2: precision loss at the optimum
        psi = _psi(res.x)
    coef, big, *_ = _gls(y, v, x, psi)
    return BivariateFit(
        method=method, zero_rule=zero_rule, k=k, terms=terms, coef=coef,
        vcov=np.linalg.inv(big), psi=psi, loglik=_loglik(y, v, x, psi, reml),
        converged=converged, y=y, v=v, counts=raw, corrected=corrected,
        labels=tuple(str(s) for s in labels) if labels is not None else (),
    )


def _counts_array(counts: pd.DataFrame | npt.ArrayLike) -> np.ndarray:
    if isinstance(counts, pd.DataFrame):
        cols = {c.lower(): c for c in counts.columns}
        missing = [c for c in _CELLS if c not in cols]
        if missing:
            raise ValueError(f"counts lacks columns {missing}; give tp, fn, fp, tn.")
        arr = counts[[cols[c] for c in _CELLS]].to_numpy(dtype=float)
    else:
        arr = np.asarray(counts, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError(f"counts must be k x 4 (TP, FN, FP, TN), got shape {arr.shape}.")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("counts must be finite numbers >= 0.")
    pos, neg = arr[:, 0] + arr[:, 1], arr[:, 2] + arr[:, 3]
    if (pos <= 0).any() or (neg <= 0).any():
        bad = int(np.flatnonzero((pos <= 0) | (neg <= 0))[0]) + 1
        raise ValueError(f"study {bad} has no positives or no negatives; it has no 2x2 table.")
    return arr


def likelihood_ratio_test(full: BivariateFit, null: BivariateFit) -> LikelihoodRatioTest:
    """Likelihood-ratio test of two nested fits by ML on the same studies (mada's ``anova``).

    Raises
    ------
    ValueError
        If either fit is not ML, the study counts differ, or the models are not nested by
        their number of terms.
    """
    if full.method != "ML" or null.method != "ML":
        raise ValueError("likelihood-ratio tests need ML fits (method='ML'); REML likelihoods "
                         "of models with different fixed effects are not comparable.")
    if full.k != null.k or not np.array_equal(full.counts, null.counts):
        raise ValueError("both fits must use the same studies.")
    df = 2 * (full.p - null.p)
    if df <= 0:
        raise ValueError("the full model must have more terms than the null model.")
    stat = max(2 * (full.loglik - null.loglik), 0.0)
    return LikelihoodRatioTest(statistic=float(stat), df=df, pvalue=float(stats.chi2.sf(stat, df)),
                               loglik_full=full.loglik, loglik_null=null.loglik)
