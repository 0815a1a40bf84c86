"""Table 1 counts and studies per year (synth.overview) and its figure
(synth.plots.overview)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
from conftest import DEMO
from matplotlib.colors import to_hex

from synth import load_review
from synth.overview import (
    NO_AUC_LABEL,
    studies_per_year,
    study_characteristics,
)
from synth.plots import style as st
from synth.plots.overview import plot_studies_per_year
from synth.plots.style import SYNTHETIC_LABEL
from synth.vocabulary import Aim


def test_each_characteristic_counts_every_study_once():
    rv = load_review(DEMO)
    table = study_characteristics(rv)
    assert list(table.columns) == ["characteristic", "category", "n_studies", "percent"]
    per = table.groupby("characteristic", sort=False)["n_studies"].sum()
    for name in ("Publication year", "Tumour site", "Imaging modality", "Study design",
                 "Centres", "Validation"):
        assert per[name] == len(rv.studies), name
    # each demo study reports exactly one aim
    assert per["Aim"] == len(rv.studies)
    site = table[table["characteristic"] == "Tumour site"].set_index("category")["n_studies"]
    assert site.to_dict() == rv.studies["site"].value_counts().to_dict()


def test_missing_values_are_counted_as_not_reported(demo_copy: Path):
    studies = pd.read_csv(demo_copy / "studies.csv", dtype=str, keep_default_na=False)
    studies.loc[:4, "design"] = ""
    studies.to_csv(demo_copy / "studies.csv", index=False)
    table = study_characteristics(load_review(demo_copy))
    row = table[(table["characteristic"] == "Study design")
                & (table["category"] == "not reported")]
    assert row["n_studies"].item() == 5
    assert row["percent"].item() == round(5 / 45 * 100, 1)


def test_studies_without_auc_are_kept(demo_copy: Path):
    perf = pd.read_csv(demo_copy / "performance.csv", dtype=str, keep_default_na=False)
    perf[perf["study_id"] != "demo01"].to_csv(demo_copy / "performance.csv", index=False)
    counts = studies_per_year(load_review(demo_copy))
    assert counts.loc[counts["aim"] == NO_AUC_LABEL, "n_studies"].sum() == 1
    assert counts["n_studies"].sum() == 45


def test_studies_per_year_spans_every_year_and_aim():
    rv = load_review(DEMO)
    counts = studies_per_year(rv)
    years = range(rv.studies["year"].min(), rv.studies["year"].max() + 1)
    assert set(counts["year"]) == set(years)
    assert counts["aim"].unique().tolist() == [*rv.vocabulary.aim_names, NO_AUC_LABEL]
    assert counts["n_studies"].sum() == 45
    by_year = counts.groupby("year")["n_studies"].sum()
    assert by_year.to_dict() == {y: int((rv.studies["year"] == y).sum()) for y in years}


def test_plot_marks_synthetic_data_and_fits_one_column():
    rv = load_review(DEMO)
    fig = plot_studies_per_year(studies_per_year(rv), synthetic=True)
    assert fig._suptitle is not None and fig._suptitle.get_text() == SYNTHETIC_LABEL
    assert abs(fig.get_figwidth() * 25.4 - 85) < 0.01
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    figbox = fig.bbox
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible()):
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        assert box.x0 >= figbox.x0 - 1 and box.x1 <= figbox.x1 + 1, text.get_text()
        assert box.y0 >= figbox.y0 - 1 and box.y1 <= figbox.y1 + 1, text.get_text()


def test_real_data_are_not_marked():
    fig = plot_studies_per_year(studies_per_year(load_review(DEMO)), synthetic=False)
    assert fig._suptitle is None


def test_bars_take_the_aim_colours_and_no_auc(demo_copy: Path):
    perf = pd.read_csv(demo_copy / "performance.csv", dtype=str, keep_default_na=False)
    perf[perf["study_id"] != "demo01"].to_csv(demo_copy / "performance.csv", index=False)
    rv = load_review(demo_copy)
    labelled = replace(rv.vocabulary, aims=tuple(Aim(a, f"{a} (label)")
                                                 for a in rv.vocabulary.aim_names))
    fig = plot_studies_per_year(studies_per_year(rv), vocabulary=labelled)
    legend = fig.legends[0]
    colours = {t.get_text(): to_hex(h.get_facecolor())
               for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)}
    assert colours == {**{f"{a} (label)": to_hex(c) for a, c in zip(
        rv.vocabulary.aim_names, st.AIM_PALETTE, strict=False)}, NO_AUC_LABEL: to_hex(st.NO_AUC)}


def test_aims_follow_the_declared_order_and_undeclared_aims_come_after(demo_copy: Path):
    rv = load_review(demo_copy)
    reordered = replace(rv, vocabulary=replace(rv.vocabulary, aims=tuple(
        Aim(a, a) for a in ("outcome", "grade", "response"))))
    counts = studies_per_year(reordered)
    assert counts["aim"].unique().tolist() == ["outcome", "grade", "response",
                                               "differential diagnosis", NO_AUC_LABEL]
    aims = study_characteristics(reordered).query("characteristic == 'Aim'")["category"]
    assert aims.tolist() == ["outcome", "grade", "response", "differential diagnosis"]


def test_overview_draws_nothing():
    import subprocess
    import sys

    code = "import sys, synth.overview; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_ten_aims_and_no_auc_all_have_a_legend_entry_inside_the_figure():
    rv = load_review(DEMO)
    ten = replace(rv.vocabulary, aims=tuple(Aim(f"aim{i}", f"A longer aim label {i}")
                                            for i in range(10)))
    counts = pd.DataFrame([{"year": y, "aim": a, "n_studies": 1}
                           for y in (2020, 2021) for a in [*ten.aim_names, NO_AUC_LABEL]])
    fig = plot_studies_per_year(counts, vocabulary=ten)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == [a.label for a in ten.aims] + [NO_AUC_LABEL]
    with st.MANUSCRIPT:  # as outputs.save_figure draws it (the font family)
        fig.canvas.draw()
    for text in fig.legends[0].get_texts():
        box = text.get_window_extent()
        assert fig.bbox.x0 - 1 <= box.x0 and box.x1 <= fig.bbox.x1 + 1, text.get_text()
        assert fig.bbox.y0 - 1 <= box.y0, text.get_text()
