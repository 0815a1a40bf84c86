"""Interactive exploration: the same review, narrowed to some aims, modalities, sites or years.

:func:`subset` returns an ordinary :class:`~synth.review.Review` holding only the studies that
pass the filters, their performance rows and their quality rows, so every analysis and figure
function of the package runs on it unchanged; nothing here re-implements an analysis. It is
meant for a notebook cell a reviewer edits and re-runs (or wraps in ``ipywidgets.interact``)::

    sub = explore.subset(rv, aims="grade", modalities=["CT", "MRI"], years=(2018, None))
    print(sub.description)

:func:`filter_options` says which values the review holds, with their study counts;
:func:`aims_of` which aims it reports, to pass as ``aims=`` to the AUC functions;
:func:`chosen` turns a notebook parameter such as ``aims: list = []`` into the values to show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

from synth.errors import check_choices
from synth.review import Review

__all__ = ["EmptySubsetError", "aims_of", "chosen", "filter_options", "subset"]

Choice = str | Iterable[str] | None
YearRange = int | tuple[int | None, int | None] | None


class EmptySubsetError(ValueError):
    """No study passes the filters; the message names the filters and what the review holds."""


def _values(name: str, value: Choice, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The chosen values as a tuple, each checked against the review's vocabulary
    (:func:`synth.errors.check_choices`: an unknown or repeated value raises a ValueError)."""
    if value is None:
        return None
    chosen = (value,) if isinstance(value, str) else tuple(value)
    if not chosen:
        raise ValueError(f"{name}=[]: give at least one value, or None for no filter")
    return check_choices(name, chosen, allowed)


def _year_range(years: YearRange) -> tuple[int | None, int | None] | None:
    """``years`` as an inclusive (first, last) pair, either end open (None)."""
    if years is None:
        return None
    if isinstance(years, int) and not isinstance(years, bool):
        return years, years
    if (isinstance(years, tuple | list) and len(years) == 2
            and all(y is None or (isinstance(y, int) and not isinstance(y, bool))
                    for y in years)):
        first, last = years
        if first is not None and last is not None and first > last:
            raise ValueError(f"years={tuple(years)!r}: the first year is after the last")
        return first, last
    raise ValueError(f"years={years!r}: give a year (2019), or an inclusive range "
                     f"(2015, 2020) with None for an open end, e.g. (2018, None)")


def _label(aims: tuple[str, ...] | None, modalities: tuple[str, ...] | None,
           sites: tuple[str, ...] | None, years: tuple[int | None, int | None] | None) -> str:
    parts = [f"{what} {' or '.join(chosen)}" for what, chosen in
             (("aim", aims), ("modality", modalities), ("site", sites)) if chosen]
    if years is not None:
        first, last = years
        if first == last:
            parts.append(f"year {first}")
        elif first is None:
            parts.append(f"years up to {last}")
        elif last is None:
            parts.append(f"years from {first}")
        else:
            parts.append(f"years {first}–{last}")
    return "; ".join(parts)


def subset(review: Review, *, aims: Choice = None, modalities: Choice = None,
           sites: Choice = None, years: YearRange = None) -> Review:
    """The review restricted to studies of some aims, modalities, tumour sites and years.

    Filters combine with AND; values within one filter with OR. ``None`` means no filter.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    aims
        One aim or several of ``review.vocabulary.aim_names`` (e.g. ``"grade"``). Keeps the
        performance rows of these aims and the studies reporting at least one of them; studies
        without a reported AUC of these aims are dropped.
    modalities
        One or several of ``review.vocabulary.modalities`` (e.g. ``"CT"``, ``"MRI"``); studies
        whose ``modality`` is one of them are kept.
    sites
        One or several of ``review.vocabulary.sites`` (e.g. ``"pancreas"``), matched on
        ``site``.
    years
        A publication year, or an inclusive range ``(first, last)`` where either end may be
        ``None`` (open).

    Returns
    -------
    Review
        Same name, title and ``synthetic`` flag as ``review``; ``studies`` holds the kept
        studies (file order), ``performance`` their rows (of the chosen aims), ``quality``
        their rows (or ``None`` when the review has none). ``prisma`` is unchanged: it
        describes the search that found all the studies. ``description`` says what was kept,
        e.g. ``"Subset: aim grade; years from 2018 (12 of 45 studies)"``, or
        ``"All 45 studies (no filter)"``.

    Raises
    ------
    ValueError
        A value not in the review's vocabulary (the message lists the allowed ones), a value given
        twice, or a malformed year range.
    EmptySubsetError
        No study passes the filters.

    Notes
    -----
    The subset is for exploring, not for the manuscript: save figures of a subset elsewhere
    than the review's ``figures/`` folder, or not at all.
    """
    vocabulary = review.vocabulary
    chosen_aims = _values("aims", aims, vocabulary.aim_names)
    chosen_modalities = _values("modalities", modalities, vocabulary.modalities)
    chosen_sites = _values("sites", sites, vocabulary.sites)
    year_range = _year_range(years)
    label = _label(chosen_aims, chosen_modalities, chosen_sites, year_range)
    if not label:
        return dataclasses.replace(
            review, description=f"All {len(review.studies)} studies (no filter)")

    studies = review.studies
    keep = pd.Series(True, index=studies.index)
    if chosen_modalities is not None:
        keep &= studies["modality"].isin(chosen_modalities)
    if chosen_sites is not None:
        keep &= studies["site"].isin(chosen_sites)
    if year_range is not None:
        first, last = year_range
        year = studies["year"]
        if first is not None:
            keep &= (year >= first).fillna(False).astype(bool)
        if last is not None:
            keep &= (year <= last).fillna(False).astype(bool)
    performance = review.performance
    if chosen_aims is not None:
        performance = performance[performance["aim"].isin(chosen_aims)]
        keep &= studies["study_id"].isin(performance["study_id"])
    kept_ids = studies.loc[keep, "study_id"]
    if kept_ids.empty:
        raise EmptySubsetError(
            f"no study of {review.name} has {label}; the review holds:\n"
            + filter_options(review).to_string(index=False))

    def rows_of(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["study_id"].isin(kept_ids)].reset_index(drop=True)

    quality = rows_of(review.quality) if review.quality is not None else None
    description = f"Subset: {label} ({len(kept_ids)} of {len(studies)} studies)"
    return dataclasses.replace(
        review, studies=studies[keep].reset_index(drop=True), performance=rows_of(performance),
        quality=quality, description=description)


def filter_options(review: Review) -> pd.DataFrame:
    """The values :func:`subset` can filter on that occur in the review, with study counts.

    Returns
    -------
    pandas.DataFrame
        ``filter, value, n_studies``: one row per aim (studies reporting at least one AUC of
        it), modality, site and publication year present, in the vocabulary's order
        (years ascending). ``filter`` is the keyword of :func:`subset` (``aims``,
        ``modalities``, ``sites``, ``years``).
    """
    studies, performance = review.studies, review.performance
    per_aim = performance.groupby("aim")["study_id"].nunique()
    rows: list[dict[str, object]] = [
        {"filter": "aims", "value": aim, "n_studies": int(per_aim[aim])}
        for aim in review.vocabulary.aim_names if aim in per_aim.index]
    for keyword, column, order in (("modalities", "modality", review.vocabulary.modalities),
                                   ("sites", "site", review.vocabulary.sites)):
        counts = studies[column].value_counts()
        rows += [{"filter": keyword, "value": v, "n_studies": int(counts[v])}
                 for v in order if v in counts.index]
    years = studies["year"].dropna().astype(int).value_counts().sort_index()
    rows += [{"filter": "years", "value": int(y), "n_studies": int(n)} for y, n in years.items()]
    return pd.DataFrame(rows, columns=["filter", "value", "n_studies"])


def chosen(review: Review, key: str, values: Choice = None) -> tuple[str, ...]:
    """A notebook parameter's values of review.yaml's list ``key``, checked against that list.

    Parameters
    ----------
    review
        A review from :func:`synth.load_review`.
    key
        ``"aims"``, ``"sites"``, ``"modalities"``, ``"models"`` or ``"raters"``
        (:data:`synth.vocabulary.LIST_KEYS`).
    values
        One value or several, in the order to show them; empty or None: every value the
        review declares, in its declared order.

    Returns
    -------
    tuple of str
        E.g. ``chosen(rv, "aims", [])`` is ``rv.vocabulary.aim_names``.

    Raises
    ------
    ValueError
        A value not in the review's list (the message lists the allowed ones), or given twice.
    """
    allowed = review.vocabulary.values(key)
    picked = (values,) if isinstance(values, str) else tuple(values or ())
    return check_choices(key, picked, allowed) if picked else tuple(allowed)


def aims_of(review: Review) -> list[str]:
    """The aims ``review`` reports an AUC for, in the order its vocabulary declares them.

    Pass it as ``aims=`` to the AUC functions so that a subset's figures show only its aims.

    Returns
    -------
    list of str
        A subsequence of ``review.vocabulary.aim_names``.
    """
    reported = set(review.performance["aim"])
    return [aim for aim in review.vocabulary.aim_names if aim in reported]
