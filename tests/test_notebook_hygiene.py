"""Notebooks open cleanly by hand: a header, plain documented parameters, no volatile metadata.

tests/test_packaging.py checks that notebooks are committed without outputs or execution counts
and that the parameters cell points at the demo; this adds what a person opening the notebook in
JupyterLab relies on, and that the nbstripout hook offered in the README is configured.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CELL_METADATA = {"tags"}
"""Cell metadata a committed notebook may keep (``parameters`` is a tag); JupyterLab adds
others (``collapsed``, ``scrolled``, ``execution``, ``jupyter``) that nbstripout removes."""
NOTEBOOK_METADATA = {"kernelspec", "language_info"}
SHARED_DEFAULTS = {"review": "../data/demo", "figures_dir": "../figures",
                   "results_dir": "../results"}


def _parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request) -> tuple[Path, nbformat.NotebookNode]:
    path: Path = request.param
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return path, nb


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_header_says_what_the_notebook_shows_and_which_parameters_matter(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name}: start with a markdown header"
    number = path.name[:2]
    assert re.match(rf"# {number} · \S", first.source), (
        f"{path.name}: the header's title is '# {number} · <topic>'")
    assert len(first.source.splitlines()) >= 3, f"{path.name}: say what the notebook shows"
    names = set(papermill.inspect_notebook(str(path)))
    named = set(re.findall(r"`([A-Za-z_]\w*)`", first.source)) & names
    assert "parameters" in first.source.lower() and named, (
        f"{path.name}: the header names the parameters that matter, e.g. `review`")


def test_parameters_are_plain_documented_literals(notebook):
    path, nb = notebook
    cell = _parameters_cell(nb)
    assert nb.cells.index(cell) == 1, f"{path.name}: the parameters cell follows the header"
    tree = ast.parse(cell.source)
    lines = cell.source.splitlines()
    for node in tree.body:
        where = f"{path.name} parameters line {node.lineno}"
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name), (
            f"{where}: write `name: type = value  # help`")
        assert node.value is not None, f"{where}: give a default"
        try:
            ast.literal_eval(node.value)
        except ValueError:
            pytest.fail(f"{where}: the default must be a plain literal, not an expression")
        assert node.end_lineno == node.lineno, f"{where}: one line per parameter"
    inspected = papermill.inspect_notebook(str(path))
    assert len(inspected) == len(tree.body) > 0
    for name, spec in inspected.items():
        assert spec["help"].strip(), f"{path.name}: parameter {name} has no `# help` comment"
        assert spec["inferred_type_name"] != "None", f"{path.name}: {name} has no type"
    for name, default in SHARED_DEFAULTS.items():
        assert name in inspected, f"{path.name}: every notebook takes {name}"
        assert ast.literal_eval(inspected[name]["default"]) == default, (path.name, name)
    assert all(line.strip() for line in lines), f"{path.name}: no blank lines in parameters"


def test_no_volatile_metadata(notebook):
    path, nb = notebook
    assert set(nb.metadata) <= NOTEBOOK_METADATA, (
        f"{path.name}: notebook metadata {sorted(set(nb.metadata) - NOTEBOOK_METADATA)}; "
        f"run nbstripout")
    assert nb.metadata.kernelspec.name == "python3", path.name
    for i, cell in enumerate(nb.cells):
        extra = set(cell.metadata) - CELL_METADATA
        assert not extra, f"{path.name} cell {i}: metadata {sorted(extra)}; run nbstripout"
        assert "attachments" not in cell, f"{path.name} cell {i}: pasted attachment"


def test_precommit_offers_nbstripout_for_the_notebooks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: (repo, hook) for repo in config["repos"] for hook in repo["hooks"]}
    repo, hook = hooks["nbstripout"]
    assert repo["repo"] == "https://github.com/kynan/nbstripout"
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(repo["rev"])), "pin a released version"
    assert all(re.search(hook.get("files", ""), f"notebooks/{p.name}") for p in NOTEBOOKS)


MAX_CODE_LINES = 40
"""Code lines a notebook may hold besides its parameters cell (issue 13: notebooks stay thin;
anything a test should check lives in src/synth/)."""


def test_notebooks_stay_thin(notebook):
    path, nb = notebook
    cells = [c for c in nb.cells if c.cell_type == "code"
             and "parameters" not in c.metadata.get("tags", [])]
    lines = [line for c in cells for line in c.source.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert len(lines) <= MAX_CODE_LINES, (
        f"{path.name}: {len(lines)} code lines besides the parameters cell; at most "
        f"{MAX_CODE_LINES} — move loops and computations into the synth package")
    for c in cells:
        assert not re.search(r"^\s*(def|class) ", c.source, re.M), (
            f"{path.name}: a def or class in a notebook belongs in the package")
