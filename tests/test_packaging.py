"""The project's declared environment, generated docs and shipped data stay consistent."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from conftest import DEMO, ROOT

from synth.schema import data_dictionary

# Same package under a different name on PyPI and conda-forge.
_PYPI_TO_CONDA: dict[str, str] = {}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_pyproject_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = {_name(r) for r in project["dependencies"]}
    pip_side |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert {_PYPI_TO_CONDA.get(n, n) for n in pip_side} == conda_side
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_block


def test_data_dictionary_is_current():
    committed = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(), (
        "data/README.md drifted from the schemas: run `make dictionary`")


def test_demo_data_is_what_the_seeded_script_makes(tmp_path: Path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo.py"), str(tmp_path)],
                   check=True, capture_output=True)
    shipped = sorted(p.name for p in DEMO.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name


def test_demo_is_labelled_synthetic():
    assert yaml.safe_load((DEMO / "review.yaml").read_text())["synthetic"] is True
    assert "SYNTHETIC" in (DEMO / "README.md").read_text()


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path.name} has outputs"
                assert cell.get("execution_count") is None, f"{path.name} has counts"


def test_every_notebook_has_a_parameters_cell_pointing_at_the_demo():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1, path.name
        source = "".join(tagged[0]["source"])
        assert 'review: str = "../data/demo"' in source, path.name
        assert not any("def " in "".join(c["source"]) for c in nb["cells"]
                       if c["cell_type"] == "code"), f"{path.name}: move functions into synth"


def test_ci_script_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in text and "make test" in text
