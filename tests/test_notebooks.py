"""Every notebook executed end to end by papermill, through the runner, into a temp folder."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from conftest import DEMO, ROOT

from synth.runner import RunConfig, find_notebooks, run


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, list]:
    tmp = tmp_path_factory.mktemp("run")
    data = tmp / "data"
    shutil.copytree(DEMO, data / "demo")
    config = RunConfig(data_dir=data, notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp / "figures", results_dir=tmp / "results")
    return tmp, run(config)


def test_every_notebook_runs_on_the_demo(demo_run):
    tmp, results = demo_run
    assert [r.job.notebook.name for r in results] == [
        p.name for p in find_notebooks(ROOT / "notebooks")]
    failed = [r.describe() for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    for r in results:
        assert r.job.output.exists()


def test_overview_writes_table_and_figure(demo_run):
    tmp, _ = demo_run
    table = tmp / "results" / "demo" / "study_characteristics.csv"
    assert table.exists() and "Publication year" in table.read_text()
    assert (tmp / "results" / "demo" / "study_characteristics.md").exists()
    for ext in ("png", "svg", "pdf"):
        assert (tmp / "figures" / "demo" / f"studies_per_year.{ext}").stat().st_size > 1000


def test_a_broken_review_runs_no_notebook_and_names_its_problems(tmp_path: Path, edit):
    data = tmp_path / "data"
    shutil.copytree(DEMO, data / "broken")
    edit(data / "broken" / "studies.csv", ",modality,", ",modalty,")
    config = RunConfig(data_dir=data, notebooks_dir=ROOT / "notebooks",
                       figures_dir=tmp_path / "figures", results_dir=tmp_path / "results",
                       notebooks=("01",))
    notices: list[str] = []
    (result,) = run(config, on_notice=notices.append)
    assert not result.ok and result.not_run
    assert result.describe().startswith("NOT RUN broken / 01_review_overview.ipynb: ")
    assert notices[0].startswith("not running broken (1 notebook): 2 problems in ")
    assert notices[1].startswith("  studies.csv:1:modalty: unknown column")
    assert not result.job.output.exists()


def test_every_saved_figure_is_shown_once_and_nothing_else_is(demo_run):
    """The executed notebook shows each PNG it wrote, once, as written (no figure is drawn a
    second time); only an exploration cell (one using ``synth.explore``) shows figures it does
    not save."""
    tmp, results = demo_run
    manifest = json.loads((tmp / "results" / "demo" / "manifest.json").read_text())
    for r in results:
        name = r.job.notebook.name
        saved = [(tmp / path).read_bytes() for path, entry in manifest["outputs"].items()
                 if path.endswith(".png") and entry["notebook"] == name]
        shown, unsaved = [], 0
        for cell in json.loads(r.job.output.read_text())["cells"]:
            images = [base64.b64decode(out["data"]["image/png"])
                      for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
            shown += images
            if "explore." not in "".join(cell["source"]):
                unsaved += sum(image not in saved for image in images)
        assert [shown.count(png) for png in saved] == [1] * len(saved), name
        assert unsaved == 0, f"{name}: {unsaved} figures shown that were not saved"
