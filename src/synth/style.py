"""One manuscript figure style: journal widths, a colour-blind-safe palette, fonts.

:class:`FigureStyle` is a value that also works as a context manager (like seaborn's
``plotting_context``); importing synth changes no global matplotlib setting.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Literal

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from synth.schema import AIMS, COHORTS, MODALITIES

__all__ = [
    "MM_PER_INCH",
    "ONE_COLUMN_MM",
    "TWO_COLUMN_MM",
    "OKABE_ITO",
    "AIM_COLOURS",
    "COHORT_COLOURS",
    "MODALITY_COLOURS",
    "SYNTHETIC_LABEL",
    "PRINT_DPI",
    "HIGH_DPI",
    "FigureStyle",
    "MANUSCRIPT",
    "new_figure",
    "mark_synthetic",
]

MM_PER_INCH = 25.4
ONE_COLUMN_MM = 85.0
"""Width of a one-column figure (European Radiology and most journals: 80-90 mm)."""
TWO_COLUMN_MM = 170.0
"""Width of a two-column (full-page-width) figure."""

OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe & Ito (2008) palette, distinguishable with the common colour-vision deficiencies."""

AIM_COLOURS: dict[str, str] = dict(zip(AIMS, ("#0072B2", "#E69F00", "#009E73", "#CC79A7"),
                                       strict=True))
COHORT_COLOURS: dict[str, str] = dict(zip(COHORTS, ("#999999", "#56B4E9", "#D55E00"),
                                          strict=True))
MODALITY_COLOURS: dict[str, str] = dict(zip(MODALITIES, ("#0072B2", "#009E73", "#D55E00",
                                                          "#999999"), strict=True))

SYNTHETIC_LABEL = "Synthetic demonstration data"

PRINT_DPI = 300
"""Resolution of raster figures (PNG, TIFF) for print: what most journals ask for."""
HIGH_DPI = 600
"""Resolution on request (line art, journals such as European Radiology for TIFF)."""

Width = Literal["one", "two"] | float


@dataclass(frozen=True)
class FigureStyle:
    """Fonts, lines and output settings for manuscript figures.

    Use as a context manager (``with MANUSCRIPT: ...``) or pass to :func:`new_figure`.
    """

    font_size: float = 7.0
    title_size: float = 8.0
    line_width: float = 0.8
    dpi: int = PRINT_DPI
    font_family: tuple[str, ...] = ("DejaVu Sans", "Arial", "Helvetica")
    extra: dict[str, object] = field(default_factory=dict)

    def rc(self) -> dict[str, object]:
        """The matplotlib rcParams this style sets."""
        return {
            "font.family": "sans-serif",
            "font.sans-serif": list(self.font_family),
            "font.size": self.font_size,
            "axes.titlesize": self.title_size,
            "axes.labelsize": self.font_size,
            "xtick.labelsize": self.font_size - 0.5,
            "ytick.labelsize": self.font_size - 0.5,
            "legend.fontsize": self.font_size - 0.5,
            "legend.frameon": False,
            "axes.linewidth": self.line_width,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "lines.linewidth": self.line_width * 1.5,
            "xtick.major.width": self.line_width,
            "ytick.major.width": self.line_width,
            "savefig.dpi": self.dpi,
            "figure.dpi": 150,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.fonttype": "none",
            **self.extra,
        }

    def __enter__(self) -> FigureStyle:
        stack = ExitStack()
        stack.enter_context(mpl.rc_context(self.rc()))
        _ACTIVE.append(stack)
        return self

    def __exit__(self, *exc: object) -> None:
        interactive = mpl.is_interactive()
        _ACTIVE.pop().close()
        # rc_context restores every rcParam, also the interactive mode that IPython's inline
        # backend switches on when the block makes the session's first figure; keep it, or
        # later cells' figures are not shown inline.
        mpl.interactive(interactive)


_ACTIVE: list[ExitStack] = []
"""Open ``with style:`` blocks, innermost last (the style value itself stays immutable)."""


MANUSCRIPT = FigureStyle()


def _width_inches(width: Width) -> float:
    mm = {"one": ONE_COLUMN_MM, "two": TWO_COLUMN_MM}.get(width, width)  # type: ignore[arg-type]
    if not isinstance(mm, int | float) or mm <= 0:
        raise ValueError(f"width={width!r}: use 'one', 'two' or a width in millimetres")
    return float(mm) / MM_PER_INCH


def new_figure(width: Width = "one", height_mm: float = 60.0, *, nrows: int = 1,
               ncols: int = 1, style: FigureStyle = MANUSCRIPT, **subplot_kw: object
               ) -> tuple[Figure, object]:
    """A figure of a journal width (``'one'``, ``'two'`` or millimetres) with the style applied.

    Plotting functions call it inside ``with style:`` so that every artist they draw takes the
    style; no global setting is changed.
    """
    with mpl.rc_context(style.rc()):
        fig, ax = plt.subplots(nrows, ncols, figsize=(_width_inches(width),
                                                      height_mm / MM_PER_INCH),
                               layout="constrained", **subplot_kw)
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)  # as in FigureStyle.__exit__
    return fig, ax


def mark_synthetic(fig: Figure, synthetic: bool = True) -> Figure:
    """Label a figure made from synthetic data, so it is never mistaken for real evidence.

    The label is the figure's suptitle (top right), for which constrained layout reserves room.
    """
    if synthetic:
        fig.suptitle(SYNTHETIC_LABEL, x=0.99, ha="right", fontsize=MANUSCRIPT.font_size - 0.5,
                     color="#B00000", style="italic")
    return fig
