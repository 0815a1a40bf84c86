"""Analyses of the appraisal instruments: METRICS, RQS 2.0, QUADAS-2 and CLEAR, beside RQS 1.0.

:mod:`synth.instruments` declares, validates and scores every instrument; this package summarises
what it scored, for any instrument, rater and set of aims:

* :func:`score_summary`: mean, SD, median and quartiles of one rater's scores, overall and by
  aim, modality and publication year (:func:`synth.quality.study_groups`);
* :func:`item_compliance`, :func:`category_compliance`: the share of applicable studies
  answering yes (or earning points) per item and per category;
* :func:`item_agreement`: two raters' percentage agreement and Cohen's kappa per item (linearly
  weighted for items scored in more than two ordered points), :func:`total_icc` the ICC(2,1) of
  their totals (:func:`synth.quality.icc_totals`);
* :func:`compare_scores`: two instruments on the same studies (RQS 1.0 and METRICS), with
  Spearman's rho and the mean difference;
* :func:`risk_tallies`, :func:`traffic_light_table`, :func:`low_risk_studies` and
  :func:`low_risk_pooling`: QUADAS-2 judgements counted per domain (optionally weighted by
  study size, as robvis's weighted summary), laid out study x domain, and the pooled AUC
  restricted to the studies at low risk in a chosen domain, beside the full pool;
* :func:`quality_moderators`: each study's percentages by several instruments, one column each,
  as meta-regression moderators.
* :func:`study_quality`, :func:`forest_quality`, :func:`review_low_risk_studies`
  (:mod:`synth.appraisal.synthesis`): what a review's appraisal feeds into the synthesis: the
  meta-regression moderators, a forest plot's quality column, the low-risk studies pooled again.

:func:`report` runs everything a review has and returns one :class:`Section` per instrument,
the tables to write and what to draw; :mod:`synth.plots.appraisal` draws them. Nothing here
assumes aim, rater or domain names: they come from the data and the review's vocabulary.
"""

from synth.appraisal.report import NO_APPRAISAL_NOTE, Section, report
from synth.appraisal.risk import (
    APPLICABILITY,
    JUDGEMENTS,
    RISK_OF_BIAS,
    domain_codes,
    low_risk_pooling,
    low_risk_studies,
    risk_tallies,
    traffic_light_table,
)
from synth.appraisal.scores import (
    MET_ANSWERS,
    MIN_FIGURE_STUDIES,
    NA_ANSWERS,
    PairedScores,
    answer_table,
    band_counts,
    category_compliance,
    compare_scores,
    figure_skip_reason,
    item_agreement,
    item_compliance,
    quality_moderators,
    rater_rows,
    score_summary,
    total_icc,
)
from synth.appraisal.synthesis import (
    FOREST_QUALITY,
    forest_quality,
    review_low_risk_studies,
    study_quality,
)

__all__ = [
    "NA_ANSWERS", "MET_ANSWERS", "MIN_FIGURE_STUDIES", "figure_skip_reason", "rater_rows",
    "score_summary", "band_counts", "item_compliance", "category_compliance", "answer_table",
    "item_agreement", "total_icc", "PairedScores", "compare_scores", "quality_moderators",
    "JUDGEMENTS", "RISK_OF_BIAS", "APPLICABILITY", "domain_codes", "risk_tallies",
    "traffic_light_table", "low_risk_studies", "low_risk_pooling", "NO_APPRAISAL_NOTE",
    "Section", "report", "FOREST_QUALITY", "study_quality", "forest_quality",
    "review_low_risk_studies",
]
