"""Atomic outputs: a failed write leaves the previous file intact."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import openpyxl
import pandas as pd
import pytest
from PIL import Image

from synth.files import RUN_CONTEXT_ENV
from synth.outputs import save_figure, spreadsheet_safe, write_table
from synth.plots.style import HIGH_DPI, MANUSCRIPT, new_figure


def test_save_figure_writes_every_format(tmp_path: Path):
    fig, ax = new_figure("one", 40)
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "f", formats=["png", "svg", "pdf"])
    assert [p.name for p in paths] == ["f.png", "f.svg", "f.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "f.svg"]


def test_one_layout_pass_draws_what_matplotlib_draws(tmp_path: Path):
    import numpy as np

    def figure():
        fig, axes = new_figure("one", 50, ncols=2)
        for ax in axes:
            ax.barh(["a long category label", "b"], [3, 5], label="series")
            ax.set_xlabel("A long axis label that constrained layout must make room for")
            ax.legend(loc="lower right")
        fig.suptitle("Title")
        return fig

    once = figure()
    save_figure(once, tmp_path / "once", formats=["png"])
    assert once.get_layout_engine() is not None  # restored after the save
    import matplotlib as mpl

    from synth.outputs import _saving_style

    with mpl.rc_context(_saving_style()):
        figure().savefig(tmp_path / "matplotlib.png", dpi=300)
    with Image.open(tmp_path / "once.png") as a, Image.open(tmp_path / "matplotlib.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_figures_are_saved_in_the_manuscript_font(tmp_path: Path):
    """Text resolves its font when drawn, i.e. when saved: the save uses the style's font."""
    from synth.plots.style import sans_family

    fig, ax = new_figure("one", 30)
    ax.set_title("Forest plot")
    save_figure(fig, tmp_path / "f", formats=["svg"])
    import re

    families = set(re.findall(r"font-family: '([^']+)'", (tmp_path / "f.svg").read_text()))
    assert families == {sans_family()}


def test_outputs_get_the_permissions_of_a_new_file(tmp_path: Path):
    fig, _ = new_figure("one", 40)
    paths = [*save_figure(fig, tmp_path / "f", formats=["png"]),
             *write_table(pd.DataFrame({"a": [1]}), tmp_path / "t", formats=["csv"])]
    (tmp_path / "plain").write_text("")
    expected = (tmp_path / "plain").stat().st_mode & 0o777
    assert [p.stat().st_mode & 0o777 for p in paths] == [expected, expected]


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
    assert [p.name for p in paths] == ["t.csv", "t.md", "t.tex", "t.html"]
    csv = (tmp_path / "t.csv").read_text()
    assert "'=HYPERLINK(1)" in csv and "-0.1" in csv
    assert "| study" in (tmp_path / "t.md").read_text()
    assert [p.name for p in write_table(df, tmp_path / "u", markdown=False)] == [
        "u.csv", "u.tex", "u.html"]


def test_csv_and_xlsx_keep_every_digit_readable_formats_round(tmp_path: Path):
    """A table read back from CSV equals the computed one to the last bit (issue 13)."""
    import numpy as np

    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "study": ["a", "b", "c", "d", "e"],
        "estimate": [0.1 + 0.2, 1 / 3, np.pi * 1e-12, -2.718281828459045e300, 5e-324],
        "noise": rng.normal(size=5),
        "k": [1, 2, 3, 4, 5],
        "missing": [0.5, None, 0.25, None, 1.0],
    })
    write_table(df, tmp_path / "t", formats=["csv", "xlsx", "md", "html"])
    back = pd.read_csv(tmp_path / "t.csv")
    for col in ("estimate", "noise", "missing"):
        assert np.array_equal(back[col].to_numpy(), df[col].to_numpy(), equal_nan=True), col
    assert back["k"].tolist() == df["k"].tolist()
    xlsx = pd.read_excel(tmp_path / "t.xlsx")
    # openpyxl, like Excel's other writers, stores a number as 16 significant digits ("%.16g")
    for col in ("estimate", "noise"):
        assert np.allclose(xlsx[col], df[col], rtol=1e-15, atol=0), col
    md = (tmp_path / "t.md").read_text()
    assert "0.333" in md and "0.3333" not in md


def test_write_table_latex_html_and_xlsx(tmp_path: Path):
    df = pd.DataFrame({"study_id": ["gu_2019", "@SUM(A1)", "=1+1", "-2"],
                       "auc": [0.81234, 0.9, None, 0.5]})
    write_table(df, tmp_path / "t", formats=["tex", "html", "xlsx"])
    tex = (tmp_path / "t.tex").read_text()
    assert "\\toprule" in tex and "gu\\_2019" in tex and "0.812 " in tex
    html = (tmp_path / "t.html").read_text()
    assert '<meta charset="utf-8">' in html and "<td>gu_2019</td>" in html
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    cells = [(c.value, c.data_type) for c in sheet["A"][1:]]
    assert cells == [("gu_2019", "s"), ("'@SUM(A1)", "s"), ("'=1+1", "s"), ("-2", "s")]
    assert spreadsheet_safe("-2") == "-2" and spreadsheet_safe(-2) == -2


def test_write_table_docx_is_a_word_table(tmp_path: Path):
    from docx import Document

    df = pd.DataFrame({"study_id": ["gu_2019", "=1+1"], "auc": [0.81234, None], "n": [56, 7]})
    (path,) = write_table(df, tmp_path / "t", formats=["docx"])
    (table,) = Document(str(path)).tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows == [["study_id", "auc", "n"], ["gu_2019", "0.812", "56"], ["'=1+1", "", "7"]]
    assert all(run.bold for cell in table.rows[0].cells for run in cell.paragraphs[0].runs)


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", " =1+1", "\t=1+1",
                                   "\r=1+1", "\n=1+1", "  \t@x", "\tplain", "\uff1d1+1"])
def test_spreadsheet_safe_neutralises_formulas_behind_whitespace(value: str):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["-0.1", "+2", "1e-3", "plain", "a=b", " text", 3, None])
def test_spreadsheet_safe_leaves_numbers_and_text_alone(value):
    assert spreadsheet_safe(value) == value


HOSTILE = pd.DataFrame({
    "=cmd|' /C calc'!A0": ["\t=HYPERLINK(\"http://x\")", "<script>alert(1)</script>",
                           "a|b *c* _d_ [e](f) `g` ~h~ &amp;", "100% $x$ #1 {a} ^b~ \\par"],
    "n": [1, 2, 3, 4],
})


def test_every_format_neutralises_formulas_and_escapes_markup(tmp_path: Path):
    from docx import Document

    write_table(HOSTILE, tmp_path / "t", formats=["csv", "xlsx", "html", "md", "tex", "docx"])
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back.columns)[0].startswith("'=") and back.iloc[0, 0].startswith("'\t=")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert [c.data_type for row in sheet.iter_rows() for c in row] == ["s", "s"] + ["s", "n"] * 4
    assert sheet["A1"].value.startswith("'=") and sheet["A2"].value.startswith("'\t=")
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and ">'=cmd" in page
    md = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert "\\<script\\>" in md and "a\\|b \\*c\\* \\_d\\_ \\[e\\](f) \\`g\\` \\~h\\~ \\&amp;" in md
    assert all(line.count("|") - line.count("\\|") == 3 for line in md.splitlines())
    tex = (tmp_path / "t.tex").read_text(encoding="utf-8")
    assert r"100\% \$x\$ \#1 \{a\} \textasciicircum{}b\textasciitilde{} \textbackslash{}par" in tex
    assert r"\textless{}script\textgreater{}" in tex
    (table,) = Document(str(tmp_path / "t.docx")).tables
    assert table.rows[0].cells[0].text.startswith("'=") and table.rows[1].cells[0].text[:2] == "'\t"


def test_control_characters_are_removed_in_every_format_never_fatal(tmp_path: Path):
    from docx import Document

    df = pd.DataFrame({"title\x07": ["Bell\x07 and NUL\x00 and \x1b[31mred",
                                      "line\nbreak\r\nand tab\t", "surrogate \udce9"]})
    stem = tmp_path / "title\x0b"
    paths = write_table(df, stem, formats=["csv", "xlsx", "html", "md", "tex", "docx"])
    assert len(paths) == 6
    for path in paths:
        if path.suffix in (".csv", ".html", ".md", ".tex"):
            text = path.read_text(encoding="utf-8")
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", text), path.suffix
            assert "Bell and NUL and " in text and "surrogate \ufffd" in text
    assert "line break and tab" in (tmp_path / "title\x0b.md").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(paths[1]).active
    assert sheet["A1"].value == "title" and sheet["A3"].value == "line\nbreak\r\nand tab\t"
    doc = Document(str(paths[-1]))
    assert doc.core_properties.title == "title" and doc.tables[0].rows[1].cells[0].text.startswith(
        "Bell and NUL")


def test_long_tables_go_to_spreadsheet_formats_only(tmp_path: Path, capsys):
    df = pd.DataFrame({"study_id": [f"s{i}" for i in range(5)], "auc": 0.8})
    (tmp_path / "t.tex").write_text("stale")
    paths = write_table(df, tmp_path / "t", formats=["csv", "tex", "md"], readable_max_rows=4)
    assert [p.name for p in paths] == ["t.csv"] and not (tmp_path / "t.tex").exists()
    assert capsys.readouterr().out == "t: 5 rows, more than 4; written as csv, not tex, md.\n"
    paths = write_table(df, tmp_path / "u", formats=["csv", "tex"], readable_max_rows=5)
    assert [p.name for p in paths] == ["u.csv", "u.tex"]


def test_every_format_synth_yaml_accepts_can_be_written(tmp_path: Path):
    from synth.files import (
        FIGURE_FORMAT_CHOICES,
        MACHINE_FORMATS,
        READABLE_FORMATS,
        TABLE_FORMAT_CHOICES,
        TABLE_FORMATS,
    )

    assert set(TABLE_FORMAT_CHOICES) == set(MACHINE_FORMATS) | set(READABLE_FORMATS)
    assert set(TABLE_FORMATS) <= set(TABLE_FORMAT_CHOICES)
    paths = write_table(pd.DataFrame({"a": [0.5]}), tmp_path / "t",
                        formats=list(TABLE_FORMAT_CHOICES))
    assert [p.suffix[1:] for p in paths] == list(TABLE_FORMAT_CHOICES)
    fig, _ = new_figure("one", 30)
    assert set(FIGURE_FORMAT_CHOICES) <= set(fig.canvas.get_supported_filetypes())


def test_write_table_rejects_unknown_format(tmp_path: Path):
    with pytest.raises(ValueError, match=r"formats=\['doc'\]: not a table format; choose from"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t", formats=["doc"])


def test_tiff_is_lzw_rgb_at_the_requested_dpi(tmp_path: Path):
    fig, ax = new_figure("one", 40)
    ax.plot([0, 1], [0, 1])
    (path,) = save_figure(fig, tmp_path / "f", formats=["tiff"], dpi=HIGH_DPI)
    with Image.open(path) as im:
        assert im.format == "TIFF" and im.mode == "RGB"
        assert im.info["compression"] == "tiff_lzw"
        assert round(im.info["dpi"][0]) == 600
        assert abs(im.size[0] / 600 * 25.4 - 85) < 0.5


def test_inside_a_run_outputs_carry_provenance_and_are_logged(tmp_path: Path, monkeypatch):
    log = tmp_path / "outputs.jsonl"
    context = {"review": "demo", "notebook": "01_x.ipynb", "parameters": {"width": "one"},
               "inputs": {"data/demo/studies.csv": "abc123"}, "packages": {"pandas": "9"},
               "time": "2026-01-01T00:00:00+00:00", "figure_formats": ["png", "pdf"],
               "dpi": 150, "table_formats": ["csv"], "log": str(log)}
    (tmp_path / "ctx.json").write_text(json.dumps(context))
    monkeypatch.setenv(RUN_CONTEXT_ENV, str(tmp_path / "ctx.json"))
    fig, ax = new_figure("one", 40)
    figs = save_figure(fig, tmp_path / "f")
    tables = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t")
    assert [p.name for p in figs] == ["f.png", "f.pdf"]
    assert [p.name for p in tables] == ["t.csv"]
    with Image.open(tmp_path / "f.png") as im:
        assert round(im.info["dpi"][0]) == 150
        prov = json.loads(im.text["Provenance"])
    assert prov == {k: context[k] for k in ("review", "notebook", "parameters", "inputs",
                                            "packages", "time")}
    assert b"abc123" in (tmp_path / "f.pdf").read_bytes()
    logged = [json.loads(line)["path"] for line in log.read_text().splitlines()]
    assert logged == [str(p.resolve()) for p in (*figs, *tables)]


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
