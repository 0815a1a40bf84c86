"""``synth.runner``: config, parameters, skip and force, failure isolation, manifest.

The execution tests use two tiny notebooks in a temporary project (not the real notebooks,
which tests/test_notebooks.py runs), so that they stay fast.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from conftest import ROOT
from PIL import Image

from synth import runner
from synth.config import ConfigError, RunConfig, load_config, with_overrides
from synth.files import RUN_CONTEXT_ENV, TABLE_FORMATS
from synth.runner import plan, run
from synth.template import write_review
from synth.vocabulary import DEFAULT_VOCABULARY

sys.path.insert(0, str(ROOT / "tools"))
from nbbuild import write_notebook  # noqa: E402

_REAL_SOURCE_HASH = runner._source_hash

_PARAMS = '''
review: str = "../data/alpha"  # review folder
figures_dir: str = "../figures"  # figures go to <figures_dir>/<review name>/
results_dir: str = "../results"  # tables go to <results_dir>/<review name>/
'''

_TABLE_NB = [
    ("params", _PARAMS + 'label: str = "x"  # a label written into the table\n'),
    ("code", '''
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from synth import outputs

fig_dir, res_dir = outputs.output_dirs(Path(review).name, figures_dir=figures_dir,
                                       results_dir=results_dir)
outputs.write_table(pd.DataFrame({"label": [label, "=1+1"]}), res_dir / "labels")
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
outputs.save_figure(fig, fig_dir / "line");
'''),
]

# Fails while saving its PDF when `fail` is true: a failure in the middle of save_figure.
_FLAKY_NB = [
    ("params", _PARAMS + "fail: bool = False  # make the PDF rendering fail\n"),
    ("code", '''
from pathlib import Path

import matplotlib.pyplot as plt

from synth import outputs

fig_dir, _ = outputs.output_dirs(Path(review).name, figures_dir=figures_dir,
                                 results_dir=results_dir)
fig, ax = plt.subplots()
ax.bar([0, 1], [1, 2 + fail])
real_savefig = fig.savefig
fig.savefig = lambda fname, *a, format=None, **kw: (
    (_ for _ in ()).throw(OSError("disk full")) if fail and format == "pdf"
    else real_savefig(fname, *a, format=format, **kw))
'''),
    ("code", 'outputs.save_figure(fig, fig_dir / "bars", formats=["png", "pdf"]);'),
]


def _project(tmp: Path) -> Path:
    """A project folder: two reviews (as `synth new` writes them), two tiny notebooks, a
    synth.yaml."""
    for name in ("alpha", "beta"):
        write_review(tmp / "data" / name)
    (tmp / "notebooks").mkdir()
    write_notebook(tmp / "notebooks" / "01_table.ipynb", _TABLE_NB)
    write_notebook(tmp / "notebooks" / "02_flaky.ipynb", _FLAKY_NB)
    (tmp / "synth.yaml").write_text("jobs: 2\nfigures:\n  formats: [png, pdf]\n")
    return tmp


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth", "run", "--config",
                           str(project / "synth.yaml"), *args],
                          capture_output=True, text=True, cwd=project)


def _status(results) -> dict[str, str]:
    return {r.job.label: "skipped" if r.skipped else "ok" if r.ok else "failed"
            for r in results}


@pytest.fixture(scope="module", autouse=True)
def frozen_source():
    """The synth source as it is when the module starts: other edits must not re-run jobs."""
    with pytest.MonkeyPatch.context() as mp:
        value = _REAL_SOURCE_HASH()
        mp.setattr(runner, "_source_hash", lambda: value)
        yield


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def first_run(project: Path):
    return run(load_config(project / "synth.yaml"))


# --- config -----------------------------------------------------------------------------------

def test_config_reads_every_key_relative_to_the_file(tmp_path: Path):
    (tmp_path / "synth.yaml").write_text(
        "data_dir: d\nnotebooks_dir: nb\nfigures_dir: f\nresults_dir: r\nreviews: [demo]\n"
        "notebooks: ['01']\njobs: 3\nfigures: {formats: [png, tiff], dpi: 600}\n"
        "tables: {formats: [csv, xlsx]}\nparameters: {width: two}\n"
        "review_parameters: {demo: {width: one}}\nnotebook_parameters: {'01': {width: two}}\n")
    c = load_config(tmp_path / "synth.yaml")
    assert (c.data_dir, c.notebooks_dir) == (tmp_path / "d", tmp_path / "nb")
    assert (c.figures_dir, c.results_dir) == (tmp_path / "f", tmp_path / "r")
    assert (c.reviews, c.notebooks, c.jobs) == (("demo",), ("01",), 3)
    assert (c.figure_formats, c.dpi, c.table_formats) == (("png", "tiff"), 600, ("csv", "xlsx"))
    assert c.parameters == {"width": "two"}
    assert c.review_parameters == {"demo": {"width": "one"}}
    assert c.notebook_parameters == {"01": {"width": "two"}}


def test_unquoted_notebook_prefixes_name_notebooks(project: Path, tmp_path: Path):
    (tmp_path / "synth.yaml").write_text(
        f"data_dir: {project / 'data'}\nnotebooks_dir: {project / 'notebooks'}\n"
        "notebooks: [01, 02_flaky]\nnotebook_parameters: {01: {}}\n")
    c = load_config(tmp_path / "synth.yaml")
    assert (c.notebooks, list(c.notebook_parameters)) == (("01", "02_flaky"), ["01"])
    assert [j.notebook.name for j in plan(c)][:2] == ["01_table.ipynb", "02_flaky.ipynb"]


def test_config_rejects_unknown_keys_one_line_each(tmp_path: Path):
    (tmp_path / "synth.yaml").write_text(
        "job: 2\nfigures: {formats: [png, gif], dpi: 600, size: 3}\njobs: many\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "synth.yaml")
    lines = str(err.value).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("synth.yaml:job: unknown key") and "did you mean 'jobs'" in lines[0]
    assert lines[1].startswith("synth.yaml:jobs: 'many' — a whole number >= 1, or auto")
    assert lines[2].startswith("synth.yaml:figures.size: unknown key — allowed: formats, dpi")
    assert lines[3].startswith("synth.yaml:figures.formats: ['png', 'gif'] — a list of: png")


def test_shipped_synth_yaml_is_valid():
    c = load_config(ROOT / "synth.yaml")
    assert c.data_dir == ROOT / "data" and c.jobs >= 1


def test_source_hash_changes_with_any_source_file(tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 1\n")
    before = _REAL_SOURCE_HASH(tmp_path)
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    assert _REAL_SOURCE_HASH(tmp_path) != before


def test_review_folders_under_data_are_found():
    assert [p.name for p in runner.find_reviews(ROOT / "data")] == ["demo", "gepnet-public"]


# --- planning ---------------------------------------------------------------------------------

def test_parameters_precedence_and_only_declared_ones_passed(project: Path):
    config = RunConfig(data_dir=project / "data", notebooks_dir=project / "notebooks",
                       figures_dir=project / "figures", results_dir=project / "results",
                       parameters={"label": "global", "fail": False},
                       review_parameters={"beta": {"label": "beta"}},
                       notebook_parameters={"01": {"label": "nb"}}, root=project)
    jobs = {j.label: j.parameters for j in plan(config)}
    assert jobs["alpha / 01_table.ipynb"]["label"] == "nb"
    assert "label" not in jobs["alpha / 02_flaky.ipynb"]
    assert jobs["alpha / 02_flaky.ipynb"]["review"] == str((project / "data/alpha").absolute())
    config = with_overrides(config, params={"label": "cli"})
    jobs = {j.label: j.parameters for j in plan(config)}
    assert jobs["beta / 01_table.ipynb"]["label"] == "cli"


@pytest.mark.parametrize(("change", "message"), [
    ({"overrides": {"lable": 1}}, "--param: parameter 'lable' is declared by no selected "
                                  "notebook; they declare: fail, figures_dir, label, results_dir,"
                                  " review; did you mean 'label'?"),
    ({"notebook_parameters": {"02": {"label": 1}}},
     "notebook_parameters.02: 02_flaky.ipynb has no parameter 'label'"),
    ({"review_parameters": {"gamma": {"label": 1}}},
     "review_parameters: no review folder 'gamma'"),
    ({"notebooks": ("03",)}, "notebook '03' not found; available: 01_table.ipynb, "
                             "02_flaky.ipynb"),
])
def test_plan_rejects_what_does_not_exist(project: Path, change, message):
    config = RunConfig(data_dir=project / "data", notebooks_dir=project / "notebooks",
                       results_dir=project / "results", **change)
    with pytest.raises(ConfigError) as err:
        plan(config)
    assert message in str(err.value)


# --- execution --------------------------------------------------------------------------------

def test_first_run_runs_everything_and_writes_the_manifest(project: Path, first_run):
    assert set(_status(first_run).values()) == {"ok"}, [r.describe() for r in first_run]
    manifest = json.loads((project / "results/alpha/manifest.json").read_text())
    outputs = manifest["outputs"]
    expected = {f"results/alpha/labels.{f}" for f in TABLE_FORMATS}
    expected |= {"figures/alpha/line.png", "figures/alpha/line.pdf",
                 "figures/alpha/bars.png", "figures/alpha/bars.pdf"}
    assert set(outputs) == expected
    line = outputs["figures/alpha/line.png"]
    assert line["notebook"] == "01_table.ipynb"
    assert line["parameters"]["label"] == "x"
    assert line["inputs"]["data/alpha/studies.csv"] == runner._sha256(
        project / "data/alpha/studies.csv")
    assert "notebooks/01_table.ipynb" in line["inputs"]
    assert line["packages"]["pandas"] and line["packages"]["python"]
    assert line["time"].startswith("20")
    assert outputs["figures/alpha/bars.png"]["notebook"] == "02_flaky.ipynb"
    entry = manifest["notebooks"]["02_flaky.ipynb"]
    assert entry["status"] == "ok"
    assert entry["executed_notebook"] == "results/alpha/notebooks/02_flaky.ipynb"
    assert (project / entry["executed_notebook"]).exists()
    # no output of review beta is attributed to review alpha
    assert not any("beta" in p for p in outputs)


def test_figures_carry_the_provenance_in_their_metadata(project: Path, first_run):
    with Image.open(project / "figures/beta/line.png") as png:
        prov = json.loads(png.text["Provenance"])
    assert prov["review"] == "beta" and prov["notebook"] == "01_table.ipynb"
    assert prov["inputs"]["data/beta/studies.csv"]
    pdf = (project / "figures/beta/line.pdf").read_bytes()
    assert b"/Keywords" in pdf and b"01_table.ipynb" in pdf


def test_spreadsheet_export_is_formula_safe(project: Path, first_run):
    assert "'=1+1" in (project / "results/alpha/labels.csv").read_text()


def test_second_run_skips_everything_and_a_data_change_reruns_that_review(project: Path,
                                                                          first_run):
    config = load_config(project / "synth.yaml")
    again = run(config)
    assert set(_status(again).values()) == {"skipped"}
    assert all(r.describe().startswith("skipped ") for r in again)
    meta = project / "data/alpha/review.yaml"
    meta.write_text(meta.read_text().replace("title: Title of the review", "title: Alpha"))
    changed = _status(run(with_overrides(config, notebooks=["01"])))
    assert changed == {"alpha / 01_table.ipynb": "ok", "beta / 01_table.ipynb": "skipped"}
    forced = _status(run(with_overrides(config, reviews=["beta"], notebooks=["01"],
                                        force=True)))
    assert forced == {"beta / 01_table.ipynb": "ok"}


def test_a_failing_notebook_keeps_previous_figures_and_others_run(project: Path, first_run):
    before = {p: (project / "figures/beta" / p).read_bytes() for p in ("bars.png", "bars.pdf")}
    out = _cli(project, "--review", "beta", "--force", "--param", "fail=true")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("ok      beta / 01_table.ipynb") for line in lines), out.stdout
    failed = [line for line in lines if line.startswith("FAILED  beta / 02_flaky.ipynb cell ")]
    assert failed and failed[0].endswith("OSError: disk full"), out.stdout
    executed = project / "results/beta/notebooks/02_flaky.ipynb"
    assert f"full traceback in {executed}" in out.stdout
    assert "disk full" in executed.read_text()
    after = {p: (project / "figures/beta" / p).read_bytes() for p in before}
    assert after == before  # neither the PNG rendered first nor the PDF was replaced
    assert not [p for p in (project / "figures/beta").iterdir() if p.name.startswith(".")]
    manifest = json.loads((project / "results/beta/manifest.json").read_text())
    entry = manifest["notebooks"]["02_flaky.ipynb"]
    assert entry["status"] == "failed" and entry["error"]["message"] == "OSError: disk full"
    assert manifest["outputs"]["figures/beta/bars.png"]["parameters"]["fail"] is False
    # a failed notebook is not skipped next time, the one that ran is
    config = with_overrides(load_config(project / "synth.yaml"), reviews=["beta"])
    current = {j.notebook.name: runner._is_current(j, manifest, project) for j in plan(config)}
    assert current == {"01_table.ipynb": True, "02_flaky.ipynb": False}


def test_a_run_removes_what_a_killed_run_left(project: Path, first_run):
    leftover = project / "figures/alpha/.bars.k2x_9q0a.png"
    leftover.write_bytes(b"half a PNG")
    keep = [project / "figures/alpha/.gitkeep", project / "figures/alpha/bars.png"]
    keep[0].write_text("")
    run(with_overrides(load_config(project / "synth.yaml"), reviews=["alpha"],
                       notebooks=["01"], force=True))
    assert not leftover.exists() and all(p.exists() for p in keep)


def test_run_context_is_removed_after_a_job(first_run):
    import os

    assert RUN_CONTEXT_ENV not in os.environ


def test_kernels_are_stopped_at_once_as_in_the_benchmark_floor(project: Path, monkeypatch):
    import papermill

    seen: dict = {}
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **kw: seen.update(kw))
    job = plan(with_overrides(load_config(project / "synth.yaml"), force=True))[0]
    assert runner.run_job(job).ok
    assert seen["shutdown_kernel"] == "immediate"  # a graceful shutdown can stall 2.5 s
    assert {k: seen[k] for k in runner.PAPERMILL_OPTIONS} == runner.PAPERMILL_OPTIONS
    bench = (ROOT / "benchmarks" / "run_benchmark.py").read_text()
    assert "**PAPERMILL_OPTIONS" in bench


def test_warm_kernels_is_read_from_the_config_and_the_command_line(tmp_path: Path):
    (tmp_path / "synth.yaml").write_text("warm_kernels: false\n")
    config = load_config(tmp_path / "synth.yaml")
    assert config.warm_kernels is False
    assert with_overrides(config, warm_kernels=True).warm_kernels is True
    assert with_overrides(config).warm_kernels is False
    assert RunConfig().warm_kernels is True
    (tmp_path / "synth.yaml").write_text("warm_kernels: sometimes\n")
    with pytest.raises(ConfigError, match="warm_kernels: 'sometimes' — true"):
        load_config(tmp_path / "synth.yaml")


def test_the_manifest_records_the_lock_file_hash(project: Path, first_run):
    import hashlib

    manifest = json.loads((project / "results/alpha/manifest.json").read_text())
    lock = manifest["notebooks"]["01_table.ipynb"]["lock"]
    expected = hashlib.sha256((ROOT / runner.LOCK_NAME).read_bytes()).hexdigest()
    assert lock == {"file": "requirements.lock", "sha256": expected}
    assert runner.lock_file() == ROOT / "requirements.lock"
    assert runner.lock_file(project / "src" / "synth") is None


# --- selecting reviews and notebooks ----------------------------------------------------------

def test_an_exact_review_name_selects_only_that_review(tmp_path: Path):
    for name in ("euroscore", "euroscore-counts"):
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "studies.csv").write_text("study_id\nx2020\n")
    (tmp_path / "notebooks").mkdir()
    for name in ("01_table.ipynb", "01_tables.ipynb", "02_flaky.ipynb"):
        write_notebook(tmp_path / "notebooks" / name, _TABLE_NB)
    config = RunConfig(data_dir=tmp_path / "data", notebooks_dir=tmp_path / "notebooks",
                       results_dir=tmp_path / "results", root=tmp_path)

    def labels(**choice) -> list[str]:
        return sorted({j.label for j in plan(with_overrides(config, **choice))})

    assert labels(reviews=["euroscore"], notebooks=["02"]) == ["euroscore / 02_flaky.ipynb"]
    assert labels(reviews=["euroscore-counts"], notebooks=["02"]) == [
        "euroscore-counts / 02_flaky.ipynb"]
    with pytest.raises(ConfigError, match="review 'euro' not found; available: euroscore, "
                                          "euroscore-counts"):
        plan(with_overrides(config, reviews=["euro"]))
    # notebooks: a number selects by prefix, an exact name only that notebook
    assert labels(reviews=["euroscore"], notebooks=["01"]) == [
        "euroscore / 01_table.ipynb", "euroscore / 01_tables.ipynb"]
    assert labels(reviews=["euroscore"], notebooks=["01_table"]) == [
        "euroscore / 01_table.ipynb"]


def test_a_review_reached_through_a_symlink_keeps_its_links_name(tmp_path: Path):
    project = _project(tmp_path / "project")
    target = tmp_path / "elsewhere" / "target"
    shutil.copytree(project / "data" / "alpha", target)
    (project / "data" / "linked").symlink_to(target, target_is_directory=True)
    config = with_overrides(load_config(project / "synth.yaml"), reviews=["linked"],
                            notebooks=["01"])
    (job,) = plan(config)
    assert Path(job.parameters["review"]).name == "linked"
    (result,) = run(config)
    assert result.ok, result.describe()
    assert (project / "figures/linked/line.png").exists()
    assert (project / "results/linked/notebooks/01_table.ipynb").exists()
    assert not (project / "figures/target").exists() and not (project / "results/target").exists()


# --- interrupted runs and provenance ----------------------------------------------------------

DEADLINE = 60.0

# Holds while results/hold exists, after writing its pid and a half-written temporary figure.
_HOLDING_NB = [
    ("params", _PARAMS),
    ("code", '''
import os
import time
from pathlib import Path

from synth import outputs

fig_dir, res_dir = outputs.output_dirs(Path(review).name, figures_dir=figures_dir,
                                       results_dir=results_dir)
hold = Path(results_dir, "hold")
if hold.exists():
    Path(fig_dir, ".line.k2x9q0ab.png").write_bytes(b"half a PNG")
    Path(results_dir, "running").write_text(str(os.getpid()))
while hold.exists():
    time.sleep(0.02)
'''),
    ("code", 'Path(res_dir, "finished.txt").write_text("yes")'),
]


def _holding_project(tmp: Path) -> Path:
    write_review(tmp / "data" / "alpha")
    (tmp / "notebooks").mkdir()
    write_notebook(tmp / "notebooks" / "01_holds.ipynb", _HOLDING_NB)
    (tmp / "synth.yaml").write_text("jobs: 1\n")
    return tmp


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE:.0f} s for {what}")
        time.sleep(0.02)


def _executed_cells(notebook: Path) -> list[int | None]:
    cells = json.loads(notebook.read_text())["cells"]
    return [c.get("execution_count") for c in cells if c["cell_type"] == "code"]


def test_the_run_after_a_kill_repairs_it_and_runs_the_notebook_again(tmp_path: Path):
    project = _holding_project(tmp_path)
    config = load_config(project / "synth.yaml")
    (first,) = run(config)
    assert first.ok, first.describe()
    executed = project / "results/alpha/notebooks/01_holds.ipynb"
    complete = executed.read_bytes()
    state = project / "results/alpha/.synth"
    (project / "results/hold").write_text("")
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", "--force", "--config",
                             str(project / "synth.yaml")], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kernel = None
    try:
        _wait_for("the notebook to run", (project / "results/running").exists)
        kernel = psutil.Process(int((project / "results/running").read_text()))
        _wait_for("the partial notebook", (state / "01_holds.partial.ipynb").exists)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if kernel is not None:  # it would exit by itself once it sees its parent gone
            try:
                kernel.kill()
                kernel.wait(DEADLINE)
            except psutil.NoSuchProcess:
                pass
    (project / "results/hold").unlink()
    # what kill -9 left: the mark, the partial notebook, a temporary; the last good notebook
    assert (state / "01_holds.running").exists()
    assert executed.read_bytes() == complete
    assert (project / "figures/alpha/.line.k2x9q0ab.png").exists()

    notes: list[str] = []
    (again,) = run(config, on_notice=notes.append)
    assert again.ok and not again.skipped, again.describe()
    assert notes[0].startswith("repaired alpha / 01_holds.ipynb: a run stopped while it executed")
    assert notes[1] == ("running alpha / 01_holds.ipynb again: its last run was interrupted "
                        "before it finished")
    assert len(notes) == 2
    assert None not in _executed_cells(executed)
    assert not list(state.glob("*.running")) and not list(state.glob("*.partial.ipynb"))
    assert not (project / "figures/alpha/.line.k2x9q0ab.png").exists()
    assert run(config)[0].skipped


def test_outputs_changed_outside_a_run_make_their_notebook_run_again(project: Path, first_run):
    config = with_overrides(load_config(project / "synth.yaml"), reviews=["alpha"],
                            notebooks=["01"])
    assert run(config)[0].skipped
    png = project / "figures/alpha/line.png"
    png.write_bytes(png.read_bytes() + b"saved by hand in JupyterLab")
    notes: list[str] = []
    (result,) = run(config, on_notice=notes.append)
    assert result.ok and not result.skipped, result.describe()
    assert notes == ["running alpha / 01_table.ipynb again: 1 output changed since its last run "
                     "(figures/alpha/line.png); written outside synth run, e.g. by hand in "
                     "JupyterLab"]
    manifest = json.loads((project / "results/alpha/manifest.json").read_text())
    assert manifest["outputs"]["figures/alpha/line.png"]["sha256"] == runner._sha256(png)
    assert run(config)[0].skipped
    # a removed output is named too
    table = project / "results/alpha/labels.csv"
    table.rename(table.with_suffix(".moved"))
    try:
        (job,) = plan(config)
        assert runner.stale_reason(job, manifest, project) == (
            "1 output missing since its last run (results/alpha/labels.csv)")
    finally:
        table.with_suffix(".moved").rename(table)


# --- reviews checked before any notebook runs -------------------------------------------------

def test_an_invalid_review_runs_no_notebook_and_the_others_run(tmp_path: Path):
    project = _project(tmp_path)
    studies = project / "data/beta/studies.csv"
    studies.write_text(studies.read_text().replace(",brain,", ",brian,"))
    out = _cli(project, "--only", "01")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    lines = out.stdout.splitlines()
    beta = str((project / "data/beta").absolute())
    assert lines[:3] == [
        f"not running beta (1 notebook): 1 problem in {beta}:",
        "  studies.csv:2:site: 'brian' — one of: " + ", ".join(DEFAULT_VOCABULARY.sites)
        + " (review.yaml: sites); did you mean 'brain'?",
        "NOT RUN beta / 01_table.ipynb: its review has problems (listed above); correct them "
        "and run again"], out.stdout
    assert lines[3].startswith("ok      alpha / 01_table.ipynb")
    assert lines[4].startswith("1 ran, 0 unchanged, 0 failed, 1 not run (review has problems) "
                               "of 2 notebooks")
    assert not (project / "results/beta").exists() and not (project / "figures/beta").exists()


def test_a_run_with_nothing_to_do_checks_no_review(tmp_path: Path, monkeypatch):
    project = _project(tmp_path)
    config = with_overrides(load_config(project / "synth.yaml"), notebooks=["01"])
    assert {r.ok for r in run(config)} == {True}
    checked: list[Path] = []
    monkeypatch.setattr(runner, "_check", lambda review: checked.append(review) or [])
    assert {r.skipped for r in run(config)} == {True}
    assert checked == []
    assert {r.ok for r in run(with_overrides(config, reviews=["alpha"], force=True))} == {True}
    assert [p.name for p in checked] == ["alpha"]
