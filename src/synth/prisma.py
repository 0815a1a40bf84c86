"""PRISMA 2020 flow: counts from ``prisma.yaml`` or a screening log, their arithmetic, the diagram.

Any count may be "not reported" (``None`` here); nothing is ever guessed for it, and the
arithmetic checks skip every rule that involves such a count.

* :func:`read_prisma` / :func:`parse_prisma` read and validate the counts; with ``strict: true``
  (the default) counts that do not add up are problems like any other bad value, with
  ``strict: false`` they are warnings shown in the notebook and under the diagram;
* :func:`counts_from_log` derives every count from a screening log (one row per record, the
  shape of Rayyan and Covidence exports), so the diagram cannot disagree with the screening;
* :func:`check_counts` states each rule of the PRISMA 2020 arithmetic, checked or skipped;
* :func:`review_counts` gives a review's counts (``prisma.yaml``, else ``screening_log.csv``);
  :func:`compare_with_log` lists where the two disagree when a folder holds both;
* :func:`counts_table` is the tidy table of every box and item;
* :func:`plot_prisma_flow` draws the diagram in the PRISMA 2020 layout.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import pandas as pd
import yaml
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.patches import FancyBboxPatch

from synth.errors import Problem, ReviewDataError, did_you_mean
from synth.style import (
    MANUSCRIPT,
    MM_PER_INCH,
    ONE_COLUMN_MM,
    TWO_COLUMN_MM,
    mark_synthetic,
    new_figure,
)

if TYPE_CHECKING:
    from synth.review import Review

__all__ = [
    "NOT_REPORTED",
    "LOG_FILENAME",
    "OtherMethods",
    "PrismaCounts",
    "read_prisma",
    "parse_prisma",
    "read_screening_log_sheet",
    "check_counts",
    "count_mismatches",
    "counts_table",
    "counts_from_log",
    "read_screening_log",
    "review_counts",
    "compare_counts",
    "compare_with_log",
    "no_counts_note",
    "plot_prisma_flow",
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


def _line_map(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path of a YAML mapping to its line number (1-based)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                p = (*path, str(k.value))
                lines[p] = k.start_mark.line + 1
                walk(v, p)

    try:
        walk(yaml.compose(text), ())
    except yaml.YAMLError:
        pass
    return lines


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

    With ``strict`` true (the default), every rule of :func:`check_counts` that fails is a
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
        for rule in _rules(counts):
            if rule.status == "mismatch":
                problems.append(Problem(file, at(rule.key), ".".join(rule.key), rule.message,
                                        _STRICT_HELP))
    if problems:
        return None, problems
    return counts, problems


def read_prisma(path: str | Path) -> tuple[PrismaCounts | None, list[Problem]]:
    """Read and validate ``prisma.yaml``; problems carry the YAML line of each key."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, None, f"byte 0x{path.read_bytes()[exc.start]:02x} at "
                              f"offset {exc.start} is not UTF-8", "save the file as UTF-8")]
    if not text.strip():
        return None, [Problem(name, None, None, "file is empty",
                              "PRISMA counts as in data/README.md")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or "not valid YAML"
        return None, [Problem(name, line, None, what, "valid YAML (key: value, two-space indents)")]
    return parse_prisma(data, file=name, lines=_line_map(text))


# --- arithmetic ------------------------------------------------------------------------------

def _sum(values: dict[str, Count]) -> Count:
    """Sum of a named mapping; None when empty (not reported) or when any item is not reported."""
    if not values or any(v is None for v in values.values()):
        return None
    return sum(v for v in values.values() if v is not None)


def _identified(c: PrismaCounts) -> Count:
    if not c.databases and not c.registers:
        return None
    parts = [_sum(c.databases) if c.databases else 0, _sum(c.registers) if c.registers else 0]
    return None if None in parts else sum(p for p in parts if p is not None)


def _removed(c: PrismaCounts) -> Count:
    parts = (c.duplicates, c.automation, c.removed_other)
    return None if None in parts else sum(p for p in parts if p is not None)


def _fmt(n: Count, sep: str = ",") -> str:
    """A count as printed: ``1,364`` in the diagram, ``1364`` (``sep=""``) in messages."""
    if n is None:
        return NOT_REPORTED
    return f"{n:,}".replace(",", sep)


@dataclass(frozen=True)
class _Rule:
    """One rule of the arithmetic: ``left`` (a box) against ``terms`` combined with signs."""

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
        total = 0
        for sign, _, n in self.terms:
            total += -n if sign == "−" else n  # type: ignore[operator]
        return total

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
        rhs = " ".join(f"{s} {b} ({_fmt(n, '')})".strip() for s, b, n in self.terms)
        op = ("≤" if self.at_most else "=") if status == "ok" else (
            ">" if self.at_most else "≠")
        return f"{self.left[0]} ({_fmt(self.left[1], '')}) {op} {rhs}"


def _rules(c: PrismaCounts) -> list[_Rule]:
    """The PRISMA 2020 arithmetic (shared/reference/prisma2020.md), one rule per box."""
    rules = [
        _Rule("screening", ("screened",), ("screened", c.screened),
              (("", "identified", _identified(c)),
               ("−", "removed before screening", _removed(c)))),
        _Rule("retrieval", ("sought",), ("reports sought", c.sought),
              (("", "screened", c.screened), ("−", "excluded at screening",
                                              c.excluded_screening))),
        _Rule("eligibility", ("assessed",), ("reports assessed", c.assessed),
              (("", "reports sought", c.sought), ("−", "not retrieved", c.not_retrieved))),
    ]
    om = c.other_methods
    if om is not None:
        rules.append(_Rule("eligibility (other methods)", ("other_methods", "assessed"),
                           ("other methods: reports assessed", om.assessed),
                           (("", "reports sought", om.sought),
                            ("−", "not retrieved", om.not_retrieved))))
    rules.append(_Rule("exclusions", ("excluded_reasons",),
                       ("excluded with reasons", _sum(c.excluded_reasons)),
                       (("", "reports assessed", c.assessed),), at_most=True))
    if om is not None:
        rules.append(_Rule("exclusions (other methods)", ("other_methods", "excluded_reasons"),
                           ("other methods: excluded with reasons", _sum(om.excluded_reasons)),
                           (("", "reports assessed", om.assessed),), at_most=True))
    terms: list[tuple[str, str, Count]] = [
        ("", "reports assessed", c.assessed),
        ("−", "excluded with reasons", _sum(c.excluded_reasons))]
    if om is not None:
        terms += [("+", "other methods: reports assessed", om.assessed),
                  ("−", "excluded with reasons", _sum(om.excluded_reasons))]
    reports_differ = (c.reports_included is not None and c.studies_included is not None
                      and c.reports_included != c.studies_included)
    if reports_differ:
        # The columns count reports; when a study has several, only the reports total can agree.
        rules.append(_Rule("included", ("reports_included",),
                           ("reports of included studies", c.reports_included), tuple(terms)))
        rules.append(_Rule("studies and reports", ("studies_included",),
                           ("studies included", c.studies_included),
                           (("", "reports of included studies", c.reports_included),
                            ("+", "previous studies", c.previous_studies or 0)),
                           at_most=True))
    else:
        if c.previous_studies is not None:
            terms.append(("+", "previous studies", c.previous_studies))
        rules.append(_Rule("included", ("studies_included",),
                           ("studies included", c.studies_included), tuple(terms)))
    return rules


def check_counts(counts: PrismaCounts) -> pd.DataFrame:
    """Check the PRISMA 2020 arithmetic; a rule with a count "not reported" is skipped.

    Rules (``shared/reference/prisma2020.md``): screened = identified − removed before
    screening; sought = screened − excluded; assessed = sought − not retrieved (in each
    column); excluded with reasons ≤ assessed (in each column, so that the rule still says
    something when the included studies are not reported); studies included = Σ (assessed −
    excluded with reasons) over the columns
    (+ previous studies). The columns count reports: when ``reports_included`` is given and
    differs from ``studies_included``, that rule is checked against the reports instead, and
    studies included ≤ reports (+ previous studies), since each study has a report.

    Returns
    -------
    pandas.DataFrame
        One row per rule: ``rule`` (name), ``statement`` (the rule in words), ``reported``
        (the box's count, ``<NA>`` if not reported), ``expected`` (from the other boxes),
        ``status`` (``ok``, ``mismatch`` or ``skipped``) and ``message`` (the numbers, e.g.
        ``screened (1200) ≠ identified (1500) − removed before screening (364)``).
    """
    rows = [{"rule": r.rule, "statement": r.statement, "reported": r.left[1],
             "expected": r.expected, "status": r.status, "message": r.message}
            for r in _rules(counts)]
    out = pd.DataFrame(rows, columns=["rule", "statement", "reported", "expected", "status",
                                      "message"])
    return out.astype({"reported": "Int64", "expected": "Int64"})


def count_mismatches(counts: PrismaCounts) -> list[str]:
    """The messages of the rules that fail (empty when the counts add up or are unreported)."""
    return [r.message for r in _rules(counts) if r.status == "mismatch"]


# --- tables ----------------------------------------------------------------------------------

_ARM_MAIN = "databases and registers"
_ARM_OTHER = "other methods"
_ARM_INCLUDED = "included"


def counts_table(counts: PrismaCounts) -> pd.DataFrame:
    """Every box and item of the diagram as a tidy table.

    Returns
    -------
    pandas.DataFrame
        ``arm`` (databases and registers, other methods, included), ``box`` (e.g.
        ``identified from databases``, ``excluded with reasons``), ``item`` (database,
        register, source or reason name; empty for single-count boxes), ``n`` (``<NA>`` when
        not reported) and ``reported`` (bool). Boxes in diagram order.
    """
    rows: list[tuple[str, str, str, Count]] = []

    def named(arm: str, box: str, values: dict[str, Count]) -> None:
        if not values:
            rows.append((arm, box, "", None))
        rows.extend((arm, box, k, v) for k, v in values.items())

    named(_ARM_MAIN, "identified from databases", counts.databases)
    if counts.registers:
        named(_ARM_MAIN, "identified from registers", counts.registers)
    rows += [(_ARM_MAIN, "removed before screening", "duplicates", counts.duplicates),
             (_ARM_MAIN, "removed before screening", "automation tools", counts.automation),
             (_ARM_MAIN, "removed before screening", "other reasons", counts.removed_other),
             (_ARM_MAIN, "screened", "", counts.screened),
             (_ARM_MAIN, "excluded at screening", "", counts.excluded_screening),
             (_ARM_MAIN, "sought for retrieval", "", counts.sought),
             (_ARM_MAIN, "not retrieved", "", counts.not_retrieved),
             (_ARM_MAIN, "assessed for eligibility", "", counts.assessed)]
    named(_ARM_MAIN, "excluded with reasons", counts.excluded_reasons)
    om = counts.other_methods
    if om is not None:
        named(_ARM_OTHER, "identified", om.sources)
        rows += [(_ARM_OTHER, "sought for retrieval", "", om.sought),
                 (_ARM_OTHER, "not retrieved", "", om.not_retrieved),
                 (_ARM_OTHER, "assessed for eligibility", "", om.assessed)]
        named(_ARM_OTHER, "excluded with reasons", om.excluded_reasons)
    rows += [(_ARM_INCLUDED, "studies included", "", counts.studies_included),
             (_ARM_INCLUDED, "reports of included studies", "", counts.reports_included)]
    if counts.previous_studies is not None:
        rows.append((_ARM_INCLUDED, "previous studies", "", counts.previous_studies))
    out = pd.DataFrame(rows, columns=["arm", "box", "item", "n"]).astype({"n": "Int64"})
    out["reported"] = out["n"].notna()
    return out


def compare_counts(counts: PrismaCounts, other: PrismaCounts) -> list[str]:
    """Where two sets of counts (e.g. ``prisma.yaml`` and the screening log) disagree.

    Items reported in both and different are listed, one line each, as
    ``arm / box / item: 1200 ≠ 1201``; an item present in only one is listed too.
    """
    keys = ["arm", "box", "item"]
    a = counts_table(counts).set_index(keys)["n"]
    b = counts_table(other).set_index(keys)["n"]
    out = []
    for key in list(dict.fromkeys([*a.index, *b.index])):
        name = " / ".join(k for k in key if k)
        if key not in a.index or key not in b.index:
            where = "first" if key in a.index else "second"
            out.append(f"{name}: only in the {where} counts")
        elif pd.notna(a[key]) and pd.notna(b[key]) and a[key] != b[key]:
            out.append(f"{name}: {int(a[key])} ≠ {int(b[key])}")
    return out


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


def _log_frame(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    name = path.name
    if not path.exists():
        return None, [Problem(str(path), None, None, "no such file",
                              f"a screening log CSV ({LOG_FILENAME}), see data/README.md")]
    raw = path.read_bytes()
    if not raw.strip():
        return None, [Problem(name, None, None, "file is empty",
                              "a header row and one row per record")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, raw[: exc.start].count(b"\n") + 1, None,
                              f"byte 0x{raw[exc.start]:02x} is not UTF-8 text",
                              "save the file as CSV UTF-8")]
    header = text.splitlines()[0]
    sep = ";" if header.count(";") > header.count(",") else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        return None, [Problem(name, None, None, str(exc).strip(), "a well-formed CSV file")]
    return _log_columns(df, name)


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
                    problems.append(Problem(name, 1, str(col), "second column for " + canon,
                                            "one column each; aliases: "
                                            + ", ".join(aliases)))
                else:
                    rename[col] = canon
    df = df.rename(columns=rename)[list(rename.values())]
    for canon in _LOG_REQUIRED:
        if canon not in df.columns:
            problems.append(Problem(name, 1, canon, "(missing column)",
                                    "a column named one of: " + ", ".join(_LOG_COLUMNS[canon])))
    if problems:
        return None, problems
    return df.map(str.strip), []


def read_screening_log(path: str | Path) -> tuple[PrismaCounts | None, list[Problem]]:
    """Derive PRISMA counts from a screening log; return (counts or None, problems).

    See :func:`counts_from_log` for the columns. Problems name ``file:row:column``, with rows
    numbered as a spreadsheet shows them.
    """
    path = Path(path)
    df, problems = _log_frame(path)
    if df is None:
        return None, problems
    return _counts_from_log(df, path.name)


def read_screening_log_sheet(sheet: pd.DataFrame, label: str
                             ) -> tuple[PrismaCounts | None, list[Problem]]:
    """:func:`read_screening_log` for a workbook sheet (``label`` names it in problems)."""
    df, problems = _log_columns(sheet, label)
    if df is None:
        return None, problems
    return _counts_from_log(df, label)


def _counts_from_log(df: pd.DataFrame, name: str) -> tuple[PrismaCounts | None, list[Problem]]:
    problems: list[Problem] = []
    if df.empty:
        return None, [Problem(name, 2, None, "no data rows", "one row per record")]

    def value(row: int, col: str, v: str, table: dict[str, Any], what: str) -> Any:
        if not v:
            return None
        out = table.get(v.lower())
        if out is None:
            allowed = ", ".join(dict.fromkeys(str(k) for k in table))
            problems.append(Problem(name, row, col, repr(v), f"{what}; one of: {allowed}"))
        return out

    records = []
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2
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


def counts_from_log(path: str | Path) -> PrismaCounts:
    """Derive every PRISMA count from a screening log, so the diagram matches the screening.

    Parameters
    ----------
    path
        A CSV (UTF-8; ``,`` or ``;``) with one row per record identified. Columns (any order,
        case and spacing ignored; other columns, such as title or authors, are ignored):

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
        (see ``_LOG_COLUMNS``).

    Returns
    -------
    PrismaCounts
        Databases and sources in order of first appearance; exclusion reasons by descending
        count; ``strict`` true (the counts add up by construction).

    Raises
    ------
    ReviewDataError
        Listing every problem of the log, ``file:row:column: value — what is allowed``.
    """
    counts, problems = read_screening_log(path)
    if counts is None:
        raise ReviewDataError(problems, str(path))
    return counts


def review_counts(review: Review) -> PrismaCounts | None:
    """The review's PRISMA counts: from ``prisma.yaml``, else from its screening log, else None.

    Raises
    ------
    ReviewDataError
        When the folder's screening log (read only without ``prisma.yaml``) has problems.
    """
    if review.prisma is not None:
        return review.prisma
    log = _log_path(review)
    return counts_from_log(log) if log.exists() else None


def _log_path(review: Review) -> Path:
    folder = review.path if review.path.is_dir() else review.path.parent
    return folder / LOG_FILENAME


def compare_with_log(review: Review) -> list[str] | None:
    """When a review has both ``prisma.yaml`` and a screening log: where they disagree.

    Returns
    -------
    list of str or None
        None unless both are present; else :func:`compare_counts` (``prisma.yaml`` first, the
        log second), empty when they agree.

    Raises
    ------
    ReviewDataError
        When the screening log has problems.
    """
    log = _log_path(review)
    if review.prisma is None or not log.exists() or not log.with_name("prisma.yaml").exists():
        return None
    return compare_counts(review.prisma, counts_from_log(log))


def no_counts_note(review: Review) -> str:
    """The one note a notebook ends with when a review has no PRISMA counts."""
    return (f"No PRISMA counts for review '{review.name}': its folder has no prisma.yaml and no "
            f"{LOG_FILENAME}, so no flow diagram and no counts table were made. Add either "
            f"(see data/README.md) to draw the PRISMA 2020 flow diagram.")


# --- diagram ---------------------------------------------------------------------------------
# Hand-written: no maintained Python library draws the PRISMA 2020 template (the R package
# PRISMA2020 does, via DiagrammeR); boxes are laid out in millimetres, text is wrapped to the
# box width as rendered (textwrap counts characters, not widths) and shrunk if a word is wider.

_PT_MM = MM_PER_INCH / 72.0
_PAD_MM = 1.4
_GAP_X_MM = 6.0
_GAP_Y_MM = 4.5
_LABEL_MM = 5.0
_MIN_FONT = 4.5
_LINESPACING = 1.2
_MAX_HEIGHT_MM = 235.0
_MIN_COLUMN_MM = 22.0
_MAX_UNIT_MM = 50.0
_HEADER_FILL = {"main": "#FCE3B0", "other": "#DDDDDD", "previous": "#DDDDDD"}
_PHASE_FILL = "#CDE6F5"
_EDGE = "#333333"
_WARNING_COLOUR = "#B00000"


@lru_cache(maxsize=4)
def _font_file(weight: str) -> str:
    """The style's font file, resolved once, so measured and drawn text use the same face."""
    with mpl.rc_context(MANUSCRIPT.rc()):
        return findfont(FontProperties(family="sans-serif", weight=weight))


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(fname=_font_file(weight), size=size)


_MEASURE_DPI = (72, 100, 150, 200, 300, 600)
"""Text is measured at each of these resolutions and the largest extent kept: Agg hints glyphs
to the pixel grid, so the same line is up to ~9 % wider at one dpi than at another (screen,
notebook, 300-dpi PNG and the unhinted vector formats must all fit)."""


@lru_cache(maxsize=len(_MEASURE_DPI))
def _measurer(dpi: int) -> tuple[Figure, Any]:
    fig = Figure(dpi=dpi)
    return fig, FigureCanvasAgg(fig).get_renderer()


@lru_cache(maxsize=20000)
def _width_pt(text: str, size: float, weight: str) -> float:
    widths = []
    for dpi in _MEASURE_DPI:
        _, renderer = _measurer(dpi)
        w, _, _ = renderer.get_text_width_height_descent(text, _font(size, weight),
                                                         ismath=False)
        widths.append(w * 72.0 / dpi)
    return float(max(widths))


def _text_size_mm(lines: list[str], size: float, weight: str = "normal") -> tuple[float, float]:
    """Rendered width and height (mm) of multi-line text, measured by matplotlib itself."""
    return _text_size_cached(tuple(lines), size, weight)


@lru_cache(maxsize=4096)
def _text_size_cached(lines: tuple[str, ...], size: float, weight: str) -> tuple[float, float]:
    width = height = 0.0
    for dpi in _MEASURE_DPI:
        fig, renderer = _measurer(dpi)
        t = fig.text(0, 0, "\n".join(lines), fontproperties=_font(size, weight),
                     linespacing=_LINESPACING)
        bb = t.get_window_extent(renderer)
        t.remove()
        width = max(width, bb.width * MM_PER_INCH / dpi)
        height = max(height, bb.height * MM_PER_INCH / dpi)
    return width, height


def _wrap(paragraph: str, width_pt: float, size: float, weight: str, first: str, indent: str
          ) -> list[str] | None:
    """Greedy word wrap by rendered width; None if one word alone is wider than the box.

    ``first`` prefixes the first line, ``indent`` the others (a hanging indent for list items).
    """
    out: list[str] = []
    line = ""
    for word in paragraph.split(" "):
        trial = f"{line} {word}" if line else (indent if out else first) + word
        if _width_pt(trial, size, weight) <= width_pt:
            line = trial
            continue
        if not line.strip():
            return None
        out.append(line)
        line = indent + word
        if _width_pt(line, size, weight) > width_pt:
            return None
    out.append(line)
    return out


def _break_word(paragraph: str, width_pt: float, size: float, weight: str) -> list[str]:
    """Last resort at the smallest size: break inside words (with a hyphen)."""
    out, line = [], ""
    for ch in paragraph:
        if line and _width_pt(line + ch + "-", size, weight) > width_pt:
            out.append(line + ("-" if ch != " " and not line.endswith(" ") else ""))
            line = ch.lstrip()
        else:
            line += ch
    out.append(line)
    return out


@dataclass
class _Content:
    """What a box says: paragraphs with a level (0 text, 1 list item, 2 item of a sub-list)."""

    paragraphs: list[tuple[str, int]]
    align: str = "left"
    weight: str = "normal"


def _fit(content: _Content, width_mm: float, size: float) -> tuple[list[str], float]:
    """Wrap to the inner width, then shrink until every line fits; return (lines, font size)."""
    inner = (width_mm - 2 * _PAD_MM) / _PT_MM
    s = size
    while True:
        lines: list[str] = []
        ok = True
        for text, level in content.paragraphs:
            first, indent = _INDENTS[level]
            wrapped = _wrap(text, inner, s, content.weight, first, indent)
            if wrapped is None:
                ok = False
                break
            lines += wrapped
        if ok:
            return lines, s
        if s - 0.25 < _MIN_FONT:
            lines = []
            for text, _level in content.paragraphs:
                lines += _break_word(text, inner, s, content.weight)
            return lines, s
        s -= 0.25


_INDENTS = {0: ("", ""), 1: ("", "    "), 2: ("  ", "      ")}
_NBSP = "\u00a0"


def _n(n: Count) -> str:
    """``(n = 1,364)``, with no-break spaces: a count is never split over two lines."""
    return f"(n{_NBSP}={_NBSP}{_fmt(n)})".replace(" ", _NBSP)


def _named_lines(values: dict[str, Count], *, total_label: str | None = None,
                 always: bool = False) -> list[tuple[str, int]]:
    if total_label is not None and (len(values) > 1 or always):
        total = _sum(values)
        head = f"{total_label} {_n(total)}" if total is not None else f"{total_label}:"
        return [(head, 1), *((f"{k} {_n(v)}", 2) for k, v in values.items())]
    return [(f"{k} {_n(v)}", 1) for k, v in values.items()]


def _reasons(title: str, values: dict[str, Count]) -> _Content:
    if not values:
        return _single(title, None)
    total = _sum(values)
    head = f"{title} {_n(total)}:" if total is not None else f"{title}:"
    return _Content([(head, 0), *((f"{k} {_n(v)}", 1) for k, v in values.items())])


def _single(title: str, n: Count) -> _Content:
    return _Content([(title, 0), (_n(n), 0)], align="center")


def _contents(c: PrismaCounts) -> dict[str, _Content]:
    """The text of every box, keyed by box name (column letter + row number)."""
    ident: list[tuple[str, int]] = [("Records identified from:", 0)]
    both = bool(c.registers)  # with registers, both groups are labelled even for one source
    if c.databases:
        ident += _named_lines(c.databases, total_label="Databases", always=both)
    else:
        ident += [(f"Databases {_n(None)}", 1)]
    if c.registers:
        ident += _named_lines(c.registers, total_label="Registers", always=True)
    boxes = {
        "A1": _Content(ident),
        "B1": _Content([("Records removed before screening:", 0),
                        (f"Duplicate records {_n(c.duplicates)}", 1),
                        (f"Records marked as ineligible by automation tools "
                         f"{_n(c.automation)}", 1),
                        (f"Records removed for other reasons {_n(c.removed_other)}", 1)]),
        "A2": _single("Records screened", c.screened),
        "B2": _single("Records excluded", c.excluded_screening),
        "A3": _single("Reports sought for retrieval", c.sought),
        "B3": _single("Reports not retrieved", c.not_retrieved),
        "A4": _single("Reports assessed for eligibility", c.assessed),
        "B4": _reasons("Reports excluded", c.excluded_reasons),
    }
    total = "Total studies" if c.previous_studies is not None else "Studies"
    boxes["A5"] = _Content([(f"{total} included in review {_n(c.studies_included)}", 0),
                            (f"Reports of included studies {_n(c.reports_included)}", 0)],
                           align="center")
    om = c.other_methods
    if om is not None:
        src = _named_lines(om.sources) if om.sources else [(f"Other sources {_n(None)}", 1)]
        boxes |= {"C1": _Content([("Records identified from:", 0), *src]),
                  "C3": _single("Reports sought for retrieval", om.sought),
                  "D3": _single("Reports not retrieved", om.not_retrieved),
                  "C4": _single("Reports assessed for eligibility", om.assessed),
                  "D4": _reasons("Reports excluded", om.excluded_reasons)}
    if c.previous_studies is not None:
        boxes["P1"] = _Content([("Studies included in previous version of review", 0),
                                (_n(c.previous_studies), 0)], align="center")
    return boxes


@dataclass
class _Box:
    name: str
    x: float
    y: float
    w: float
    h: float
    lines: list[str]
    size: float
    align: str = "left"
    kind: str = "box"
    fill: str = "white"
    weight: str = "normal"


@dataclass
class _Layout:
    width: float
    height: float
    boxes: dict[str, _Box]
    arrows: list[list[tuple[float, float]]]
    notes: tuple[list[str], float, float] | None


def _layout(c: PrismaCounts, width_mm: float, size: float, notes: list[str],
            top_mm: float) -> _Layout:
    """Place every box (mm, y downwards) for a figure ``width_mm`` wide."""
    contents = _contents(c)
    has_other = c.other_methods is not None
    has_prev = c.previous_studies is not None
    margin = 1.0
    weights = {"P": 0.9, "A": 1.1, "B": 1.15, "C": 1.1, "D": 1.15}
    cols = [k for k in "PABCD" if (k != "P" or has_prev) and (k not in "CD" or has_other)]
    x0 = margin + _LABEL_MM + _GAP_X_MM * 0.6
    gaps = _GAP_X_MM * (len(cols) - 1)
    avail = width_mm - x0 - margin - gaps
    unit = avail / sum(weights[k] for k in cols)
    if unit > _MAX_UNIT_MM:  # boxes wider than this read badly: centre a narrower diagram
        x0 += (unit - _MAX_UNIT_MM) * sum(weights[k] for k in cols) / 2
        unit = _MAX_UNIT_MM
    narrowest = min(weights[k] for k in cols) * unit
    if narrowest < _MIN_COLUMN_MM:
        need = width_mm + (_MIN_COLUMN_MM - narrowest) / narrowest * avail
        raise ValueError(f"width={width_mm:g} mm is too narrow for {len(cols)} columns of boxes "
                         f"(boxes under {_MIN_COLUMN_MM:g} mm cannot be read); use 'two' "
                         f"(170 mm) or at least {need:.0f} mm")
    col_x: dict[str, float] = {}
    col_w: dict[str, float] = {}
    x = x0
    for k in cols:
        col_x[k], col_w[k] = x, weights[k] * unit
        x += col_w[k] + _GAP_X_MM

    boxes: dict[str, _Box] = {}

    def make(name: str, content: _Content, w: float, kind: str = "box",
             fill: str = "white") -> _Box:
        lines, s = _fit(content, w, size)
        _, h = _text_size_mm(lines, s, content.weight)
        return _Box(name, 0.0, 0.0, w, h + 2 * _PAD_MM, lines, s, content.align, kind, fill,
                    content.weight)

    # header bars
    y = top_mm + margin
    heads: list[_Box] = []
    via = "databases and registers" if c.registers else "databases"
    new = "new studies" if has_prev else "studies"
    spans = [("H_main", f"Identification of {new} via {via}", "A", "B", "main")]
    if has_other:
        spans.append(("H_other", f"Identification of {new} via other methods", "C", "D",
                      "other"))
    if has_prev:
        spans.insert(0, ("H_prev", "Previous studies", "P", "P", "previous"))
    for name, text, a, b, fill in spans:
        w = col_x[b] + col_w[b] - col_x[a]
        box = make(name, _Content([(text, 0)], align="center", weight="bold"), w,
                   kind="header", fill=_HEADER_FILL[fill])
        box.x = col_x[a]
        heads.append(box)
    head_h = max(b.h for b in heads)
    for box in heads:
        box.y, box.h = y, head_h
        boxes[box.name] = box
    y += head_h + _GAP_Y_MM

    rows: dict[int, tuple[float, float]] = {}
    # rows 1 and 5 are as tall as their phase label needs (read sideways, never shrunk)
    min_h = {r: _width_pt(text, size, "bold") * _PT_MM + 2 * _PAD_MM
             for r, text in ((1, "Identification"), (5, "Included"))}
    for r in range(1, 6):
        placed = [make(f"{k}{r}", contents[f"{k}{r}"], col_w[k]) for k in cols
                  if f"{k}{r}" in contents]
        if not placed:
            continue
        row_h = max(max(b.h for b in placed), min_h.get(r, 0.0))
        for b in placed:
            b.x = col_x[b.name[0]]
            b.y = y + (row_h - b.h) / 2
            boxes[b.name] = b
        rows[r] = (y, row_h)
        y += row_h + _GAP_Y_MM
    bottom = y - _GAP_Y_MM

    # phase labels down the left
    def phase(name: str, text: str, top: float, bot: float) -> None:
        content = _Content([(text, 0)], align="center", weight="bold")
        lines, s = _fit(content, bot - top, size)
        boxes[name] = _Box(name, x0 - _GAP_X_MM * 0.6 - _LABEL_MM, top, _LABEL_MM, bot - top,
                           lines, s, "center", "phase", _PHASE_FILL, "bold")

    phase("L_identification", "Identification", rows[1][0], sum(rows[1]))
    phase("L_screening", "Screening", rows[2][0], sum(rows[4]))
    phase("L_included", "Included", rows[5][0], sum(rows[5]))

    arrows: list[list[tuple[float, float]]] = []

    def mid_x(b: _Box) -> float:
        return b.x + b.w / 2

    def mid_y(b: _Box) -> float:
        return b.y + b.h / 2

    def down(a: str, b: str) -> None:
        x = mid_x(boxes[a])
        arrows.append([(x, boxes[a].y + boxes[a].h), (x, boxes[b].y)])

    def right(a: str, b: str) -> None:
        y_ = mid_y(boxes[a])
        arrows.append([(boxes[a].x + boxes[a].w, y_), (boxes[b].x, y_)])

    for r in range(1, 5):
        down(f"A{r}", f"A{r + 1}")
        right(f"A{r}", f"B{r}")
    if has_other:
        down("C1", "C3")
        down("C3", "C4")
        right("C3", "D3")
        right("C4", "D4")
        c4, a5 = boxes["C4"], boxes["A5"]
        arrows.append([(mid_x(c4), c4.y + c4.h), (mid_x(c4), mid_y(a5)),
                       (a5.x + a5.w, mid_y(a5))])
    if has_prev:
        p1, a5 = boxes["P1"], boxes["A5"]
        arrows.append([(mid_x(p1), p1.y + p1.h), (mid_x(p1), mid_y(a5)), (a5.x, mid_y(a5))])

    note = None
    if notes:
        content = _Content([(t, 1) for t in notes])
        w = width_mm - 2 * margin
        lines, s = _fit(content, w + 2 * _PAD_MM, size)
        _, h = _text_size_mm(lines, s)
        note = (lines, s, bottom + 2.0)
        bottom += 2.0 + h
    return _Layout(width_mm, bottom + margin, boxes, arrows, note)


def _width_mm(width: str | float) -> float:
    mm = {"one": ONE_COLUMN_MM, "two": TWO_COLUMN_MM}.get(width, width)  # type: ignore[arg-type]
    if not isinstance(mm, int | float) or isinstance(mm, bool) or mm <= 0:
        raise ValueError(f"width={width!r}: use 'one', 'two' or a width in millimetres")
    return float(mm)


def plot_prisma_flow(counts: PrismaCounts, *, ax: Axes | None = None, synthetic: bool = False,
                     width: str | float = "two", font_size: float | None = None) -> Figure:
    """Draw the PRISMA 2020 flow diagram of ``counts``.

    Phase labels (Identification, Screening, Included) run down the left; the column of
    databases and registers has its exclusion boxes to the right; a second column appears when
    the review searched other methods, and a "previous studies" column for an updated review.
    Text is wrapped to each box and shrunk only if a word is wider than the box; box heights
    follow their text, so nothing overflows and nothing overlaps. Counts that do not add up
    (possible with ``strict: false``) are printed in red under the diagram.

    Parameters
    ----------
    counts
        From :func:`read_prisma`, :func:`counts_from_log` or :func:`review_counts`.
    ax
        Draw into this Axes (its figure's size is left alone; the diagram is scaled to the
        Axes' width). By default a new figure of the needed height is made.
    synthetic
        Label the figure as synthetic demonstration data (``Review.synthetic``).
    width
        ``"two"`` (170 mm, default: the diagram holds up to five columns of boxes), ``"one"``
        (85 mm; wide enough only without the other-methods column) or millimetres.
    font_size
        Largest font size in points (default: the manuscript style's).

    Raises
    ------
    ValueError
        When ``width`` leaves boxes narrower than 22 mm; the message gives the least width.

    Returns
    -------
    matplotlib.figure.Figure
        Every box is a patch with gid ``box:<name>`` and its text has gid ``text:<name>``
        (names: ``A1``-``A5``, ``B1``-``B4``, ``C1``, ``C3``, ``C4``, ``D3``, ``D4``, ``P1``,
        headers ``H_*``, phase labels ``L_*``; the warning under the figure is ``text:notes``).
    """
    size = MANUSCRIPT.font_size if font_size is None else float(font_size)
    mismatches = count_mismatches(counts)
    notes = ([f"Warning: the counts do not add up ({len(mismatches)} "
              f"{'rule' if len(mismatches) == 1 else 'rules'} of the PRISMA 2020 arithmetic):",
              *mismatches] if mismatches else [])
    with MANUSCRIPT:
        if ax is None:
            w_mm = _width_mm(width)
            lay = _layout(counts, w_mm, size, notes, 0.0)
            while lay.height > _MAX_HEIGHT_MM and size > _MIN_FONT:
                size -= 0.25
                lay = _layout(counts, w_mm, size, notes, 0.0)
            if synthetic:
                # mark_synthetic puts its label at 98 % of the height: reserve the room above.
                label = _text_size_mm(["Synthetic"], MANUSCRIPT.font_size - 0.5)[1]
                top = 0.02 * (lay.height + label + 1.0) / 0.98 + label + 1.0
                lay = _layout(counts, w_mm, size, notes, top)
            fig, ax = new_figure(w_mm, lay.height)
            fig.set_layout_engine("none")
            ax.set_position((0.0, 0.0, 1.0, 1.0))
        else:
            fig = ax.figure
            w_mm = ax.get_position().width * fig.get_figwidth() * MM_PER_INCH
            lay = _layout(counts, w_mm, size, notes, 0.0)
            ax.set_aspect("equal", adjustable="box")
        _draw(ax, lay)
        mark_synthetic(fig, synthetic)
    return fig


def _draw(ax: Axes, lay: _Layout) -> None:
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.axis("off")
    lw = MANUSCRIPT.line_width
    for b in lay.boxes.values():
        rounded = b.kind != "box"
        patch = FancyBboxPatch((b.x, b.y), b.w, b.h,
                               boxstyle="round,pad=0,rounding_size=1.2" if rounded else
                               "square,pad=0", facecolor=b.fill, edgecolor=_EDGE,
                               linewidth=lw * (0.6 if b.kind == "header" else 1.0),
                               gid=f"box:{b.name}", zorder=2)
        ax.add_patch(patch)
        if b.kind == "phase":
            ax.text(b.x + b.w / 2, b.y + b.h / 2, "\n".join(b.lines), rotation=90,
                    ha="center", va="center", fontproperties=_font(b.size, b.weight),
                    gid=f"text:{b.name}", linespacing=_LINESPACING, zorder=3,
                    rotation_mode="anchor")
            continue
        if b.align == "center":
            x, ha = b.x + b.w / 2, "center"
        else:
            x, ha = b.x + _PAD_MM, "left"
        ax.text(x, b.y + b.h / 2, "\n".join(b.lines), ha=ha, va="center",
                multialignment=b.align, fontproperties=_font(b.size, b.weight),
                linespacing=_LINESPACING, gid=f"text:{b.name}", zorder=3)
    for path in lay.arrows:
        for (x1, y1), (x2, y2) in zip(path[:-2], path[1:-1], strict=True):
            ax.plot([x1, x2], [y1, y2], color=_EDGE, lw=lw, solid_capstyle="butt", zorder=1)
        ax.annotate("", xy=path[-1], xytext=path[-2],
                    arrowprops={"arrowstyle": "-|>,head_length=0.35,head_width=0.18",
                                "color": _EDGE, "lw": lw, "shrinkA": 0, "shrinkB": 0},
                    zorder=1)
    if lay.notes is not None:
        lines, s, y = lay.notes
        ax.text(1.0, y, "\n".join(lines), ha="left", va="top", color=_WARNING_COLOUR,
                fontproperties=_font(s), linespacing=_LINESPACING, gid="text:notes")
