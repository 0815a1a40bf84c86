"""Checks across a review's files: what each file allows alone, they must also agree on.

:func:`synth.review.load_review` runs them after every table has passed its own checks, so
``synth check`` never calls valid a review that a notebook then fails on. Each returns
:class:`~synth.errors.Problem` lines, ``file:row:column: value — what is allowed``; the data
dictionary (*Checks across files*) documents them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from synth.errors import Problem, sheet_row
from synth.io import find_workbooks
from synth.prisma_counts import PrismaCounts
from synth.vocabulary import Vocabulary

__all__ = ["check_folder", "check_consensus", "check_included"]


def check_folder(folder: Path, *, tables: Sequence[str]) -> list[Problem]:
    """One review per folder: not a workbook beside CSV tables, not two workbooks.

    Parameters
    ----------
    folder
        The review folder (Excel's ``~$…`` lock files are not workbooks).
    tables
        File names of the review's tables (``studies.csv``, ...); other CSV files, such as a
        screening log, may sit beside a workbook.

    Returns
    -------
    list[Problem]
        At most one problem, naming the files.
    """
    books = [p.name for p in find_workbooks(folder)]
    csvs = [name for name in tables if (folder / name).is_file()]
    if books and csvs:
        return [Problem(folder.name, None, None,
                        f"holds {_names(books)} and {_names(csvs)}",
                        "one review per folder: the CSV tables or one workbook; move the "
                        "other out (or name the workbook: synth check "
                        f"{folder.name}/{books[0]})")]
    if len(books) > 1:
        return [Problem(folder.name, None, None, f"holds {len(books)} workbooks: {_names(books)}",
                        "one workbook per folder; move the others out (or name one: synth "
                        f"check {folder.name}/{books[0]})")]
    return []


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def check_consensus(quality: pd.DataFrame | None, vocabulary: Vocabulary, *,
                    label: str) -> list[Problem]:
    """Every study with quality rows has a row by the consensus rater.

    The summaries and figures use the consensus rows; a study without one would drop out of
    them unnoticed, so it is an error (on the study's first quality row), not a fallback.
    """
    if quality is None or quality.empty:
        return []
    consensus = vocabulary.consensus
    agreed = set(quality.loc[quality["rater"] == consensus, "study_id"])
    lacking = quality[~quality["study_id"].isin(agreed)]  # a loop over these only: fast at 10k
    problems = []
    for sid, rows in lacking.groupby("study_id", sort=False):
        raters = list(rows["rater"])
        problems.append(Problem(
            label, sheet_row(rows.index[0]), "rater",
            f"{sid!r} rated by {', '.join(raters)}",
            f"a row by the consensus rater {consensus!r} for every study this file "
            f"scores ({vocabulary.source('consensus')})"))
    return problems


def check_included(prisma: PrismaCounts | None, studies: pd.DataFrame | None, *,
                   where: tuple[str, int | None], studies_label: str,
                   partial: bool) -> list[Problem]:
    """PRISMA's studies included equal the studies in studies.csv, unless the table is partial.

    Parameters
    ----------
    where
        The file (``prisma.yaml``, ``book.xlsx[prisma]``, a screening log) and the line or
        row of ``studies_included`` in it (None for a count derived from a log).
    partial
        review.yaml's ``partial: true``: the table holds only part of the included studies.
    """
    if partial or prisma is None or studies is None or prisma.studies_included is None:
        return []
    n = len(studies)
    if prisma.studies_included == n:
        return []
    file, line = where
    return [Problem(file, line, "studies_included", str(prisma.studies_included),
                    f"the {n} studies in {studies_label}; or partial: true in review.yaml "
                    "when the table holds only part of the included studies")]
