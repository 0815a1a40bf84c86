"""The PRISMA 2020 flow diagram: boxes laid out in millimetres, text wrapped as rendered.

Hand-written: no maintained Python library draws the PRISMA 2020 template (the R package
PRISMA2020 does, via DiagrammeR). Boxes are laid out in millimetres, text is wrapped to the box
width as rendered in the style's font (textwrap counts characters, not widths) and shrunk only
if a word is wider than its box. The numbers drawn are the counts and their totals
(:func:`synth.prisma_counts.total`); the warning under the diagram is
:func:`synth.prisma.warning_lines`. Colours are the template's, from
:data:`synth.plots.style.PRISMA_FILLS`, the warning in :data:`synth.plots.style.WARNING`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.patches import FancyBboxPatch

from synth.plots.style import (
    MANUSCRIPT,
    MM_PER_INCH,
    ONE_COLUMN_MM,
    PRISMA_FILLS,
    TWO_COLUMN_MM,
    WARNING,
    mark_synthetic,
    new_figure,
)
from synth.prisma import warning_lines
from synth.prisma_counts import Count, PrismaCounts, format_count, total

__all__ = ["plot_prisma_flow"]


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
_EDGE = PRISMA_FILLS["edge"]


@lru_cache(maxsize=4)
def _font_file(weight: str) -> str:
    """The style's font file, resolved once, so measured and drawn text use the same face."""
    with mpl.rc_context(MANUSCRIPT.rc()):
        return findfont(FontProperties(family="sans-serif", weight=weight))


@lru_cache(maxsize=4)
def _font_family(weight: str) -> str:
    """The family name of :func:`_font_file` (``Liberation Sans``), written into SVG text."""
    return get_font(_font_file(weight)).family_name


def _font(size: float, weight: str = "normal") -> FontProperties:
    """The style's font: drawn from the file it was measured with; SVG names its family."""
    return FontProperties(family=[_font_family(weight)], weight=weight, fname=_font_file(weight),
                          size=size)


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
    return f"(n{_NBSP}={_NBSP}{format_count(n)})".replace(" ", _NBSP)


def _named_lines(values: dict[str, Count], *, total_label: str | None = None,
                 always: bool = False) -> list[tuple[str, int]]:
    if total_label is not None and (len(values) > 1 or always):
        n = total(values)
        head = f"{total_label} {_n(n)}" if n is not None else f"{total_label}:"
        return [(head, 1), *((f"{k} {_n(v)}", 2) for k, v in values.items())]
    return [(f"{k} {_n(v)}", 1) for k, v in values.items()]


def _reasons(title: str, values: dict[str, Count]) -> _Content:
    if not values:
        return _single(title, None)
    n = total(values)
    head = f"{title} {_n(n)}:" if n is not None else f"{title}:"
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
    studies = "Total studies" if c.previous_studies is not None else "Studies"
    boxes["A5"] = _Content([(f"{studies} included in review {_n(c.studies_included)}", 0),
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
    fill: str = "none"
    """Face colour: ``none`` (the figure's background shows) or one of the template's fills."""
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
             fill: str = "none") -> _Box:
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
                   kind="header", fill=PRISMA_FILLS[fill])
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
                           lines, s, "center", "phase", PRISMA_FILLS["phase"], "bold")

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
        A review's counts (``Review.prisma``, :func:`synth.prisma.review_counts` or
        :func:`synth.prisma.counts_from_log`).
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
    notes = warning_lines(counts)
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
        ax.text(1.0, y, "\n".join(lines), ha="left", va="top", color=WARNING,
                fontproperties=_font(s), linespacing=_LINESPACING, gid="text:notes")
