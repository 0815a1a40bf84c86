"""Shared fixtures: the demo review, corrupted copies of it, and figure clean-up."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
RESULTS = ROOT / "tests" / "results"
"""metafor's reference numbers for the BCG trials (made by metafor_bcg.R beside them)."""


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of data/demo, to corrupt one thing at a time."""
    dest = tmp_path / "demo"
    shutil.copytree(DEMO, dest)
    return dest


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace the first occurrence of a text in a file (the fixture fails if it is absent)."""
    return _edit


def line_of(path: Path, startswith: str) -> int:
    """Spreadsheet row (1-based file line) of the first line starting with ``startswith``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(startswith):
            return i
    raise AssertionError(f"no line starting with {startswith!r} in {path.name}")


@pytest.fixture(scope="session")
def reference():
    """metafor's numbers for dat_bcg.csv (see tests/results/metafor_bcg.R)."""
    import pandas as pd

    return pd.read_csv(RESULTS / "metafor_bcg.csv", comment="#")


def metafor_ref(reference, analysis: str, method: str, test: str) -> dict[str, float]:
    """One metafor analysis of ``reference`` as {quantity: value}."""
    rows = reference.query("analysis == @analysis and method == @method and test == @test")
    return dict(zip(rows["quantity"], rows["value"].astype(float), strict=True))


def sigint_default() -> None:
    """For a child process: Ctrl-C as in a terminal, also when the tests run in the background
    (a shell starts background jobs with SIGINT ignored, and Python then never raises
    KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
