"""``python -m synth check``: exit codes and what a user reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import DEMO, ROOT


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
    monkeypatch.setattr(runner, "run", lambda config, on_result: seen.append(config) or [])
    monkeypatch.chdir(tmp_path)
    cli.main(["run", "--cold-kernels"])
    cli.main(["run"])
    assert [c.warm_kernels for c in seen] == [False, True]
