"""AUC synthesis by clinical aim: representative AUCs, ranges and pooled estimates.

Three steps, each a tidy DataFrame or a small result object (no drawing: the figures are in
:mod:`synth.plots.auc`, meta-regression and small-study tests in :mod:`synth.regression`):

1. :func:`representative_auc` picks one reported AUC per study and aim by a documented rule
   (default: external > internal > training validation; radiomics over other models).
2. :func:`auc_ranges` summarises those AUCs per aim (and per aim x modality): the ranges a
   review's abstract quotes. :func:`study_variances` adds logit(AUC) and its sampling variance
   (:mod:`synth.effects`), saying for every study which route gave the variance (reported SE,
   reported CI, Hanley-McNeil or Newcombe from positives/negatives) or why there is none.
3. :func:`pool_by_aim` pools the logit AUCs of an aim with :func:`synth.meta.pool` (REML, DL, PM;
   optional Knapp-Hartung; prediction interval on z, t(k − 1) or t(k − 2), only with k ≥ 3;
   training AUCs pooled or left out); :func:`pooled_table` tabulates every aim x method and
   :func:`studies_table` every study, with the interval a forest plot shows for it.

:meth:`AimPooling.summary_frame` is the forest-plot table, so figure and table cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth.effects import ROUTES, VARIANCE_METHODS, ci_levels, expit, study_variances
from synth.errors import check_choice, check_choices
from synth.meta import METHODS, PI_DISTRIBUTIONS, PI_MIN_K, PooledResult, TooFewStudiesError, pool
from synth.review import Review, study_labels
from synth.vocabulary import COHORTS, DEFAULT_CI_LEVEL

__all__ = [
    "RULES",
    "TIE_BREAKS",
    "COHORT_PREFERENCE",
    "MODEL_PREFERENCE",
    "VARIANCE_METHODS",
    "TRAINING_OPTIONS",
    "ROUTES",
    "CI_SOURCES",
    "aim_order",
    "select_representative",
    "representative_auc",
    "auc_ranges",
    "study_variances",
    "AimPooling",
    "pool_by_aim",
    "pooled_table",
    "studies_table",
    "with_labels",
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

TRAINING_OPTIONS: tuple[str, ...] = ("pool", "exclude")
"""What :func:`pool_by_aim` does with a study represented by a training-cohort AUC (apparent
performance, optimistic): pool it (default; the representative rule already takes a study's
validation AUC when it has one, and the pooled table counts the training AUCs pooled) or
leave it out of the pooled estimate (shown, not pooled, with the reason)."""

CI_SOURCES: tuple[str, ...] = ("reported", "derived from SE", "derived from CI",
                               "derived from counts", "none")
"""Where the interval a forest plot shows for a study comes from: the study's reported CI (when
its ``ci_level`` is the plot's level), or derived as expit(logit(AUC) ± z·SE) from the variance
used for pooling (a reported SE, a reported CI at another level than the plot's, or
positives/negatives by Hanley-McNeil or Newcombe), or none (no variance)."""

_NO_STUDIES = "no studies"
_DERIVED = {"reported SE": "derived from SE", "reported CI": "derived from CI",
            "Hanley-McNeil": "derived from counts", "Newcombe": "derived from counts"}

_REPRESENTATIVE_COLUMNS = [
    "study_id", "label", "first_author", "year", "modality", "n_patients", "aim", "target",
    "model", "model_name", "cohort", "auc", "ci_low", "ci_high", "ci_level", "auc_se", "n",
    "positives", "negatives", "performance_row", "primary", "n_candidates", "selection",
]


# ---------------------------------------------------------------------------------------------
# Validation of options
# ---------------------------------------------------------------------------------------------


def aim_order(aims: Sequence[str] | None, present: Sequence[str] | pd.Series
              ) -> tuple[str, ...]:
    """The aims an analysis reports, in the order tables and figures show them.

    ``aims`` as given (e.g. ``review.vocabulary.aim_names``: every declared aim, those without
    studies too, in the declared order); None: the aims in ``present`` (a column of aims),
    sorted. An empty list or a repeated aim raises a ValueError.
    """
    if aims is None:
        return tuple(sorted(set(map(str, present))))
    out = check_choices("aims", aims, [a for a in aims if isinstance(a, str)])
    if not out:
        raise ValueError("aims is empty; pass None (the aims in the data) or one or more "
                         "aims, e.g. review.vocabulary.aim_names.")
    return out


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``label`` column when it has none: first author and year by
    :func:`synth.review.study_labels` over the frame's studies, joined on ``study_id``.

    :func:`representative_auc` labels its rows from the whole review already; this is for
    hand-made tables with ``study_id``, ``first_author`` and ``year``.
    """
    if "label" in frame.columns:
        return frame
    studies = frame[["study_id", "first_author", "year"]].drop_duplicates("study_id")
    return frame.assign(label=frame["study_id"].map(study_labels(studies)))


# ---------------------------------------------------------------------------------------------
# 1. Representative AUC
# ---------------------------------------------------------------------------------------------


def select_representative(
    performance: pd.DataFrame,
    studies: pd.DataFrame,
    *,
    rule: str = "validation",
    tie: str = "lowest",
    cohort_order: Sequence[str] = COHORT_PREFERENCE,
    model_order: Sequence[str] = MODEL_PREFERENCE,
    value: str = "auc",
    aims: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One performance row per study and aim, chosen by a documented rule, for any measure.

    The selection behind :func:`representative_auc`, for any column ``value`` that ranks rows
    (an AUC, or e.g. a Youden index of 2x2 rows). Rows whose ``value`` is missing are not
    candidates, so a study reporting only other measures for an aim has no row here.

    Order of preference (rule ``"validation"``):

    1. a row marked ``primary = yes`` (the model the study names as its main result);
    2. the first cohort of ``cohort_order`` (so the primary model's validation value is taken
       over its training value);
    3. the first model kind of ``model_order``;
    4. the larger ``n`` (unknown n last);
    5. ``tie`` on ``value`` — reached only among rows that are not primary, or when a study
       marks several rows of one cohort and model kind primary;
    6. the first row in the file.

    Parameters
    ----------
    performance : pandas.DataFrame
        Performance rows (``study_id``, ``aim``, ``model``, ``cohort``, ``n``, ``value``;
        optional ``primary`` and ``performance_row``). Pass the whole table: without a
        ``performance_row`` column, rows are numbered by position as a spreadsheet numbers
        them (header = row 1).
    studies : pandas.DataFrame
        studies.csv (``study_id``, ``first_author``, ``year``, ``modality``, ``n_patients``):
        labels and study columns of the result.
    rule : {"validation", "best"}, default "validation"
        ``"validation"``: the order above. ``"best"``: the highest ``value``, whatever the
        cohort, model or primary mark (an optimistic sensitivity analysis); equal values are
        ordered by cohort, then model preference.
    tie : {"lowest", "highest", "first"}, default "lowest"
        Step 5: the lowest ``value``, the highest, or the first in the file.
    cohort_order, model_order : sequence of str
        Cohorts and model kinds from most to least preferred; left-out levels are used only when
        nothing listed is reported (cohorts in :data:`synth.vocabulary.COHORTS` order, model
        kinds alphabetically).
    value : str, default "auc"
        Column the tie rule and rule ``"best"`` rank by; rows where it is missing are skipped.
    aims : sequence of str, optional
        Aims to keep, in the order given (:func:`aim_order`; None: the aims in ``performance``,
        sorted).

    Returns
    -------
    pandas.DataFrame
        The chosen performance rows (all their columns) plus ``label``, ``first_author``,
        ``year``, ``modality``, ``n_patients`` (studies.csv), ``performance_row``,
        ``primary`` (bool), ``n_candidates`` (rows with a ``value`` for the study and aim) and
        ``selection`` (why this row, in words); one row per study and aim, ordered by aim, year
        and study.

    Raises
    ------
    ValueError
        For an unknown rule, tie break or cohort, a repeated aim or model kind, or a ``value``
        column that ``performance`` lacks.
    """
    rule = str(check_choice("rule", rule, RULES))
    tie = str(check_choice("tie", tie, TIE_BREAKS))
    aims = aim_order(aims, performance["aim"])
    if value not in performance.columns:
        raise ValueError(f"value: {value!r} is not a column of the performance table; use one "
                         f"of: {', '.join(map(str, performance.columns))}.")
    cohorts = check_choices("cohort_order", cohort_order, COHORTS)
    models = check_choices("model_order", model_order, list(model_order))
    cohorts = cohorts + tuple(c for c in COHORTS if c not in cohorts)
    models = models + tuple(sorted(set(map(str, performance["model"])) - set(models)))

    perf = performance.copy()
    if "performance_row" not in perf.columns:
        perf["performance_row"] = np.arange(len(perf)) + 2
    perf["primary"] = _primary_flags(perf)
    perf = perf[perf["aim"].isin(aims)]
    ranked = pd.to_numeric(perf[value], errors="coerce").astype(float)
    perf = perf[ranked.notna()]
    ranked = ranked[ranked.notna()]
    n = pd.to_numeric(perf["n"], errors="coerce").astype(float)
    keys = pd.DataFrame({
        "primary_rank": (~perf["primary"]).astype(int),
        "cohort_rank": perf["cohort"].map({c: i for i, c in enumerate(cohorts)}),
        "model_rank": perf["model"].map({m: i for i, m in enumerate(models)}),
        "n_key": -n.fillna(-1.0),  # larger n first, unknown n last
        "file": perf["performance_row"],
    }, index=perf.index)
    if rule == "best":
        keys["value_key"] = -ranked
        order = ["value_key", "cohort_rank", "model_rank", "file"]
    else:
        keys["value_key"] = {"lowest": ranked, "highest": -ranked, "first": 0.0}[tie]
        order = ["primary_rank", "cohort_rank", "model_rank", "n_key", "value_key", "file"]
    perf = perf.join(keys.add_prefix("_"))
    perf = perf.sort_values(["study_id", "aim", *("_" + o for o in order)], kind="mergesort")
    grouped = perf.groupby(["study_id", "aim"], sort=False)
    chosen = grouped.head(1).copy()
    chosen["n_candidates"] = grouped["study_id"].transform("size").loc[chosen.index].astype(int)
    same = perf.groupby(["study_id", "aim", "cohort", "model", "primary"], sort=False)
    chosen["_n_same"] = same["study_id"].transform("size").loc[chosen.index].astype(int)
    chosen["selection"] = [
        _describe_selection(total, n_same, cohort, model, rule, tie, bool(primary), value)
        for total, n_same, cohort, model, primary in zip(
            chosen["n_candidates"], chosen["_n_same"], chosen["cohort"], chosen["model"],
            chosen["primary"], strict=True)
    ]
    chosen = chosen.drop(columns=[c for c in chosen.columns if c.startswith("_")])
    study_cols = ["study_id", "first_author", "year", "modality", "n_patients"]
    clash = [c for c in study_cols[1:] if c in chosen.columns]
    out = chosen.drop(columns=clash).merge(studies[study_cols], on="study_id", how="left")
    out["label"] = out["study_id"].map(study_labels(studies))
    out["aim"] = pd.Categorical(out["aim"], categories=list(aims), ordered=True)
    out = out.sort_values(["aim", "year", "study_id"], kind="mergesort")
    out["aim"] = out["aim"].astype(str)
    return out.reset_index(drop=True)


def _primary_flags(perf: pd.DataFrame) -> pd.Series:
    """True where ``primary`` says ``yes`` (the study's main model); False without the column."""
    if "primary" not in perf.columns:
        return pd.Series(False, index=perf.index)
    if pd.api.types.is_bool_dtype(perf["primary"]):
        return perf["primary"].fillna(False).astype(bool)
    return perf["primary"].astype("string").str.strip().str.lower().eq("yes").fillna(False)


def representative_auc(
    review: Review,
    *,
    rule: str = "validation",
    cohort_order: Sequence[str] = COHORT_PREFERENCE,
    model_order: Sequence[str] = MODEL_PREFERENCE,
    tie: str = "lowest",
    aims: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One reported AUC per study and aim: :func:`select_representative` on ``auc``.

    Rows without an AUC (e.g. rows carrying only a 2x2 table) are not candidates.

    Parameters
    ----------
    review : Review
        A loaded review (:func:`synth.load_review`).
    rule, cohort_order, model_order, tie, aims
        As in :func:`select_representative` (the row marked ``primary`` first, then cohort,
        model kind, larger ``n`` and ``tie``; or ``rule="best"``, the highest AUC).

    Returns
    -------
    pandas.DataFrame
        One row per study and aim, ordered by aim (as ``aims``), then year and study:
        ``study_id``,
        ``label`` (first author and year, :attr:`synth.review.Review.study_labels`),
        ``first_author``, ``year``, ``modality``, ``n_patients`` (from studies.csv); ``aim``,
        ``target``, ``model``, ``model_name``, ``cohort``, ``auc``, ``ci_low``, ``ci_high``,
        ``auc_se``, ``n``, ``positives``, ``negatives``, ``ci_level`` (the chosen performance
        row);
        ``performance_row`` (its row in performance.csv as a spreadsheet numbers it, header =
        row 1), ``primary`` (bool: the study's named main model), ``n_candidates`` (rows with
        an AUC for the study and aim) and ``selection`` (why this row, in words).

    Raises
    ------
    ValueError
        For an unknown rule, tie break or cohort (the message lists the allowed values).
    """
    out = select_representative(review.performance, review.studies, rule=rule, tie=tie,
                                cohort_order=cohort_order, model_order=model_order,
                                value="auc", aims=aims)
    for col in _REPRESENTATIVE_COLUMNS:
        if col not in out.columns:
            out[col] = DEFAULT_CI_LEVEL if col == "ci_level" else np.nan
    return out[_REPRESENTATIVE_COLUMNS]


def _describe_selection(total: int, n_same: int, cohort: str, model: str, rule: str,
                        tie: str, primary: bool = False, value: str = "auc") -> str:
    """Why the chosen row represents its study, in words (for the output table).

    ``total`` is the study's number of candidate rows for the aim; ``n_same`` how many of them
    share the chosen row's primary mark, cohort and model kind.
    """
    one, many = ("AUC", "AUCs") if value == "auc" else (value, f"{value} values")
    if total == 1:
        return f"only {one} reported"
    if rule == "best":
        return f"highest of {total} {many}"
    text = f"{cohort}, {model} (of {total} {many})"
    if primary:
        text = "primary model; " + text
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
    aims: Sequence[str] | None = None,
    modalities: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Range summary of representative AUCs per aim (optionally per aim x modality or cohort).

    Parameters
    ----------
    representative : pandas.DataFrame
        Output of :func:`representative_auc`.
    by : {None, "modality", "cohort"}, default None
        Second grouping. Every aim (and every modality of ``modalities``, every cohort) gets a
        row, with ``n_studies = 0`` when there is no study, so gaps in the evidence show.
    aims : sequence of str, optional
        Aims to report, in this order (:func:`aim_order`; e.g. ``review.vocabulary.aim_names``;
        None: the aims in ``representative``, sorted).
    modalities : sequence of str, optional
        With ``by="modality"``: the modalities, in this order (e.g.
        ``review.vocabulary.modalities``); None: those in ``representative``, sorted.

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
    aims = aim_order(aims, representative["aim"])
    present = sorted(set(map(str, representative["modality"].dropna())))
    levels: dict[str, tuple[str, ...]] = {
        "modality": tuple(present if modalities is None else
                          check_choices("modalities", modalities, list(modalities))),
        "cohort": COHORTS}
    if by is not None:
        check_choice("by", by, tuple(levels))
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
    def n_training_pooled(self) -> int:
        """Pooled studies represented by a training-cohort (apparent) AUC."""
        if not self.k_shown:
            return 0
        pooled = self.studies["pooled"].astype(bool)
        return int((pooled & (self.studies["cohort"] == "training")).sum())

    def variance_routes(self) -> str:
        """The variance routes of the pooled studies, e.g. ``reported CI: 2; Hanley-McNeil: 1``."""
        if not self.k_shown:
            return ""
        used = self.studies.loc[self.studies["pooled"].astype(bool), "variance_route"]
        counts = used.value_counts()
        return "; ".join(f"{r}: {int(counts[r])}" for r in ROUTES if r in counts.index)

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
            auc_pooled, ci_low, ci_high, pi_low, pi_high, q, q_pvalue, estimator, ci_method,
            pi_distribution, variance_route, n_training, note``; the AUC-scale columns are
            back-transformed (expit) from the logit scale; NaN and a ``note`` saying why when
            there is no pooled estimate or no prediction interval. ``estimator`` is the tau²
            estimator, ``ci_method`` ``Wald z`` or ``Knapp-Hartung t(k-1)``,
            ``pi_distribution`` the prediction interval's reference distribution (e.g. ``z``,
            ``t(k-2): t, df = 3``), ``variance_route`` the routes of the pooled studies'
            variances with counts, ``n_training`` the pooled studies represented by a
            training-cohort AUC.
        """
        row: dict[str, Any] = {"aim": self.aim, "method": self.method,
                               "knapp_hartung": self.knapp_hartung, "k": self.k_pooled,
                               "k_shown": self.k_shown}
        keys = ["estimate_logit", "se_logit", "tau2", "i2", "auc_pooled", "ci_low", "ci_high",
                "pi_low", "pi_high", "q", "q_pvalue"]
        s = None if self.result is None else self.result.summary_frame(alpha=self.alpha).iloc[0]
        if self.result is None or s is None:
            row |= dict.fromkeys(keys, np.nan)
            row["note"] = f"no pooled estimate: {self.reason}"
        else:
            row |= {
                "estimate_logit": s["estimate"], "se_logit": s["se"], "tau2": s["tau2"],
                "i2": s["i2"], "auc_pooled": expit(s["estimate"]),
                "ci_low": expit(s["ci_low"]), "ci_high": expit(s["ci_high"]),
                "pi_low": expit(s["pi_low"]), "pi_high": expit(s["pi_high"]),
                "q": s["q"], "q_pvalue": s["q_pvalue"],
            }
            left = self.studies.loc[~self.studies["pooled"].astype(bool), "not_pooled_reason"]
            training = int(left.astype(str).str.startswith("training-cohort").sum())
            notes = [f"{n} of {self.k_shown} studies not pooled ({why})" for n, why in (
                (len(left) - training, "no variance"), (training, "training AUC left out")) if n]
            if self.n_training_pooled:
                n = self.n_training_pooled
                notes.append(f"{n} pooled {'study' if n == 1 else 'studies'} represented by a "
                             "training-cohort (apparent) AUC")
            if self.result.pi_note:
                notes.append(self.result.pi_note)
            row["note"] = "; ".join(notes)
        row |= {"estimator": self.method,
                "ci_method": "" if s is None else s["ci_method"],
                "pi_distribution": "" if s is None else s["pi_distribution"],
                "variance_route": self.variance_routes(),
                "n_training": self.n_training_pooled}
        return pd.DataFrame([row])

    def study_intervals(self) -> pd.DataFrame:
        """The interval shown for each study of the aim: reported where reported, else derived.

        A study's reported CI (``ci_low``, ``ci_high`` of performance.csv) is shown when the
        intervals are drawn at its level (``1 - alpha`` equal to the row's ``ci_level``, 0.95
        without the column); otherwise the interval is derived from the variance used for pooling,
        expit(logit(AUC) ± z·SE), and says from what (:data:`CI_SOURCES`).

        Returns
        -------
        pandas.DataFrame
            Indexed like :attr:`studies`: ``ci_shown_low``, ``ci_shown_high`` (NaN when there is
            no interval), ``ci_source`` (one of :data:`CI_SOURCES`) and ``ci_derived`` (bool).
        """
        s = self.studies
        z = float(stats.norm.isf(self.alpha / 2))
        logit_auc = s["logit_auc"].to_numpy(dtype=float)
        se = s["se_logit"].to_numpy(dtype=float)
        nothing = pd.Series(np.nan, index=s.index)  # a hand-made table may carry no CI
        low = s.get("ci_low", nothing).astype(float).to_numpy()
        high = s.get("ci_high", nothing).astype(float).to_numpy()
        reported = (np.isfinite(low) & np.isfinite(high)
                    & np.isclose(1.0 - self.alpha, ci_levels(s)))
        derived = ~reported & np.isfinite(logit_auc) & np.isfinite(se)
        with np.errstate(invalid="ignore"):
            derived_low = expit(logit_auc - z * se)
            derived_high = expit(logit_auc + z * se)
        source = np.where(reported, "reported", np.where(
            derived, s["variance_route"].map(_DERIVED).fillna("none").to_numpy(), "none"))
        return pd.DataFrame({
            "ci_shown_low": np.where(reported, low, np.where(derived, derived_low, np.nan)),
            "ci_shown_high": np.where(reported, high, np.where(derived, derived_high, np.nan)),
            "ci_source": source,
            "ci_derived": derived,
        }, index=s.index)

    def summary(self) -> str:
        """One line saying how many studies were pooled, or why there is no estimate."""
        text = f"{self.aim}: {self.k_pooled} of {self.k_shown} studies pooled"
        return text + (f" (no pooled estimate: {self.reason})" if self.reason else "")

    def summary_frame(self) -> pd.DataFrame:
        """The forest-plot table: one row per study, then the pooled row.

        Returns
        -------
        pandas.DataFrame
            ``kind`` ("study" or "pooled"), ``label`` (first author and year,
            :func:`synth.review.study_labels`, or the model name), ``study_id``, ``cohort``,
            ``auc``, ``ci_low``, ``ci_high`` (study: the interval shown, see
            :meth:`study_intervals`; pooled: its confidence interval), ``ci_source``
            (:data:`CI_SOURCES`; "pooled" for the pooled row), ``ci_derived`` (bool: the
            study's interval was derived from an SE, a CI or counts, not reported), ``pi_low``,
            ``pi_high``, ``i2``, ``tau2`` (pooled row only), ``weight`` (percent), ``poolable``
            (bool: has a variance), ``pooled`` (bool: in the pooled estimate),
            ``variance_route``. Studies are ordered by year, then study id.
        """
        s = with_labels(self.studies).join(self.study_intervals())
        s = s.sort_values(["year", "study_id"], kind="mergesort")
        frame = pd.DataFrame({
            "kind": "study",
            "label": s["label"].to_numpy(),
            "study_id": s["study_id"].to_numpy(),
            "cohort": s["cohort"].to_numpy(),
            "auc": s["auc"].astype(float).to_numpy(),
            "ci_low": s["ci_shown_low"].to_numpy(dtype=float),
            "ci_high": s["ci_shown_high"].to_numpy(dtype=float),
            "ci_source": s["ci_source"].to_numpy(),
            "ci_derived": s["ci_derived"].to_numpy(dtype=bool),
            "pi_low": np.nan,
            "pi_high": np.nan,
            "i2": np.nan,
            "tau2": np.nan,
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
                "ci_source": "pooled", "ci_derived": False, "pi_low": p["pi_low"],
                "pi_high": p["pi_high"], "i2": p["i2"], "tau2": p["tau2"], "weight": 100.0,
                "poolable": True, "pooled": True, "variance_route": "",
            }
        return frame


def pool_by_aim(
    table: pd.DataFrame,
    *,
    method: str = "REML",
    knapp_hartung: bool = False,
    aims: Sequence[str] | None = None,
    alpha: float = 0.05,
    pi_distribution: str = "ci",
    pi_min_k: int = PI_MIN_K,
    training: str = "pool",
) -> dict[str, AimPooling]:
    """Pool logit AUCs per aim with :func:`synth.meta.pool`.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`.
    method : {"REML", "DL", "PM", "FE"}, default "REML"
        Estimator of tau² (REML is metafor's default and the recommended one).
    knapp_hartung : bool, default False
        Knapp-Hartung adjustment of the SE, t(k − 1) confidence interval. Off by default, as in
        metafor (``test="z"``); metamisc's ``valmeta`` applies it by default, so set True (and
        ``pi_distribution="t(k-2)"``) to reproduce metamisc.
    aims : sequence of str, optional
        Aims to pool, in this order (:func:`aim_order`; None: the aims in ``table``, sorted).
    alpha : float, default 0.05
        Significance level of confidence and prediction intervals.
    pi_distribution : {"ci", "z", "t(k-1)", "t(k-2)"}, default "ci"
        Reference distribution of the prediction interval (:data:`synth.meta.PI_DISTRIBUTIONS`);
        ``"ci"`` is metafor's (normal, t(k − 1) with Knapp-Hartung), ``"t(k-2)"`` metamisc's.
    pi_min_k : int, default 3
        Fewest pooled studies for a prediction interval (:data:`synth.meta.PI_MIN_K`); below
        it the interval is NaN and the pooled table's ``note`` says why.
    training : {"pool", "exclude"}, default "pool"
        Whether a study represented by a training-cohort AUC is pooled (:data:`TRAINING_OPTIONS`).

    Returns
    -------
    dict of str to AimPooling
        One entry per aim, in the order of ``aims``; an aim with fewer than 2 poolable studies
        has ``result=None`` and a ``reason``.
    """
    aims = aim_order(aims, table["aim"])
    if str(method).upper() not in METHODS:
        check_choice("method", method, METHODS)
    check_choice("pi_distribution", pi_distribution, PI_DISTRIBUTIONS)
    training = str(check_choice("training", training, TRAINING_OPTIONS))
    out: dict[str, AimPooling] = {}
    for aim in aims:
        studies = table[table["aim"] == aim].copy()
        if training == "exclude" and len(studies):
            left_out = (studies["cohort"] == "training") & studies["poolable"].astype(bool)
            studies.loc[left_out, "poolable"] = False
            studies.loc[left_out, "not_pooled_reason"] = (
                "training-cohort AUC left out (training='exclude')")
        poolable = studies["poolable"].to_numpy(dtype=bool)
        k = int(poolable.sum())
        studies["pooled"] = False
        studies["weight"] = np.nan
        result: PooledResult | None = None
        reason = ""
        if len(studies) == 0:
            reason = "no studies"
        elif k < 2:
            noun = "study" if len(studies) == 1 else "studies"
            reason = (f"only {k} of {len(studies)} {noun} with a variance (SE, CI or "
                      "positives/negatives); pooling needs 2")
        else:
            used = studies[poolable]
            try:
                result = pool(used["logit_auc"], used["var_logit"], method=method,
                              knapp_hartung=knapp_hartung, alpha=alpha,
                              pi_distribution=pi_distribution, pi_min_k=pi_min_k)
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
    aims: Sequence[str] | None = None,
    alpha: float = 0.05,
    pi_distribution: str = "ci",
    pi_min_k: int = PI_MIN_K,
    training: str = "pool",
) -> pd.DataFrame:
    """Pooled AUC per aim and estimator (``auc_pooled.csv``).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`study_variances`.
    methods : sequence of str, default ("REML", "DL", "PM")
        tau² estimators, one row each per aim.
    knapp_hartung, aims, alpha, pi_distribution, pi_min_k, training
        As in :func:`pool_by_aim`.

    Returns
    -------
    pandas.DataFrame
        Rows aim x method in that order; columns of :meth:`AimPooling.pooled_frame`: ``aim,
        method, knapp_hartung, k, k_shown, estimate_logit, se_logit, tau2, i2, auc_pooled,
        ci_low, ci_high, pi_low, pi_high, q, q_pvalue, estimator, ci_method, pi_distribution,
        variance_route, n_training, note``.
    """
    frames = []
    per_method = {m: pool_by_aim(table, method=m, knapp_hartung=knapp_hartung, aims=aims,
                                 alpha=alpha, pi_distribution=pi_distribution,
                                 pi_min_k=pi_min_k, training=training) for m in methods}
    for aim in aim_order(aims, table["aim"]):
        for m in methods:
            frames.append(per_method[m][aim].pooled_frame())
    return pd.concat(frames, ignore_index=True)


_STUDIES_COLUMNS = [
    "study_id", "label", "aim", "cohort", "model", "first_author", "year", "modality",
    "performance_row", "auc", "ci_low", "ci_high", "auc_se", "n", "positives", "negatives",
    "logit_auc", "var_logit", "variance_route", "poolable", "pooled", "weight",
    "not_pooled_reason", "ci_shown_low", "ci_shown_high", "ci_source", "ci_derived",
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
        One row per study and aim, aims in the poolings' order: ``study_id, label,
        aim, cohort, model, first_author, year, modality, performance_row, auc, ci_low,
        ci_high, auc_se, n, positives, negatives, logit_auc, var_logit, variance_route,
        poolable, pooled, weight, not_pooled_reason, ci_shown_low, ci_shown_high, ci_source,
        ci_derived``. ``ci_low``, ``ci_high``: the reported interval; ``poolable``: the study
        has a variance; ``pooled``: it is in the aim's pooled estimate (False for every study
        of an aim with fewer than 2 poolable studies); ``weight``: percent of the pooled
        estimate; ``ci_shown_*``, ``ci_source``, ``ci_derived``: the interval the forest plot
        shows and whether it was reported or derived (:meth:`AimPooling.study_intervals`).
    """
    frames = [with_labels(p.studies).join(p.study_intervals())[_STUDIES_COLUMNS]
              for p in poolings.values() if p.k_shown]
    if not frames:
        return pd.DataFrame(columns=_STUDIES_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    reason = out["not_pooled_reason"].astype(str)
    no_estimate = out["poolable"] & ~out["pooled"].astype(bool)
    out["not_pooled_reason"] = np.where(no_estimate, "no pooled estimate for this aim", reason)
    return out
