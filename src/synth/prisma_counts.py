"""The PRISMA 2020 counts: what ``prisma.yaml`` or a screening log says, validated.

Any count may be "not reported" (``None`` here); nothing is ever guessed for it, and the
arithmetic skips every rule that involves such a count.

* :class:`PrismaCounts` (with :class:`OtherMethods`) holds the counts of every box;
* :func:`parse_prisma` validates a mapping of counts (``prisma.yaml`` read by
  :func:`synth.io.read_yaml`, or a workbook's ``prisma`` sheet); with ``strict: true`` (the
  default) counts that do not add up are problems like any other bad value, on the line of the
  box that disagrees;
* :func:`parse_screening_log` derives every count from a screening log's cells (one row per
  record, the shape of Rayyan and Covidence exports, read by :func:`synth.io.read_csv`);
* :func:`arithmetic_rules` states each rule of the PRISMA 2020 arithmetic, which strict validation
  and :func:`synth.prisma.check_counts` share.

Reading files is :mod:`synth.io`'s job; tables, checks and comparisons are :mod:`synth.prisma`'s,
the diagram :mod:`synth.plots.prisma`'s.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synth.errors import HEADER_ROW, Problem, did_you_mean, sheet_row

__all__ = [
    "NOT_REPORTED",
    "LOG_FILENAME",
    "NAMED_KEYS",
    "Count",
    "OtherMethods",
    "PrismaCounts",
    "Rule",
    "parse_prisma",
    "parse_screening_log",
    "arithmetic_rules",
    "total",
    "format_count",
]

NOT_REPORTED = "not reported"
"""How a count that the review does not report is written in ``prisma.yaml``."""

LOG_FILENAME = "screening_log.csv"
"""A screening log in a review folder, read when the folder has no ``prisma.yaml``."""

Count = int | None

_COUNT_HELP = f"a whole number ≥ 0 or '{NOT_REPORTED}'"
_NAMED_HELP = f"a mapping of names to counts ({_COUNT_HELP}), or '{NOT_REPORTED}'"
_STRICT_HELP = ("the counts must add up (PRISMA 2020); correct them, or set 'strict: false' "
                "to draw the diagram with a warning")


@dataclass(frozen=True)
class OtherMethods:
    """The second column of the diagram: records from citation searching, websites, ..."""

    sources: dict[str, Count] = field(default_factory=dict)
    sought: Count = None
    not_retrieved: Count = None
    assessed: Count = None
    excluded_reasons: dict[str, Count] = field(default_factory=dict)


@dataclass(frozen=True)
class PrismaCounts:
    """The counts of the PRISMA 2020 flow diagram for new (or updated) reviews.

    An empty mapping of databases, sources or exclusion reasons means "not reported"; an empty
    mapping of registers means that no register was searched. ``strict`` says whether counts
    that do not add up are errors (``True``) or warnings (``False``).
    """

    databases: dict[str, Count] = field(default_factory=dict)
    registers: dict[str, Count] = field(default_factory=dict)
    duplicates: Count = None
    automation: Count = None
    removed_other: Count = None
    screened: Count = None
    excluded_screening: Count = None
    sought: Count = None
    not_retrieved: Count = None
    assessed: Count = None
    excluded_reasons: dict[str, Count] = field(default_factory=dict)
    other_methods: OtherMethods | None = None
    studies_included: Count = None
    reports_included: Count = None
    previous_studies: Count = None
    source: str | None = None
    strict: bool = True


_TOP_COUNTS = ("screened", "excluded_screening", "sought", "not_retrieved", "assessed",
               "studies_included", "reports_included", "previous_studies")
_TOP_NAMED = ("databases", "registers", "excluded_reasons")
_REMOVED = {"duplicates": "duplicates", "automation": "automation", "other": "removed_other"}
_OTHER_COUNTS = ("sought", "not_retrieved", "assessed")
_OTHER_NAMED = ("sources", "excluded_reasons")
_TOP_KEYS = (*_TOP_NAMED, "removed_before_screening", *_TOP_COUNTS, "other_methods", "source",
             "strict")

NAMED_KEYS: tuple[tuple[str, ...], ...] = (*((k,) for k in _TOP_NAMED),
                                           *(("other_methods", k) for k in _OTHER_NAMED))
"""Key paths whose keys are names (databases, sources, exclusion reasons): free text, which in
a workbook's ``prisma`` sheet may hold dots (``excluded_reasons.Not GEP-NET, e.g. lung.``)."""


def _is_not_reported(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == NOT_REPORTED)


def _count(value: Any) -> tuple[Count, bool]:
    """Return (count, ok) for a YAML value; "not reported" and null become None."""
    if _is_not_reported(value):
        return None, True
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None, False
    return value, True


def parse_prisma(
    data: Any, *, file: str = "prisma.yaml", lines: dict[tuple[str, ...], int] | None = None
) -> tuple[PrismaCounts | None, list[Problem]]:
    """Validate a mapping of PRISMA counts; return the counts (None if invalid) and problems.

    Parameters
    ----------
    data
        The mapping, as :func:`synth.io.read_yaml` or :func:`synth.io.key_value_sheet` give it.
    file
        How problems name the file (``prisma.yaml``, ``review.xlsx[prisma]``).
    lines
        The line of each key path, so that a problem names where the value is.

    Returns
    -------
    tuple
        The counts (None when there is a problem) and the problems, ``file:line:key``. With
        ``strict`` true (the default), every rule of :func:`arithmetic_rules` that fails is a
        problem on the line of the box that disagrees.
    """
    lines = lines or {}
    problems: list[Problem] = []

    def at(path: tuple[str, ...]) -> int | None:
        return lines.get(path)

    def bad(path: tuple[str, ...], value: Any, allowed: str) -> None:
        problems.append(Problem(file, at(path), ".".join(path), repr(value), allowed))

    def count(path: tuple[str, ...], value: Any) -> Count:
        c, ok = _count(value)
        if not ok:
            bad(path, value, _COUNT_HELP)
        return c

    def named(path: tuple[str, ...], value: Any) -> dict[str, Count]:
        if _is_not_reported(value):
            return {}
        if not isinstance(value, dict):
            bad(path, value, _NAMED_HELP)
            return {}
        return {str(k): count((*path, str(k)), v) for k, v in value.items()}

    def unknown(path: tuple[str, ...], mapping: dict, allowed: tuple[str, ...]) -> None:
        for k in mapping:
            if str(k) not in allowed:
                problems.append(Problem(file, at((*path, str(k))), ".".join((*path, str(k))),
                                        "unknown key",
                                        "allowed: " + ", ".join(allowed)
                                        + did_you_mean(str(k), allowed)))

    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, "not a mapping of counts",
                                "keys such as databases, screened, studies_included"))
        return None, problems

    unknown((), data, _TOP_KEYS)
    kw: dict[str, Any] = {k: named((k,), data.get(k)) for k in _TOP_NAMED}
    kw |= {k: count((k,), data.get(k)) for k in _TOP_COUNTS}
    removed = data.get("removed_before_screening") or {}
    if not isinstance(removed, dict):
        bad(("removed_before_screening",), removed, "duplicates, automation, other: counts")
        removed = {}
    unknown(("removed_before_screening",), removed, tuple(_REMOVED))
    for key, attr in _REMOVED.items():
        kw[attr] = count(("removed_before_screening", key), removed.get(key))
    other = data.get("other_methods")
    if other is not None:
        if not isinstance(other, dict):
            bad(("other_methods",), other, "a mapping with sources, sought, assessed, ...")
        else:
            unknown(("other_methods",), other, (*_OTHER_NAMED, *_OTHER_COUNTS))
            okw = {k: named(("other_methods", k), other.get(k)) for k in _OTHER_NAMED}
            okw |= {k: count(("other_methods", k), other.get(k)) for k in _OTHER_COUNTS}
            kw["other_methods"] = OtherMethods(**okw)
    source = data.get("source")
    kw["source"] = None if source is None else str(source)
    strict = data.get("strict", True)
    if isinstance(strict, str) and strict.strip().lower() in ("true", "false"):
        strict = strict.strip().lower() == "true"  # a workbook's prisma sheet holds text
    if not isinstance(strict, bool):
        bad(("strict",), strict, "true (counts that do not add up are errors) or false "
                                 "(they are warnings)")
    kw["strict"] = strict is not False
    if problems:
        return None, problems
    counts = PrismaCounts(**kw)
    if counts.strict:
        for rule in arithmetic_rules(counts):
            if rule.status == "mismatch":
                problems.append(Problem(file, at(rule.key), ".".join(rule.key), rule.message,
                                        _STRICT_HELP))
    if problems:
        return None, problems
    return counts, problems


# --- arithmetic ------------------------------------------------------------------------------

def total(values: dict[str, Count]) -> Count:
    """A box's total over its named items (databases, reasons, ...), as the diagram prints it.

    None (not reported) when the mapping is empty or any of its items is not reported.
    """
    if not values or any(v is None for v in values.values()):
        return None
    return sum(v for v in values.values() if v is not None)


def _identified(c: PrismaCounts) -> Count:
    if not c.databases and not c.registers:
        return None
    parts = [total(c.databases) if c.databases else 0, total(c.registers) if c.registers else 0]
    return None if None in parts else sum(p for p in parts if p is not None)


def _removed(c: PrismaCounts) -> Count:
    parts = (c.duplicates, c.automation, c.removed_other)
    return None if None in parts else sum(p for p in parts if p is not None)


def format_count(n: Count, sep: str = ",") -> str:
    """A count as printed: ``1,364`` in the diagram, ``1364`` (``sep=""``) in messages."""
    if n is None:
        return NOT_REPORTED
    return f"{n:,}".replace(",", sep)


@dataclass(frozen=True)
class Rule:
    """One rule of the arithmetic: ``left`` (a box) against ``terms`` combined with signs.

    ``key`` is the ``prisma.yaml`` key of the box (a strict mismatch is reported on its line);
    ``status`` is ``ok``, ``mismatch`` or ``skipped`` (a count involved is not reported), and
    ``message`` says it with the numbers.
    """

    rule: str
    key: tuple[str, ...]
    left: tuple[str, Count]
    terms: tuple[tuple[str, str, Count], ...]
    """(sign, box, count); sign is '' for the first term, '−' or '+' after."""
    at_most: bool = False
    """The box may be smaller than the terms (``≤``) instead of equal."""

    @property
    def expected(self) -> Count:
        if any(n is None for _, _, n in self.terms):
            return None
        value = 0
        for sign, _, n in self.terms:
            value += -n if sign == "−" else n  # type: ignore[operator]
        return value

    @property
    def status(self) -> str:
        if self.left[1] is None or self.expected is None:
            return "skipped"
        left, right = self.left[1], self.expected
        return "ok" if left == right or (self.at_most and left < right) else "mismatch"

    @property
    def statement(self) -> str:
        rhs = " ".join(f"{s} {b}".strip() for s, b, _ in self.terms)
        return f"{self.left[0]} {'≤' if self.at_most else '='} {rhs}"

    @property
    def message(self) -> str:
        status = self.status
        if status == "skipped":
            missing = [b for b, n in [self.left, *((b, n) for _, b, n in self.terms)]
                       if n is None]
            return "skipped: " + ", ".join(missing) + f" {NOT_REPORTED}"
        rhs = " ".join(f"{s} {b} ({format_count(n, '')})".strip() for s, b, n in self.terms)
        op = ("≤" if self.at_most else "=") if status == "ok" else (
            ">" if self.at_most else "≠")
        return f"{self.left[0]} ({format_count(self.left[1], '')}) {op} {rhs}"


def arithmetic_rules(c: PrismaCounts) -> list[Rule]:
    """The PRISMA 2020 arithmetic (shared/reference/prisma2020.md), one rule per box.

    Strict validation (:func:`parse_prisma`) and :func:`synth.prisma.check_counts` both use
    these rules; see the latter for the rules in words.
    """
    rules = [
        Rule("screening", ("screened",), ("screened", c.screened),
             (("", "identified", _identified(c)),
              ("−", "removed before screening", _removed(c)))),
        Rule("retrieval", ("sought",), ("reports sought", c.sought),
             (("", "screened", c.screened), ("−", "excluded at screening",
                                             c.excluded_screening))),
        Rule("eligibility", ("assessed",), ("reports assessed", c.assessed),
             (("", "reports sought", c.sought), ("−", "not retrieved", c.not_retrieved))),
    ]
    om = c.other_methods
    if om is not None:
        rules.append(Rule("eligibility (other methods)", ("other_methods", "assessed"),
                          ("other methods: reports assessed", om.assessed),
                          (("", "reports sought", om.sought),
                           ("−", "not retrieved", om.not_retrieved))))
    rules.append(Rule("exclusions", ("excluded_reasons",),
                      ("excluded with reasons", total(c.excluded_reasons)),
                      (("", "reports assessed", c.assessed),), at_most=True))
    if om is not None:
        rules.append(Rule("exclusions (other methods)", ("other_methods", "excluded_reasons"),
                          ("other methods: excluded with reasons", total(om.excluded_reasons)),
                          (("", "reports assessed", om.assessed),), at_most=True))
    terms: list[tuple[str, str, Count]] = [
        ("", "reports assessed", c.assessed),
        ("−", "excluded with reasons", total(c.excluded_reasons))]
    if om is not None:
        terms += [("+", "other methods: reports assessed", om.assessed),
                  ("−", "excluded with reasons", total(om.excluded_reasons))]
    reports_differ = (c.reports_included is not None and c.studies_included is not None
                      and c.reports_included != c.studies_included)
    if reports_differ:
        # The columns count reports; when a study has several, only the reports total can agree.
        rules.append(Rule("included", ("reports_included",),
                          ("reports of included studies", c.reports_included), tuple(terms)))
        rules.append(Rule("studies and reports", ("studies_included",),
                          ("studies included", c.studies_included),
                          (("", "reports of included studies", c.reports_included),
                           ("+", "previous studies", c.previous_studies or 0)),
                          at_most=True))
    else:
        if c.previous_studies is not None:
            terms.append(("+", "previous studies", c.previous_studies))
        rules.append(Rule("included", ("studies_included",),
                          ("studies included", c.studies_included), tuple(terms)))
    return rules



# --- screening log ---------------------------------------------------------------------------

_LOG_COLUMNS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "id", "key", "covidence", "rayyan_id"),
    "source": ("source", "database", "source_database", "origin"),
    "source_type": ("source_type", "arm", "identification"),
    "duplicate": ("duplicate", "is_duplicate", "duplicates"),
    "removed": ("removed", "removed_before_screening"),
    "screening": ("screening", "title_abstract", "title_abstract_decision", "ta_decision",
                  "screening_decision", "title_and_abstract"),
    "full_text": ("full_text", "fulltext", "full_text_decision", "ft_decision",
                  "full_text_review"),
    "reason": ("reason", "exclusion_reason", "full_text_exclusion_reason",
               "reason_for_exclusion"),
    "study_id": ("study_id", "study"),
}
_LOG_CONTENT = "one row per record identified"
_LOG_REQUIRED = ("source", "screening", "full_text", "reason")
_SOURCE_TYPES = {"database": "database", "databases": "database", "register": "register",
                 "registers": "register", "other": "other", "other methods": "other"}
_FLAGS = {"yes": True, "y": True, "true": True, "1": True, "x": True, "duplicate": True,
          "no": False, "n": False, "false": False, "0": False}
_REMOVED_VALUES = {"duplicate": "duplicate", "automation": "automation", "other": "other"}
_SCREENING = {"include": "include", "included": "include", "yes": "include", "maybe": "include",
              "exclude": "exclude", "excluded": "exclude", "no": "exclude"}
_FULL_TEXT = {"include": "include", "included": "include", "yes": "include",
              "exclude": "exclude", "excluded": "exclude", "no": "exclude",
              "not retrieved": "not retrieved", "not available": "not retrieved",
              "unavailable": "not retrieved"}


def _norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def parse_screening_log(frame: pd.DataFrame, *, file: str = LOG_FILENAME
                        ) -> tuple[PrismaCounts | None, list[Problem]]:
    """Derive every PRISMA count from a screening log, so the diagram matches the screening.

    Parameters
    ----------
    frame
        The log's cells as text, one row per record identified, rows in file order (as
        :func:`synth.io.read_csv` or :func:`synth.io.read_workbook` give them). Columns (any
        order, case and spacing ignored; other columns, such as title or authors, are ignored):

        * ``source`` — database, register or other source (e.g. ``PubMed``);
        * ``source_type`` (optional) — ``database`` (default), ``register`` or ``other``;
        * ``duplicate`` (optional) — yes/no flag, removed before screening as a duplicate;
        * ``removed`` (optional) — ``automation`` or ``other``: removed before screening;
        * ``screening`` — title/abstract decision: ``include`` (or yes, maybe) / ``exclude``;
        * ``full_text`` — ``include``, ``exclude`` or ``not retrieved`` (for records included
          at screening, else empty);
        * ``reason`` — why a report was excluded at full text;
        * ``study_id`` (optional) — reports of one study share it; studies are counted once.

        Aliases such as ``Title/Abstract decision``, ``Exclusion reason`` are accepted
        (see ``_LOG_COLUMNS``). Empty rows are skipped.
    file
        How problems name the log (``screening_log.csv``, ``review.xlsx[screening_log]``).

    Returns
    -------
    tuple
        The counts (None when the log has problems) and the problems, ``file:row:column``
        with rows numbered as a spreadsheet shows them. The counts list databases and sources
        in order of first appearance and exclusion reasons by descending count; ``strict`` is
        true (they add up by construction) and ``source`` is ``screening log <file>``.
    """
    df, problems = _log_columns(frame, file)
    if df is None:
        return None, problems
    return _counts_from_log(df, file)


def _log_columns(df: pd.DataFrame, name: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The log's columns under their canonical names (aliases accepted), text stripped."""
    df = df.fillna("").astype(str)
    rename: dict[str, str] = {}
    problems: list[Problem] = []
    for col in df.columns:
        norm = _norm_header(col)
        for canon, aliases in _LOG_COLUMNS.items():
            if norm in aliases:
                if canon in rename.values():
                    problems.append(Problem(name, HEADER_ROW, str(col),
                                            "second column for " + canon,
                                            "one column each; aliases: "
                                            + ", ".join(aliases)))
                else:
                    rename[col] = canon
    df = df.rename(columns=rename)[list(rename.values())]
    for canon in _LOG_REQUIRED:
        if canon not in df.columns:
            problems.append(Problem(name, HEADER_ROW, canon, "(missing column)",
                                    "a column named one of: " + ", ".join(_LOG_COLUMNS[canon])))
    if problems:
        return None, problems
    return df.map(str.strip), []


def _counts_from_log(df: pd.DataFrame, name: str) -> tuple[PrismaCounts | None, list[Problem]]:
    problems: list[Problem] = []
    if not (df != "").to_numpy().any():
        return None, [Problem(name, sheet_row(0), None, "no data rows",
                              f"at least one row: {_LOG_CONTENT}")]

    def value(row: int, col: str, v: str, table: dict[str, Any], what: str) -> Any:
        if not v:
            return None
        out = table.get(v.lower())
        if out is None:
            allowed = ", ".join(dict.fromkeys(str(k) for k in table))
            problems.append(Problem(name, row, col, repr(v), f"{what}; one of: {allowed}"))
        return out

    records = []
    for i, r in zip(df.index, df.to_dict("records"), strict=True):
        row = sheet_row(i)
        if not any(r.values()):
            continue
        source = r["source"]
        stype = value(row, "source_type", r.get("source_type", ""), _SOURCE_TYPES,
                      "where the record was found") or "database"
        dup = value(row, "duplicate", r.get("duplicate", ""), _FLAGS, "duplicate flag")
        removed = value(row, "removed", r.get("removed", ""), _REMOVED_VALUES,
                        "why the record was removed before screening (empty if it was not)")
        if dup:
            if removed not in (None, "duplicate"):
                problems.append(Problem(name, row, "removed", repr(r["removed"]),
                                        "empty or 'duplicate' for a record flagged duplicate"))
            removed = "duplicate"
        screening = value(row, "screening", r["screening"], _SCREENING,
                          "title/abstract decision")
        full_text = value(row, "full_text", r["full_text"], _FULL_TEXT, "full-text decision")
        reason = r["reason"]
        if not source:
            problems.append(Problem(name, row, "source", "(empty)",
                                    "required: the database, register or other source"))
        if removed and stype == "other":
            problems.append(Problem(name, row, "removed", removed,
                                    "records found by other methods are not removed before "
                                    "screening in PRISMA 2020; drop the row or mark its "
                                    "source_type"))
        if removed:
            for col, v in (("screening", r["screening"]), ("full_text", r["full_text"]),
                           ("reason", reason)):
                if v:
                    problems.append(Problem(name, row, col, repr(v),
                                            f"empty for a record removed before screening "
                                            f"({removed})"))
            records.append((stype, source, removed, None, None, None, r.get("study_id", "")))
            continue
        if not r["screening"]:
            problems.append(Problem(name, row, "screening", "(empty)",
                                    "required: include or exclude (title/abstract decision)"))
        if screening == "exclude" and r["full_text"]:
            problems.append(Problem(name, row, "full_text", repr(r["full_text"]),
                                    "empty for a record excluded at title/abstract"))
        if screening == "include" and not r["full_text"]:
            problems.append(Problem(name, row, "full_text", "(empty)",
                                    "required for a record included at title/abstract: "
                                    "include, exclude or not retrieved"))
        if full_text == "exclude" and not reason:
            problems.append(Problem(name, row, "reason", "(empty)",
                                    "required: why the report was excluded at full text"))
        if reason and full_text != "exclude":
            problems.append(Problem(name, row, "reason", repr(reason),
                                    "only for reports excluded at full text (full_text: "
                                    "exclude)"))
        records.append((stype, source, None, screening, full_text, reason,
                        r.get("study_id", "")))
    if problems:
        return None, problems
    return _counts_from_records(records, source_note=f"screening log {name}"), []


def _counts_from_records(records: list[tuple], *, source_note: str) -> PrismaCounts:
    """Count boxes from (type, source, removed, screening, full_text, reason, study_id) rows."""
    log = pd.DataFrame(records, columns=["type", "source", "removed", "screening", "full_text",
                                         "reason", "study_id"])

    def per(frame: pd.DataFrame, col: str) -> dict[str, Count]:
        return {str(k): int(v) for k, v in frame[col].value_counts(sort=False).items()}

    def reasons(frame: pd.DataFrame) -> dict[str, Count]:
        vc = frame.loc[frame["full_text"] == "exclude", "reason"].value_counts()
        ordered = sorted(vc.items(), key=lambda kv: (-kv[1], kv[0]))
        return {str(k): int(v) for k, v in ordered}

    def column(frame: pd.DataFrame) -> dict[str, int]:
        kept = frame[frame["removed"].isna()]
        ft = kept["full_text"]
        return {"screened": len(kept), "excluded": int((kept["screening"] == "exclude").sum()),
                "sought": int((kept["screening"] == "include").sum()),
                "not_retrieved": int((ft == "not retrieved").sum()),
                "assessed": int(ft.isin(["include", "exclude"]).sum())}

    main = log[log["type"] != "other"]
    other = log[log["type"] == "other"]
    removed = Counter(main["removed"].dropna())
    m = column(main)
    om = None
    if not other.empty:
        o = column(other)
        om = OtherMethods(sources=per(other, "source"), sought=o["sought"],
                          not_retrieved=o["not_retrieved"], assessed=o["assessed"],
                          excluded_reasons=reasons(other))
    included = log[log["full_text"] == "include"]
    ids = included["study_id"].fillna("")
    studies = int(ids[ids != ""].nunique() + (ids == "").sum())
    return PrismaCounts(
        databases=per(main[main["type"] == "database"], "source"),
        registers=per(main[main["type"] == "register"], "source"),
        duplicates=removed.get("duplicate", 0), automation=removed.get("automation", 0),
        removed_other=removed.get("other", 0),
        screened=m["screened"], excluded_screening=m["excluded"], sought=m["sought"],
        not_retrieved=m["not_retrieved"], assessed=m["assessed"],
        excluded_reasons=reasons(main), other_methods=om,
        studies_included=studies, reports_included=len(included), source=source_note)
