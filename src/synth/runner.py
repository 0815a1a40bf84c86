"""Execute the notebooks with papermill, for every review folder under ``data/``.

The runner is a list of (review, notebook) jobs; each is executed by papermill with the
review's path and the output folders as parameters, its executed copy kept in
``results/<review>/notebooks/``. A failing notebook does not stop the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import papermill as pm
import yaml

from synth.review import find_reviews

__all__ = ["RunConfig", "Job", "JobResult", "load_config", "find_notebooks", "plan",
           "run_job", "run"]

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
"""Notebooks the runner executes, in name order: ``NN_topic.ipynb``."""


@dataclass(frozen=True)
class RunConfig:
    """Where things are, which reviews and notebooks to run, and extra parameters."""

    data_dir: Path = Path("data")
    notebooks_dir: Path = Path("notebooks")
    figures_dir: Path = Path("figures")
    results_dir: Path = Path("results")
    reviews: tuple[str, ...] = ()
    notebooks: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    jobs: int = 1


_CONFIG_KEYS = ("data_dir", "notebooks_dir", "figures_dir", "results_dir", "reviews",
                "notebooks", "parameters", "jobs")


def load_config(path: str | Path | None) -> RunConfig:
    """Read ``synth.yaml``; paths in it are relative to the file. None gives the defaults."""
    if path is None:
        return RunConfig()
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(data) - set(_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"{path.name}: unknown key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(_CONFIG_KEYS)}")
    base = path.parent
    kw: dict[str, Any] = {}
    for key in ("data_dir", "notebooks_dir", "figures_dir", "results_dir"):
        if key in data:
            kw[key] = base / str(data[key])
    for key in ("reviews", "notebooks"):
        if key in data:
            kw[key] = tuple(str(x) for x in data[key] or ())
    if "parameters" in data:
        kw["parameters"] = dict(data["parameters"] or {})
    if "jobs" in data:
        kw["jobs"] = int(data["jobs"])
    return RunConfig(**kw)


@dataclass(frozen=True)
class Job:
    """One notebook executed for one review."""

    review: Path
    notebook: Path
    output: Path
    parameters: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.review.name} / {self.notebook.name}"


@dataclass(frozen=True)
class JobResult:
    """How a job ended; on failure, the cell and the exception's message."""

    job: Job
    ok: bool
    seconds: float
    cell: int | None = None
    error: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"ok      {self.job.label} ({self.seconds:.1f} s)"
        where = f" cell {self.cell}" if self.cell is not None else ""
        lines = (self.error or "").splitlines() or [""]
        if len(lines) > _ERROR_LINES:
            lines = [*lines[:_ERROR_LINES], f"... {len(lines) - _ERROR_LINES} more lines"]
        body = "\n".join(f"        {line}" for line in lines[1:])
        return (f"FAILED  {self.job.label}{where}: {lines[0]}\n" + (body + "\n" if body else "")
                + f"        full traceback in {self.job.output}")


_ERROR_LINES = 25
"""Lines of a notebook's exception shown in the run log (a ReviewDataError has one a problem)."""


def find_notebooks(folder: str | Path) -> list[Path]:
    """The notebooks to run, ``NN_topic.ipynb`` in name order."""
    return sorted(Path(folder).glob(NOTEBOOK_PATTERN))


def _select(paths: list[Path], names: Iterable[str], what: str) -> list[Path]:
    names = list(names)
    if not names:
        return paths
    chosen = []
    for name in names:
        hits = [p for p in paths if p.name == name or p.stem == name or p.stem.startswith(name)]
        if not hits:
            raise ValueError(f"{what} {name!r} not found; available: "
                             f"{', '.join(p.name for p in paths) or 'none'}")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def plan(config: RunConfig) -> list[Job]:
    """Every (review, notebook) job the config asks for, reviews in name order."""
    reviews = _select(find_reviews(config.data_dir), config.reviews, "review")
    notebooks = _select(find_notebooks(config.notebooks_dir), config.notebooks, "notebook")
    jobs = []
    for review in reviews:
        for nb in notebooks:
            params = {
                "review": str(review.resolve()),
                "figures_dir": str(config.figures_dir.resolve()),
                "results_dir": str(config.results_dir.resolve()),
                **config.parameters,
            }
            output = config.results_dir / review.name / "notebooks" / nb.name
            jobs.append(Job(review, nb, output, params))
    return jobs


def _check_parameters(job: Job) -> dict[str, Any]:
    """Pass only parameters the notebook declares; an unknown extra one is an error."""
    declared = set(pm.inspect_notebook(str(job.notebook)))
    base = {"review", "figures_dir", "results_dir"}
    unknown = sorted(k for k in job.parameters if k not in declared and k not in base)
    if unknown:
        raise ValueError(f"{job.notebook.name} has no parameter {', '.join(unknown)}; "
                         f"it declares: {', '.join(sorted(declared))}")
    return {k: v for k, v in job.parameters.items() if k in declared}


def run_job(job: Job) -> JobResult:
    """Execute one notebook with papermill; never raises for a failure inside the notebook."""
    start = time.perf_counter()
    job.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        params = _check_parameters(job)
        pm.execute_notebook(str(job.notebook), str(job.output), parameters=params,
                            cwd=str(job.notebook.parent), progress_bar=False,
                            log_output=False, kernel_name="python3")
    except pm.PapermillExecutionError as exc:
        message = f"{exc.ename}: {exc.evalue}".strip()
        return JobResult(job, False, time.perf_counter() - start, exc.cell_index, message)
    except Exception as exc:  # a broken notebook file, a kernel that died, a bad parameter
        return JobResult(job, False, time.perf_counter() - start, None,
                         f"{type(exc).__name__}: {exc}".splitlines()[0])
    return JobResult(job, True, time.perf_counter() - start)


def run(config: RunConfig, *, on_result: Callable[[JobResult], None] | None = None
        ) -> list[JobResult]:
    """Run every planned job (in parallel processes when ``config.jobs > 1``)."""
    jobs = plan(config)
    os.environ.setdefault("MPLBACKEND", "Agg")
    results: list[JobResult] = []
    if config.jobs <= 1:
        for job in jobs:
            results.append(run_job(job))
            if on_result:
                on_result(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=config.jobs) as pool:
        for result in pool.map(run_job, jobs):
            results.append(result)
            if on_result:
                on_result(result)
    return results
