"""What a review's quality appraisal feeds into the synthesis (notebooks 03 and 05).

* :func:`study_quality`: each study's RQS 1.0, METRICS and RQS 2.0 percentages by one rater, one
  column per instrument the review has, the ``quality`` table of
  :func:`synth.regression.fit_meta_regression`;
* :func:`forest_quality`: one instrument's per-study value as text, the quality column of
  :func:`synth.plots.auc.plot_forest`;
* :func:`review_low_risk_studies`: the studies at low risk of bias in a QUADAS-2 domain, whose
  pooled estimates :func:`synth.appraisal.low_risk_pooling` (AUC) and
  :func:`synth.dta.low_risk_table` (sensitivity and specificity) set beside all studies'.

Scores come from the instruments' own scoring functions (:func:`synth.quality.consensus_percent`,
:func:`synth.instruments.appraisal_scores`); nothing is scored here.
"""

from __future__ import annotations

import pandas as pd

from synth import instruments, quality
from synth.appraisal.risk import RISK_OF_BIAS, low_risk_studies
from synth.appraisal.scores import quality_moderators, rater_rows
from synth.errors import check_choice
from synth.review import Review

__all__ = ["FOREST_QUALITY", "study_quality", "forest_quality", "review_low_risk_studies"]

FOREST_QUALITY: dict[str, str] = {
    "metrics": "METRICS (%)",
    "rqs": "RQS (%)",
    "rqs2": "RQS 2.0 (%)",
    "quadas2": "QUADAS-2",
}
"""The forest plot's quality columns (:func:`forest_quality`) → their header, in the order
``"auto"`` tries them: METRICS first (the radiomics instrument recommended since 2024), then
RQS 1.0, RQS 2.0, and the overall QUADAS-2 risk of bias."""

_PERCENT = {"metrics": ("METRICS", "score"), "rqs2": ("RQS 2.0", "percent")}
"""Quality moderator → (instrument, its scores' percentage column): METRICS's score as the
official calculator computes it, RQS 2.0's percentage of the study's maximum."""


def _rater(review: Review, rater: str) -> str:
    return rater or review.vocabulary.consensus


def study_quality(review: Review, *, rater: str = "", negative: instruments.Negative = "floor"
                  ) -> pd.DataFrame:
    """Each study's quality percentages by one rater, one column per instrument present.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    rater
        Whose scores; "" is the consensus rater review.yaml names. A rater absent from an
        instrument's file raises a ValueError listing those present.
    negative
        How a negative RQS 1.0 total becomes a percentage (:func:`synth.quality.score`).

    Returns
    -------
    pandas.DataFrame
        :func:`synth.appraisal.quality_moderators` of ``rqs`` (RQS 1.0, quality.csv),
        ``metrics`` (metrics.csv) and ``rqs2`` (rqs2.csv): indexed by ``study_id``, a float
        column for each instrument the review has (none for one it lacks).
    """
    rater = _rater(review, rater)
    percents: dict[str, pd.Series | None] = {
        "rqs": quality.consensus_percent(review, negative=negative, rater=rater)}
    for moderator, (name, column) in _PERCENT.items():
        if name in review.appraisals:
            scores = rater_rows(instruments.appraisal_scores(name, review.appraisals[name]),
                                rater=rater)
            percents[moderator] = scores.set_index("study_id")[column].astype(float)
    return quality_moderators(percents)


def forest_quality(review: Review, which: str = "auto", *, rater: str = "",
                   negative: instruments.Negative = "floor") -> pd.Series | None:
    """One instrument's per-study value as text, for a forest plot's quality column.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    which
        A key of :data:`FOREST_QUALITY` (``"metrics"``, ``"rqs"``, ``"rqs2"``: the percentage
        with one decimal; ``"quadas2"``: the overall risk-of-bias judgement, low / unclear /
        high), ``"auto"`` for the first of them the review has, or ``""`` for none.
    rater, negative
        As for :func:`study_quality`.

    Returns
    -------
    pandas.Series or None
        Text by ``study_id``, named by its column header (:data:`FOREST_QUALITY`); None for
        ``""``, for ``"auto"`` when the review has no instrument, or when the chosen instrument
        has no file in the review.
    """
    check_choice("forest_quality", which, ("auto", "", *FOREST_QUALITY))
    rater = _rater(review, rater)
    has = {"metrics": "METRICS" in review.appraisals, "rqs": review.has_quality,
           "rqs2": "RQS 2.0" in review.appraisals, "quadas2": "QUADAS-2" in review.appraisals}
    if which == "auto":
        which = next((k for k in FOREST_QUALITY if has[k]), "")
    if not which or not has[which]:
        return None
    if which == "quadas2":
        overall = rater_rows(instruments.quadas2_overall(review.appraisals["QUADAS-2"]),
                             rater=rater)
        text = overall.set_index("study_id")["risk_of_bias"].astype(str)
    else:
        text = study_quality(review, rater=rater, negative=negative)[which].dropna().map(
            "{:.1f}".format)
    return text.rename(FOREST_QUALITY[which])


def review_low_risk_studies(review: Review, *, domain: str = "Overall", rater: str = "",
                            kind: str = RISK_OF_BIAS) -> list[str] | None:
    """The studies one rater judged at low risk in a QUADAS-2 domain, or None without QUADAS-2.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    domain, kind
        As for :func:`synth.appraisal.low_risk_studies` (a domain's name, its code such as
        ``D1``, or ``Overall``; risk of bias or applicability).
    rater
        Whose judgements; "" is the consensus rater review.yaml names.

    Returns
    -------
    list of str or None
        ``study_id`` of the low-risk studies in quadas2.csv's order; None when the review has
        no quadas2.csv (no judgements, so no restricted pooling).
    """
    if "QUADAS-2" not in review.appraisals:
        return None
    judgements = instruments.quadas2_judgements(review.appraisals["QUADAS-2"])
    return low_risk_studies(judgements, domain=domain, rater=_rater(review, rater), kind=kind)
