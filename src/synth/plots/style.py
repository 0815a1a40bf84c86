"""One manuscript figure style: journal widths, a colour-blind-safe palette, fonts, AUC axes.

:class:`FigureStyle` is a value that also works as a context manager (like seaborn's
``plotting_context``); importing synth changes no global matplotlib setting.

A colour means one thing in every figure: each aim has its colour (:func:`aim_colours`, by its
place in the review's declared order), each validation cohort another (:data:`COHORT_COLOURS`),
and no aim colour is a cohort colour or any other named colour here. Marks
that encode no category are :data:`NEUTRAL`; reference lines are :data:`REFERENCE` and dashed.
Plot modules take every colour from here (a test checks that they hold no colour literals).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from synth.vocabulary import COHORTS, MAX_AIMS, Vocabulary

__all__ = [
    "MM_PER_INCH",
    "ONE_COLUMN_MM",
    "TWO_COLUMN_MM",
    "OKABE_ITO",
    "AIM_PALETTE",
    "COHORT_COLOURS",
    "COHORT_MARKERS",
    "POOLED_MARKER",
    "NEUTRAL",
    "BACKGROUND",
    "REFERENCE",
    "LIGHT",
    "GRID",
    "WARNING",
    "NOT_POOLED",
    "NO_AUC",
    "POINTS_LOST",
    "AGREEMENT",
    "PRISMA_FILLS",
    "RISK_LOW",
    "RISK_UNCLEAR",
    "RISK_HIGH",
    "RISK_COLOURS",
    "RISK_SYMBOLS",
    "BAND_FILLS",
    "AUC_TICKS",
    "AUC_LOGIT_TICKS",
    "CHANCE_AUC",
    "sans_family",
    "aim_colours",
    "AimStyle",
    "aim_style",
    "auc_axis",
    "reference_line",
    "cell_grid",
    "SYNTHETIC_LABEL",
    "PRINT_DPI",
    "HIGH_DPI",
    "FigureStyle",
    "MANUSCRIPT",
    "new_figure",
    "figure_for",
    "is_one_column",
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

AIM_PALETTE: tuple[str, ...] = (
    "#0072B2",  # Okabe-Ito blue
    "#E69F00",  # Okabe-Ito orange
    "#009E73",  # Okabe-Ito bluish green
    "#CC79A7",  # Okabe-Ito reddish purple
    "#332288",  # Tol indigo
    "#882255",  # Tol wine
    "#999933",  # Tol olive
    "#117733",  # Tol green
    "#FFAABB",  # Tol pink
    "#DDCC77",  # Tol sand
)
"""The aims' colours, one per place in a review's declared aim order (:data:`MAX_AIMS` of
them): the four Okabe & Ito colours first, then Paul Tol's (muted and light schemes), both
designed for the common colour-vision deficiencies. No other named colour of this module is one
of them (a test checks it)."""

COHORT_COLOURS: dict[str, str] = dict(zip(COHORTS, ("#999999", "#56B4E9", "#D55E00"),
                                          strict=True))
"""One colour per validation cohort (grey, sky blue, vermillion); never used for aims."""

COHORT_MARKERS: dict[str, str] = dict(zip(COHORTS, ("o", "s", "^"), strict=True))
"""One marker per validation cohort (circle, square, triangle); the diamond is kept for pooled
estimates, as forest plots draw them."""
POOLED_MARKER = "D"
"""The marker of a pooled estimate (a diamond), never a study's."""

NEUTRAL = "#000000"
"""Marks that encode no category: a study's score, a kappa, a histogram bar."""
BACKGROUND = "#FFFFFF"
"""The page: gaps between stacked bars, edges separating marks, hollow markers' fill, text on
dark cells."""
REFERENCE = "#555555"
"""Reference lines (AUC 0.5, no effect, pooled estimate), always dashed or dotted."""
LIGHT = "#D9D9D9"
"""Backgrounds of no meaning: bands, separators, empty cells' edges."""
GRID = "#EEEEEE"
"""Grid lines."""
WARNING = "#B00000"
"""Text that warns (synthetic data, counts that do not add up, too few studies)."""
NOT_POOLED = "#666666"
"""A study shown but not pooled (no variance): drawn hollow, never in a cohort colour."""
NO_AUC = "#BBBBBB"
"""Studies without an AUC (the overview's stacked bars)."""
POINTS_LOST = "#F0E442"
"""Quality points lost (negative RQS items): Okabe-Ito yellow, used for nothing else."""
AGREEMENT = "#7F7F7F"
"""Percentage agreement bars beside kappas."""
PRISMA_FILLS: dict[str, str] = {"main": "#FCE3B0", "other": "#DDDDDD", "previous": "#DDDDDD",
                                "phase": "#CDE6F5", "edge": "#333333"}
"""The PRISMA 2020 template's header, phase-label and edge colours."""

# --- appraisal (QUADAS-2 judgements, quality bands): used for nothing else -------------------
RISK_LOW = "#44BB99"
"""A QUADAS-2 judgement of low risk of bias or low concern (Paul Tol's light mint)."""
RISK_UNCLEAR = "#EEDD88"
"""A QUADAS-2 judgement of unclear risk or concern (Tol's light yellow)."""
RISK_HIGH = "#EE8866"
"""A QUADAS-2 judgement of high risk or concern (Tol's light orange). The three are Tol's
colour-blind-safe "light" scheme, made for cells holding text, and share no colour with an aim,
a cohort or another meaning; every mark in them also carries a :data:`RISK_SYMBOLS` symbol."""
RISK_COLOURS: dict[str, str] = {"low": RISK_LOW, "unclear": RISK_UNCLEAR, "high": RISK_HIGH}
"""The judgement colours by judgement, in the order tables show them."""
RISK_SYMBOLS: dict[str, str] = {"low": "+", "unclear": "?", "high": "\u2212"}
"""The symbol in a judgement's cell (robvis's: + low, ? unclear, − high), so that colour is
never the only cue."""
BAND_FILLS: tuple[str, ...] = ("#F1EEF6", "#D0D1E6", "#A6BDDB", "#74A9CF", "#3690C0")
"""Fills of ordered quality bands (METRICS' five, lowest first): ColorBrewer PuBu, a sequential
scheme readable with colour-vision deficiencies and in grey scale."""

CHANCE_AUC = 0.5
"""The AUC of a model no better than chance: a reference line wherever AUC is an axis."""
AUC_TICKS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
"""Ticks of every linear AUC axis (those within its limits)."""
AUC_LOGIT_TICKS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
"""Ticks (as AUCs) of every logit-AUC axis."""


def aim_colours(aim_names: Sequence[str]) -> dict[str, str]:
    """Each aim's colour, by its place in ``aim_names`` (:data:`AIM_PALETTE`).

    Pass the full declared order (``review.vocabulary.aim_names``), not the aims one figure
    shows, so that an aim has the same colour in every figure. More than :data:`MAX_AIMS`
    aims, or an aim named twice, raise a ValueError.
    """
    names = list(aim_names)
    if len(names) > MAX_AIMS or len(set(names)) != len(names):
        raise ValueError(f"aim_names={names!r}: give 1 to {MAX_AIMS} distinct aims, each with "
                         "a colour of its own")
    return dict(zip(names, AIM_PALETTE, strict=False))


@dataclass(frozen=True)
class AimStyle:
    """How figures show aims: their order, colour and label (made by :func:`aim_style`)."""

    names: tuple[str, ...]
    colours: dict[str, str]
    labels: dict[str, str]


def aim_style(vocabulary: Vocabulary | None, present: Iterable[str]) -> AimStyle:
    """The aims of a figure: ``vocabulary``'s declared order, colours and labels; or, without a
    vocabulary, the aims in ``present`` sorted, coloured in that order and labelled by name.

    An aim in ``present`` the vocabulary does not declare raises a ValueError.
    """
    shown = set(map(str, present))
    if vocabulary is None:
        names = tuple(sorted(shown))
        return AimStyle(names, aim_colours(names), {a: a for a in names})
    unknown = sorted(shown - set(vocabulary.aim_names))
    if unknown:
        raise ValueError(f"aims {unknown} are not declared in review.yaml (aims: "
                         f"{', '.join(vocabulary.aim_names)})")
    return AimStyle(vocabulary.aim_names, aim_colours(vocabulary.aim_names),
                    dict(vocabulary.aim_labels))

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
    font_family: tuple[str, ...] | None = None
    """Sans-serif families in order of preference; None: :func:`sans_family`."""
    extra: dict[str, object] = field(default_factory=dict)

    def rc(self) -> dict[str, object]:
        """The matplotlib rcParams this style sets."""
        return {
            "font.family": "sans-serif",
            "font.sans-serif": list(self.font_family or (sans_family(),)),
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


_METRIC_COMPATIBLE = ("Liberation Sans", "Arimo", "Arial", "Helvetica")
"""Fonts with Arial/Helvetica metrics, which journals ask for, in order of preference."""


@lru_cache(maxsize=1)
def sans_family() -> str:
    """The figures' font: an Arial/Helvetica-metric font when installed, else DejaVu Sans.

    Liberation Sans (Debian's ``fonts-liberation``) is registered from the system's font
    folders when matplotlib's font cache predates its installation.
    """
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in _METRIC_COMPATIBLE:
        if name in names:
            return name
    for path in font_manager.findSystemFonts(fontext="ttf"):
        if "LiberationSans-" in path.rsplit("/", 1)[-1]:
            font_manager.fontManager.addfont(path)
    names = {f.name for f in font_manager.fontManager.ttflist}
    return "Liberation Sans" if "Liberation Sans" in names else "DejaVu Sans"


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


def cell_grid(ax: Axes, values: np.ndarray, **mesh_kw: object) -> QuadMesh:
    """Draw a rows x columns table of shaded cells, row 0 on top, cell (r, c) centred at (c, r).

    One vector mesh with :data:`LIGHT` cell borders: unlike ``imshow``, PDF and SVG get
    rectangles rather than an image resampled at print resolution, so heat maps stay sharp and
    save several times faster. ``mesh_kw`` (``cmap``, ``norm``, ``vmin``, ``vmax``) go to
    ``pcolormesh``; masked cells take the colour map's "bad" colour.
    """
    n, k = values.shape
    mesh = ax.pcolormesh(np.arange(k + 1) - 0.5, np.arange(n + 1) - 0.5, values,
                         edgecolors=LIGHT, linewidth=0.3, **mesh_kw)
    ax.set_xlim(-0.5, k - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    return mesh


def reference_line(ax: Axes, value: float, *, axis: str = "x", label: str | None = None,
                   **kw: object) -> None:
    """A dashed :data:`REFERENCE` line at ``value`` across ``ax`` (``axis``: the value's axis)."""
    style = {"color": REFERENCE, "lw": MANUSCRIPT.line_width * 0.75, "ls": "--", "zorder": 0,
             "label": label, **kw}
    (ax.axvline if axis == "x" else ax.axhline)(value, **style)


def auc_axis(ax: Axes, *, axis: str = "x", scale: str = "linear", low: float | None = None,
             label: str = "AUC", chance: bool = True) -> None:
    """Make ``axis`` of ``ax`` an AUC axis: the same ticks everywhere and a line at AUC 0.5.

    ``scale="logit"`` is for axes drawn in logit(AUC): ticks at :data:`AUC_LOGIT_TICKS`,
    labelled as AUCs. The chance line is dashed :data:`REFERENCE` and labelled ``AUC 0.5``
    (for the legend) unless ``chance`` is False.
    """
    if scale == "logit":
        ticks = np.log(np.array(AUC_LOGIT_TICKS) / (1 - np.array(AUC_LOGIT_TICKS)))
        labels = [f"{t:g}" for t in AUC_LOGIT_TICKS]
        chance_at = 0.0
    else:
        ticks = np.array(AUC_TICKS)
        labels = [f"{t:.1f}" for t in AUC_TICKS]
        chance_at = CHANCE_AUC
    lim = ax.get_xlim() if axis == "x" else ax.get_ylim()
    lo = min(lim[0], chance_at) if low is None else low
    hi = lim[1]
    if scale != "logit":
        lo, hi = np.floor(round(lo * 10, 6)) / 10, 1.0
    keep = (ticks >= lo - 1e-9) & (ticks <= hi + 1e-9)
    if axis == "x":
        ax.set_xticks(ticks[keep], [lab for lab, k in zip(labels, keep, strict=True) if k])
        ax.set_xlim(lo, hi)
        ax.set_xlabel(label)
    else:
        ax.set_yticks(ticks[keep], [lab for lab, k in zip(labels, keep, strict=True) if k])
        ax.set_ylim(lo, hi)
        ax.set_ylabel(label)
    if chance:
        reference_line(ax, chance_at, axis=axis, label="AUC 0.5 (chance)")


def figure_for(ax: Axes | None, width: Width, height_mm: float) -> tuple[Figure, Axes]:
    """The figure and axes a plot function draws into: ``ax``'s, or a new figure of a journal
    width (``ax=None``)."""
    if ax is None:
        fig, ax = new_figure(width, height_mm)
        return fig, ax  # type: ignore[return-value]
    return ax.figure, ax  # type: ignore[return-value]


def is_one_column(width: Width) -> bool:
    """Whether ``width`` is a one-column figure (``"one"`` or under 120 mm)."""
    return width == "one" or (isinstance(width, int | float) and width < 120)


def mark_synthetic(fig: Figure, synthetic: bool = True) -> Figure:
    """Label a figure made from synthetic data, so it is never mistaken for real evidence.

    The label is the figure's suptitle (top right), for which constrained layout reserves room.
    """
    if synthetic:
        fig.suptitle(SYNTHETIC_LABEL, x=0.99, ha="right", fontsize=MANUSCRIPT.font_size - 0.5,
                     color=WARNING, style="italic")
    return fig
