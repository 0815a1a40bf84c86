"""What the included studies are: the characteristics table (Table 1) and studies per year."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from synth.review import Review
from synth.schema import AIMS, STUDIES
from synth.style import AIM_COLOURS, MANUSCRIPT, mark_synthetic, new_figure

__all__ = ["NOT_REPORTED_LABEL", "NO_AUC_LABEL", "study_aims", "study_characteristics",
           "studies_per_year",
           "plot_studies_per_year"]

NOT_REPORTED_LABEL = "not reported"
NO_AUC_LABEL = "no AUC reported"
"""Aim shown for an included study with no row in performance.csv, so it is not lost."""

_AIM_ORDER = (*AIMS, NO_AUC_LABEL)
_COLOURS = {**AIM_COLOURS, NO_AUC_LABEL: "#BBBBBB"}

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
        Categories follow the data dictionary's order (years ascending); a missing value is
        counted as "not reported". A study reporting several aims counts once under each,
        so the aim rows can add up to more than 100 %.
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

    for col, label in _CHARACTERISTICS:
        allowed = STUDIES.field(col).allowed
        values = studies[col]
        order = list(allowed) if allowed else sorted(values.dropna().unique())
        add(label, values, order)
    aims = study_aims(review)
    add("Aim", aims["aim"], list(_AIM_ORDER))
    out = pd.DataFrame(rows, columns=["characteristic", "category", "n_studies"])
    out["percent"] = (out["n_studies"] / total * 100).round(1)
    return out


def studies_per_year(review: Review) -> pd.DataFrame:
    """Number of studies per publication year and aim, every year of the span included.

    Returns
    -------
    pandas.DataFrame
        ``year, aim, n_studies`` for every year from the first to the last and every aim
        (zeros included, so gaps show). A study reporting several aims counts under each; a
        study with no AUC counts under "no AUC reported".
    """
    aims = study_aims(review).merge(review.studies[["study_id", "year"]], on="study_id")
    years = range(int(review.studies["year"].min()), int(review.studies["year"].max()) + 1)
    grid = pd.MultiIndex.from_product([list(years), list(_AIM_ORDER)], names=["year", "aim"])
    counts = aims.groupby(["year", "aim"]).size().reindex(grid, fill_value=0)
    return counts.rename("n_studies").reset_index()


def plot_studies_per_year(counts: pd.DataFrame, *, ax: Axes | None = None,
                          synthetic: bool = False, width: str | float = "one") -> Figure:
    """Stacked bars of studies per year, coloured by aim, from :func:`studies_per_year`."""
    with MANUSCRIPT:
        if ax is None:
            fig, ax = new_figure(width, 62)
        else:
            fig = ax.figure
        wide = counts.pivot(index="year", columns="aim", values="n_studies").reindex(
            columns=list(_AIM_ORDER), fill_value=0)
        shown = [a for a in _AIM_ORDER if a in AIMS or wide[a].sum() > 0]
        bottom = pd.Series(0, index=wide.index)
        for aim in shown:
            ax.bar(wide.index, wide[aim], bottom=bottom, color=_COLOURS[aim], label=aim,
                   width=0.75, edgecolor="white", linewidth=0.3)
            bottom = bottom + wide[aim]
        ax.set_xlabel("Publication year")
        ax.set_ylabel("Studies")
        ax.set_xticks(list(wide.index))
        ax.tick_params(axis="x", rotation=45 if len(wide) > 8 else 0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center",
                   ncols=min(len(shown), 3), handlelength=1, columnspacing=1.0)
        mark_synthetic(fig, synthetic)
    return fig
