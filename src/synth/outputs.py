"""Write figures and tables atomically: a failed run never leaves a half-written file.

Each file is written to a temporary name in the same folder and moved into place with
``os.replace``, so the last good version survives any failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["FIGURE_FORMATS", "atomic_path", "save_figure", "write_table", "output_dirs"]

FIGURE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
"""Default formats: PNG for screens and submission systems, SVG and PDF as vector."""

_SPREADSHEET_FORMULA = ("=", "+", "-", "@")


@contextmanager
def atomic_path(target: str | Path):
    """Yield a temporary path beside ``target``; move it onto ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix,
                               dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(target: Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(target) as tmp:
        writer(tmp)
    return target


def save_figure(fig: Figure, stem: str | Path, *, formats: Iterable[str] = FIGURE_FORMATS,
                dpi: int = 300, metadata: dict[str, str] | None = None) -> list[Path]:
    """Save ``fig`` as ``stem.<format>`` for each format; return the paths written.

    Every format is rendered to a temporary file first; only when all succeeded are they moved
    into place, so a failure leaves the previous set intact.
    """
    stem = Path(stem)
    formats = list(formats)
    unknown = [f for f in formats if f not in fig.canvas.get_supported_filetypes()]
    if unknown:
        supported = ", ".join(sorted(fig.canvas.get_supported_filetypes()))
        raise ValueError(f"formats={unknown}: not a figure format; choose from {supported}")
    stem.parent.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, Path]] = []
    try:
        for fmt in formats:
            target = stem.with_name(f"{stem.name}.{fmt}")
            fd, tmp = tempfile.mkstemp(prefix=f".{stem.name}.", suffix=f".{fmt}",
                                       dir=stem.parent)
            os.close(fd)
            temps.append((Path(tmp), target))
            meta = _figure_metadata(fmt, metadata)
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)
        for tmp, target in temps:
            os.replace(tmp, target)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    return [t for _, t in temps]


def _figure_metadata(fmt: str, metadata: dict[str, str] | None) -> dict[str, str] | None:
    if not metadata:
        return None
    if fmt == "png":
        return dict(metadata)
    if fmt == "pdf":
        return {"Subject": "; ".join(f"{k}={v}" for k, v in metadata.items())}
    if fmt == "svg":
        return {"Description": "; ".join(f"{k}={v}" for k, v in metadata.items())}
    return None


def _safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_SPREADSHEET_FORMULA):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def write_table(df: pd.DataFrame, stem: str | Path, *, float_format: str = "%.4g",
                markdown: bool = True) -> list[Path]:
    """Write ``df`` as ``stem.csv`` (and ``stem.md``), atomically; return the paths written."""
    stem = Path(stem)
    safe = df.map(_safe_cell) if len(df) else df
    paths = [_write(stem.with_name(stem.name + ".csv"),
                    lambda p: safe.to_csv(p, index=False, float_format=float_format))]
    if markdown:
        md = df.to_markdown(index=False, floatfmt=".3g") + "\n"
        paths.append(_write(stem.with_name(stem.name + ".md"),
                            lambda p: p.write_text(md, encoding="utf-8")))
    return paths


def output_dirs(review_name: str, *, figures_dir: str | Path = "figures",
                results_dir: str | Path = "results") -> tuple[Path, Path]:
    """``figures/<review>/`` and ``results/<review>/``, created if missing."""
    fig_dir = Path(figures_dir) / review_name
    res_dir = Path(results_dir) / review_name
    fig_dir.mkdir(parents=True, exist_ok=True)
    res_dir.mkdir(parents=True, exist_ok=True)
    return fig_dir, res_dir
