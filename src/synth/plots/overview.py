"""The overview figure: studies per publication year, stacked by aim."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from synth.overview import AIM_ORDER, NO_AUC_LABEL
from synth.plots import style as st
from synth.schema import AIMS

__all__ = ["plot_studies_per_year"]


def plot_studies_per_year(counts: pd.DataFrame, *, ax: Axes | None = None,
                          synthetic: bool = False, width: str | float = "one") -> Figure:
    """Stacked bars of studies per year, coloured by aim, from
    :func:`synth.overview.studies_per_year`.

    Every aim of the data dictionary has a legend entry; studies without an AUC are
    :data:`synth.plots.style.NO_AUC` and listed only when there are some.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding ``ax`` (a new one-column figure when ``ax`` is None).
    """
    colours = {**st.AIM_COLOURS, NO_AUC_LABEL: st.NO_AUC}
    with st.MANUSCRIPT:
        if ax is None:
            fig, ax = st.new_figure(width, 62)
        else:
            fig = ax.figure
        wide = counts.pivot(index="year", columns="aim", values="n_studies").reindex(
            columns=list(AIM_ORDER), fill_value=0)
        shown = [a for a in AIM_ORDER if a in AIMS or wide[a].sum() > 0]
        bottom = pd.Series(0, index=wide.index)
        for aim in shown:
            ax.bar(wide.index, wide[aim], bottom=bottom, color=colours[aim], label=aim,
                   width=0.75, edgecolor=st.BACKGROUND, linewidth=0.3)
            bottom = bottom + wide[aim]
        ax.set_xlabel("Publication year")
        ax.set_ylabel("Studies")
        ax.set_xticks(list(wide.index))
        ax.tick_params(axis="x", rotation=45 if len(wide) > 8 else 0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center",
                   ncols=min(len(shown), 3), handlelength=1, columnspacing=1.0)
        st.mark_synthetic(fig, synthetic)
    return fig
