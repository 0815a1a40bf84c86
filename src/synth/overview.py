"""What the included studies are: the characteristics table (Table 1) and studies per year.

The figure of studies per year is drawn by :func:`synth.plots.overview.plot_studies_per_year`.
"""

from __future__ import annotations

import pandas as pd

from synth.review import Review
from synth.schema import STUDIES

__all__ = ["NOT_REPORTED_LABEL", "NO_AUC_LABEL", "aims_shown", "study_aims",
           "study_characteristics", "studies_per_year"]

NOT_REPORTED_LABEL = "not reported"
NO_AUC_LABEL = "no AUC reported"
"""Aim shown for an included study with no row in performance.csv, so it is not lost."""


def aims_shown(review: Review) -> tuple[str, ...]:
    """The aims in the order ``review.vocabulary`` declares them, then any other aim the
    performance table names (sorted), then :data:`NO_AUC_LABEL`: the rows of tables and the
    bars of figures by aim."""
    declared = review.vocabulary.aim_names
    other = sorted(set(map(str, review.performance["aim"])) - set(declared))
    return (*declared, *other, NO_AUC_LABEL)


_CHARACTERISTICS: tuple[tuple[str, str], ...] = (
    ("year", "Publication year"),
    ("site", "Tumour site"),
    ("modality", "Imaging modality"),
    ("design", "Study design"),
    ("centres", "Centres"),
    ("validation", "Validation"),
)


def study_aims(review: Review) -> pd.DataFrame:
    """One row per (study, aim) the study reports an AUC for; NO_AUC_LABEL for none.

    Returns
    -------
    pandas.DataFrame
        ``study_id, aim``: performance.csv's pairs in file order, then the studies without AUC.
    """
    aims = review.performance[["study_id", "aim"]].drop_duplicates()
    missing = review.studies.loc[~review.studies["study_id"].isin(aims["study_id"]), "study_id"]
    extra = pd.DataFrame({"study_id": missing, "aim": NO_AUC_LABEL})
    return pd.concat([aims, extra], ignore_index=True)


def study_characteristics(review: Review) -> pd.DataFrame:
    """Counts of studies by year, site, modality, design, centres, validation and aim.

    Returns
    -------
    pandas.DataFrame
        ``characteristic, category, n_studies, percent``; percent of all included studies.
        Sites, modalities and aims follow ``review.vocabulary``'s order, other columns the data
        dictionary's (years ascending); a missing value is counted as "not reported". A study
        reporting several aims counts once under each, so the aim rows can add up to more than
        100 %.
    """
    studies = review.studies
    total = len(studies)
    rows: list[dict[str, object]] = []

    def add(label: str, values: pd.Series, order: list[object]) -> None:
        counts = values.value_counts(dropna=False)
        missing = int(values.isna().sum())
        for cat in order:
            n = int(counts.get(cat, 0))
            if n:
                rows.append({"characteristic": label, "category": str(cat), "n_studies": n})
        if missing:
            rows.append({"characteristic": label, "category": NOT_REPORTED_LABEL,
                         "n_studies": missing})

    declared = {"site": review.vocabulary.sites, "modality": review.vocabulary.modalities}
    for col, label in _CHARACTERISTICS:
        values = studies[col]
        allowed = declared.get(col) or STUDIES.field(col).allowed or ()
        extra = sorted(set(values.dropna().unique()) - set(allowed), key=str)
        add(label, values, [*allowed, *extra])
    aims = study_aims(review)
    add("Aim", aims["aim"], list(aims_shown(review)))
    out = pd.DataFrame(rows, columns=["characteristic", "category", "n_studies"])
    out["percent"] = (out["n_studies"] / total * 100).round(1)
    return out


def studies_per_year(review: Review) -> pd.DataFrame:
    """Number of studies per publication year and aim, every year of the span included.

    Returns
    -------
    pandas.DataFrame
        ``year, aim, n_studies`` for every year from the first to the last and every aim of
        :func:`aims_shown` (zeros included, so gaps show). A study reporting several aims
        counts under each; a study with no AUC counts under "no AUC reported".
    """
    aims = study_aims(review).merge(review.studies[["study_id", "year"]], on="study_id")
    years = range(int(review.studies["year"].min()), int(review.studies["year"].max()) + 1)
    grid = pd.MultiIndex.from_product([list(years), list(aims_shown(review))],
                                      names=["year", "aim"])
    counts = aims.groupby(["year", "aim"]).size().reindex(grid, fill_value=0)
    return counts.rename("n_studies").reset_index()
