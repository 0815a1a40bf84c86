"""Sensitivity analyses of a pooled estimate: leave-one-out, influence, certainty of evidence.

* :func:`leave_one_out`: the model refitted without each study (estimate, CI, tau², I², Q),
  as metafor's ``leave1out``.
* :func:`influence`: externally studentized residuals, DFFITS, Cook's distances, covariance
  ratios, leave-one-out tau² and Q, hat values, weights and DFBETAS, with metafor's flag for an
  influential study, and the two Baujat coordinates (as metafor's ``influence.rma.uni`` and
  ``baujat``).
* :func:`sensitivity_by_aim` runs both for every aim pooled by :func:`synth.auc.pool_by_aim`.
* :func:`validation_subgroups`: internal and external validation AUCs pooled separately, with
  the test for subgroup differences.
* :func:`summary_of_findings`: one row per aim with the numbers a reader grades certainty from,
  and an Ioannidis-style evidence class with every criterion and its value.

statsmodels has no leave-one-out or influence diagnostics for random-effects meta-analysis,
so they are written here on top of :func:`synth.meta.pool` (each refit is a full pool); every
number matches metafor 3.8 to 1e-4 on the BCG trials (``tests/results/metafor_influence_bcg.R``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from synth.auc import AimPooling, aim_order, pool_by_aim, with_labels
from synth.effects import expit
from synth.meta import PI_MIN_K, TooFewStudiesError, egger_test, pool
from synth.regression import MIN_K_SMALL_STUDY

__all__ = [
    "EVIDENCE_CLASSES",
    "MIN_K_SENSITIVITY",
    "MAX_K_SENSITIVITY",
    "MIN_K_SMALL_STUDY",
    "MIN_PARTICIPANTS",
    "leave_one_out",
    "influence",
    "sensitivity_by_aim",
    "summary_of_findings",
    "SUBGROUP_COHORTS",
    "validation_subgroups",
]

MIN_K_SENSITIVITY = 3
"""Fewest pooled studies for leave-one-out and influence diagnostics: leaving one of two
studies out leaves a single study, which is not a pooled estimate."""

MAX_K_SENSITIVITY = 300
"""Most pooled studies per aim for leave-one-out and influence diagnostics: each needs k refits
of the pooled model (k² work), and with hundreds of studies no single one moves the estimate
visibly; a larger aim gets one row with a note saying so (``max_k``)."""

MIN_PARTICIPANTS = 1000
"""Participants an aim needs for the classes convincing, highly suggestive and suggestive (the
umbrella-review criterion of more than 1000 cases)."""

EVIDENCE_CLASSES: tuple[str, ...] = (
    "convincing", "highly suggestive", "suggestive", "weak", "not significant", "not graded")
"""Ioannidis-style evidence classes (class I to IV, not significant), and ``not graded`` for an
aim without a pooled estimate."""

ArrayLike = npt.ArrayLike


def _labels(labels: Sequence[str] | None, k: int) -> list[str]:
    return [str(x) for x in labels] if labels is not None else [str(i + 1) for i in range(k)]


def leave_one_out(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    method: str = "REML",
    knapp_hartung: bool = False,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The pooled model refitted without each study in turn (metafor's ``leave1out``).

    Parameters
    ----------
    yi, vi : array-like of float
        Effect sizes and sampling variances (at least 3 studies).
    labels : sequence of str, optional
        Study labels (default ``1``, ``2``, ...).
    method, knapp_hartung, alpha
        As in :func:`synth.meta.pool`.

    Returns
    -------
    pandas.DataFrame
        One row per left-out study: ``study``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``tau2``, ``i2`` (percent), ``q``, ``q_pvalue`` of the model without it.

    Raises
    ------
    TooFewStudiesError
        With fewer than 3 studies.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.size < MIN_K_SENSITIVITY:
        raise TooFewStudiesError(int(y.size), MIN_K_SENSITIVITY, "leave-one-out")
    rows = []
    for i, name in enumerate(_labels(labels, y.size)):
        keep = np.arange(y.size) != i
        res = pool(y[keep], v[keep], method=method, knapp_hartung=knapp_hartung, alpha=alpha)
        rows.append({"study": name, "estimate": res.estimate, "se": res.se,
                     "ci_low": res.ci_low, "ci_high": res.ci_high, "tau2": res.tau2,
                     "i2": res.i2, "q": res.q, "q_pvalue": res.q_pvalue})
    return pd.DataFrame(rows)


def influence(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    method: str = "REML",
) -> pd.DataFrame:
    """Influence diagnostics of each study, as metafor's ``influence.rma.uni`` (z test).

    With the full fit (estimate b, its variance V, tau²) and the fit without study i (b₍₋ᵢ₎,
    V₍₋ᵢ₎, tau²₍₋ᵢ₎, Q₍₋ᵢ₎), w = 1 / (v + tau²):

    * ``rstudent`` = (yᵢ − b₍₋ᵢ₎) / sqrt(vᵢ + tau²₍₋ᵢ₎ + V₍₋ᵢ₎);
    * ``hat`` = wᵢ / Σw; ``weight`` = 100 ``hat``;
    * ``dffits`` = (b − b₍₋ᵢ₎) / sqrt(hatᵢ (tau²₍₋ᵢ₎ + vᵢ));
    * ``cook_d`` = (b − b₍₋ᵢ₎)² / V; ``cov_r`` = V₍₋ᵢ₎ / V; ``dfbetas`` = (b − b₍₋ᵢ₎) / sqrt(V₍₋ᵢ₎);
    * ``influential``: metafor's flag, |dffits| > 3 sqrt(1 / (k − 1)), or the chi²(1) cdf of
      ``cook_d`` > 0.5, or hat > 3 / k, or |dfbetas| > 1 (Viechtbauer & Cheung, Res Synth
      Methods 2010;1:112-125);
    * ``baujat_x`` = (yᵢ − b)² / (vᵢ + tau²), the squared Pearson residual (for FE: the study's
      contribution to Q), and ``baujat_y`` = (b − b₍₋ᵢ₎)² / V₍₋ᵢ₎, its influence on the estimate
      (metafor's ``baujat``; Baujat et al., Stat Med 2002;21:2641-2652).

    Parameters
    ----------
    yi, vi : array-like of float
        Effect sizes and sampling variances (at least 3 studies).
    labels : sequence of str, optional
        Study labels (default ``1``, ``2``, ...).
    method : {"REML", "DL", "PM", "FE"}, default "REML"
        tau² estimator of the full and the leave-one-out fits.

    Returns
    -------
    pandas.DataFrame
        One row per study: ``study``, ``rstudent``, ``dffits``, ``cook_d``, ``cov_r``,
        ``tau2_del``, ``qe_del``, ``hat``, ``weight``, ``dfbetas``, ``influential`` (bool),
        ``baujat_x``, ``baujat_y``.

    Raises
    ------
    TooFewStudiesError
        With fewer than 3 studies.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = y.size
    if k < MIN_K_SENSITIVITY:
        raise TooFewStudiesError(int(k), MIN_K_SENSITIVITY, "influence diagnostics")
    full = pool(y, v, method=method)
    var_full = full.se**2
    w = 1.0 / (v + full.tau2)
    hat = w / w.sum()
    rows = []
    for i, name in enumerate(_labels(labels, k)):
        keep = np.arange(k) != i
        d = pool(y[keep], v[keep], method=method)
        var_del = d.se**2
        diff = full.estimate - d.estimate
        rstudent = (y[i] - d.estimate) / np.sqrt(v[i] + d.tau2 + var_del)
        dffits = diff / np.sqrt(hat[i] * (d.tau2 + v[i]))
        cook = diff**2 / var_full
        dfbetas = diff / np.sqrt(var_del)
        flagged = bool(abs(dffits) > 3 * np.sqrt(1 / (k - 1)) or stats.chi2.cdf(cook, 1) > 0.5
                       or hat[i] > 3 / k or abs(dfbetas) > 1)
        rows.append({
            "study": name, "rstudent": rstudent, "dffits": dffits, "cook_d": cook,
            "cov_r": var_del / var_full, "tau2_del": d.tau2, "qe_del": d.q, "hat": hat[i],
            "weight": 100 * hat[i], "dfbetas": dfbetas, "influential": flagged,
            "baujat_x": (y[i] - full.estimate) ** 2 / (v[i] + full.tau2),
            "baujat_y": diff**2 / var_del,
        })
    return pd.DataFrame(rows)


_SENSITIVITY_COLUMNS = [
    "aim", "study_id", "label", "auc", "weight", "auc_without", "ci_low_without",
    "ci_high_without", "tau2_without", "i2_without", "rstudent", "dffits", "cook_d", "cov_r",
    "hat", "dfbetas", "influential", "baujat_x", "baujat_y", "note",
]


def sensitivity_by_aim(
    poolings: dict[str, AimPooling],
    *,
    min_k: int = MIN_K_SENSITIVITY,
    max_k: int | None = MAX_K_SENSITIVITY,
) -> pd.DataFrame:
    """Leave-one-out and influence diagnostics for every pooled aim (``auc_sensitivity.csv``).

    Parameters
    ----------
    poolings : dict of str to AimPooling
        Output of :func:`synth.auc.pool_by_aim`; its estimator, Knapp–Hartung choice and alpha
        are reused for every refit.
    min_k : int, default :data:`MIN_K_SENSITIVITY` (3)
        Fewest pooled studies for the analyses; an aim with fewer gets one row with a ``note``.
    max_k : int or None, default :data:`MAX_K_SENSITIVITY` (300)
        Most pooled studies for the analyses (k refits each); an aim with more gets one row with
        a ``note``. None: no limit.

    Returns
    -------
    pandas.DataFrame
        One row per pooled study (aims in the pooling's order): ``aim``, ``study_id``,
        ``label``, ``auc``, ``weight`` (percent), the pooled AUC without the study and its CI
        (``auc_without``, ``ci_low_without``, ``ci_high_without``, back-transformed from the
        logit scale), ``tau2_without``, ``i2_without``, the influence columns of
        :func:`influence` on the logit scale, and ``note``; an aim that was not analysed has one
        row with ``study_id`` empty and a ``note`` saying why.
    """
    if isinstance(min_k, bool) or not isinstance(min_k, int) or min_k < MIN_K_SENSITIVITY:
        raise ValueError(f"min_k: {min_k!r} — allowed: a whole number ≥ {MIN_K_SENSITIVITY}")
    frames = []
    for aim, p in poolings.items():
        used = with_labels(p.studies[p.studies["pooled"].astype(bool)]) if p.k_shown \
            else pd.DataFrame()
        k = len(used)
        if k < min_k:
            why = p.reason or f"{k} pooled studies"
            frames.append(pd.DataFrame([{
                "aim": aim, "study_id": "", "label": "",
                "note": f"not analysed: {why}; leave-one-out and influence need k ≥ {min_k} "
                        "(min_k)"}]))
            continue
        if max_k is not None and k > max_k:
            frames.append(pd.DataFrame([{
                "aim": aim, "study_id": "", "label": "",
                "note": f"not analysed: {k} pooled studies, more than max_k = {max_k} (each of "
                        "the k refits pools the other k − 1 studies)"}]))
            continue
        labels = used["study_id"].tolist()
        l1o = leave_one_out(used["logit_auc"], used["var_logit"], labels=labels,
                            method=p.method, knapp_hartung=p.knapp_hartung, alpha=p.alpha)
        inf = influence(used["logit_auc"], used["var_logit"], labels=labels, method=p.method)
        frames.append(pd.DataFrame({
            "aim": aim, "study_id": labels, "label": used["label"].to_numpy(),
            "auc": used["auc"].astype(float).to_numpy(),
            "weight": used["weight"].astype(float).to_numpy(),
            "auc_without": expit(l1o["estimate"].to_numpy()),
            "ci_low_without": expit(l1o["ci_low"].to_numpy()),
            "ci_high_without": expit(l1o["ci_high"].to_numpy()),
            "tau2_without": l1o["tau2"].to_numpy(), "i2_without": l1o["i2"].to_numpy(),
            **{c: inf[c].to_numpy() for c in ("rstudent", "dffits", "cook_d", "cov_r", "hat",
                                               "dfbetas", "influential", "baujat_x",
                                               "baujat_y")},
            "note": "",
        }))
    if not frames:
        return pd.DataFrame(columns=_SENSITIVITY_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.reindex(columns=_SENSITIVITY_COLUMNS)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """``frame[name]`` as numbers, or missing values when the table has no such column."""
    if name not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[name], errors="coerce")


def _participants(used: pd.DataFrame) -> tuple[int, int]:
    """Participants of the pooled studies: each study's cohort ``n``, else its ``n_patients``;
    returns (sum of the known, studies with neither)."""
    both = _column(used, "n").fillna(_column(used, "n_patients")).astype(float)
    return int(both.sum()), int(both.isna().sum())


def summary_of_findings(
    poolings: dict[str, AimPooling],
    *,
    high_risk_of_bias: pd.Series | None = None,
    min_participants: int = MIN_PARTICIPANTS,
    min_k_small_study: int = MIN_K_SMALL_STUDY,
    small_study_alpha: float = 0.10,
    null_auc: float = 0.5,
) -> pd.DataFrame:
    """Summary of findings per aim, with an evidence class and every criterion behind it.

    The classes are those of umbrella reviews (Ioannidis, CMAJ 2009;181:488-493; criteria as
    in Fusar-Poli & Radua, Evid Based Ment Health 2018;21:95-100, and Papatheodorou, Heart
    2019;105:1082-1088), applied to the pooled logit AUC against ``null_auc`` (0.5, chance):

    * **convincing** (class I): more than ``min_participants`` participants, p < 10⁻⁶, I² < 50 %,
      a 95 % prediction interval excluding chance, no small-study effect (Egger p ≥
      ``small_study_alpha``, tested only with ≥ ``min_k_small_study`` studies), the largest
      study's CI excluding chance, and no excess-significance bias;
    * **highly suggestive** (II): more than ``min_participants``, p < 10⁻⁶, largest study
      significant;
    * **suggestive** (III): more than ``min_participants``, p < 10⁻³;
    * **weak** (IV): p < 0.05;
    * **not significant**: p ≥ 0.05; **not graded**: no pooled estimate.

    A criterion that cannot be assessed (the Egger test below its study count, excess
    significance, which synth does not test, a missing prediction interval) counts as not met,
    so the class is never higher than the evidence shown. Participants stand in for the
    umbrella reviews' "cases" (diagnostic and prognostic AUCs have no single case count).

    Parameters
    ----------
    poolings : dict of str to AimPooling
        Output of :func:`synth.auc.pool_by_aim`.
    high_risk_of_bias : pandas.Series of bool, optional
        Indexed by ``study_id``: True for a study at high risk of bias (e.g. any QUADAS-2
        domain high). Without it the share is NaN and ``risk_of_bias_note`` says why.
    min_participants : int, default :data:`MIN_PARTICIPANTS` (1000)
        Participants needed for classes I-III.
    min_k_small_study : int, default :data:`MIN_K_SMALL_STUDY` (10)
        Fewest studies for the Egger test.
    small_study_alpha : float, default 0.10
        Egger p-value below which a small-study effect is taken as present.
    null_auc : float, default 0.5
        The AUC of no discrimination, the null of every test here.

    Returns
    -------
    pandas.DataFrame
        One row per aim: ``aim``, ``k``, ``k_shown``, ``n_participants``,
        ``n_participants_unknown``, ``auc_pooled``, ``ci_low``, ``ci_high``, ``pi_low``,
        ``pi_high``, ``i2``, ``tau2``, ``pvalue``, ``estimator``, ``ci_method``,
        ``pi_distribution``, ``high_rob_share``, ``risk_of_bias_note``, ``small_study_p``,
        ``small_study_note``, ``largest_study``, ``largest_study_auc``; the criteria as booleans
        ``crit_participants``, ``crit_p_1e6``, ``crit_p_1e3``, ``crit_p_05``, ``crit_i2_below_50``,
        ``crit_pi_excludes_null``, ``crit_no_small_study_effect``,
        ``crit_largest_study_significant``, ``crit_no_excess_significance``; then
        ``evidence_class`` (:data:`EVIDENCE_CLASSES`) and ``class_reason`` (the criteria that
        decided it, in words).
    """
    null = float(np.log(null_auc) - np.log1p(-null_auc))
    rows: list[dict[str, Any]] = []
    for aim, p in poolings.items():
        row: dict[str, Any] = {"aim": aim, "k": p.k_pooled, "k_shown": p.k_shown}
        used = p.studies[p.studies["pooled"].astype(bool)] if p.k_shown else p.studies
        row["n_participants"], row["n_participants_unknown"] = _participants(used)
        if high_risk_of_bias is None:
            row["high_rob_share"] = np.nan
            row["risk_of_bias_note"] = "not assessed: no risk-of-bias (QUADAS-2) judgements"
        else:
            flags = used["study_id"].map(high_risk_of_bias)
            row["high_rob_share"] = float(flags.astype(float).mean()) if flags.notna().any() \
                else np.nan
            row["risk_of_bias_note"] = (f"{int(flags.isna().sum())} studies not assessed"
                                        if flags.isna().any() else "")
        res = p.result
        if res is None:
            rows.append(row | {"evidence_class": "not graded",
                               "class_reason": f"no pooled estimate: {p.reason}",
                               "small_study_note": "not tested: no pooled estimate"})
            continue
        s = res.summary_frame().iloc[0]
        row |= {"auc_pooled": expit(s["estimate"]), "ci_low": expit(s["ci_low"]),
                "ci_high": expit(s["ci_high"]), "pi_low": expit(s["pi_low"]),
                "pi_high": expit(s["pi_high"]), "i2": s["i2"], "tau2": s["tau2"],
                "pvalue": _pvalue(res.estimate - null, res.se, res.df),
                "estimator": res.method, "ci_method": s["ci_method"],
                "pi_distribution": s["pi_distribution"]}
        if p.k_pooled >= min_k_small_study:
            try:
                egger = egger_test(used["logit_auc"], used["var_logit"], method=res.method)
                row["small_study_p"], row["small_study_note"] = egger.pvalue, ""
            except (ValueError, RuntimeError) as exc:  # e.g. every study with the same SE
                row["small_study_p"] = np.nan
                row["small_study_note"] = f"not tested: {exc}"
        else:
            row["small_study_p"] = np.nan
            row["small_study_note"] = (f"not tested: k = {p.k_pooled} < {min_k_small_study} "
                                       "(min_k_small_study)")
        size = _column(used, "n").fillna(_column(used, "n_patients"))
        largest = size.idxmax() if size.notna().any() else used["var_logit"].idxmin()
        z = float(stats.norm.isf(p.alpha / 2))
        half = z * float(np.sqrt(used.loc[largest, "var_logit"]))
        y_large = float(used.loc[largest, "logit_auc"])
        row["largest_study"] = used.loc[largest, "study_id"]
        row["largest_study_auc"] = float(used.loc[largest, "auc"])
        crit = {
            "crit_participants": row["n_participants"] > min_participants,
            "crit_p_1e6": row["pvalue"] < 1e-6,
            "crit_p_1e3": row["pvalue"] < 1e-3,
            "crit_p_05": row["pvalue"] < 0.05,
            "crit_i2_below_50": bool(s["i2"] < 50),
            "crit_pi_excludes_null": bool(np.isfinite(s["pi_low"]) and (
                s["pi_low"] > null or s["pi_high"] < null)),
            "crit_no_small_study_effect": bool(np.isfinite(row["small_study_p"])
                                               and row["small_study_p"] >= small_study_alpha),
            "crit_largest_study_significant": bool(y_large - half > null
                                                   or y_large + half < null),
            "crit_no_excess_significance": False,
        }
        row |= crit
        row["evidence_class"], row["class_reason"] = _evidence_class(crit, min_participants)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=_SOF_COLUMNS)


_SOF_COLUMNS = [
    "aim", "k", "k_shown", "n_participants", "n_participants_unknown", "auc_pooled", "ci_low",
    "ci_high", "pi_low", "pi_high", "i2", "tau2", "pvalue", "estimator", "ci_method",
    "pi_distribution", "high_rob_share", "risk_of_bias_note", "small_study_p",
    "small_study_note", "largest_study", "largest_study_auc", "crit_participants",
    "crit_p_1e6", "crit_p_1e3", "crit_p_05", "crit_i2_below_50", "crit_pi_excludes_null",
    "crit_no_small_study_effect", "crit_largest_study_significant",
    "crit_no_excess_significance", "evidence_class", "class_reason",
]


def _pvalue(diff: float, se: float, df: int | None) -> float:
    stat = abs(diff / se)
    return float(2 * (stats.norm.sf(stat) if df is None else stats.t.sf(stat, df)))


def _evidence_class(crit: dict[str, bool], min_participants: int) -> tuple[str, str]:
    """The highest class whose criteria all hold, and why not the one above."""
    big = f"> {min_participants} participants"
    classes = [
        ("convincing", {"crit_participants": big, "crit_p_1e6": "p < 1e-6",
                        "crit_i2_below_50": "I² < 50 %",
                        "crit_pi_excludes_null": "95 % PI excludes chance",
                        "crit_no_small_study_effect": "no small-study effect (tested)",
                        "crit_largest_study_significant": "largest study significant",
                        "crit_no_excess_significance":
                            "no excess-significance bias shown (synth has no test)"}),
        ("highly suggestive", {"crit_participants": big, "crit_p_1e6": "p < 1e-6",
                               "crit_largest_study_significant": "largest study significant"}),
        ("suggestive", {"crit_participants": big, "crit_p_1e3": "p < 1e-3"}),
        ("weak", {"crit_p_05": "p < 0.05"}),
    ]
    above = ""
    for name, needs in classes:
        unmet = [text for key, text in needs.items() if not crit[key]]
        if not unmet:
            return name, f"meets: {', '.join(needs.values())}" + above
        above = f"; not {name}: lacks {', '.join(unmet)}"
    return "not significant", "p ≥ 0.05" + above


SUBGROUP_COHORTS: tuple[str, ...] = ("internal validation", "external validation")
"""Cohorts pooled separately by :func:`validation_subgroups`."""


def validation_subgroups(
    table: pd.DataFrame,
    *,
    method: str = "REML",
    knapp_hartung: bool = False,
    aims: Sequence[str] | None = None,
    alpha: float = 0.05,
    pi_distribution: str = "ci",
    pi_min_k: int = PI_MIN_K,
) -> pd.DataFrame:
    """Internal and external validation AUCs pooled separately, with a test for their difference.

    Each subgroup is pooled with its own tau² (:func:`synth.auc.pool_by_aim` on the studies whose
    representative AUC comes from that cohort); the test for subgroup differences is the
    fixed-effect Q between subgroup estimates, Q_b = Σ w_g (θ_g − θ̄)², w_g = 1 / se_g², on
    G − 1 df (Borenstein et al., Introduction to Meta-Analysis 2009, ch. 19; the test of
    RevMan and of Cochrane Handbook 10.11.3.1). Training AUCs are not in either subgroup.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`synth.auc.study_variances`.
    method, knapp_hartung, aims, alpha, pi_distribution, pi_min_k
        As in :func:`synth.auc.pool_by_aim`.

    Returns
    -------
    pandas.DataFrame
        Per aim, one row per subgroup (``subgroup`` = the cohort; the columns of
        :meth:`synth.auc.AimPooling.pooled_frame`, with ``k`` = studies pooled) and a row
        ``subgroup = "difference"`` with ``n_subgroups`` (subgroups with an estimate),
        ``q_between``, ``q_between_df``, ``q_between_pvalue`` and a ``note`` saying why there
        is no test (fewer than 2 subgroups with an estimate).
    """
    frames = []
    for aim in aim_order(aims, table["aim"]):
        estimates = []
        for cohort in SUBGROUP_COHORTS:
            sub = table[table["cohort"] == cohort]
            p = pool_by_aim(sub, method=method, knapp_hartung=knapp_hartung, aims=[aim],
                            alpha=alpha, pi_distribution=pi_distribution,
                            pi_min_k=pi_min_k)[aim]
            frames.append(p.pooled_frame().assign(subgroup=cohort))
            if p.result is not None:
                estimates.append((p.result.estimate, p.result.se))
        row: dict[str, Any] = {"aim": aim, "method": str(method).upper(),
                               "subgroup": "difference", "n_subgroups": len(estimates)}
        if len(estimates) < 2:
            row |= {"q_between": np.nan, "q_between_df": np.nan, "q_between_pvalue": np.nan,
                    "note": f"no test for subgroup differences: {len(estimates)} of "
                            f"{len(SUBGROUP_COHORTS)} subgroups with a pooled estimate "
                            "(each needs 2 studies with a variance)"}
        else:
            theta = np.array([e for e, _ in estimates])
            w = 1.0 / np.array([se for _, se in estimates]) ** 2
            q_b = float(np.sum(w * (theta - np.sum(w * theta) / np.sum(w)) ** 2))
            df = len(estimates) - 1
            row |= {"q_between": q_b, "q_between_df": df,
                    "q_between_pvalue": float(stats.chi2.sf(q_b, df)), "note": ""}
        frames.append(pd.DataFrame([row]))
    out = pd.concat(frames, ignore_index=True)
    first = ["aim", "subgroup"]
    return out[first + [c for c in out.columns if c not in first]]
