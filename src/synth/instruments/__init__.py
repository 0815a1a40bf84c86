"""Quality-assessment instruments declared as data: items, allowed answers, scoring, provenance.

- RQS 1.0 (:mod:`synth.instruments.rqs`): the ``quality`` table, scored by :mod:`synth.quality`.
- METRICS, RQS 2.0, QUADAS-2 and CLEAR (:mod:`~synth.instruments.metrics`,
  :mod:`~synth.instruments.rqs2`, :mod:`~synth.instruments.quadas2`,
  :mod:`~synth.instruments.clear`): one file (or workbook sheet) each, named by
  :data:`APPRAISAL_FILES`, validated by :func:`check_appraisal` and scored by the functions
  re-exported here; :func:`item_answers` turns any item-scored table into one long table.

Nothing here reads files or draws: :mod:`synth.review` reads, :mod:`synth.quality` and the plot
modules summarise and draw.
"""

from synth.instruments.appraisals import (
    APPRAISAL_FILES,
    APPRAISALS,
    ITEM_ANSWER_COLUMNS,
    appraisal_scores,
    check_appraisal,
    item_answers,
)
from synth.instruments.clear import (
    CLEAR,
    CLEAR_ITEMS,
    CLEAR_S,
    clear_scores,
)
from synth.instruments.metrics import (
    METRICS,
    METRICS_BANDS,
    METRICS_CONDITIONS,
    METRICS_ITEMS,
    metrics_band,
    metrics_from_exports,
    metrics_round,
    metrics_score,
    metrics_scores,
    parse_metrics_export,
)
from synth.instruments.quadas2 import (
    QUADAS2,
    QUADAS2_DOMAINS,
    QUADAS2_JUDGEMENTS,
    QUADAS2_OVERALL_RULES,
    QUADAS2_SIGNALLING,
    quadas2_judgements,
    quadas2_overall,
    quadas2_tally,
)
from synth.instruments.rqs import (
    INSTRUMENTS,
    NEGATIVE_TOTALS,
    RQS,
    Instrument,
    Item,
    Negative,
    get_instrument,
    negative_note,
    to_percent,
)
from synth.instruments.rqs2 import (
    RQS2,
    RQS2_ITEMS,
    RQS2_LEVELS,
    RQS2_METHODS,
    rqs2_maximum,
    rqs2_scores,
)

__all__ = [
    "Item", "Instrument", "RQS", "INSTRUMENTS", "get_instrument", "Negative", "NEGATIVE_TOTALS",
    "negative_note", "to_percent",
    "APPRAISALS", "APPRAISAL_FILES", "ITEM_ANSWER_COLUMNS", "check_appraisal", "appraisal_scores",
    "item_answers",
    "METRICS", "METRICS_ITEMS", "METRICS_CONDITIONS", "METRICS_BANDS", "metrics_round",
    "metrics_band", "metrics_score", "metrics_scores", "parse_metrics_export",
    "metrics_from_exports",
    "RQS2", "RQS2_ITEMS", "RQS2_LEVELS", "RQS2_METHODS", "rqs2_maximum", "rqs2_scores",
    "QUADAS2", "QUADAS2_DOMAINS", "QUADAS2_JUDGEMENTS", "QUADAS2_SIGNALLING",
    "QUADAS2_OVERALL_RULES", "quadas2_judgements", "quadas2_overall", "quadas2_tally",
    "CLEAR", "CLEAR_ITEMS", "CLEAR_S", "clear_scores",
]
