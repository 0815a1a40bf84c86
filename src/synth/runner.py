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

A failing notebook does not stop the others. Its executed copy, with the full traceback, is kept
in ``results/<review>/notebooks/`` like every other.

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
import os
import platform
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
    from synth.kernels import WarmKernel

__all__ = ["Job", "JobResult", "find_reviews", "find_notebooks", "plan", "run_job", "run",
           "MANIFEST_NAME", "PAPERMILL_OPTIONS", "LOCK_NAME", "lock_file"]

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

    def describe(self) -> str:
        """One line for a success or a skip; for a failure, the cell, message and where."""
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


def _matches(path: Path, name: str) -> bool:
    return path.name == name or path.stem == name or path.stem.startswith(name)


def _select(paths: list[Path], names: Iterable[str], what: str) -> list[Path]:
    names = list(names)
    if not names:
        return paths
    chosen: list[Path] = []
    for name in names:
        hits = [p for p in paths if _matches(p, name)]
        if not hits:
            raise ConfigError(f"{what} {name!r} not found; available: "
                              f"{', '.join(p.name for p in paths) or 'none'}")
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
    reviews = _select(all_reviews, config.reviews, "review")
    all_notebooks = find_notebooks(config.notebooks_dir)
    notebooks = _select(all_notebooks, config.notebooks, "notebook")
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
        hits = [nb for nb in all_notebooks if _matches(nb, name)]
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
            wanted: dict[str, Any] = {
                "review": str(review.resolve()),
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

def _state_dir(job: Job) -> Path:
    return job.output.parent.parent / ".synth"


def _is_current(job: Job, manifest: dict[str, Any], root: Path) -> bool:
    """True when the job's last run succeeded with the same fingerprint and its files exist."""
    entry = manifest.get("notebooks", {}).get(job.notebook.name)
    if not entry or entry.get("status") != "ok" or entry.get("key") != job.context.get("key"):
        return False
    if not job.output.exists():
        return False
    outputs = [p for p, o in manifest.get("outputs", {}).items()
               if o.get("notebook") == job.notebook.name]
    return all((root / p).exists() for p in outputs)


def run_job(job: Job, kernel: WarmKernel | None = None) -> JobResult:
    """Execute one notebook with papermill; never raises for a failure inside the notebook.

    The job's context is written to ``results/<review>/.synth/<notebook>.context.json`` and
    named by ``SYNTH_RUN_CONTEXT`` while the kernel runs; the files the notebook writes through
    :mod:`synth.outputs` are read back from the output log beside it.

    Parameters
    ----------
    job
        What to execute.
    kernel
        A started kernel (:class:`synth.kernels.WarmKernel`) to execute on; its context file
        receives the job's context. None: papermill starts (and stops) a kernel of its own.
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
        pm.execute_notebook(str(job.notebook), str(job.output), parameters=job.parameters,
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
             done: Callable[[int, JobResult], None]) -> None:
    """Run the jobs ``todo`` (indexes into ``jobs``), ``config.jobs`` at a time, on a pool.

    Kernel k of the pool, started with job k's imports, goes to job k. With one slot the jobs
    run in this thread; with more, in as many threads (each notebook runs in its kernel, a
    process of its own; the threads only pass messages). Leaving, for any reason, kills every
    kernel of the pool.
    """
    from synth.kernels import KernelPool, PoolClosed, notebook_imports

    slots = max(1, min(config.jobs, len(todo)))
    imports: dict[Path, tuple[str, ...]] = {}
    preloads = [imports.setdefault(jobs[i].notebook, notebook_imports(jobs[i].notebook))
                for i in todo]
    order = iter(todo)
    order_lock, done_lock = threading.Lock(), threading.Lock()

    with KernelPool(preloads, slots=slots, cwd=config.notebooks_dir.resolve(),
                    kernel_name=PAPERMILL_OPTIONS["kernel_name"],
                    extra_arguments=PAPERMILL_OPTIONS["extra_arguments"],
                    warm=config.warm_kernels) as pool:

        def work() -> None:
            while True:
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
                        result = run_job(jobs[i], kernel)
                    except BaseException:  # Ctrl-C: no half-run nbclient task left to report
                        _cancel_pending_tasks()
                        raise
                    finally:
                        pool.release(kernel)
                with done_lock:
                    done(i, result)

        if slots == 1:
            work()
            return
        threads = [threading.Thread(target=work, name=f"synth-job-{n}", daemon=True)
                   for n in range(slots)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def run(config: RunConfig, *, on_result: Callable[[JobResult], None] | None = None
        ) -> list[JobResult]:
    """Plan, skip what is unchanged, run the rest (``config.jobs`` at a time), record.

    Parameters
    ----------
    config
        What to run.
    on_result
        Called with each :class:`JobResult` as soon as it is known (skips first, then as the
        notebooks finish).

    Returns
    -------
    list of JobResult
        One per planned job, in plan order (review, then notebook).
    """
    root = (config.root or Path.cwd()).resolve()
    jobs = plan(config)
    results: dict[int, JobResult] = {}

    def done(i: int, result: JobResult) -> None:
        results[i] = result
        if not result.skipped:
            _record(config, result, root)
        if on_result:
            on_result(result)

    todo: list[int] = []
    manifests: dict[Path, dict[str, Any]] = {}
    for i, job in enumerate(jobs):
        if not config.force:
            if job.review not in manifests:
                manifests[job.review] = _read_manifest(_manifest_path(config, job.review))
            if _is_current(job, manifests[job.review], root):
                done(i, JobResult(job, True, 0.0, skipped=True))
                continue
        todo.append(i)
    if todo:
        for review in {jobs[i].review.name for i in todo}:
            for base in (config.figures_dir, config.results_dir):
                remove_leftover_temporaries(base.resolve() / review)
    if todo:
        _execute(config, jobs, todo, done)
    return [results[i] for i in range(len(jobs))]
