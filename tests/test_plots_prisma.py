"""synth.plots.prisma: the PRISMA 2020 flow diagram is tidy for every shape of counts."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from conftest import DEMO, ROOT
from matplotlib.figure import Figure

from synth import load_review, prisma
from synth.plots.prisma import plot_prisma_flow
from synth.prisma_counts import PrismaCounts

GEPNET = ROOT / "data" / "gepnet-public"


@pytest.fixture(scope="module")
def demo() -> PrismaCounts:
    return load_review(DEMO).prisma


def _texts(fig: Figure) -> dict:
    return {t.get_gid(): t for t in fig.findobj() if getattr(t, "get_gid", None)
            and str(t.get_gid()).startswith("text:")}


def _assert_tidy(fig: Figure) -> None:
    """Every text inside its box, no two boxes overlapping, everything inside the figure."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    fig_bb = fig.bbox
    boxes = {p.get_gid()[4:]: p.get_window_extent(r) for p in fig.findobj()
             if str(p.get_gid()).startswith("box:")}
    texts = {k[5:]: t.get_window_extent(r) for k, t in _texts(fig).items()}
    assert boxes and set(texts) - {"notes"} == set(boxes)
    tol = 0.5  # pixels
    for name, tb in texts.items():
        outer = fig_bb if name == "notes" else boxes[name]
        assert (tb.x0 >= outer.x0 - tol and tb.x1 <= outer.x1 + tol and tb.y0 >= outer.y0 - tol
                and tb.y1 <= outer.y1 + tol), f"text of {name} overflows: {tb} not in {outer}"
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        overlap_w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        overlap_h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        assert overlap_w <= 0 or overlap_h <= 0, f"boxes {a} and {b} overlap"
    for name, bb in boxes.items():
        assert fig_bb.x0 <= bb.x0 and bb.x1 <= fig_bb.x1 + tol and fig_bb.y0 <= bb.y0 and (
            bb.y1 <= fig_bb.y1 + tol), f"box {name} outside the figure"
    if "notes" in texts:
        assert all(texts["notes"].y1 < bb.y0 for bb in boxes.values())
    sup = fig.get_suptitle()
    if sup:
        title = next(t for t in fig.findobj() if getattr(t, "get_text", None)
                     and t.get_text() == sup and t.get_gid() is None)
        tb = title.get_window_extent(r)
        assert tb.y0 > max(bb.y1 for bb in boxes.values()) and tb.y1 <= fig_bb.y1


def _demo_counts() -> PrismaCounts:
    return load_review(DEMO).prisma


def _cases() -> dict[str, PrismaCounts]:
    d = _demo_counts()
    twelve = {f"Reason {i}: {'no radiomics analysis of the primary tumour ' * (i % 3)}".strip():
              i for i in range(1, 13)}
    twelve["Reason 1: no radiomics analysis of the primary tumour"] = 16  # 16 + 2 + ... + 12 = 93
    long_names = {"Wiley Online Library / Cochrane Central Register of Controlled Trials "
                  "(CENTRAL), searched via the Cochrane Library": 174,
                  "Embase.com (Elsevier) including Embase-only MEDLINE records": 1021,
                  "PubMed": 812}
    big = dict(databases={"PubMed": 48123, "Embase": 61204, "Scopus": 38777},
               registers={"ClinicalTrials.gov": 10321}, duplicates=60113, automation=12004,
               removed_other=1033, screened=85275, excluded_screening=84012, sought=1263,
               not_retrieved=12, assessed=1251, excluded_reasons={"Wrong population": 1206},
               studies_included=45, reports_included=45, other_methods=None)
    return {
        "demo": d,
        "real (mostly not reported)": load_review(GEPNET).prisma,
        "no registers, no other methods": dataclasses.replace(d, other_methods=None,
                                                              studies_included=40,
                                                              reports_included=40),
        "registers": dataclasses.replace(d, registers={"ClinicalTrials.gov": 12,
                                                       "WHO ICTRP": 3}, duplicates=658),
        "12 exclusion reasons": dataclasses.replace(d, excluded_reasons=twelve),
        "long database names": dataclasses.replace(d, databases=long_names),
        "5-digit counts": dataclasses.replace(d, **big),
        "nothing reported": PrismaCounts(),
        "updated review": dataclasses.replace(d, previous_studies=12, studies_included=57),
        "warnings": dataclasses.replace(d, screened=1200, strict=False),
    }


CASES = list(_cases())
ONE_COLUMN_CASES = [k for k, c in _cases().items() if c.other_methods is None]


@pytest.mark.parametrize("case", CASES)
def test_layout_is_tidy(case: str):
    counts = _cases()[case]
    fig = plot_prisma_flow(counts, synthetic=case == "demo")
    _assert_tidy(fig)
    assert fig.get_figwidth() * 25.4 == pytest.approx(170)
    assert fig.get_figheight() * 25.4 <= 240
    if case != "warnings":
        assert "text:notes" not in _texts(fig)


@pytest.mark.parametrize("case", ONE_COLUMN_CASES)
def test_one_column_layout_is_tidy(case: str):
    fig = plot_prisma_flow(_cases()[case], width="one")
    _assert_tidy(fig)
    assert fig.get_figwidth() * 25.4 == pytest.approx(85)


def test_one_column_is_too_narrow_for_other_methods(demo):
    # 4 columns, narrowest weighted 1.1 of 4.5, must be ≥ 22 mm: 90 mm of boxes + 28.6 mm of
    # margins, phase labels and gaps = 118.6 mm
    with pytest.raises(ValueError, match=r"width=85 mm is too narrow for 4 columns of boxes .*"
                                         r"use 'two' \(170 mm\) or at least 119 mm"):
        plot_prisma_flow(demo, width="one")


def test_layout_has_the_prisma_boxes_and_columns():
    names = {k[5:] for k in _texts(plot_prisma_flow(_demo_counts()))}
    assert {"A1", "B1", "A2", "B2", "A3", "B3", "A4", "B4", "A5", "C1", "C3", "D3", "C4", "D4",
            "H_main", "H_other", "L_identification", "L_screening", "L_included"} == names
    single = plot_prisma_flow(_cases()["no registers, no other methods"])
    assert not {k for k in _texts(single) if k[5] in "CD"}


def test_real_review_diagram_shows_not_reported_and_invents_nothing():
    fig = plot_prisma_flow(load_review(GEPNET).prisma)
    text = " ".join(t.get_text() for t in _texts(fig).values()).replace("\u00a0", " ")
    assert "(n = 1,364)" in text and "(n = 45)" in text
    assert text.count("not reported") >= 10
    import re
    assert set(re.findall(r"n = ([\d,]+)", text)) == {"1,364", "45"}


def test_text_is_wrapped_then_shrunk():
    d = _demo_counts()
    huge = dataclasses.replace(d, databases={"Supercalifragilisticexpialidocious" * 3: 2007})
    fig = plot_prisma_flow(huge)
    _assert_tidy(fig)
    texts = _texts(fig)
    assert texts["text:A1"].get_fontsize() < texts["text:A2"].get_fontsize()


def test_draws_into_a_given_axes(demo):
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(170 / 25.4, 140 / 25.4))
    ax = fig.add_axes((0, 0, 1, 1))
    assert plot_prisma_flow(demo, ax=ax) is fig
    assert "text:A1" in _texts(fig)
    _assert_tidy(fig)


def test_width_is_checked(demo):
    with pytest.raises(ValueError, match="width='three'"):
        plot_prisma_flow(demo, width="three")


def test_strict_false_loads_and_warns_under_the_figure(demo_copy: Path, edit):
    edit(demo_copy / "prisma.yaml", "screened: 1364", "screened: 1200\nstrict: false")
    counts = load_review(demo_copy).prisma
    assert counts.strict is False
    assert prisma.count_mismatches(counts)[0] == (
        "screened (1200) ≠ identified (2007) − removed before screening (643)")
    fig = plot_prisma_flow(counts)
    notes = _texts(fig)["text:notes"].get_text()
    assert "the counts do not add up" in notes and "screened (1200) ≠ identified (2007)" in notes
    _assert_tidy(fig)
