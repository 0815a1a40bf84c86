"""QUADAS-2: risk of bias in four domains and applicability in three, and an overall judgement.

Whiting PF, et al. QUADAS-2: a revised tool for the quality assessment of diagnostic accuracy
studies. Ann Intern Med 2011;155:529-536. Domains, judgements (low / high / unclear) and the
signalling questions follow the paper's Table 1 (summarised wording, not the original text).

- Signalling questions are optional columns answered yes / no / unclear; they support the
  judgement and never decide it. Sources differ on whether "Did all patients receive a reference
  standard?" is asked (10 or 11 questions): ``all_received=False`` leaves it out.
- The overall judgement per kind (risk of bias, applicability) follows a declared rule
  (:data:`QUADAS2_OVERALL_RULES`). The paper says a study judged low in every domain may be
  judged low overall, and one judged high or unclear in any domain "at risk" (rule
  ``"all low"``); the default ``"worst"`` splits "at risk" as traffic-light plots do: high if
  any domain is high, else unclear if any is unclear, else low (a synth convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from synth.errors import Problem, check_choice
from synth.instruments.cells import KEY_COLUMNS, NOTES, Cells, text

__all__ = ["QUADAS2", "Quadas2", "Quadas2Domain", "SignallingQuestion", "QUADAS2_DOMAINS",
           "QUADAS2_JUDGEMENTS", "QUADAS2_KINDS", "QUADAS2_SIGNALLING", "SIGNALLING_ANSWERS",
           "QUADAS2_OVERALL_RULES", "OVERALL", "AT_RISK", "check_quadas2",
           "quadas2_judgements", "quadas2_overall", "quadas2_tally"]

QUADAS2_JUDGEMENTS: tuple[str, ...] = ("low", "high", "unclear")
"""A domain's judgement: low / high / unclear risk of bias, or concern about applicability."""

QUADAS2_KINDS: tuple[str, str] = ("risk of bias", "applicability")
SIGNALLING_ANSWERS: tuple[str, ...] = ("yes", "no", "unclear")
OVERALL = "Overall"
"""The ``domain`` of the overall judgement in :func:`quadas2_judgements`."""
AT_RISK = "at risk"
"""The overall judgement of a study not low in every domain, under the ``"all low"`` rule."""

QUADAS2_OVERALL_RULES: dict[str, str] = {
    "worst": "overall high if any domain is high, else unclear if any is unclear, else low "
             "(synth's convention, as traffic-light plots show it)",
    "all low": "overall low only if every domain is low, else 'at risk' (Whiting et al. 2011)",
}
"""How the domains' judgements make the overall one, and the words a figure shows for it."""


@dataclass(frozen=True)
class Quadas2Domain:
    """One domain; ``applicability`` is False for flow and timing (risk of bias only)."""

    number: int
    key: str
    name: str
    applicability: bool = True

    @property
    def rob_column(self) -> str:
        return f"rob_{self.key}"

    @property
    def applicability_column(self) -> str | None:
        return f"applicability_{self.key}" if self.applicability else None


@dataclass(frozen=True)
class SignallingQuestion:
    """One signalling question of a domain; ``optional`` marks the one sources disagree on."""

    column: str
    domain: str
    question: str
    optional: bool = False


QUADAS2_DOMAINS: tuple[Quadas2Domain, ...] = (
    Quadas2Domain(1, "patient_selection", "Patient selection"),
    Quadas2Domain(2, "index_test", "Index test"),
    Quadas2Domain(3, "reference_standard", "Reference standard"),
    Quadas2Domain(4, "flow_timing", "Flow and timing", applicability=False),
)

QUADAS2_SIGNALLING: tuple[SignallingQuestion, ...] = (
    SignallingQuestion("sq_ps_consecutive_or_random", "patient_selection",
                       "Was a consecutive or random sample of patients enrolled?"),
    SignallingQuestion("sq_ps_case_control_avoided", "patient_selection",
                       "Was a case-control design avoided?"),
    SignallingQuestion("sq_ps_exclusions_avoided", "patient_selection",
                       "Did the study avoid inappropriate exclusions?"),
    SignallingQuestion("sq_it_blinded", "index_test", "Were the index test results interpreted "
                       "without knowledge of the reference standard?"),
    SignallingQuestion("sq_it_threshold_prespecified", "index_test",
                       "If a threshold was used, was it pre-specified?"),
    SignallingQuestion("sq_rs_correct", "reference_standard", "Is the reference standard likely "
                       "to correctly classify the target condition?"),
    SignallingQuestion("sq_rs_blinded", "reference_standard", "Were the reference standard "
                       "results interpreted without knowledge of the index test?"),
    SignallingQuestion("sq_ft_interval", "flow_timing", "Was there an appropriate interval "
                       "between index test and reference standard?"),
    SignallingQuestion("sq_ft_all_received_reference", "flow_timing",
                       "Did all patients receive a reference standard?", optional=True),
    SignallingQuestion("sq_ft_same_reference", "flow_timing",
                       "Did patients receive the same reference standard?"),
    SignallingQuestion("sq_ft_all_included", "flow_timing",
                       "Were all patients included in the analysis?"),
)
"""The 11 signalling questions (10 without the optional one), as optional yes/no/unclear
columns."""


@dataclass(frozen=True)
class Quadas2:
    """QUADAS-2 as data: domains, judgements, signalling questions, file and provenance."""

    name: str
    stem: str
    citation: str
    provenance: str
    domains: tuple[Quadas2Domain, ...]
    signalling: tuple[SignallingQuestion, ...]

    @property
    def filename(self) -> str:
        return f"{self.stem}.csv"

    @property
    def judgement_columns(self) -> tuple[str, ...]:
        """``rob_*`` for every domain, then ``applicability_*`` for the first three."""
        return (*(d.rob_column for d in self.domains),
                *(d.applicability_column for d in self.domains if d.applicability))

    def signalling_questions(self, *, all_received: bool = True
                             ) -> tuple[SignallingQuestion, ...]:
        """The signalling questions asked: 11, or 10 without "all received a reference"."""
        return tuple(q for q in self.signalling if all_received or not q.optional)

    def file_columns(self, *, all_received: bool = True) -> tuple[str, ...]:
        return (*KEY_COLUMNS, *self.judgement_columns,
                *(q.column for q in self.signalling_questions(all_received=all_received)),
                NOTES)


QUADAS2 = Quadas2(
    name="QUADAS-2",
    stem="quadas2",
    citation="Whiting PF, et al. Ann Intern Med 2011;155:529-536",
    provenance="domains, judgements and signalling questions from the paper's Table 1 "
               "(wording summarised); the overall rule is declared in QUADAS2_OVERALL_RULES",
    domains=QUADAS2_DOMAINS,
    signalling=QUADAS2_SIGNALLING,
)


def check_quadas2(frame: pd.DataFrame, *, label: str = "quadas2.csv",
                  study_ids: tuple[str, ...] | None = None, raters: tuple[str, ...] = (),
                  all_received: bool = True) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate a QUADAS-2 table as read (text cells); return (typed table or None, problems).

    The seven judgements are required, each low, high or unclear; signalling-question columns
    are optional, answered yes, no or unclear (or empty).
    """
    cells = Cells.prepare(frame, label)
    columns = QUADAS2.file_columns(all_received=all_received)
    cells.columns(columns, (*KEY_COLUMNS, *QUADAS2.judgement_columns), QUADAS2.filename)
    cells.keys(study_ids, raters)
    out = pd.DataFrame(index=cells.frame.index)
    for col in KEY_COLUMNS:
        out[col] = cells.frame[col].map(text) if col in cells.frame else None
    for col in QUADAS2.judgement_columns:
        what = "risk of bias" if col.startswith("rob_") else "concern about applicability"
        out[col] = cells.choice(col, QUADAS2_JUDGEMENTS, what=what)
    for q in QUADAS2.signalling_questions(all_received=all_received):
        out[q.column] = cells.choice(q.column, SIGNALLING_ANSWERS, required=False,
                                     what=q.question)
    out[NOTES] = cells.notes()
    problems = cells.sorted_problems(columns)
    if problems:
        return None, problems
    return out.reset_index(drop=True), []


def _overall(judgements: list[str], rule: str) -> str:
    if rule == "all low":
        return "low" if all(j == "low" for j in judgements) else AT_RISK
    for level in ("high", "unclear"):
        if level in judgements:
            return level
    return "low"


def quadas2_overall(table: pd.DataFrame, *, rule: str = "worst") -> pd.DataFrame:
    """The overall judgement per kind of every row of a validated QUADAS-2 table.

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater, risk_of_bias, applicability`` under ``rule`` (a key of
        :data:`QUADAS2_OVERALL_RULES`; unknown raises check_choice's ValueError).
    """
    check_choice("rule", rule, QUADAS2_OVERALL_RULES)
    rob = [d.rob_column for d in QUADAS2_DOMAINS]
    app = [d.applicability_column for d in QUADAS2_DOMAINS if d.applicability]
    return pd.DataFrame({
        "study_id": table["study_id"].to_numpy(),
        "rater": table["rater"].to_numpy(),
        "risk_of_bias": [_overall(list(r), rule) for r in table[rob].itertuples(index=False)],
        "applicability": [_overall(list(r), rule) for r in table[app].itertuples(index=False)],
    })


def quadas2_judgements(table: pd.DataFrame, *, rule: str = "worst") -> pd.DataFrame:
    """Every judgement of a validated QUADAS-2 table as one long table, overall included.

    Returns
    -------
    pandas.DataFrame
        ``study_id, rater, domain`` (the domain's name, e.g. "Patient selection", or
        ``"Overall"``), ``kind`` ("risk of bias" or "applicability") and ``judgement``; rows
        study by study in table order, then domains in QUADAS-2 order (risk of bias first),
        the overall judgement last of each kind.
    """
    overall = quadas2_overall(table, rule=rule)
    rows = []
    for (_, r), (_, o) in zip(table.iterrows(), overall.iterrows(), strict=True):
        for kind, col_of, total in (("risk of bias", lambda d: d.rob_column, o["risk_of_bias"]),
                                    ("applicability", lambda d: d.applicability_column,
                                     o["applicability"])):
            for d in QUADAS2_DOMAINS:
                if col_of(d) is not None:
                    rows.append((r["study_id"], r["rater"], d.name, kind, r[col_of(d)]))
            rows.append((r["study_id"], r["rater"], OVERALL, kind, total))
    return pd.DataFrame(rows, columns=["study_id", "rater", "domain", "kind", "judgement"])


def quadas2_tally(judgements: pd.DataFrame) -> pd.DataFrame:
    """How many studies were judged low / high / unclear per domain and kind.

    ``judgements`` is :func:`quadas2_judgements` output, usually one rater's rows (the
    consensus). Returns ``domain, kind, judgement, count, percent`` (percent of the rows of
    that domain and kind), every judgement listed even when its count is 0, in QUADAS-2 order.
    """
    levels = list(QUADAS2_JUDGEMENTS) + ([AT_RISK] if (judgements["judgement"] == AT_RISK).any()
                                         else [])
    rows = []
    for kind in QUADAS2_KINDS:
        names = [d.name for d in QUADAS2_DOMAINS
                 if kind == "risk of bias" or d.applicability] + [OVERALL]
        for name in names:
            part = judgements[(judgements["kind"] == kind) & (judgements["domain"] == name)]
            for level in levels:
                count = int((part["judgement"] == level).sum())
                rows.append((name, kind, level, count,
                             count / len(part) * 100 if len(part) else float("nan")))
    return pd.DataFrame(rows, columns=["domain", "kind", "judgement", "count", "percent"])
