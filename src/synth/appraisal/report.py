"""Everything notebook 04 shows: one :class:`Section` per instrument a review has.

:func:`report` scores, summarises and compares what the review holds (RQS 1.0 by
:func:`synth.quality.assess`; METRICS, RQS 2.0, CLEAR and QUADAS-2 by :mod:`synth.instruments`
and the analyses of :mod:`synth.appraisal`); :func:`synth.plots.appraisal.section_figures`
draws each section's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synth import instruments, quality
from synth.appraisal.risk import (
    domain_codes,
    low_risk_pooling,
    low_risk_studies,
    risk_tallies,
    traffic_light_table,
)
from synth.appraisal.scores import (
    _check_raters,
    answer_table,
    band_counts,
    category_compliance,
    compare_scores,
    item_agreement,
    item_compliance,
    quality_moderators,
    rater_rows,
    score_summary,
    total_icc,
)
from synth.auc import representative_auc, study_variances
from synth.review import Review

__all__ = ["NO_APPRAISAL_NOTE", "Section", "report"]

# --- everything notebook 04 shows ------------------------------------------------------------

NO_APPRAISAL_NOTE = ("No quality appraisal: this review has no quality.csv, metrics.csv, "
                     "rqs2.csv, quadas2.csv or clear.csv, so there is nothing to score, "
                     "summarise or draw.")

_STEMS = {"RQS": "rqs", "METRICS": "metrics", "RQS 2.0": "rqs2", "QUADAS-2": "quadas2",
          "CLEAR": "clear"}
_SCORE_COLUMN = {"METRICS": "score", "RQS 2.0": "percent", "CLEAR": "percent"}
"""The column of each instrument's per-study scores (:func:`synth.instruments.appraisal_scores`)
that summaries use: METRICS's score, RQS 2.0's percentage of the study's maximum, CLEAR's
compliance."""


@dataclass(frozen=True)
class Section:
    """One instrument's part of notebook 04: its tables, what to draw, and lines to print.

    ``figures`` maps a figure's file stem to ``(kind, arguments)`` for
    :func:`synth.plots.appraisal.section_figures`, which draws each with the function of that
    kind; ``main`` names the table shown in the notebook.
    """

    instrument: str
    title: str
    tables: dict[str, pd.DataFrame] = field(repr=False)
    figures: dict[str, tuple[str, dict[str, Any]]] = field(repr=False)
    lines: tuple[str, ...] = ()
    main: str = ""

    @property
    def main_table(self) -> pd.DataFrame | None:
        """The table the notebook displays (``tables[main]``), or None."""
        return self.tables.get(self.main)


def _raters(frame: pd.DataFrame, consensus: str, declared: Sequence[str],
            chosen: Sequence[str]) -> tuple[str, str] | None:
    """The two raters compared: ``chosen``, else the first two non-consensus raters present
    (in the vocabulary's order); None when there are fewer than two."""
    if chosen:
        return _check_raters(chosen)
    present = set(frame["rater"].astype(str))
    order = [r for r in declared if r in present] + sorted(present - set(declared))
    others = [r for r in order if r != consensus]
    return (others[0], others[1]) if len(others) >= 2 else None


def _agreement_tables(name: str, answers: pd.DataFrame, scores: pd.DataFrame | None,
                      value: str, pair: tuple[str, str] | None) -> tuple[dict, list[str]]:
    stem = _STEMS[name]
    if pair is None:
        return {}, [f"{name}: no rater agreement (fewer than two raters besides the consensus)"]
    tables = {f"{stem}_agreement": item_agreement(answers, raters=pair)}
    lines = []
    if scores is not None:
        icc = total_icc(scores, raters=pair, value=value)
        if icc is None:
            lines.append(quality.agreement_skip_reason(
                quality.paired_scores(scores, raters=pair), raters=pair) or "")
        else:
            tables[f"{stem}_icc"] = icc.summary_frame()
            lines.append(f"{name} {value}, raters {' and '.join(pair)}: {icc.text()}")
    return tables, lines


def _scored_section(review: Review, name: str, *, rater: str, pair: Sequence[str],
                    groups: pd.DataFrame, aims: Sequence[str] | None,
                    rqs: pd.Series | None) -> tuple[Section, pd.Series]:
    stem, value = _STEMS[name], _SCORE_COLUMN[name]
    table = review.appraisals[name]
    scores = instruments.appraisal_scores(name, table)
    answers = instruments.item_answers(name, table)
    chosen = rater_rows(scores, rater=rater)
    labels = review.study_labels
    tables = {f"{stem}_scores": scores,
              f"{stem}_summary": score_summary(chosen, groups, value=value, aims=aims),
              f"{stem}_items": item_compliance(answers, rater=rater),
              f"{stem}_categories": category_compliance(answers, rater=rater)}
    summary = tables[f"{stem}_summary"].iloc[0]
    lines = [f"{name} ({rater}): mean {summary['mean']:.1f} % (SD {summary['sd']:.1f}), median "
             f"{summary['median']:.1f} % (IQR {summary['q1']:.1f}\u2013{summary['q3']:.1f}), "
             f"n = {int(summary['n_studies'])}"]
    figures: dict[str, tuple[str, dict[str, Any]]] = {}
    if name == "METRICS":
        tables["metrics_bands"] = band_counts(chosen, instruments.METRICS_BANDS, value=value)
        figures["metrics_bands"] = ("score_bands", {
            "scores": chosen, "bands": tables["metrics_bands"], "name": name, "value": value})
    figures[f"{stem}_categories"] = ("category_compliance", {
        "compliance": tables[f"{stem}_categories"], "name": name})
    figures[f"{stem}_heatmap"] = ("answer_heatmap", {
        "table": answer_table(answers, rater=rater, labels=labels, scores=chosen, value=value),
        "name": name})
    more, text = _agreement_tables(name, answers, scores, value,
                                   _raters(table, rater, review.vocabulary.raters, pair))
    tables |= more
    lines += text
    percent = chosen.set_index("study_id")[value].astype(float)
    if name == "METRICS" and rqs is not None:
        paired = compare_scores(rqs, percent, names=("RQS", "METRICS"), labels=labels)
        tables["rqs_vs_metrics"] = paired.summary_frame()
        tables["rqs_vs_metrics_studies"] = paired.points
        figures["rqs_vs_metrics"] = ("paired_scores", {"paired": paired})
        lines.append(f"RQS and METRICS on {paired.n} studies: {paired.text()}")
    return Section(name, f"{name} ({rater})", tables, figures, tuple(lines),
                   main=f"{stem}_summary"), percent


def _quadas2_section(review: Review, *, rater: str, pair: Sequence[str], domain: str,
                     representative: pd.DataFrame, aims: Sequence[str]) -> Section:
    table = review.appraisals["QUADAS-2"]
    judgements = instruments.quadas2_judgements(table)
    labels = review.study_labels
    sizes = review.studies.set_index("study_id")["n_patients"].astype(float)
    tables = {"quadas2_judgements": judgements,
              "quadas2_tallies": risk_tallies(judgements, rater=rater),
              "quadas2_tallies_weighted": risk_tallies(judgements, rater=rater, weights=sizes)}
    figures: dict[str, tuple[str, dict[str, Any]]] = {
        "quadas2_traffic_light": ("traffic_light", {
            "table": traffic_light_table(judgements, rater=rater, labels=labels,
                                         note=instruments.QUADAS2_OVERALL_RULES["worst"])}),
        "quadas2_summary": ("risk_summary", {"tallies": tables["quadas2_tallies"]}),
        "quadas2_summary_weighted": ("risk_summary",
                                     {"tallies": tables["quadas2_tallies_weighted"]}),
    }
    low = low_risk_studies(judgements, domain=domain, rater=rater)
    lines = [f"QUADAS-2 ({rater}): {len(low)} of {table['study_id'].nunique()} studies at low "
             f"risk of bias in {domain}"]
    pooled = low_risk_pooling(study_variances(representative), judgements, domain=domain,
                              rater=rater, aims=aims)
    tables["quadas2_low_risk_pooling"] = pooled
    pair_ = _raters(table, rater, review.vocabulary.raters, pair)
    coded = judgements.merge(domain_codes(judgements), on=["kind", "domain"]).assign(
        item=lambda f: f["code"], label=lambda f: f["code"] + " " + f["domain"],
        answer=lambda f: f["judgement"], category=lambda f: f["kind"])
    more, text = _agreement_tables("QUADAS-2", coded, None, "", pair_)
    tables |= more
    lines += text
    return Section("QUADAS-2", f"QUADAS-2 ({rater})", tables, figures, tuple(lines),
                   main="quadas2_tallies")


def report(review: Review, *, representative: pd.DataFrame | None = None, rater: str = "",
           agreement_raters: Sequence[str] = (), negative: str = "floor",
           aims: Sequence[str] | None = None, low_risk_domain: str = "Overall"
           ) -> list[Section]:
    """Every table and figure of a review's quality appraisal, one :class:`Section` per
    instrument it has (RQS 1.0, METRICS, RQS 2.0, QUADAS-2, CLEAR), then the moderators.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    representative
        One AUC per study and aim (:func:`synth.auc.representative_auc`; computed with its
        defaults when None), for RQS against AUC and the QUADAS-2 low-risk pooling.
    rater
        Whose scores the summaries use; "" is the consensus rater review.yaml names.
    agreement_raters
        The two raters compared; empty: the first two raters besides the consensus, in the
        vocabulary's order, that the instrument's file holds.
    negative
        How a negative RQS 1.0 total becomes a percentage (:func:`synth.quality.score`).
    aims
        The aims shown and pooled, in order; None: every aim the vocabulary declares.
    low_risk_domain
        The QUADAS-2 risk-of-bias domain (its name, e.g. "Patient selection", its code "D1",
        or "Overall") whose low-risk studies are pooled again beside all studies.

    Returns
    -------
    list of Section
        Empty when the review has no appraisal (:data:`NO_APPRAISAL_NOTE`).
    """
    vocab = review.vocabulary
    rater = rater or vocab.consensus
    aims = tuple(aims) if aims else tuple(vocab.aim_names)
    if representative is None:
        representative = representative_auc(review, aims=aims)
    groups = quality.study_groups(review)
    sections: list[Section] = []
    rqs = None
    if review.has_quality:
        qa = quality.assess(review, representative, rater=rater, negative=negative,
                            raters=tuple(agreement_raters) or None)
        rqs = quality.rater_scores(qa.scores, rater=rater).set_index("study_id")["percent"]
        lines = [qa.mean_text(), *([qa.icc.text()] if qa.icc is not None else []), *qa.notes]
        sections.append(Section("RQS", f"RQS 1.0 ({rater})", qa.tables(),
                                {"rqs": ("rqs_assessment", {"assessment": qa})}, tuple(lines),
                                main="rqs_summary"))
    percents: dict[str, pd.Series | None] = {"rqs": rqs}
    for name in instruments.APPRAISALS:  # in the order notebooks show them
        if name not in review.appraisals:
            continue
        if name == "QUADAS-2":
            sections.append(_quadas2_section(review, rater=rater, pair=agreement_raters,
                                             domain=low_risk_domain,
                                             representative=representative, aims=aims))
            continue
        section, percent = _scored_section(review, name, rater=rater, pair=agreement_raters,
                                           groups=groups, aims=aims, rqs=rqs)
        sections.append(section)
        percents[_STEMS[name]] = percent
    moderators = quality_moderators({k: v for k, v in percents.items() if k != "clear"})
    if sections and not moderators.empty:
        sections.append(Section(
            "moderators", "Quality scores as meta-regression moderators",
            {"quality_moderators": moderators.reset_index()}, {},
            (f"Per-study percentages ({rater}) by {', '.join(moderators.columns)}: the "
             "moderators of synth.regression",), main="quality_moderators"))
    return sections
