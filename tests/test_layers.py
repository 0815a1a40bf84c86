"""The layers stay layers: what each imports, module sizes, and one meaning per colour.

The import-linter contract in pyproject.toml (run by `make test` as `lint-imports`) checks the
static import graph; these tests check what actually happens at import time and the rules the
contract cannot state.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from conftest import ROOT

SRC = ROOT / "src" / "synth"
MAX_MODULE_LINES = 900

DATA_MODEL = ("synth.errors", "synth.files", "synth.vocabulary", "synth.schema",
              "synth.instruments", "synth.prisma_counts", "synth.io", "synth.consistency",
              "synth.review", "synth.template", "synth.importers")
ANALYSES = ("synth.intervals", "synth.meta", "synth.effects", "synth.auc", "synth.regression",
            "synth.quality", "synth.prisma", "synth.overview", "synth.explore", "synth.bivariate",
            "synth.dta", "synth.sensitivity", "synth.appraisal")
RUNNER = ("synth.config", "synth.kernels", "synth.runner")


def _loaded_after_import(module: str) -> set[str]:
    code = (f"import sys, {module}; "
            "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.split())


def test_import_synth_review_loads_no_matplotlib():
    assert "matplotlib" not in _loaded_after_import("synth.review")


@pytest.mark.parametrize("module", DATA_MODEL + ANALYSES)
def test_data_model_and_analyses_load_no_drawing_library(module):
    loaded = _loaded_after_import(module)
    assert not loaded & {"matplotlib", "seaborn"}, f"{module} loads {loaded & {'matplotlib'}}"


@pytest.mark.parametrize("module", RUNNER)
def test_runner_loads_neither_pandas_nor_matplotlib(module):
    """A re-run with nothing to do must return at once: no heavy import at start-up."""
    assert not _loaded_after_import(module) & {"pandas", "matplotlib", "papermill"}


def _synth_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("synth")
    return {m: {i for i in graph.find_modules_directly_imported_by(m) if i.startswith("synth")}
            for m in graph.modules if m.startswith("synth")}


def test_no_import_cycle():
    edges = _synth_graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for other in sorted(edges.get(module, ())):
            if state.get(other) == 1:
                cycle = path[path.index(other):] + [other]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_no_module_exceeds_the_size_limit():
    sizes = {p.relative_to(SRC).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in SRC.rglob("*.py")}
    too_long = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


_COLOUR_LITERAL = re.compile(
    r"""#[0-9A-Fa-f]{6}\b|(?:colou?r|facecolors?|edgecolors?|markerfacecolor|markeredgecolor|cmap)"""
    r"""\s*=\s*["'](?!none["'])[^"']+["']""")


@pytest.mark.parametrize("path", sorted(p for p in (SRC / "plots").glob("*.py")
                                        if p.name not in ("style.py", "__init__.py")),
                         ids=lambda p: p.name)
def test_plot_modules_take_every_colour_from_the_style(path: Path):
    """A colour means one thing: plot modules name colours only through synth.plots.style."""
    hits = [f"{path.name}:{i}: {m.group(0)}"
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            for m in _COLOUR_LITERAL.finditer(line)]
    assert not hits, "colour literals outside synth.plots.style:\n" + "\n".join(hits)


def test_each_colour_of_the_style_means_one_thing():
    from synth.plots import style

    # every named colour of the style: each aim's place in AIM_PALETTE, each single colour, each
    # entry of a colour mapping (one that only groups single colours adds nothing); not
    # OKABE_ITO (the palette colours are taken from) nor the PRISMA 2020 template's fills
    hexed = re.compile(r"#[0-9A-Fa-f]{6}")
    named = {n: getattr(style, n) for n in sorted(style.__all__)
             if n not in ("AIM_PALETTE", "OKABE_ITO", "PRISMA_FILLS")}
    data_marks = {f"aim {i + 1}": v for i, v in enumerate(style.AIM_PALETTE)}
    data_marks |= {n: v for n, v in named.items() if isinstance(v, str) and hexed.fullmatch(v)}
    singles = set(data_marks.values())
    for name, value in named.items():
        if (isinstance(value, dict) and value
                and all(isinstance(v, str) and hexed.fullmatch(v) for v in value.values())
                and not set(value.values()) <= singles):
            data_marks |= {f"{name} {k}": v for k, v in value.items()}
    assert {"aim 10", "NEUTRAL", "POINTS_LOST", "WARNING", "COHORT_COLOURS training",
            "NO_AUC"} <= set(data_marks)
    by_colour: dict[str, list[str]] = {}
    for name, colour in data_marks.items():
        by_colour.setdefault(colour.upper(), []).append(name)
    shared = {c: names for c, names in by_colour.items() if len(names) > 1}
    assert not shared, f"one colour, several meanings: {shared}"
