"""Write figures and tables atomically, with provenance; a failed run leaves no half-written file.

Each file is written to a temporary name in the same folder and moved into place with
``os.replace``, so the last good version survives any failure.

When a notebook is executed by ``python -m synth run``, the runner describes the run in a small
JSON file named by the environment variable ``SYNTH_RUN_CONTEXT`` (review, notebook, parameters,
input hashes, package versions, time, and the figure and table formats of ``synth.yaml``).
:func:`save_figure` and :func:`write_table` then use those formats as their defaults, embed the
provenance in PNG, PDF, SVG and TIFF metadata, and append every file they write to the run's
output log, from which the runner builds ``results/<review>/manifest.json``. Outside a run (e.g.
in JupyterLab) nothing is logged and the defaults below apply.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from synth.files import (
    FIGURE_FORMATS,
    READABLE_FORMATS,
    RUN_CONTEXT_ENV,
    TABLE_FORMAT_CHOICES,
    TABLE_FORMATS,
    atomic_paths,
    atomic_write,
)
from synth.plots.style import MANUSCRIPT, PRINT_DPI

__all__ = ["READABLE_MAX_ROWS", "READABLE_DIGITS", "run_context", "save_figure", "write_table",
           "output_dirs", "spreadsheet_safe", "printable", "warm_up"]

READABLE_MAX_ROWS = 1000
"""Most rows written to the formats people read (Markdown, LaTeX, HTML, Word): a longer table
is supplementary data, written to CSV and XLSX only (a 10 000-row LaTeX table helps no one)."""

READABLE_DIGITS = 3
"""Significant digits of numbers in the formats people read; CSV and XLSX keep every digit."""

_VECTOR_TEXT = {"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42}
"""Text stays editable text in SVG and embeds as TrueType in PDF, as journals' editors prefer;
set when saving because savefig reads these settings then, not when the figure was drawn."""


def _saving_style() -> dict[str, object]:
    """The manuscript font, in force while a figure is laid out and saved.

    A text artist keeps the generic family ``sans-serif``; matplotlib resolves it to a font
    when the figure is drawn, that is, when it is saved. Without the style's font list then,
    figures drawn in the manuscript style would be saved in matplotlib's default font.
    """
    rc = MANUSCRIPT.rc()
    return {"font.family": rc["font.family"], "font.sans-serif": rc["font.sans-serif"],
            **_VECTOR_TEXT}


_STARTS_FORMULA = re.compile(r"[\t\r\n]|\s*[=+\-@\uff1d\uff0b\uff0d\uff20]")
"""What starts a formula in a spreadsheet: = + - @ (or their fullwidth forms, which some
versions of Excel take for the ASCII ones), also after spaces, or a tab, CR or LF."""
_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}
_LATEX_PATTERN = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def run_context() -> dict[str, Any] | None:
    """The context of the current ``synth run`` job, or None outside a run.

    Returns
    -------
    dict or None
        Keys ``review``, ``notebook``, ``parameters``, ``inputs``, ``packages``, ``time``,
        ``figure_formats``, ``dpi``, ``table_formats`` and ``log`` (the output log's path).
    """
    path = os.environ.get(RUN_CONTEXT_ENV)
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _log_output(context: dict[str, Any] | None, paths: Iterable[Path]) -> None:
    """Append the written files to the run's output log (one JSON line per file)."""
    if not context or not context.get("log"):
        return
    lines = "".join(json.dumps({"path": str(Path(p).resolve())}) + "\n" for p in paths)
    with open(context["log"], "a", encoding="utf-8") as log:
        log.write(lines)


def _provenance_text(context: dict[str, Any] | None) -> str | None:
    if not context:
        return None
    keys = ("review", "notebook", "parameters", "inputs", "packages", "time")
    return json.dumps({k: context.get(k) for k in keys}, sort_keys=True)


@contextmanager
def _layout_once(fig: Figure, dpi: int):
    """Lay ``fig`` out once, at ``dpi``, for all the formats of one save; then restore its
    layout engine.

    matplotlib's ``savefig`` re-runs a layout engine (constrained layout) on two draws per
    format; the positions do not depend on the format, so one pass is enough. The engine is
    executed as ``Figure.draw`` would, without the draw that follows it there.
    """
    engine = fig.get_layout_engine()
    if engine is None or not fig.axes:
        yield
        return
    screen_dpi = fig.dpi
    fig.dpi = dpi
    try:
        engine.execute(fig)
    except ValueError:  # as Figure.draw: a layout that cannot be computed is left as it is
        pass
    finally:
        fig.dpi = screen_dpi
    fig.set_layout_engine("none")
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def save_figure(fig: Figure, stem: str | Path, *, formats: Iterable[str] | None = None,
                dpi: int | None = None, metadata: dict[str, str] | None = None) -> list[Path]:
    """Save ``fig`` as ``stem.<format>`` for each format; return the paths written.

    Every format is rendered to a temporary file first; only when all succeeded are they moved
    into place, so a failure leaves the previous set intact.

    Parameters
    ----------
    fig
        The figure.
    stem
        Path without suffix, e.g. ``figures/demo/studies_per_year``.
    formats
        Any format matplotlib writes (``png``, ``svg``, ``pdf``, ``tiff``, ...). Default: the
        ``figures.formats`` of ``synth.yaml`` during a run, else :data:`FIGURE_FORMATS`.
    dpi
        Resolution of raster formats (PNG, TIFF). Default: ``figures.dpi`` during a run, else
        300 (:data:`synth.plots.style.PRINT_DPI`); 600 for journals that ask for it.
    metadata
        Extra text metadata (e.g. ``{"Title": ...}``). During a run, the provenance (review,
        notebook, parameters, input hashes, package versions, time) is added as ``Provenance``
        (PNG), ``Keywords`` (PDF), ``Description`` (SVG) or the TIFF image description.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.

    Notes
    -----
    TIFF is written as LZW-compressed RGB (no alpha channel), as journals' submission systems
    expect; matplotlib renders it to PNG in memory first and Pillow converts it.
    """
    context = run_context()
    stem = Path(stem)
    if formats is None:
        formats = (context or {}).get("figure_formats") or FIGURE_FORMATS
    if dpi is None:
        dpi = int((context or {}).get("dpi") or PRINT_DPI)
    formats = list(formats)
    supported = fig.canvas.get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if unknown:
        raise ValueError(f"formats={unknown}: not a figure format; choose from "
                         f"{', '.join(sorted(supported))}")
    provenance = _provenance_text(context)
    targets = [stem.with_name(f"{stem.name}.{fmt}") for fmt in formats]
    with mpl.rc_context(_saving_style()), _layout_once(fig, dpi), \
            atomic_paths(targets) as temps:
        for fmt, tmp in zip(formats, temps, strict=True):
            if fmt in ("tif", "tiff"):
                _save_tiff(fig, tmp, dpi=dpi, metadata=metadata, provenance=provenance)
            else:
                meta = _figure_metadata(fmt, metadata, provenance)
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)
    written = targets
    _log_output(context, written)
    if "png" in formats:
        _show_saved(fig, stem.with_name(f"{stem.name}.png"))
    return written


def _show_saved(fig: Figure, png: Path) -> None:
    """In a notebook, show the PNG just written instead of rendering ``fig`` again.

    IPython's inline backend would draw every open figure once more at the end of the cell
    (about a quarter of a figure's cost), all after the cell's other output; the notebook shows
    the saved file instead, where it was saved, at the size the inline backend would use, and
    what it shows is what the manuscript gets. Outside IPython, or with another backend,
    nothing happens.
    """
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or "matplotlib_inline" not in mpl.get_backend():
        return
    import matplotlib.pyplot as plt

    plt.close(fig)
    display(Image(filename=str(png), width=round(fig.get_figwidth() * fig.dpi)))


def _save_tiff(fig: Figure, path: Path, *, dpi: int, metadata: dict[str, str] | None,
               provenance: str | None) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    description = "; ".join(f"{k}={v}" for k, v in (metadata or {}).items())
    if provenance:
        description = f"{description}; Provenance={provenance}" if description else provenance
    with Image.open(buffer) as image:
        kwargs: dict[str, Any] = {"compression": "tiff_lzw", "dpi": (dpi, dpi)}
        if description:
            kwargs["description"] = description
        image.convert("RGB").save(path, format="TIFF", **kwargs)


def _figure_metadata(fmt: str, metadata: dict[str, str] | None, provenance: str | None
                     ) -> dict[str, str] | None:
    metadata = dict(metadata or {})
    if not metadata and not provenance:
        return None
    text = "; ".join(f"{k}={v}" for k, v in metadata.items())
    if fmt == "png":
        return {**metadata, **({"Provenance": provenance} if provenance else {})}
    if fmt == "pdf":
        out = {"Subject": text} if text else {}
        if provenance:
            out["Keywords"] = provenance
        return out
    if fmt == "svg":
        return {"Description": "; ".join(t for t in (text, provenance) if t)}
    return None


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe.

    A formula starts with ``=``, ``+``, ``-`` or ``@`` (or their fullwidth forms), also after
    leading spaces; text starting with a tab, carriage return or line feed is treated alike, as
    spreadsheets strip them. Numbers written as text (``-0.1``) are left alone.
    """
    if (isinstance(value, str) and _STARTS_FORMULA.match(value)
            and not _NUMBER_TEXT.fullmatch(value)):
        return "'" + value
    return value


def printable(value: object) -> object:
    """Text without control characters, which no table format can hold (a bell, a NUL, ...).

    Tabs, line feeds and carriage returns stay; every other C0 or C1 control character and the
    non-characters U+FFFE and U+FFFF are removed, and an unpaired surrogate (text decoded with
    ``surrogateescape``) becomes U+FFFD. Anything but text is returned as it is.
    """
    if not isinstance(value, str):
        return value
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))


def _one_line(value: object) -> object:
    """Line breaks (and the spaces around them) as one space: a cell of a readable table."""
    return _NEWLINES.sub(" ", value) if isinstance(value, str) else value


def _markdown_text(value: object) -> object:
    """Text that Markdown prints as it is: its markup characters backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value) if isinstance(value, str) else value


def _latex_text(value: object) -> object:
    """Text that LaTeX prints as it is (``gu\\_2019``, ``\\textless{}``)."""
    if not isinstance(value, str):
        return value
    return _LATEX_PATTERN.sub(lambda m: _LATEX_SPECIAL[m.group()], value)


def _export_cells(df: pd.DataFrame, *steps: Callable[[object], object]) -> pd.DataFrame:
    """``df`` with every text cell and column name passed through ``steps``, in order."""

    def each(value: object) -> object:
        for step in steps:
            value = step(value)
        return value

    out = df.map(each) if len(df) else df.copy()
    out.columns = [each(c) for c in df.columns]
    return out



def _readable_float(value: float) -> str:
    """A float as the formats people read print it: :data:`READABLE_DIGITS` significant digits."""
    return f"{value:.{READABLE_DIGITS}g}"


def _html_document(df: pd.DataFrame, title: str) -> str:
    table = df.to_html(index=False, na_rep="", float_format=_readable_float, border=0)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(str(printable(title)))}</title>\n<style>table{{border-collapse:collapse;"
            "font-family:Arial,sans-serif;font-size:9pt}th,td{padding:2pt 6pt;text-align:left}"
            "thead th{border-top:1pt solid #000;border-bottom:0.5pt solid #000}"
            "tbody tr:last-child td{border-bottom:1pt solid #000}</style></head>\n"
            f"<body>\n{table}\n</body></html>\n")


def _cell_text(value: object) -> str:
    """A table cell as the human-readable formats print it (empty when missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return _readable_float(value)
    return str(value)


def _write_docx(df: pd.DataFrame, path: Path | io.BytesIO, title: str) -> None:
    """A Word document holding ``df`` as a table (python-docx), header row bold, Arial 9 pt."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(9)
    doc.core_properties.title = str(printable(title))
    table = doc.add_table(rows=len(df) + 1, cols=len(df.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, df.columns, strict=True):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row, values in zip(table.rows[1:], df.itertuples(index=False), strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = _cell_text(value)
    doc.save(path)


def write_table(df: pd.DataFrame, stem: str | Path, *, markdown: bool = True,
                formats: Iterable[str] | None = None,
                readable_max_rows: int | None = READABLE_MAX_ROWS) -> list[Path]:
    """Write ``df`` as ``stem.csv``, ``.md``, ``.tex`` and ``.html`` (or ``formats``), atomically.

    Parameters
    ----------
    df
        The table.
    stem
        Path without suffix, e.g. ``results/demo/study_characteristics``.
    markdown
        False leaves out the Markdown file.
    formats
        Any of ``csv``, ``md``, ``tex`` (LaTeX booktabs table), ``html`` (a document Word and
        LibreOffice open as a table), ``xlsx``, ``docx`` (a Word document with the table).
        Default: ``tables.formats`` of ``synth.yaml`` during a run, else :data:`TABLE_FORMATS`.
    readable_max_rows
        A table longer than this is written to ``csv`` and ``xlsx`` only (of the requested
        formats), and one line says which formats were left out; None writes every format.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.

    Notes
    -----
    CSV and XLSX keep every number at full precision, so results can be checked against R: a
    CSV read back with ``pandas.read_csv`` equals the table to the last bit; XLSX holds the 16
    significant digits that openpyxl (like Excel's other writers) stores for a number;
    only the formats people read round to :data:`READABLE_DIGITS` significant digits.

    Text is written so that no format runs or renders it: in every format, text that would
    start a spreadsheet formula gets a leading apostrophe (:func:`spreadsheet_safe`; HTML,
    Word and Markdown tables are pasted into spreadsheets too) and control characters are
    removed (:func:`printable`); HTML escapes its markup, Markdown and LaTeX escape their
    special characters, and line breaks inside a cell become spaces in the formats people read.
    Column names are treated like cells.
    """
    context = run_context()
    stem = Path(stem)
    if formats is None:
        formats = (context or {}).get("table_formats") or TABLE_FORMATS
    formats = [f for f in formats if markdown or f != "md"]
    unknown = [f for f in formats if f not in TABLE_FORMAT_CHOICES]
    if unknown:
        raise ValueError(f"formats={unknown}: not a table format; choose from "
                         f"{', '.join(TABLE_FORMAT_CHOICES)}")
    if readable_max_rows is not None and len(df) > readable_max_rows:
        left_out = [f for f in formats if f in READABLE_FORMATS]
        if left_out:
            formats = [f for f in formats if f not in READABLE_FORMATS]
            for fmt in left_out:  # a file from an earlier, shorter table would be stale now
                stem.with_name(f"{stem.name}.{fmt}").unlink(missing_ok=True)
            print(f"{stem.name}: {len(df)} rows, more than {readable_max_rows}; written as "
                  f"{', '.join(formats) or 'nothing'}, not {', '.join(left_out)}.")
    safe = _export_cells(df, printable, spreadsheet_safe)
    writers: dict[str, Callable[[Path], None]] = {
        "csv": lambda p: safe.to_csv(p, index=False),
        "md": lambda p: p.write_text(
            _export_cells(safe, _one_line, _markdown_text).to_markdown(
                index=False, floatfmt=f".{READABLE_DIGITS}g") + "\n", encoding="utf-8"),
        "tex": lambda p: p.write_text(
            _export_cells(safe, _one_line, _latex_text).to_latex(
                index=False, escape=False, na_rep="", float_format=_readable_float),
            encoding="utf-8"),
        "html": lambda p: p.write_text(_html_document(_export_cells(safe, _one_line), stem.name),
                                       encoding="utf-8"),
        "xlsx": lambda p: safe.to_excel(p, index=False, engine="openpyxl"),
        "docx": lambda p: _write_docx(safe, p, stem.name),
    }
    paths = [atomic_write(stem.with_name(f"{stem.name}.{fmt}"), writers[fmt]) for fmt in formats]
    _log_output(context, paths)
    return paths


def warm_up() -> None:
    """Save a small figure in every default format and a small table in every table format,
    all to memory, and keep nothing.

    The first figure a Python process saves loads its fonts and, for PDF, the font subsetter;
    the first table loads the Excel, Word, Markdown and LaTeX writers: about half a second a
    notebook. A warm kernel (:mod:`synth.kernels`) does this before its notebook starts, so the
    notebook does not wait for it. Nothing is drawn with pyplot and no setting is changed.
    """
    with MANUSCRIPT, mpl.rc_context(_saving_style()):
        fig = Figure(layout="constrained")
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], label="a")
        ax.legend()
        ax.set_title("0.9 \u2212 \u00b7 +", fontweight="bold")
        ax.set_xlabel(r"$\tau^2$")
        for fmt in FIGURE_FORMATS:
            fig.savefig(io.BytesIO(), format=fmt, dpi=PRINT_DPI)
    df = pd.DataFrame({"a": [0.5]})
    df.to_markdown(index=False)
    df.to_latex(index=False)
    df.to_html(index=False)
    df.to_excel(io.BytesIO(), index=False, engine="openpyxl")
    _write_docx(df, io.BytesIO(), "warm-up")


def output_dirs(review_name: str, *, figures_dir: str | Path = "figures",
                results_dir: str | Path = "results") -> tuple[Path, Path]:
    """``figures/<review>/`` and ``results/<review>/``, created if missing."""
    fig_dir = Path(figures_dir) / review_name
    res_dir = Path(results_dir) / review_name
    fig_dir.mkdir(parents=True, exist_ok=True)
    res_dir.mkdir(parents=True, exist_ok=True)
    return fig_dir, res_dir
