"""Atomic outputs: a failed write leaves the previous file intact."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from synth.outputs import save_figure, write_table
from synth.style import MANUSCRIPT, new_figure


def test_save_figure_writes_every_format(tmp_path: Path):
    fig, ax = new_figure("one", 40)
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "f", formats=["png", "svg", "pdf"])
    assert [p.name for p in paths] == ["f.png", "f.svg", "f.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "f.svg"]


def test_failed_save_keeps_the_last_good_figure(tmp_path: Path, monkeypatch):
    fig, ax = new_figure("one", 40)
    save_figure(fig, tmp_path / "f", formats=["png", "pdf"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    ax.plot([0, 1], [1, 0])
    real = fig.savefig

    def fail_on_pdf(fname, *args, format=None, **kw):
        if format == "pdf":
            raise OSError("disk full")
        return real(fname, *args, format=format, **kw)

    monkeypatch.setattr(fig, "savefig", fail_on_pdf)
    with pytest.raises(OSError, match="disk full"):
        save_figure(fig, tmp_path / "f", formats=["png", "pdf"])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_unknown_format_is_rejected(tmp_path: Path):
    fig, _ = new_figure()
    with pytest.raises(ValueError, match=r"formats=\['jpgg'\]: not a figure format"):
        save_figure(fig, tmp_path / "f", formats=["jpgg"])


def test_write_table_csv_and_markdown_and_no_formula_injection(tmp_path: Path):
    df = pd.DataFrame({"study": ["=HYPERLINK(1)", "a"], "auc": [0.8, -0.1]})
    paths = write_table(df, tmp_path / "t")
    assert [p.name for p in paths] == ["t.csv", "t.md"]
    csv = (tmp_path / "t.csv").read_text()
    assert "'=HYPERLINK(1)" in csv and "-0.1" in csv
    assert "| study" in (tmp_path / "t.md").read_text()


def test_style_changes_no_global_setting():
    before = dict(plt.rcParams)
    with MANUSCRIPT:
        assert plt.rcParams["font.size"] == MANUSCRIPT.font_size
    fig, _ = new_figure("two", 50)
    assert abs(fig.get_figwidth() * 25.4 - 170) < 0.01
    assert dict(plt.rcParams) == before


def test_bad_width_is_explained():
    with pytest.raises(ValueError, match="width='three': use 'one', 'two' or a width in mil"):
        new_figure("three")
