"""``python -m synth check`` and ``run``: exit codes and what a user reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import DEMO, ROOT, sigint_default


def _synth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_check_valid_review_exits_0():
    out = _synth("check", str(DEMO))
    assert out.returncode == 0, out.stderr
    assert "45 studies" in out.stdout and "valid" in out.stdout
    assert "raters A, B, consensus" in out.stdout


def test_check_corrupted_review_exits_1_with_one_line_per_problem(demo_copy: Path, edit):
    edit(demo_copy / "studies.csv", ",modality,", ",modalty,")
    edit(demo_copy / "performance.csv", ",grade,", ",grdae,")
    out = _synth("check", str(demo_copy))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0] == f"3 problems in {demo_copy}:"
    assert lines[1].startswith("studies.csv:1:modalty: unknown column")
    assert lines[2].startswith("studies.csv:1:modality: (missing column)")
    assert lines[3].startswith("performance.csv:") and ":aim: 'grdae'" in lines[3]


def test_check_missing_path_exits_1_without_traceback(tmp_path: Path):
    out = _synth("check", str(tmp_path / "nope"))
    assert out.returncode == 1
    assert "no such file or folder" in out.stderr and "Traceback" not in out.stderr


def test_run_rejects_a_bad_param_without_traceback():
    out = _synth("run", "--param", "novalue")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --param 'novalue': write KEY=VALUE"


def test_run_unknown_notebook_is_named():
    out = _synth("run", "--only", "99_nothing")
    assert out.returncode == 2
    assert out.stderr.startswith("error: notebook '99_nothing' not found; available: ")
    assert "01_review_overview.ipynb" in out.stderr


def test_run_unknown_parameter_is_rejected_before_anything_runs():
    out = _synth("run", "--only", "01", "--param", "widht=two")
    assert out.returncode == 2, out.stdout
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: --param: parameter 'widht' is declared by no selected "
                                 "notebook; they declare: ")
    assert "did you mean 'width'?" in out.stderr


def test_run_bad_config_lists_every_problem(tmp_path: Path):
    config = tmp_path / "synth.yaml"
    config.write_text("jobs: 0\nnotebook: [01]\ntables: {formats: [doc]}\n")
    out = _synth("run", "--config", str(config))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.splitlines() == [
        "error: synth.yaml:notebook: unknown key — allowed: data_dir, notebooks_dir, "
        "figures_dir, results_dir, reviews, notebooks, jobs, warm_kernels, figures, tables, "
        "parameters, review_parameters, notebook_parameters; did you mean 'notebooks'?",
        "synth.yaml:jobs: 0 — a whole number >= 1, or auto (one per CPU)",
        "synth.yaml:tables.formats: ['doc'] — a list of: csv, md, tex, html, xlsx, docx",
    ]


def test_run_help_lists_the_flags():
    out = _synth("run", "--help")
    for flag in ("--review", "--only", "--param", "--jobs", "--force", "--config"):
        assert flag in out.stdout


def test_run_cold_kernels_flag_reaches_the_config(monkeypatch, tmp_path: Path):
    from synth import cli, runner

    seen = []
    monkeypatch.setattr(runner, "run", lambda config, **_: seen.append(config) or [])
    monkeypatch.chdir(tmp_path)
    cli.main(["run", "--cold-kernels"])
    cli.main(["run"])
    assert [c.warm_kernels for c in seen] == [False, True]


# Writes a half-done temporary figure and its pid, then holds while results/hold exists.
_HOLDING_CELLS = [
    ("params", '''
review: str = "../data/alpha"  # review folder
figures_dir: str = "../figures"  # figures go to <figures_dir>/<review name>/
results_dir: str = "../results"  # tables go to <results_dir>/<review name>/
'''),
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
    Path(results_dir, f"running-{Path(review).name}").write_text(str(os.getpid()))
while hold.exists():
    time.sleep(0.02)
'''),
]


def _wait_for(what: str, condition, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"waited {deadline:.0f} s for {what}")
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_stops_the_kernels_cleans_up_and_prints_one_line(tmp_path: Path, jobs: int):
    sys.path.insert(0, str(ROOT / "tools"))
    from nbbuild import write_notebook

    from synth.config import load_config
    from synth.runner import run
    from synth.template import write_review

    reviews = ["alpha", "beta"][:jobs]
    for name in reviews:
        write_review(tmp_path / "data" / name)
    (tmp_path / "notebooks").mkdir()
    write_notebook(tmp_path / "notebooks" / "01_holds.ipynb", _HOLDING_CELLS)
    (tmp_path / "synth.yaml").write_text(f"jobs: {jobs}\n")
    config = load_config(tmp_path / "synth.yaml")
    assert all(r.ok for r in run(config))  # a good last run, for the interrupted one to replace
    executed = {name: (tmp_path / "results" / name / "notebooks/01_holds.ipynb").read_bytes()
                for name in reviews}
    (tmp_path / "results/hold").write_text("")
    flags = [tmp_path / "results" / f"running-{name}" for name in reviews]
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", "--force", "--config",
                             str(tmp_path / "synth.yaml")], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)
    try:
        _wait_for("the notebooks to run", lambda: all(f.exists() for f in flags))
        kernels = [int(f.read_text()) for f in flags]
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        (tmp_path / "results/hold").unlink()
    assert proc.returncode == 130, (out, err)
    assert err.splitlines() == err.splitlines()[:1], err
    assert err.splitlines() == ["interrupted: kernels stopped, partial notebooks and temporary "
                                "files deleted; the unfinished notebooks run again next time"]
    assert "Traceback" not in out
    _wait_for("the kernels to exit", lambda: all(_gone(pid) for pid in kernels))
    for name in reviews:
        state = tmp_path / "results" / name / ".synth"
        assert not list(state.glob("*.running")) and not list(state.glob("*.partial.ipynb"))
        for folder in (tmp_path / "figures" / name, tmp_path / "results" / name):
            assert not [p for p in folder.rglob(".*") if p.is_file()]  # no temporary file
        notebook = tmp_path / "results" / name / "notebooks/01_holds.ipynb"
        assert notebook.read_bytes() == executed[name]  # the last complete one, kept
        manifest = json.loads((tmp_path / "results" / name / "manifest.json").read_text())
        assert manifest["notebooks"]["01_holds.ipynb"]["status"] == "interrupted"
    again = run(config)
    assert [r.ok and not r.skipped for r in again] == [True] * jobs
