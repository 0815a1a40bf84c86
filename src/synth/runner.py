"""Execute the notebooks with papermill for every review: incremental, parallel, with provenance.

The runner is a list of named steps (as papermill's ``execute.py``):

1. :func:`load_config` reads ``synth.yaml`` (unknown keys are rejected);
2. :func:`plan` makes one :class:`Job` per (review, notebook) pair, with its parameters (an
   unknown parameter is rejected) and its fingerprint: the content hashes of the review's data
   files, of the notebook and of the synth source, the parameters and the package versions;
3. :func:`run` skips a job whose fingerprint equals that of its last successful run (unless
   ``force``), executes the others with :func:`run_job` (papermill, ``jobs`` at a time) on
   kernels that a :class:`synth.kernels.KernelPool` started ahead with the notebook's imports
   loaded (a fresh kernel for every notebook), and after each records the job in
   ``results/<review>/manifest.json``, with the hash of the lock file the environment was
   installed from (:data:`LOCK_NAME`).

Before any notebook starts, each review with a notebook to run is checked
(:func:`check_reviews`: ``python -m synth check`` in a process of its own, while the kernels
warm up): the problems of an invalid review are reported one line each, and none of its
notebooks runs (:attr:`JobResult.not_run`); the other reviews run. A review with nothing to
run is not checked, so a re-run with nothing to do stays instant.

A failing notebook does not stop the others. Its executed copy, with the full traceback, is kept
in ``results/<review>/notebooks/`` like every other.

A run that is stopped leaves nothing half-done behind. A notebook executes into
``results/<review>/.synth/<notebook>.partial.ipynb`` and is moved into ``notebooks/`` when it
ends; while it runs, ``.synth/<notebook>.running`` names the process running it. Ctrl-C kills
the kernels, deletes the partial notebooks and temporary files and marks the unfinished jobs
``interrupted`` in the manifest; a run killed outright (``kill -9``) cannot, so the next run
does it (:func:`repair`) before planning, and executes those notebooks again.

Before skipping a job, the runner also compares each output the manifest lists with its
recorded sha256: an output changed or removed since (a notebook run by hand in JupyterLab writes
the same figures, without provenance) makes the job run again, and the run says so
(:func:`stale_reason`).

While a notebook runs, the environment variable ``SYNTH_RUN_CONTEXT`` names a JSON file
describing the job; :func:`synth.outputs.save_figure` and :func:`synth.outputs.write_table`
read it to embed provenance and to log every file they write, which is how each output is
attributed to its notebook in the manifest.

This module imports neither papermill nor pandas at import time (together about 3 s), so that a
re-run with nothing to do returns at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth.config import ConfigError, RunConfig
from synth.errors import did_you_mean
from synth.files import RUN_CONTEXT_ENV, atomic_write_text, remove_leftover_temporaries

if TYPE_CHECKING:
    from concurrent.futures import Future

    from synth.kernels import WarmKernel

__all__ = ["Job", "JobResult", "find_reviews", "find_notebooks", "plan", "run_job", "run",
           "repair", "stale_reason", "check_reviews", "MANIFEST_NAME", "PAPERMILL_OPTIONS",
           "LOCK_NAME", "lock_file"]

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
"""Notebooks the runner executes, in name order: ``NN_topic.ipynb``."""

MANIFEST_NAME = "manifest.json"
"""Provenance and run state of a review: ``results/<review>/manifest.json``."""

_BASE_PARAMETERS = ("review", "figures_dir", "results_dir")
"""Parameters the runner sets for every notebook that declares them."""

PAPERMILL_OPTIONS: dict[str, Any] = {
    "kernel_name": "python3", "progress_bar": False, "log_output": False,
    "extra_arguments": ["--IPKernelApp.log_level=CRITICAL"], "shutdown_kernel": "immediate"}
"""How every notebook is executed (the benchmark's floor uses the same). ``shutdown_kernel``:
nbclient's default, a graceful shutdown, stalls 2.5-3.5 s in some runs (6 of 84 measured
here: ipykernel does not always exit on the request, and jupyter_client waits before
terminating it). When the last cell has finished, every output is written and the kernel has
nothing left to do, so it is stopped at once."""

LOCK_NAME = "requirements.lock"
"""The lock file (exact versions and hashes) ``make`` installs from, at the project's root."""

PACKAGES = ("synth", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn",
            "pandera", "openpyxl", "pyyaml", "pillow", "papermill", "ipykernel")
"""Distributions whose versions are recorded (and whose upgrade re-runs every notebook)."""


@dataclass(frozen=True)
class Job:
    """One notebook executed for one review.

    ``context`` is what the notebook's outputs are attributed with: review, notebook,
    parameters, input hashes, package versions, time, output formats, and ``key``, the
    fingerprint that decides whether the job can be skipped.
    """

    review: Path
    notebook: Path
    output: Path
    parameters: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.review.name} / {self.notebook.name}"


@dataclass(frozen=True)
class JobResult:
    """How a job ended: ran (``ok``), was skipped as unchanged, or failed in a cell."""

    job: Job
    ok: bool
    seconds: float
    cell: int | None = None
    error: str | None = None
    skipped: bool = False
    outputs: tuple[str, ...] = ()
    """Absolute paths of the files the notebook wrote through synth.outputs."""
    not_run: bool = False
    """Not executed: its review failed the check before the run (``error`` says so)."""

    def describe(self) -> str:
        """One line for a success or a skip; for a failure, the cell, message and where."""
        if self.not_run:
            return f"NOT RUN {self.job.label}: {self.error}"
        if self.skipped:
            return f"skipped {self.job.label} (unchanged since its last successful run)"
        if self.ok:
            return f"ok      {self.job.label} ({self.seconds:.1f} s)"
        where = f" cell {self.cell}" if self.cell is not None else ""
        lines = (self.error or "").splitlines() or [""]
        if len(lines) > _ERROR_LINES:
            lines = [*lines[:_ERROR_LINES], f"... {len(lines) - _ERROR_LINES} more lines"]
        body = "\n".join(f"        {line}" for line in lines[1:])
        return (f"FAILED  {self.job.label}{where} ({self.seconds:.1f} s): {lines[0]}\n"
                + (body + "\n" if body else "")
                + f"        full traceback in {self.job.output}")


_ERROR_LINES = 25
"""Lines of a notebook's exception shown in the run log (a ReviewDataError has one a problem)."""


def find_notebooks(folder: str | Path) -> list[Path]:
    """The notebooks to run, ``NN_topic.ipynb`` in name order."""
    return sorted(Path(folder).glob(NOTEBOOK_PATTERN))


def find_reviews(root: str | Path) -> list[Path]:
    """Review folders under ``root``: those holding ``studies.csv`` or one ``.xlsx``."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"data_dir {root}: no such folder")
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and ((p / "studies.csv").exists() or any(p.glob("*.xlsx"))))


def _hits(paths: list[Path], name: str, *, prefix: bool) -> list[Path]:
    """The paths ``name`` selects: by exact name (or stem); failing that, with ``prefix``, those
    whose stem starts with it (``01`` for ``01_review_overview.ipynb``)."""
    exact = [p for p in paths if name in (p.name, p.stem)]
    if exact or not prefix:
        return exact
    return [p for p in paths if p.stem.startswith(name)]


def _select(paths: list[Path], names: Iterable[str], what: str, *, prefix: bool) -> list[Path]:
    names = list(names)
    if not names:
        return paths
    chosen: list[Path] = []
    for name in names:
        hits = _hits(paths, name, prefix=prefix)
        if not hits:
            raise ConfigError(f"{what} {name!r} not found; available: "
                              f"{', '.join(p.name for p in paths) or 'none'}"
                              f"{did_you_mean(name, [p.name for p in paths])}")
        chosen += [h for h in hits if h not in chosen]
    return chosen


# --- fingerprints -----------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _rel(path: Path, root: Path) -> str:
    path = Path(path).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _data_hashes(review: Path, root: Path) -> dict[str, str]:
    """Content hash of every file of a review folder (hidden and Office lock files aside)."""
    files = sorted(p for p in review.rglob("*") if p.is_file() and not any(
        part.startswith((".", "~$")) for part in p.relative_to(review).parts))
    return {_rel(p, root): _sha256(p) for p in files}


def _source_hash(package: Path | None = None) -> str:
    """One hash over the synth package's source files (names and contents)."""
    package = package or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(_sha256(path).encode())
    return digest.hexdigest()


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def lock_file(package: Path | None = None) -> Path | None:
    """The project's lock file when synth runs from its source tree (``pip install -e .``)."""
    package = package or Path(__file__).resolve().parent
    path = package.parent.parent / LOCK_NAME
    return path if path.is_file() else None


def _lock_record() -> dict[str, str | None]:
    path = lock_file()
    return {"file": LOCK_NAME, "sha256": _sha256(path) if path else None}


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- manifest ---------------------------------------------------------------------------------

def _manifest_path(config: RunConfig, review: Path) -> Path:
    return config.results_dir / review.name / MANIFEST_NAME


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: object) -> None:
    """Write JSON atomically (:func:`synth.files.atomic_write_text`)."""
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


# --- planning ---------------------------------------------------------------------------------

def _literal(source: str) -> Any:
    """A parameter's default as a value when it is a literal, else its source text."""
    import ast

    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source


def _declared_parameters(notebooks: list[Path], manifests: list[dict[str, Any]]
                         ) -> dict[Path, tuple[str, dict[str, Any]]]:
    """(notebook hash, {declared parameter: default}) per notebook.

    papermill's ``inspect_notebook`` reads the parameters cell; its answer is cached in the
    manifests by notebook hash, so that an unchanged notebook is not inspected again.
    """
    out: dict[Path, tuple[str, dict[str, Any]]] = {}
    for nb in notebooks:
        sha = _sha256(nb)
        cached = next((m["notebooks"][nb.name]["declared"] for m in manifests
                       if m.get("notebooks", {}).get(nb.name, {}).get("notebook_sha256") == sha
                       and isinstance(m["notebooks"][nb.name].get("declared"), dict)), None)
        if cached is None:
            import papermill as pm

            cached = {name: _literal(p["default"]) for name, p in
                      sorted(pm.inspect_notebook(str(nb)).items())}
        out[nb] = (sha, cached)
    return out


def plan(config: RunConfig) -> list[Job]:
    """Every (review, notebook) job the config asks for, reviews in name order.

    Raises
    ------
    ConfigError
        A review or notebook that does not exist, or a parameter no selected notebook declares
        (papermill would only warn and the value would be silently ignored).
    """
    root = (config.root or Path.cwd()).resolve()
    all_reviews = find_reviews(config.data_dir)
    reviews = _select(all_reviews, config.reviews, "review", prefix=False)
    all_notebooks = find_notebooks(config.notebooks_dir)
    notebooks = _select(all_notebooks, config.notebooks, "notebook", prefix=True)
    manifests = [_read_manifest(_manifest_path(config, r)) for r in reviews]
    declared = _declared_parameters(notebooks, manifests)
    any_declared = sorted({p for _, names in declared.values() for p in names})
    problems: list[str] = []

    def check_anywhere(params: dict[str, Any], where: str) -> None:
        for key in params:
            if key not in any_declared:
                problems.append(f"{where}: parameter {key!r} is declared by no selected "
                                f"notebook; they declare: {', '.join(any_declared)}"
                                f"{did_you_mean(key, any_declared)}")

    check_anywhere(config.parameters, "synth.yaml parameters")
    check_anywhere(config.overrides, "--param")
    for name, params in config.review_parameters.items():
        if not any(r.name == name for r in all_reviews):
            problems.append(f"synth.yaml review_parameters: no review folder {name!r} in "
                            f"{config.data_dir}; there are: "
                            f"{', '.join(r.name for r in all_reviews)}")
        elif any(r.name == name for r in reviews):
            check_anywhere(params, f"synth.yaml review_parameters.{name}")
    per_notebook: dict[Path, dict[str, Any]] = {}
    for name, params in config.notebook_parameters.items():
        hits = _hits(all_notebooks, name, prefix=True)
        if not hits:
            problems.append(f"synth.yaml notebook_parameters: no notebook {name!r} in "
                            f"{config.notebooks_dir}; there are: "
                            f"{', '.join(nb.name for nb in all_notebooks)}")
        for nb in hits:
            per_notebook.setdefault(nb, {}).update(params)
            if nb in declared:
                names = sorted(declared[nb][1])
                for key in params:
                    if key not in names:
                        problems.append(f"synth.yaml notebook_parameters.{name}: {nb.name} "
                                        f"has no parameter {key!r}; it declares: "
                                        f"{', '.join(names)}{did_you_mean(key, names)}")
    if problems:
        raise ConfigError("\n".join(problems))

    settings = {"figure_formats": config.figure_formats, "dpi": config.dpi,
                "table_formats": config.table_formats}
    source = _source_hash()
    packages = _package_versions()
    lock = _lock_record()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    jobs = []
    for review in reviews:
        data = _data_hashes(review, root)
        for nb in notebooks:
            nb_sha, defaults = declared[nb]
            wanted: dict[str, Any] = {  # a symlinked review keeps its link's name
                "review": str(review.absolute()),
                "figures_dir": str(config.figures_dir.resolve()),
                "results_dir": str(config.results_dir.resolve()),
            }
            if config.figure_formats is not None:
                wanted["formats"] = list(config.figure_formats)
            if config.dpi is not None:
                wanted["dpi"] = config.dpi
            wanted.update(config.parameters)
            wanted.update(config.review_parameters.get(review.name, {}))
            wanted.update(per_notebook.get(nb, {}))
            wanted.update(config.overrides)
            params = {k: v for k, v in wanted.items() if k in defaults}
            inputs = {**data, _rel(nb, root): nb_sha, "synth source (src/synth/*.py)": source}
            key = _digest({"inputs": inputs, "parameters": params, "settings": settings,
                           "packages": packages})
            output = config.results_dir / review.name / "notebooks" / nb.name
            context = {"review": review.name, "notebook": nb.name,
                       "parameters": {**defaults, **params}, "inputs": inputs,
                       "packages": packages, "lock": lock, "time": now, "key": key,
                       "notebook_sha256": nb_sha, "declared": defaults, **settings}
            jobs.append(Job(review, nb, output, params, context))
    return jobs


# --- execution --------------------------------------------------------------------------------

RUNNING_SUFFIX = ".running"
"""``results/<review>/.synth/<notebook>.running``: the notebook is executing (JSON: pid)."""

PARTIAL_SUFFIX = ".partial.ipynb"
"""``results/<review>/.synth/<notebook>.partial.ipynb``: the notebook as it executes."""

_STOP_TIMEOUT = 30.0
"""Seconds to wait, after Ctrl-C killed the kernels, for the threads that passed them messages."""

_NOT_RUN, _FAILED, _CHANGED, _NO_NOTEBOOK = (
    "not run before", "its last run failed", "its inputs, parameters or packages changed",
    "its executed notebook is missing")
"""Ordinary reasons to run a job; the others (:func:`stale_reason`) are said in the run log."""


def _state_dir(job: Job) -> Path:
    return job.output.parent.parent / ".synth"


def _partial(job: Job) -> Path:
    return _state_dir(job) / f"{job.notebook.stem}{PARTIAL_SUFFIX}"


def _marker(job: Job) -> Path:
    return _state_dir(job) / f"{job.notebook.stem}{RUNNING_SUFFIX}"


def stale_reason(job: Job, manifest: dict[str, Any], root: Path) -> str | None:
    """Why the job must run, or None when its last successful run is current.

    Current: the last run succeeded with the same fingerprint, its executed notebook exists,
    and every output the manifest attributes to it exists with the sha256 recorded then (an
    output written since, e.g. by the notebook run by hand in JupyterLab, makes it stale).
    """
    entry = manifest.get("notebooks", {}).get(job.notebook.name)
    if not entry:
        return _NOT_RUN
    if entry.get("status") == "interrupted":
        return "its last run was interrupted before it finished"
    if entry.get("status") != "ok":
        return _FAILED
    if entry.get("key") != job.context.get("key"):
        return _CHANGED
    if not job.output.exists():
        return _NO_NOTEBOOK
    missing: list[str] = []
    changed: list[str] = []
    for rel, out in sorted(manifest.get("outputs", {}).items()):
        if out.get("notebook") != job.notebook.name:
            continue
        path = root / rel
        if not path.is_file():
            missing.append(rel)
        elif out.get("sha256") and _sha256(path) != out["sha256"]:
            changed.append(rel)
    parts = []
    for what, paths in (("changed", changed), ("missing", missing)):
        if paths:
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3
                                            else "")
            parts.append(f"{len(paths)} output{'s' if len(paths) > 1 else ''} {what} since "
                         f"its last run ({shown})")
    if changed:
        parts.append("written outside synth run, e.g. by hand in JupyterLab")
    return "; ".join(parts) or None


def _is_current(job: Job, manifest: dict[str, Any], root: Path) -> bool:
    """True when the job may be skipped (:func:`stale_reason` finds no reason to run it)."""
    return stale_reason(job, manifest, root) is None


def _interrupted(results: Path, figures: Path, notebook: str) -> None:
    """Undo what an unfinished job left: its partial notebook, its running mark, temporary
    files; mark it ``interrupted`` in the manifest so that the next run executes it."""
    state = results / ".synth"
    stem = Path(notebook).stem
    (state / f"{stem}{PARTIAL_SUFFIX}").unlink(missing_ok=True)
    path = results / MANIFEST_NAME
    manifest = _read_manifest(path)
    if path.exists() or manifest:
        manifest.setdefault("notebooks", {}).setdefault(notebook, {})["status"] = "interrupted"
        _write_json(path, manifest)
    (state / f"{stem}{RUNNING_SUFFIX}").unlink(missing_ok=True)
    for folder in (results, state, results / "notebooks", figures):
        remove_leftover_temporaries(folder)


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def repair(config: RunConfig) -> list[str]:
    """Undo what a run killed outright (``kill -9``, a power cut) left; one line per job.

    A ``.running`` mark whose process is gone names a job that never finished: its partial
    notebook and temporary files are deleted and it is marked ``interrupted``, so the next
    run executes it. Marks of a process still alive (another run) are left alone.
    """
    results_dir = Path(config.results_dir)
    if not results_dir.is_dir():
        return []
    lines = []
    for mark in sorted(results_dir.glob(f"*/.synth/*{RUNNING_SUFFIX}")):
        try:
            info = json.loads(mark.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        if _alive(info.get("pid")):
            continue
        review = mark.parent.parent
        notebook = str(info.get("notebook") or mark.name.removesuffix(RUNNING_SUFFIX) + ".ipynb")
        _interrupted(review, Path(config.figures_dir) / review.name, notebook)
        lines.append(f"repaired {review.name} / {notebook}: a run stopped while it executed "
                     "(partial notebook and temporary files deleted)")
    return lines


def _check(review: Path) -> list[str]:
    """``python -m synth check REVIEW`` in a process of its own: its problem lines, if any."""
    import subprocess

    out = subprocess.run([sys.executable, "-m", "synth", "check", str(review.absolute())],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         check=False)
    if out.returncode == 0:
        return []
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        lines = lines[-1:]
    return lines or [f"python -m synth check {review} ended with exit code {out.returncode}"]


def check_reviews(reviews: Iterable[Path]) -> dict[Path, Future[list[str]]]:
    """Start checking each review as ``python -m synth check`` does, one process per CPU.

    The runner imports no pandas, so the review is loaded in another process. Returns each
    review's future: the check's problem lines, one per problem (none: the review is valid).
    """
    from concurrent.futures import ThreadPoolExecutor

    reviews = list(reviews)
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(reviews), os.cpu_count() or 1)),
                              thread_name_prefix="synth-check")
    try:
        return {review: pool.submit(_check, review) for review in reviews}
    finally:
        pool.shutdown(wait=False)


def run_job(job: Job, kernel: WarmKernel | None = None, *,
            cancelled: Callable[[], bool] | None = None) -> JobResult:
    """Execute one notebook with papermill; never raises for a failure inside the notebook.

    The job's context is written to ``results/<review>/.synth/<notebook>.context.json`` and
    named by ``SYNTH_RUN_CONTEXT`` while the kernel runs; the files the notebook writes through
    :mod:`synth.outputs` are read back from the output log beside it. The notebook executes
    into ``.synth/<notebook>.partial.ipynb``, moved to ``job.output`` once it has ended.

    Parameters
    ----------
    job
        What to execute.
    kernel
        A started kernel (:class:`synth.kernels.WarmKernel`) to execute on; its context file
        receives the job's context. None: papermill starts (and stops) a kernel of its own.
    cancelled
        Asked once the execution has ended: True (the run was interrupted and the kernel
        killed) deletes the partial notebook, even when this thread ends after the runner has
        cleaned up; the last complete executed notebook stays.
    """
    import papermill as pm

    start = time.perf_counter()
    job.output.parent.mkdir(parents=True, exist_ok=True)
    state = _state_dir(job)
    state.mkdir(parents=True, exist_ok=True)
    log = state / f"{job.notebook.stem}.outputs.jsonl"
    log.write_text("", encoding="utf-8")
    context_file = state / f"{job.notebook.stem}.context.json"
    context = {**job.context, "log": str(log.resolve())}
    _write_json(context_file, context)
    partial = _partial(job)
    previous = os.environ.get(RUN_CONTEXT_ENV)
    options: dict[str, Any] = dict(PAPERMILL_OPTIONS)
    if kernel is None:
        os.environ[RUN_CONTEXT_ENV] = str(context_file.resolve())
        options["cwd"] = str(job.notebook.parent)
    else:  # started in the notebooks' folder; no chdir, which would reach other threads
        kernel.set_context(context)
        options["km"] = kernel.km
    cell: int | None = None
    error: str | None = None
    try:
        pm.execute_notebook(str(job.notebook), str(partial), parameters=job.parameters,
                            **options)
    except pm.PapermillExecutionError as exc:
        cell, error = exc.exec_count, f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # a broken notebook file, a kernel that died
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        if kernel is None and previous is None:
            os.environ.pop(RUN_CONTEXT_ENV, None)
        elif kernel is None:
            os.environ[RUN_CONTEXT_ENV] = previous
    if partial.exists():
        if cancelled and cancelled():  # interrupted: the last complete notebook stays
            partial.unlink(missing_ok=True)
        else:
            os.replace(partial, job.output)
    outputs: list[str] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        path = json.loads(line)["path"]
        if path not in outputs:
            outputs.append(path)
    return JobResult(job, error is None, time.perf_counter() - start, cell, error,
                     outputs=tuple(outputs))


def _record(config: RunConfig, result: JobResult, root: Path) -> None:
    """Update ``results/<review>/manifest.json`` with a job that ran (the main process only)."""
    job = result.job
    path = _manifest_path(config, job.review)
    manifest = _read_manifest(path)
    manifest.setdefault("notebooks", {})
    manifest.setdefault("outputs", {})
    manifest["review"] = job.review.name
    ctx = job.context
    manifest["notebooks"][job.notebook.name] = {
        "status": "ok" if result.ok else "failed",
        "key": ctx.get("key"),
        "notebook_sha256": ctx.get("notebook_sha256"),
        "declared": ctx.get("declared"),
        "parameters": ctx.get("parameters"),
        "inputs": ctx.get("inputs"),
        "packages": ctx.get("packages"),
        "lock": ctx.get("lock"),
        "time": ctx.get("time"),
        "seconds": round(result.seconds, 2),
        "executed_notebook": _rel(job.output, root),
        "error": None if result.ok else {"cell": result.cell, "message": result.error},
    }
    if result.ok:  # a successful run replaces the notebook's list of outputs
        manifest["outputs"] = {p: o for p, o in manifest["outputs"].items()
                               if o.get("notebook") != job.notebook.name}
    for out in result.outputs:
        p = Path(out)
        if not p.exists():
            continue
        written = datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds")
        manifest["outputs"][_rel(p, root)] = {
            "notebook": job.notebook.name, "sha256": _sha256(p), "time": ctx.get("time"),
            "written": written,
            "parameters": ctx.get("parameters"), "inputs": ctx.get("inputs"),
            "packages": ctx.get("packages"),
        }
    manifest["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_json(path, manifest)


def _cancel_pending_tasks() -> None:
    """Cancel the asyncio tasks an interrupted papermill call left in this thread's loop."""
    import asyncio

    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks and not loop.is_running():
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _execute(config: RunConfig, jobs: list[Job], todo: list[int],
             begin: Callable[[int], None], done: Callable[[int, JobResult], None],
             gate: Callable[[], list[int]] | None = None) -> None:
    """Run the jobs ``todo`` (indexes into ``jobs``), ``config.jobs`` at a time, on a pool.

    Kernel k of the pool, started with job k's imports, goes to job k. With one slot the jobs
    run in this thread; with more, in as many threads (each notebook runs in its kernel, a
    process of its own; the threads only pass messages). ``begin(i)`` is called before job i
    executes and ``done(i, result)`` after. ``gate()``, called once the pool warms up, returns
    the jobs that may run (the others get the kernels' preloads meant for them: same modules
    or fewer). Leaving, for any reason, kills every kernel of the pool; on Ctrl-C the threads
    are waited for and report nothing more.
    """
    from synth.kernels import KernelPool, PoolClosed, notebook_imports

    slots = max(1, min(config.jobs, len(todo)))
    imports: dict[Path, tuple[str, ...]] = {}
    preloads = [imports.setdefault(jobs[i].notebook, notebook_imports(jobs[i].notebook))
                for i in todo]
    order_lock, done_lock = threading.Lock(), threading.Lock()
    stop = threading.Event()

    with KernelPool(preloads, slots=slots, cwd=config.notebooks_dir.resolve(),
                    kernel_name=PAPERMILL_OPTIONS["kernel_name"],
                    extra_arguments=PAPERMILL_OPTIONS["extra_arguments"],
                    warm=config.warm_kernels) as pool:
        order = iter(gate() if gate is not None else todo)

        def work() -> None:
            while not stop.is_set():
                with order_lock:  # kernel k to job k
                    i = next(order, None)
                    if i is None:
                        return
                    try:
                        kernel: WarmKernel | None = pool.take()
                        error = None
                    except PoolClosed:
                        return
                    except Exception as exc:  # the kernel did not start
                        kernel, error = None, f"kernel did not start: {type(exc).__name__}: {exc}"
                if kernel is None:
                    result = JobResult(jobs[i], False, 0.0, None, error.splitlines()[0])
                else:
                    try:
                        begin(i)
                        result = run_job(jobs[i], kernel, cancelled=stop.is_set)
                    except BaseException:  # Ctrl-C: no half-run nbclient task left to report
                        _cancel_pending_tasks()
                        raise
                    finally:
                        pool.release(kernel)
                with done_lock:
                    if stop.is_set():
                        return
                    done(i, result)

        def thread_work() -> None:
            try:
                work()
            except BaseException:
                if not stop.is_set():
                    raise

        if slots == 1:
            work()
            return
        threads = [threading.Thread(target=thread_work, name=f"synth-job-{n}", daemon=True)
                   for n in range(slots)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:
            stop.set()
            # Silenced while the kernels stop: papermill's "Kernel died" for each kernel, and
            # asyncio's "Task was destroyed but it is pending!" for nbclient's kernel-alive poll
            # of a notebook whose kernel is gone (the run reports the interrupt in one line).
            logs = [logging.getLogger(name) for name in ("papermill", "asyncio")]
            levels = [log.level for log in logs]
            for log in logs:
                log.setLevel(logging.CRITICAL + 1)
            try:
                pool.close()  # the threads' notebooks end as their kernels die
                for thread in threads:
                    thread.join(_STOP_TIMEOUT)
            finally:
                for log, level in zip(logs, levels, strict=True):
                    log.setLevel(level)
            raise


def run(config: RunConfig, *, on_result: Callable[[JobResult], None] | None = None,
        on_notice: Callable[[str], None] | None = None) -> list[JobResult]:
    """Repair, plan, skip what is unchanged, run the rest (``config.jobs`` at a time), record.

    Parameters
    ----------
    config
        What to run.
    on_result
        Called with each :class:`JobResult` as soon as it is known (skips first, then as the
        notebooks finish).
    on_notice
        Called with one line for each job repaired after a killed run (:func:`repair`) and
        each job run again for a reason other than a change of its inputs: an interrupted
        last run, or outputs changed or removed since (:func:`stale_reason`).

    Returns
    -------
    list of JobResult
        One per planned job, in plan order (review, then notebook).

    Raises
    ------
    KeyboardInterrupt
        After killing the kernels, deleting the partial notebooks and temporary files of the
        unfinished jobs and marking them ``interrupted`` in their manifests.
    """
    root = (config.root or Path.cwd()).resolve()

    def notice(line: str) -> None:
        if on_notice:
            on_notice(line)

    for line in repair(config):
        notice(line)
    jobs = plan(config)
    results: dict[int, JobResult] = {}
    started: set[int] = set()
    started_lock = threading.Lock()

    def begin(i: int) -> None:
        mark = _marker(jobs[i])
        mark.parent.mkdir(parents=True, exist_ok=True)
        with started_lock:
            started.add(i)
        atomic_write_text(mark, json.dumps({"pid": os.getpid(),
                                            "notebook": jobs[i].notebook.name}))

    def done(i: int, result: JobResult) -> None:
        results[i] = result
        if not result.skipped and not result.not_run:
            _record(config, result, root)
            _marker(result.job).unlink(missing_ok=True)
        with started_lock:
            started.discard(i)
        if on_result:
            on_result(result)

    todo: list[int] = []
    manifests: dict[Path, dict[str, Any]] = {}
    for i, job in enumerate(jobs):
        if not config.force:
            if job.review not in manifests:
                manifests[job.review] = _read_manifest(_manifest_path(config, job.review))
            reason = stale_reason(job, manifests[job.review], root)
            if reason is None:
                done(i, JobResult(job, True, 0.0, skipped=True))
                continue
            if reason not in (_NOT_RUN, _FAILED, _CHANGED, _NO_NOTEBOOK):
                notice(f"running {job.label} again: {reason}")
        todo.append(i)
    if not todo:
        return [results[i] for i in range(len(jobs))]
    for review in {jobs[i].review.name for i in todo}:
        for base in (config.figures_dir, config.results_dir):
            remove_leftover_temporaries(base.resolve() / review)
    checks = check_reviews(dict.fromkeys(jobs[i].review for i in todo))

    def gate() -> list[int]:
        """Wait for the checks; report each invalid review; the jobs that may run."""
        problems = {review: future.result() for review, future in checks.items()}
        for review, lines in problems.items():
            if lines:
                n = sum(jobs[i].review == review for i in todo)
                head = lines[0].rstrip(":") if lines[0].endswith(":") else "problems"
                notice(f"not running {review.name} ({n} notebook{'s' if n != 1 else ''}): "
                       f"{head}:")
                for line in lines[1:] if lines[0].endswith(":") else lines:
                    notice(f"  {line}")
        for i in todo:
            if problems[jobs[i].review]:
                done(i, JobResult(jobs[i], False, 0.0, error="its review has problems "
                                  "(listed above); correct them and run again", not_run=True))
        return [i for i in todo if not problems[jobs[i].review]]

    try:
        _execute(config, jobs, todo, begin, done, gate)
    except BaseException:
        with started_lock:
            unfinished = sorted(started)
        for i in unfinished:
            job = jobs[i]
            _interrupted(config.results_dir / job.review.name,
                         config.figures_dir / job.review.name, job.notebook.name)
        raise
    return [results[i] for i in range(len(jobs))]
