"""PRISMA 2020 arithmetic and tables: what a review's flow counts say, checked and compared.

The counts themselves (:class:`~synth.prisma_counts.PrismaCounts`) are read and validated by the
data model (:mod:`synth.prisma_counts`, :mod:`synth.io`); this module works on them:

* :func:`check_counts` states each rule of the PRISMA 2020 arithmetic, checked or skipped;
  :func:`count_mismatches` and :func:`warning_lines` say which fail (the notebook prints them,
  the diagram shows them under the boxes);
* :func:`counts_table` is the tidy table of every box and item;
* :func:`counts_from_log` derives the counts from a screening log file;
* :func:`review_counts` gives a review's counts (``prisma.yaml``, else ``screening_log.csv``);
  :func:`compare_with_log` lists where the two disagree when a folder holds both.

The diagram is :func:`synth.plots.prisma.plot_prisma_flow`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from synth.errors import Problem, ReviewDataError
from synth.io import read_csv
from synth.prisma_counts import (
    LOG_FILENAME,
    Count,
    PrismaCounts,
    arithmetic_rules,
    parse_screening_log,
)
from synth.review import Review

__all__ = [
    "check_counts",
    "count_mismatches",
    "warning_lines",
    "counts_table",
    "compare_counts",
    "counts_from_log",
    "review_counts",
    "compare_with_log",
    "no_counts_note",
]


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
            for r in arithmetic_rules(counts)]
    out = pd.DataFrame(rows, columns=["rule", "statement", "reported", "expected", "status",
                                      "message"])
    return out.astype({"reported": "Int64", "expected": "Int64"})


def count_mismatches(counts: PrismaCounts) -> list[str]:
    """The messages of the rules that fail (empty when the counts add up or are unreported)."""
    return [r.message for r in arithmetic_rules(counts) if r.status == "mismatch"]



def warning_lines(counts: PrismaCounts) -> list[str]:
    """The warning shown under the flow diagram when the counts do not add up.

    Returns
    -------
    list of str
        Empty when every rule holds or is skipped; else a heading (``Warning: the counts do
        not add up (2 rules of the PRISMA 2020 arithmetic):``) and :func:`count_mismatches`,
        one line each. Only ``strict: false`` counts can get here.
    """
    mismatches = count_mismatches(counts)
    if not mismatches:
        return []
    rules = "rule" if len(mismatches) == 1 else "rules"
    return [f"Warning: the counts do not add up ({len(mismatches)} {rules} of the PRISMA 2020 "
            "arithmetic):", *mismatches]


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



# --- screening log -------------------------------------------------------------------------

def counts_from_log(path: str | Path) -> PrismaCounts:
    """Derive every PRISMA count from a screening log file, so the diagram matches the screening.

    Parameters
    ----------
    path
        A CSV (UTF-8; ``,`` or ``;``) with one row per record identified, read by
        :func:`synth.io.read_csv` like every input table; its columns are those of
        :func:`synth.prisma_counts.parse_screening_log` (``source``, ``screening``,
        ``full_text``, ``reason``, optional ``source_type``, ``duplicate``, ``removed``,
        ``study_id``; common export names accepted).

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
    path = Path(path)
    if not path.is_file():
        raise ReviewDataError([Problem(str(path), None, None, "no such file",
                                       f"a screening log CSV ({LOG_FILENAME}), see "
                                       "data/README.md")], str(path))
    sheet = read_csv(path)
    if sheet.frame is None:
        raise ReviewDataError(list(sheet.problems), str(path))
    counts, problems = parse_screening_log(sheet.frame, file=sheet.label)
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
