"""Diagnostic accuracy by clinical aim: 2x2 tables, bivariate pooling, subgroups, small studies.

Steps, each a tidy DataFrame or a small result object (the model is :mod:`synth.bivariate`, the
figures :mod:`synth.plots.dta`):

1. :func:`two_by_two` gives every performance row its 2x2 table: reported (``tp``, ``fp``,
   ``fn``, ``tn``) or reconstructed from sensitivity and specificity with the class sizes, each
   reconstruction checked against the printed values at their printed precision.
2. :func:`representative_cells` picks one 2x2 row per study and aim with the same rule as the
   AUCs (:func:`synth.auc.select_representative`), ranked by the Youden index.
3. :func:`pool_by_aim` fits the bivariate model per aim; :func:`pooled_table` tabulates it.
4. :func:`subgroup_pooling` (internal against external validation by default),
   :func:`meta_regression`, :func:`deeks_test`, :func:`leave_one_out`, :func:`fagan` and
   :func:`revman_table` (the layout MetaDTA and RevMan read).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from synth.auc import COHORT_PREFERENCE, MODEL_PREFERENCE, aim_order, select_representative
from synth.bivariate import (
    CORRECTION,
    MIN_STUDIES,
    BivariateFit,
    LikelihoodRatioTest,
    fit_bivariate,
    likelihood_ratio_test,
)
from synth.errors import Problem
from synth.meta import TooFewStudiesError
from synth.review import Review
from synth.schema import PERFORMANCE

__all__ = [
    "CELL_SOURCES",
    "DEEKS_MIN_STUDIES",
    "LOO_MAX_STUDIES",
    "SUBGROUPS",
    "two_by_two",
    "representative_cells",
    "DtaPooling",
    "pool_by_aim",
    "pooled_table",
    "low_risk_table",
    "SubgroupResult",
    "subgroup_pooling",
    "DtaRegression",
    "meta_regression",
    "DeeksTest",
    "deeks_test",
    "leave_one_out",
    "FaganResult",
    "fagan",
    "revman_table",
    "data_note",
    "subgroups_by_aim",
    "subgroup_table",
    "meta_regression_table",
    "deeks_tests",
    "deeks_table",
    "leave_one_out_table",
]

CELL_SOURCES: tuple[str, ...] = ("reported", "reconstructed", "none")
"""Where a row's 2x2 table comes from: the four reported cells, reconstructed from sensitivity
and specificity with positives and negatives (or n and prevalence), or none."""

DEEKS_MIN_STUDIES = 10
"""Deeks' test needs at least 10 studies (Cochrane DTA handbook): with fewer it has too little
power to say anything."""

LOO_MAX_STUDIES = 200
"""Most studies a leave-one-out table refits (k fits of k − 1 studies each); beyond, one
study moves a pooled estimate too little to be worth the time, and the table says so."""

SUBGROUPS: tuple[str, str] = ("internal validation", "external validation")
"""Default subgroups compared: the representative row's cohort, internal against external."""

_FILE = PERFORMANCE.filename
_CELLS = ["tp", "fn", "fp", "tn"]


# ---------------------------------------------------------------------------------------------
# 1. 2x2 tables
# ---------------------------------------------------------------------------------------------


def _decimals(x: float) -> int:
    """Decimals of a value as printed (shortest representation: 0.830 reads as 0.83)."""
    text = np.format_float_positional(float(x), trim="-")
    return len(text.split(".")[1]) if "." in text else 0


def _half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5)


def _numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _mismatch(printed: np.ndarray, count: np.ndarray, total: np.ndarray) -> np.ndarray:
    """True where count/total does not round to ``printed`` at its printed precision."""
    out = np.zeros(len(printed), dtype=bool)
    idx = np.flatnonzero(np.isfinite(printed) & np.isfinite(count) & (total > 0))
    if len(idx):
        decimals = np.array([_decimals(v) for v in printed[idx]])
        half = 0.5 * 10.0 ** -decimals + 1e-12
        out[idx] = np.abs(count[idx] / total[idx] - printed[idx]) > half
    return out


def two_by_two(performance: pd.DataFrame) -> pd.DataFrame:
    """Every performance row with its 2x2 table, reported or reconstructed.

    Reconstruction (routine and lossy): positives from ``positives`` (else ``n`` − negatives,
    else n × prevalence), negatives likewise; TP = sensitivity × positives, TN = specificity ×
    negatives (rounded half up), FN = positives − TP, FP = negatives − TN. A reconstruction
    whose sensitivity, specificity or prevalence does not round to the printed value at its
    printed precision is reported in ``problem``; so are reported cells that contradict a
    reported sensitivity or specificity.

    Parameters
    ----------
    performance : pandas.DataFrame
        performance.csv as loaded (:attr:`synth.review.Review.performance`).

    Returns
    -------
    pandas.DataFrame
        ``performance`` with ``performance_row`` (spreadsheet row, header = 1), ``tp``,
        ``fn``, ``fp``, ``tn`` (floats, NaN without a table), ``cells`` (one of
        :data:`CELL_SOURCES`), ``youden`` (sensitivity + specificity − 1 of the table) and
        ``problem`` (``performance.csv:row:column: value — what the cells give``, or None).
    """
    out = performance.copy()
    if "performance_row" not in out.columns:
        out["performance_row"] = np.arange(len(out)) + 2
    g = {c: _numeric(out, c) for c in (*_CELLS, "sensitivity", "specificity", "prevalence",
                                       "n", "positives", "negatives")}
    sens, spec, n, prev = g["sensitivity"], g["specificity"], g["n"], g["prevalence"]
    reported = np.isfinite(np.column_stack([g[c] for c in _CELLS])).all(axis=1)
    pos, neg = g["positives"].copy(), g["negatives"].copy()
    pos = np.where(np.isfinite(pos), pos, n - neg)
    from_prev = ~np.isfinite(pos) & np.isfinite(n) & np.isfinite(prev)
    pos = np.where(from_prev, _half_up(n * prev), pos)
    neg = np.where(np.isfinite(neg), neg, n - pos)
    rebuilt = ~reported & np.isfinite(sens) & np.isfinite(spec) & np.isfinite(pos) \
        & np.isfinite(neg)
    tp_r, tn_r = _half_up(sens * pos), _half_up(spec * neg)
    cells = {
        "tp": np.where(reported, g["tp"], np.where(rebuilt, tp_r, np.nan)),
        "fn": np.where(reported, g["fn"], np.where(rebuilt, pos - tp_r, np.nan)),
        "fp": np.where(reported, g["fp"], np.where(rebuilt, neg - tn_r, np.nan)),
        "tn": np.where(reported, g["tn"], np.where(rebuilt, tn_r, np.nan)),
    }
    for col in _CELLS:
        out[col] = cells[col]
    tp, fn, fp, tn = (cells[c] for c in _CELLS)
    out["cells"] = np.select([reported, rebuilt], ["reported", "reconstructed"], "none")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["youden"] = tp / (tp + fn) + tn / (tn + fp) - 1
    has = reported | rebuilt
    checks = [
        ("sensitivity", sens, tp, tp + fn, _mismatch(np.where(has, sens, np.nan), tp, tp + fn)),
        ("specificity", spec, tn, tn + fp, _mismatch(np.where(has, spec, np.nan), tn, tn + fp)),
        ("prevalence", prev, pos, n, _mismatch(np.where(from_prev & rebuilt, prev, np.nan),
                                               pos, n)),
    ]
    problems: list[list[str]] = [[] for _ in range(len(out))]
    rows = out["performance_row"].to_numpy()
    for name, printed, count, total, bad in checks:
        what = {"sensitivity": "TP", "specificity": "TN", "prevalence": "positives"}[name]
        for i in np.flatnonzero(bad):
            source = "reported" if reported[i] else "reconstructed"
            problems[i].append(str(Problem(
                _FILE, int(rows[i]), name, f"{printed[i]:g}",
                f"{source} {what} {count[i]:g} of {total[i]:g} gives "
                f"{count[i] / total[i]:.4f}, which does not round to the printed value at "
                f"{_decimals(printed[i])} decimals")))
    out["problem"] = ["; ".join(p) or None for p in problems]
    return out


def representative_cells(
    review: Review,
    *,
    rule: str = "validation",
    tie: str = "lowest",
    cohort_order: Sequence[str] = COHORT_PREFERENCE,
    model_order: Sequence[str] = MODEL_PREFERENCE,
    aims: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One 2x2 table per study and aim, chosen by the rule that picks the representative AUC.

    :func:`synth.auc.select_representative` over the rows that have a 2x2 table (reported or
    reconstructed), with the Youden index as the value ``tie`` and rule ``"best"`` rank by.

    Parameters
    ----------
    review : Review
        A loaded review.
    rule, tie, cohort_order, model_order, aims
        As :func:`synth.auc.select_representative` (``tie="lowest"``: the lowest Youden index).

    Returns
    -------
    pandas.DataFrame
        The chosen rows with the columns of :func:`two_by_two` and of
        :func:`synth.auc.select_representative` (``label``, ``selection``, ...); empty (same
        columns) when the review has no 2x2 data.
    """
    cells = two_by_two(review.performance)
    cells = cells[cells["cells"] != "none"]
    return select_representative(cells, review.studies, rule=rule, tie=tie,
                                 cohort_order=cohort_order, model_order=model_order,
                                 value="youden", aims=aims)


# ---------------------------------------------------------------------------------------------
# 2. Pooling per aim
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DtaPooling:
    """The bivariate pooling of one aim: the fit, or a note saying why there is none.

    Attributes
    ----------
    aim : str
    studies : pandas.DataFrame
        The representative rows of the aim (one per study).
    fit : BivariateFit or None
    note : str or None
        Why there is no fit (too few studies), else None.
    """

    aim: str
    studies: pd.DataFrame
    fit: BivariateFit | None
    note: str | None = None

    @property
    def k(self) -> int:
        return len(self.studies)

    def forest_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """The paired forest plot's table: one row per study (``label``, ``tp``, ``fn``,
        ``fp``, ``tn``, ``cells``, ``sensitivity``, ``sens_low``, ``sens_high``,
        ``specificity``, ``spec_low``, ``spec_high``; Wilson intervals of the uncorrected
        counts) and a last row ``label = "Pooled"`` with the summary (NaN without a fit)."""
        z = stats.norm.ppf(1 - alpha / 2)
        s = self.studies
        tp, fn, fp, tn = (s[c].to_numpy(float) for c in _CELLS)
        sl, sh = _wilson(tp, tp + fn, z)
        pl, ph = _wilson(tn, tn + fp, z)
        out = pd.DataFrame({
            "label": s["label"].to_numpy(), "tp": tp, "fn": fn, "fp": fp, "tn": tn,
            "cells": s["cells"].to_numpy(), "sensitivity": tp / (tp + fn), "sens_low": sl,
            "sens_high": sh, "specificity": tn / (tn + fp), "spec_low": pl, "spec_high": ph,
        })
        pooled = {"label": "Pooled", "cells": "pooled"}
        if self.fit is not None:
            f = self.fit.summary_frame(alpha).set_index("quantity")
            for name, key in (("sensitivity", "sens"), ("specificity", "spec")):
                pooled |= {name: f.at[name, "estimate"], f"{key}_low": f.at[name, "ci_low"],
                           f"{key}_high": f.at[name, "ci_high"]}
        return pd.concat([out, pd.DataFrame([pooled])], ignore_index=True)


    def sroc_frame(self, points: int = 100) -> pd.DataFrame:
        """The SROC curve over the observed FPR range clipped to 0.01–0.99 (the range of
        mada's partial AUC, so a study with no false positive does not stretch the curve to
        FPR 0): columns ``fpr``, ``sensitivity``; empty without a fit."""
        if self.fit is None:
            return pd.DataFrame(columns=["fpr", "sensitivity"])
        lo, hi = self.fit.observed_fpr_range()
        fpr = np.linspace(max(lo, 0.01), min(hi, 0.99), points)
        return pd.DataFrame({"fpr": fpr, "sensitivity": self.fit.sroc(fpr)})


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def _fit(rows: pd.DataFrame, method: str, zero_rule: str, correction: float,
         **kw) -> BivariateFit:
    return fit_bivariate(rows[_CELLS], method=method, zero_rule=zero_rule,
                         correction=correction, labels=rows["label"].astype(str).tolist(), **kw)


def pool_by_aim(
    cells: pd.DataFrame,
    *,
    method: str = "REML",
    zero_rule: str = "all",
    correction: float = CORRECTION,
    aims: Sequence[str] | None = None,
) -> dict[str, DtaPooling]:
    """Fit the bivariate model to the representative 2x2 tables of each aim.

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`representative_cells`.
    method, zero_rule, correction
        As :func:`synth.bivariate.fit_bivariate` (REML, mada's zero-cell rule ``"all"``, 0.5).
    aims : sequence of str, optional
        Aims to pool, in this order (:func:`synth.auc.aim_order`; None: every aim with 2x2
        data, sorted); an aim without 2x2 data gets a pooling with no fit and a note.

    Returns
    -------
    dict of str to DtaPooling
        One pooling per aim; an aim with fewer than :data:`synth.bivariate.MIN_STUDIES`
        studies has ``fit = None`` and a note.
    """
    out = {}
    for aim in aim_order(aims, cells["aim"]):
        rows = cells[cells["aim"] == aim].reset_index(drop=True)
        try:
            out[aim] = DtaPooling(aim, rows, _fit(rows, method, zero_rule, correction))
        except TooFewStudiesError as err:
            out[aim] = DtaPooling(aim, rows, None, f"{aim}: not pooled; {err}")
    return out


def pooled_table(poolings: dict[str, DtaPooling], alpha: float = 0.05) -> pd.DataFrame:
    """Every aim's pooled accuracy in one long table.

    Returns
    -------
    pandas.DataFrame
        ``aim``, ``k``, ``method``, ``zero_rule``, ``quantity``, ``estimate``, ``ci_low``,
        ``ci_high``. Quantities: those of :meth:`BivariateFit.summary_frame`, then ``tau2
        sensitivity``, ``tau2 false positive rate``, ``rho``, ``SROC AUC``, ``SROC partial
        AUC``, ``Zhou-Dendukuri I2 (%)``, the HSROC parameters (``HSROC Theta``, ``HSROC
        Lambda``, ``HSROC beta``, ``HSROC sigma2 theta``, ``HSROC sigma2 alpha``) and ``FPR
        range low`` / ``FPR range high`` (what the partial AUC covers). An aim without a fit
        has one row, quantity ``note``.
    """
    rows = []
    for aim, pooling in poolings.items():
        base = {"aim": aim, "k": pooling.k}
        f = pooling.fit
        if f is None:
            rows.append(base | {"quantity": "note", "note": pooling.note})
            continue
        base |= {"method": f.method, "zero_rule": f.zero_rule}
        for r in f.summary_frame(alpha).drop(columns="se").to_dict("records"):
            rows.append(base | r)
        h = f.hsroc()
        lo, hi = f.observed_fpr_range()
        extra = {
            "tau2 sensitivity": f.tau2[0], "tau2 false positive rate": f.tau2[1],
            "rho": f.rho, "SROC AUC": f.auc(), "SROC partial AUC": f.partial_auc(),
            "Zhou-Dendukuri I2 (%)": f.i2_zhou(), "HSROC Theta": h.theta,
            "HSROC Lambda": h.lambda_, "HSROC beta": h.beta,
            "HSROC sigma2 theta": h.sigma2_theta, "HSROC sigma2 alpha": h.sigma2_alpha,
            "FPR range low": lo, "FPR range high": hi,
        }
        rows += [base | {"quantity": q, "estimate": v} for q, v in extra.items()]
    cols = ["aim", "k", "method", "zero_rule", "quantity", "estimate", "ci_low", "ci_high",
            "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


def low_risk_table(
    cells: pd.DataFrame,
    low_risk: Collection[str] | None,
    *,
    domain: str = "Overall",
    method: str = "REML",
    zero_rule: str = "all",
    correction: float = CORRECTION,
    aims: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Pooled sensitivity and specificity per aim from all studies and from the low-risk ones.

    A sensitivity analysis by risk of bias: :func:`pool_by_aim` on every study, then on only
    the studies at low risk in a QUADAS-2 domain
    (:func:`synth.appraisal.review_low_risk_studies`).

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`representative_cells`.
    low_risk : collection of str or None
        ``study_id`` of the studies at low risk; None: the review has no risk-of-bias
        judgements, and the restricted rows say so.
    domain : str
        The domain's name, for the ``subset`` column ("low risk: Overall").
    method, zero_rule, correction, aims
        As for :func:`pool_by_aim`.
    alpha : float
        Significance level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Two rows per aim, ``subset`` "all studies" then "low risk: <domain>": ``aim, subset, k,
        sensitivity, sens_low, sens_high, specificity, spec_low, spec_high, note``; a subset
        with fewer studies than the bivariate model needs (or without judgements) has NaN
        estimates and a ``note``.
    """
    subsets = {"all studies": cells}
    if low_risk is not None:
        subsets[f"low risk: {domain}"] = cells[cells["study_id"].isin(set(low_risk))]
    rows = []
    for aim in aim_order(aims, cells["aim"]):
        for subset, data in subsets.items():
            p = pool_by_aim(data, method=method, zero_rule=zero_rule, correction=correction,
                            aims=[aim])[aim]
            row = {"aim": aim, "subset": subset, "k": p.k, "note": p.note or ""}
            if p.fit is not None:
                f = p.fit.summary_frame(alpha).set_index("quantity")
                for name, key in (("sensitivity", "sens"), ("specificity", "spec")):
                    row |= {name: f.at[name, "estimate"], f"{key}_low": f.at[name, "ci_low"],
                            f"{key}_high": f.at[name, "ci_high"]}
            rows.append(row)
        if low_risk is None:
            rows.append({"aim": aim, "subset": f"low risk: {domain}", "k": 0,
                         "note": "not pooled: no risk-of-bias judgements (quadas2.csv)"})
    cols = ["aim", "subset", "k", "sensitivity", "sens_low", "sens_high", "specificity",
            "spec_low", "spec_high", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


# ---------------------------------------------------------------------------------------------
# 3. Subgroups and meta-regression
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Separate bivariate fits per subgroup and a likelihood-ratio test of their difference.

    ``test`` compares ML fits with and without the subgroup as a covariate on both logits
    (common Ψ, 2 df); None (with ``note``) when a subgroup is too small.
    """

    aim: str
    by: str
    groups: tuple[str, ...]
    poolings: dict[str, DtaPooling]
    test: LikelihoodRatioTest | None
    note: str | None = None

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """:func:`pooled_table` of the subgroups with ``group`` instead of ``aim``, plus the
        test as rows ``LR test statistic`` / ``LR test df`` / ``LR test p``."""
        table = pooled_table(self.poolings, alpha).rename(columns={"aim": "group"})
        table.insert(0, "aim", self.aim)
        if self.test is not None:
            t = self.test
            extra = pd.DataFrame({"aim": self.aim, "group": "difference", "k": sum(
                p.k for p in self.poolings.values()), "method": "ML",
                "quantity": ["LR test statistic", "LR test df", "LR test p"],
                "estimate": [t.statistic, t.df, t.pvalue]})
            table = pd.concat([table, extra], ignore_index=True)
        return table


def subgroup_pooling(
    cells: pd.DataFrame,
    *,
    aim: str,
    by: str = "cohort",
    groups: Sequence[str] = SUBGROUPS,
    method: str = "REML",
    zero_rule: str = "all",
    correction: float = CORRECTION,
) -> SubgroupResult:
    """Pool the 2x2 tables of ``aim`` per subgroup and test whether the subgroups differ.

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`representative_cells`.
    aim : str
    by : str, default "cohort"
        Column defining the subgroups (the representative row's cohort by default; any
        column of the table, e.g. ``modality``).
    groups : sequence of str, default :data:`SUBGROUPS`
        The levels compared, reference first.
    method, zero_rule, correction
        For the subgroup fits (the test always uses ML).

    Returns
    -------
    SubgroupResult
    """
    if by not in cells.columns:
        raise ValueError(f"by={by!r} is not a column of the 2x2 table; use one of: "
                         f"{', '.join(map(str, cells.columns))}")
    rows = cells[(cells["aim"] == aim) & cells[by].astype(str).isin(list(groups))]
    poolings = {}
    for g in groups:
        sub = rows[rows[by].astype(str) == g].reset_index(drop=True)
        try:
            poolings[g] = DtaPooling(g, sub, _fit(sub, method, zero_rule, correction))
        except TooFewStudiesError as err:
            poolings[g] = DtaPooling(g, sub, None, f"{g}: not pooled; {err}")
    small = [g for g, p in poolings.items() if p.k < MIN_STUDIES]
    if small:
        verb = "has" if len(small) == 1 else "each have"
        note = (f"no test of difference: {' and '.join(small)} {verb} fewer than "
                f"{MIN_STUDIES} studies with a 2x2 table for {aim}")
        return SubgroupResult(aim, by, tuple(groups), poolings, None, note)
    rows = rows.reset_index(drop=True)
    full = _fit(rows, "ML", zero_rule, correction, covariate=rows[by].astype(str).tolist(),
                levels=list(groups))
    null = _fit(rows, "ML", zero_rule, correction)
    return SubgroupResult(aim, by, tuple(groups), poolings, likelihood_ratio_test(full, null))


@dataclass(frozen=True, eq=False)
class DtaRegression:
    """A bivariate meta-regression on one covariate: the fit (``method``) and the
    likelihood-ratio test of the covariate on ML fits."""

    aim: str
    covariate: str
    fit: BivariateFit
    test: LikelihoodRatioTest

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficients (:meth:`BivariateFit.coef_frame`) with ``aim``, ``covariate``,
        ``method``, ``k`` and the test's ``lr_statistic``, ``lr_df``, ``lr_pvalue``."""
        t = self.test
        out = self.fit.coef_frame(alpha)
        for i, (name, value) in enumerate((("aim", self.aim), ("covariate", self.covariate),
                                           ("method", self.fit.method), ("k", self.fit.k))):
            out.insert(i, name, value)
        return out.assign(lr_statistic=t.statistic, lr_df=t.df, lr_pvalue=t.pvalue)


def meta_regression(
    cells: pd.DataFrame,
    *,
    aim: str,
    covariate: str,
    levels: Sequence[str] | None = None,
    method: str = "REML",
    zero_rule: str = "all",
    correction: float = CORRECTION,
) -> DtaRegression:
    """Bivariate meta-regression of logit sensitivity and logit FPR on a study column.

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`representative_cells` (with any study column merged in).
    aim : str
    covariate : str
        A column: text gives one indicator per level after the first, numbers a slope.
    levels : sequence of str, optional
        Levels of a text covariate, reference first (default sorted).
    method : {"REML", "ML"}, default "REML"
        Estimation of the reported coefficients; the likelihood-ratio test always compares ML
        fits with and without the covariate.
    zero_rule, correction
        As :func:`synth.bivariate.fit_bivariate`.

    Raises
    ------
    ValueError
        For an unknown column or aim, or a covariate with missing values or one level.
    TooFewStudiesError
        With too few studies for the number of coefficients.
    """
    if covariate not in cells.columns:
        raise ValueError(f"covariate={covariate!r} is not a column of the 2x2 table; use one "
                         f"of: {', '.join(map(str, cells.columns))}")
    rows = cells[(cells["aim"] == aim) & cells[covariate].notna()].reset_index(drop=True)
    values = rows[covariate].tolist()
    fit = _fit(rows, method, zero_rule, correction, covariate=values, levels=levels)
    full = fit if method == "ML" else _fit(rows, "ML", zero_rule, correction, covariate=values,
                                           levels=levels)
    null = _fit(rows, "ML", zero_rule, correction)
    return DtaRegression(aim, covariate, fit, likelihood_ratio_test(full, null))


# ---------------------------------------------------------------------------------------------
# 4. Small-study effects, influence, post-test probabilities, export
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DeeksTest:
    """Deeks' funnel-plot asymmetry test (Deeks et al. 2005).

    Weighted least squares of ln DOR on 1/√ESS (ESS = 4·n₁·n₀/(n₁ + n₀)) with weights ESS;
    0.5 added to the cells of a study with a zero; t test of the slope with k − 2 df.
    ``points`` holds what the funnel plot draws (``label``, ``ln_dor``, ``inv_sqrt_ess``,
    ``ess``); with fewer than :data:`DEEKS_MIN_STUDIES` studies the statistics are NaN and
    ``note`` says why.
    """

    k: int
    intercept: float
    slope: float
    se: float
    t: float
    df: int
    pvalue: float
    points: pd.DataFrame = field(repr=False)
    note: str | None = None

    def summary_frame(self) -> pd.DataFrame:
        """One row: ``k``, ``intercept``, ``slope``, ``se``, ``t``, ``df``, ``pvalue``,
        ``note``."""
        return pd.DataFrame([{n: getattr(self, n) for n in
                              ("k", "intercept", "slope", "se", "t", "df", "pvalue", "note")}])


def deeks_test(cells: pd.DataFrame, *, min_k: int = DEEKS_MIN_STUDIES) -> DeeksTest:
    """Deeks' test on the 2x2 tables of ``cells`` (one aim's studies).

    Parameters
    ----------
    cells : pandas.DataFrame
        Rows with ``tp``, ``fn``, ``fp``, ``tn`` and ``label``.
    min_k : int, default :data:`DEEKS_MIN_STUDIES`
        Fewest studies for the test; lower it only to reproduce another tool.
    """
    counts = cells[_CELLS].to_numpy(float)
    zero = (counts == 0).any(axis=1)
    counts = counts + 0.5 * zero[:, None]
    tp, fn, fp, tn = counts.T
    n1, n0 = tp + fn, fp + tn
    ess = 4 * n1 * n0 / (n1 + n0)
    points = pd.DataFrame({"label": cells["label"].astype(str).to_numpy(),
                           "ln_dor": np.log(tp * tn / (fp * fn)),
                           "inv_sqrt_ess": 1 / np.sqrt(ess), "ess": ess})
    k = len(points)
    if k < min_k:
        nan = float("nan")
        note = (f"Deeks' test not run: {k} studies, fewer than the {min_k} it needs to have "
                "any power (Cochrane DTA handbook).")
        return DeeksTest(k, nan, nan, nan, nan, max(k - 2, 0), nan, points, note)
    x = np.column_stack([np.ones(k), points["inv_sqrt_ess"]])
    w = ess
    xtw = x.T * w
    cov_unscaled = np.linalg.inv(xtw @ x)
    beta = cov_unscaled @ xtw @ points["ln_dor"].to_numpy()
    resid = points["ln_dor"].to_numpy() - x @ beta
    sigma2 = float(np.sum(w * resid**2) / (k - 2))
    se = float(np.sqrt(sigma2 * cov_unscaled[1, 1]))
    t = float(beta[1] / se)
    return DeeksTest(k, float(beta[0]), float(beta[1]), se, t, k - 2,
                     float(2 * stats.t.sf(abs(t), k - 2)), points)


def leave_one_out(pooling: DtaPooling, alpha: float = 0.05, *,
                  max_k: int = LOO_MAX_STUDIES) -> pd.DataFrame:
    """Refit the aim's model leaving out each study in turn (same method and zero rule).

    Returns
    -------
    pandas.DataFrame
        One row per left-out study: ``omitted``, ``k``, then for ``sensitivity``,
        ``specificity`` and ``DOR`` the estimate with ``*_low`` / ``*_high``, ``auc`` (SROC)
        and ``note``; empty when the aim has no fit, one row with a ``note`` when it has more
        than ``max_k`` studies.
    """
    cols = ["omitted", "k", "sensitivity", "sensitivity_low", "sensitivity_high",
            "specificity", "specificity_low", "specificity_high", "DOR", "DOR_low",
            "DOR_high", "auc", "note"]
    f = pooling.fit
    if f is None:
        return pd.DataFrame(columns=cols)
    if pooling.k > max_k:
        return pd.DataFrame([{"k": pooling.k, "note": (
            f"no leave-one-out: {pooling.k} studies, more than max_k = {max_k}")}],
            columns=cols)
    rows = []
    studies = pooling.studies.reset_index(drop=True)
    for i in range(len(studies)):
        rest = studies.drop(index=i)
        row: dict[str, object] = {"omitted": studies.at[i, "label"], "k": len(rest)}
        try:
            fit = _fit(rest, f.method, f.zero_rule, CORRECTION)
        except TooFewStudiesError:
            rows.append(row)
            continue
        s = fit.summary_frame(alpha).set_index("quantity")
        for q in ("sensitivity", "specificity", "DOR"):
            row |= {q: s.at[q, "estimate"], f"{q}_low": s.at[q, "ci_low"],
                    f"{q}_high": s.at[q, "ci_high"]}
        row["auc"] = fit.auc()
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=cols)


@dataclass(frozen=True)
class FaganResult:
    """Post-test probabilities from a pre-test probability and likelihood ratios (Fagan 1975).

    ``post_positive`` = odds⁻¹(odds(pre-test) × LR+), ``post_negative`` likewise with LR−.
    """

    pretest: float
    lr_positive: float
    lr_negative: float
    post_positive: float
    post_negative: float


def fagan(pretest: float, pooling: DtaPooling | BivariateFit) -> FaganResult:
    """Fagan nomogram numbers for a pre-test probability and a pooled fit's LR+ and LR−.

    Raises
    ------
    ValueError
        If ``pretest`` is not strictly between 0 and 1, or the pooling has no fit.
    """
    if not 0 < pretest < 1:
        raise ValueError(f"pretest={pretest!r} is not allowed; use a probability between 0 "
                         "and 1 (exclusive).")
    fit = pooling.fit if isinstance(pooling, DtaPooling) else pooling
    if fit is None:
        raise ValueError(f"no pooled fit: {pooling.note}")
    s = fit.summary_frame().set_index("quantity")["estimate"]
    odds = pretest / (1 - pretest)

    def post(lr: float) -> float:
        return float(odds * lr / (1 + odds * lr))

    return FaganResult(pretest, float(s["LR+"]), float(s["LR-"]), post(s["LR+"]),
                       post(s["LR-"]))


def revman_table(cells: pd.DataFrame) -> pd.DataFrame:
    """The 2x2 tables in the column layout MetaDTA and RevMan import: ``author``, ``year``,
    ``TP``, ``FN``, ``FP``, ``TN`` (uncorrected counts, whole numbers), and ``aim`` last (as
    a covariate column) when ``cells`` holds several aims."""
    out = pd.DataFrame({"author": cells["first_author"].to_numpy(),
                        "year": cells["year"].astype("Int64").to_numpy(),
                        **{c.upper(): cells[c].round().astype("Int64").to_numpy()
                           for c in ("tp", "fn", "fp", "tn")}})
    if "aim" in cells.columns and cells["aim"].nunique() > 1:
        out["aim"] = cells["aim"].to_numpy()  # covariates follow the six columns in MetaDTA
    return out


# ---------------------------------------------------------------------------------------------
# 5. Every aim at once (what notebook 05 calls)
# ---------------------------------------------------------------------------------------------


def data_note(review: Review, cells: pd.DataFrame) -> str:
    """What the review holds for this analysis, in a few lines: the number of 2x2 tables
    (reported, reconstructed), the studies per aim, and every reconstruction that does not
    reproduce its printed values; or one note saying there is nothing to pool."""
    table = two_by_two(review.performance)
    if (table["cells"] == "none").all():
        return (f"{review.name}: no performance row has a 2x2 table (tp, fp, fn, tn) or "
                "sensitivity and specificity with class sizes; no diagnostic-accuracy "
                "analysis.")
    counts = table["cells"].value_counts()
    per_aim = "; ".join(f"{aim}: {n}" for aim, n in cells.groupby("aim", sort=False).size()
                        .items())
    lines = [f"{review.name}: {counts.get('reported', 0)} reported and "
             f"{counts.get('reconstructed', 0)} reconstructed 2x2 tables; representative "
             f"studies per aim: {per_aim or 'none'}"]
    lines += [str(p) for p in table["problem"].dropna()]
    return "\n".join(lines)


def subgroups_by_aim(cells: pd.DataFrame, *, by: str = "cohort",
                     groups: Sequence[str] = SUBGROUPS, method: str = "REML",
                     zero_rule: str = "all", aims: Sequence[str] | None = None
                     ) -> dict[str, SubgroupResult]:
    """:func:`subgroup_pooling` for every aim (of ``aims``, in that order; None: those in
    ``cells``, sorted) whose studies hold at least one study of each of ``groups`` (an aim
    lacking a group is left out: there is nothing to compare)."""
    out = {}
    for aim in aim_order(aims, cells["aim"]):
        present = set(cells.loc[cells["aim"] == aim, by].astype(str))
        if set(groups) <= present:
            out[aim] = subgroup_pooling(cells, aim=aim, by=by, groups=groups, method=method,
                                        zero_rule=zero_rule)
    return out


def subgroup_table(results: dict[str, SubgroupResult], alpha: float = 0.05) -> pd.DataFrame:
    """Every :meth:`SubgroupResult.summary_frame` in one table, with a ``note`` row per aim
    without a test."""
    frames = []
    for r in results.values():
        frame = r.summary_frame(alpha)
        if r.note:
            frame = pd.concat([frame, pd.DataFrame([{"aim": r.aim, "group": "difference",
                                                     "quantity": "note", "note": r.note}])])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["aim", "group", "k", "method", "quantity", "estimate", "ci_low", "ci_high",
                 "note"])


def meta_regression_table(cells: pd.DataFrame, *, covariate: str, method: str = "REML",
                          zero_rule: str = "all", alpha: float = 0.05,
                          aims: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`meta_regression` for every aim with 2x2 data (of ``aims``, in that order; None:
    sorted); an aim the covariate cannot be fitted in (one level, too few studies) has one row
    whose ``note`` says why."""
    frames = []
    for aim in [a for a in aim_order(aims, cells["aim"]) if (cells["aim"] == a).any()]:
        try:
            frames.append(meta_regression(cells, aim=aim, covariate=covariate, method=method,
                                          zero_rule=zero_rule).summary_frame(alpha))
        except (ValueError, TooFewStudiesError) as err:
            frames.append(pd.DataFrame([{"aim": aim, "covariate": covariate,
                                         "note": str(err)}]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["aim", "covariate", "note"])


def deeks_tests(poolings: dict[str, DtaPooling]) -> dict[str, DeeksTest]:
    """:func:`deeks_test` of every aim's representative studies."""
    return {aim: deeks_test(p.studies) for aim, p in poolings.items() if p.k}


def deeks_table(tests: dict[str, DeeksTest]) -> pd.DataFrame:
    """The tests' :meth:`DeeksTest.summary_frame` rows with ``aim`` first."""
    frames = [t.summary_frame().assign(aim=aim) for aim, t in tests.items()]
    cols = ["aim", "k", "intercept", "slope", "se", "t", "df", "pvalue", "note"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def leave_one_out_table(poolings: dict[str, DtaPooling], alpha: float = 0.05) -> pd.DataFrame:
    """:func:`leave_one_out` of every aim with a fit, ``aim`` first."""
    frames = [leave_one_out(p, alpha).assign(aim=aim) for aim, p in poolings.items() if p.fit]
    if not frames:
        return pd.DataFrame(columns=["aim", "omitted"])
    out = pd.concat(frames, ignore_index=True)
    return out[["aim", *[c for c in out.columns if c != "aim"]]]
