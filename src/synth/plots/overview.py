"""The overview figure: studies per publication year, stacked by aim."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from synth.overview import NO_AUC_LABEL
from synth.plots import style as st
from synth.vocabulary import Vocabulary

__all__ = ["plot_studies_per_year"]


def plot_studies_per_year(counts: pd.DataFrame, *, vocabulary: Vocabulary | None = None,
                          ax: Axes | None = None, synthetic: bool = False,
                          width: str | float = "one") -> Figure:
    """Stacked bars of studies per year, coloured by aim, from
    :func:`synth.overview.studies_per_year`.

    Every aim of ``vocabulary`` (``review.vocabulary``: declared order, colours and labels;
    None: the aims of ``counts``, sorted, labelled by name) has a legend entry; studies without
    an AUC are :data:`synth.plots.style.NO_AUC` and listed only when there are some.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding ``ax`` (a new one-column figure when ``ax`` is None).
    """
    aims = st.aim_style(vocabulary, set(counts["aim"]) - {NO_AUC_LABEL})
    colours = {**aims.colours, NO_AUC_LABEL: st.NO_AUC}
    labels = {**aims.labels, NO_AUC_LABEL: NO_AUC_LABEL}
    wide = counts.pivot(index="year", columns="aim", values="n_studies").reindex(
        columns=[*aims.names, NO_AUC_LABEL], fill_value=0)
    shown = [*aims.names, *([NO_AUC_LABEL] if wide[NO_AUC_LABEL].sum() > 0 else [])]
    with st.MANUSCRIPT:
        fig, ax = st.figure_for(ax, width, 62)
        bottom = pd.Series(0, index=wide.index)
        for aim in shown:
            ax.bar(wide.index, wide[aim], bottom=bottom, color=colours[aim], label=labels[aim],
                   width=0.75, edgecolor=st.BACKGROUND, linewidth=0.3)
            bottom = bottom + wide[aim]
        ax.set_xlabel("Publication year")
        ax.set_ylabel("Studies")
        ax.set_xticks(list(wide.index))
        ax.tick_params(axis="x", rotation=45 if len(wide) > 8 else 0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _legend(fig, ax, most=3 if st.is_one_column(width) else 4)
        st.mark_synthetic(fig, synthetic)
    return fig


def _legend(fig: Figure, ax: Axes, *, most: int) -> None:
    """The aims' legend below the figure in as many columns (up to ``most``) as fit its width;
    a new figure grows 4 mm for each row past the second."""
    handles, labels = ax.get_legend_handles_labels()
    for ncols in range(min(len(handles), most), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=ncols,
                            handlelength=1, columnspacing=1.0)
        fig.draw_without_rendering()  # lays the legend out: its width as saved
        if ncols == 1 or legend.get_window_extent().width <= fig.bbox.width * 0.98:
            break
        legend.remove()
    rows = -(-len(handles) // ncols)
    if fig.axes == [ax] and rows > 2:
        fig.set_figheight(fig.get_figheight() + 4 * (rows - 2) / st.MM_PER_INCH)
