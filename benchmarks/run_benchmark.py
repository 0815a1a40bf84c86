"""Benchmark ``python -m synth run`` (a script, not a timed test): the ratios issue 19 sets.

Measured in one run, in a temporary folder (the repository's figures/ and results/ are not
touched), with the repository's notebooks:

1. full sequential run on the demo review with the warm kernel pool / (one kernel floor + the
   cells' execution time, read from the executed notebooks' papermill metadata), where the
   floor is papermill executing an empty notebook holding the first notebook's import
   statements, in a kernel of its own (target <= 1.15);
2. the same run with the pool / without it (``warm_kernels: false``: each kernel starts, and
   imports, when its notebook's turn comes; target <= 0.8);
3. the run with ``--jobs 2`` / sequential (target <= 0.65);
4. a re-run with nothing changed, wall-clock seconds of the command (target <= 0.3 s);
5. a generated 10 000-study review / the 45-study demo, both as ``python -m synth run --force
   --jobs 1`` (target <= 1.5), and the peak memory of the 10 000-study run: the largest
   resident set of any process of the run, kernels included (target <= 1 GiB).

For reading (no target): the sequential run writing figures as PNG only, and where the cells'
time goes — savefig per format, tables, the rest (statistics and drawing) — measured by running
the notebooks' code once in this process with those calls timed.

Runs 1 to 3 call :func:`synth.runner.run` in this process, after one warm-up run: they exclude
starting Python and importing papermill, which runs 4 and 5 include. Runs 1, 2, 3 and 5 are
repeated in rounds (``--rounds``, 3 by default), each configuration once a round, in turn; a
ratio is the median of its rounds' ratios (the range is printed beside it), so that a slow
spell of a shared machine does not decide it.

Usage: ``.venv/bin/python benchmarks/run_benchmark.py [--studies 10000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import yaml

from synth.config import load_config, with_overrides
from synth.runner import PAPERMILL_OPTIONS, find_notebooks, run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TARGETS = {"sequential / (floor + cells)": 1.15, "warm pool / no pool": 0.8,
           "jobs 2 / sequential": 0.65, "no-change re-run, s": 0.3,
           "big / demo": 1.5, "peak memory, GiB": 1.0, "bivariate fit, k = 1000, s": 2.0}


def imports_only(notebook: Path, dest: Path) -> Path:
    """An empty notebook with the notebook's import statements (for the floor)."""
    nb = nbformat.read(notebook, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body
                  if isinstance(node, ast.Import | ast.ImportFrom)]
    out = nbformat.v4.new_notebook()
    out.metadata = nb.metadata
    out.cells = [nbformat.v4.new_code_cell("\n".join(lines))]
    nbformat.write(out, dest)
    return dest


def floor_seconds(notebooks: list[Path], tmp: Path) -> dict[str, float]:
    """papermill executing each notebook's imports-only twin once, in this process, with the
    runner's papermill options."""
    seconds = {}
    for nb in notebooks:
        empty = imports_only(nb, tmp / f"empty_{nb.name}")
        start = time.perf_counter()
        pm.execute_notebook(str(empty), str(tmp / f"out_{nb.name}"), cwd=str(nb.parent),
                            **PAPERMILL_OPTIONS)
        seconds[nb.name] = time.perf_counter() - start
    return seconds


def _scale(node: object, k: int) -> object:
    if isinstance(node, dict):
        return {key: _scale(value, k) for key, value in node.items()}
    if isinstance(node, int) and not isinstance(node, bool):
        return node * k
    return node


def make_big_review(dest: Path, n_studies: int) -> Path:
    """The demo review replicated to ``n_studies`` studies (ids ``demo01_r0001``, ...).

    PRISMA counts are scaled by the replication factor; the studies beyond ``n_studies`` move
    to the first exclusion reason, so the flow still adds up.
    """
    dest.mkdir(parents=True)
    studies = pd.read_csv(DEMO / "studies.csv", dtype=str, keep_default_na=False)
    k = -(-n_studies // len(studies))

    def replicate(df: pd.DataFrame) -> pd.DataFrame:
        copies = []
        for r in range(k):
            copy = df.copy()
            copy["study_id"] = copy["study_id"] + f"_r{r:04d}"
            copies.append(copy)
        return pd.concat(copies, ignore_index=True)

    big = replicate(studies).iloc[:n_studies]
    keep = set(big["study_id"])
    big.to_csv(dest / "studies.csv", index=False)
    for name in ("performance.csv", "quality.csv"):
        if (DEMO / name).exists():
            df = replicate(pd.read_csv(DEMO / name, dtype=str, keep_default_na=False))
            df[df["study_id"].isin(keep)].to_csv(dest / name, index=False)
    prisma = _scale(yaml.safe_load((DEMO / "prisma.yaml").read_text()), k)
    extra = k * len(studies) - n_studies
    for key in ("studies_included", "reports_included"):
        prisma[key] -= extra
    first_reason = next(iter(prisma["excluded_reasons"]))
    prisma["excluded_reasons"][first_reason] += extra
    prisma["source"] = f"benchmark: data/demo replicated x{k}, trimmed to {n_studies} studies"
    (dest / "prisma.yaml").write_text(yaml.safe_dump(prisma, sort_keys=False))
    meta = yaml.safe_load((DEMO / "review.yaml").read_text())
    meta["title"] = f"Benchmark: demo review replicated to {n_studies} studies"
    (dest / "review.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    return dest


def cli_run(config: Path, *extra: str) -> tuple[float, int, str, float]:
    """Wall seconds, peak resident set (KiB, over the process tree), output, CPU seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", "--config", str(config),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=config.parent)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"synth run failed after {seconds:.0f} s, peak {usage.ru_maxrss / 2**20:.2f} GiB:"
              f"\n{out}", flush=True)
        return float("nan"), usage.ru_maxrss, out, usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss, out, usage.ru_utime + usage.ru_stime


def cell_seconds(results: list) -> float:
    """Seconds the executed notebooks' cells took (papermill's per-cell ``duration``)."""
    total = 0.0
    for r in results:
        nb = json.loads(Path(r.job.output).read_text(encoding="utf-8"))
        total += sum(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
                     for c in nb["cells"])
    return total


def where_cell_time_goes(notebooks: list[Path], review: Path, tmp: Path) -> dict[str, float]:
    """Cell seconds split into savefig per format, tables, and the rest (statistics, drawing).

    Each notebook's code runs in this process once, with ``Figure.savefig`` and
    ``synth.outputs.write_table`` timed (the kernels of a run cannot be instrumented from
    outside); the split is what the figure work can be compared with.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from synth import outputs

    spent: dict[str, float] = {}
    real_savefig, real_write_table = Figure.savefig, outputs.write_table

    def timed(key: str, fn, *args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

    def savefig(fig, fname, *args, **kwargs):
        fmt = kwargs.get("format") or Path(str(fname)).suffix.lstrip(".") or "png"
        return timed(f"savefig {fmt}", real_savefig, fig, fname, *args, **kwargs)

    total = 0.0
    Figure.savefig = savefig
    outputs.write_table = lambda *a, **kw: timed("tables", real_write_table, *a, **kw)
    cwd = Path.cwd()
    try:
        for nb_path in notebooks:
            nb = nbformat.read(nb_path, as_version=4)
            given = {"review": str(review), "figures_dir": str(tmp / "figures"),
                     "results_dir": str(tmp / "results")}
            namespace: dict = {"display": lambda *objects, **kw: None}
            os.chdir(nb_path.parent)
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                for cell in (c for c in nb.cells if c.cell_type == "code"):
                    exec(compile(_strip_magics(cell.source), str(nb_path), "exec"), namespace)
                    if "parameters" in cell.metadata.get("tags", []):  # as papermill injects
                        namespace.update(given)
            total += time.perf_counter() - start
            plt.close("all")
    finally:
        os.chdir(cwd)
        Figure.savefig, outputs.write_table = real_savefig, real_write_table
    tables_and_figures = sum(spent.values())
    return {**dict(sorted(spent.items())),
            "statistics and drawing": total - tables_and_figures, "all cells": total}


def _strip_magics(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


def write_config(folder: Path, data: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "synth.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(data),
                                      "notebooks_dir": str(ROOT / "notebooks"),
                                      "figures_dir": str(folder / "figures"),
                                      "results_dir": str(folder / "results"), "jobs": 1}))
    return config


def bivariate_fit_seconds(k: int = 1000, seed: int = 15) -> float:
    """Seconds of one REML fit of the bivariate model (synth.bivariate) to k simulated 2x2
    tables (issue 15: within 2 s at k = 1000); the best of three."""
    import numpy as np

    from synth.bivariate import fit_bivariate

    rng = np.random.default_rng(seed)
    logits = rng.multivariate_normal([1.5, -1.5], [[0.8, -0.3], [-0.3, 0.5]], size=k)
    pos, neg = rng.integers(20, 200, k), rng.integers(20, 300, k)
    tp = rng.binomial(pos, 1 / (1 + np.exp(-logits[:, 0])))
    fp = rng.binomial(neg, 1 / (1 + np.exp(-logits[:, 1])))
    counts = np.column_stack([tp, pos - tp, fp, neg - fp])
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fit_bivariate(counts)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every timed configuration; the ratios are the medians")
    args = parser.parse_args()
    notebooks = find_notebooks(ROOT / "notebooks")
    print(f"{len(notebooks)} notebooks: {', '.join(nb.name for nb in notebooks)}; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp_name:
        tmp = Path(tmp_name)
        shutil.copytree(DEMO, tmp / "demo-data" / "demo")
        demo_config = write_config(tmp / "demo", tmp / "demo-data")
        (tmp / "floor").mkdir()
        floor_seconds(notebooks[:1], tmp / "floor")  # warm-up: disk caches, kernel spec
        floors = floor_seconds(notebooks, tmp / "floor")
        floor = sum(floors.values())
        print(f"floor (imports only, once per notebook): {floor:.1f} s", flush=True)

        config = with_overrides(load_config(demo_config), force=True)
        run(config)  # warm-up: disk caches, byte-compiled modules
        make_big_review(tmp / "big-data" / "big", args.studies)
        big_config = write_config(tmp / "big", tmp / "big-data")
        rounds: list[dict[str, float]] = []
        for n in range(1, args.rounds + 1):
            # one round: every configuration once, in turn, so that a slower spell of a
            # shared machine touches both sides of a ratio alike
            start = time.perf_counter()
            results = run(config)
            sequential = time.perf_counter() - start
            failed = [r.describe() for r in results if not r.ok]
            if failed:
                raise SystemExit("\n".join(failed))
            cells = cell_seconds(results)
            start = time.perf_counter()
            run(with_overrides(config, warm_kernels=False))
            cold = time.perf_counter() - start
            start = time.perf_counter()
            run(with_overrides(config, jobs=2))
            parallel = time.perf_counter() - start
            demo_cli, _, _, _ = cli_run(demo_config, "--force", "--jobs", "1")
            big_cli, big_rss, _, _ = cli_run(big_config, "--force", "--jobs", "1")
            rounds.append({"sequential": sequential, "cells": cells, "cold": cold,
                           "parallel": parallel, "demo_cli": demo_cli, "big_cli": big_cli,
                           "big_rss": big_rss})
            print(f"round {n}: sequential with the pool {sequential:.1f} s (cells {cells:.1f} "
                  f"s), without {cold:.1f} s, --jobs 2 {parallel:.1f} s; command: demo "
                  f"{demo_cli:.1f} s, {args.studies} studies {big_cli:.1f} s, peak "
                  f"{big_rss / 2**20:.2f} GiB", flush=True)
        one_floor = floors[notebooks[0].name]
        print(f"one kernel floor {one_floor:.1f} s; last round's notebooks:", flush=True)
        for r in results:
            print(f"  {r.job.notebook.name}: {r.seconds:.1f} s (floor "
                  f"{floors[r.job.notebook.name]:.1f} s)", flush=True)
        nochange, _, out, cpu = cli_run(demo_config)
        skipped = out.count("\nskipped ") + out.startswith("skipped ")
        print(f"no-change re-run: {nochange:.2f} s, CPU {cpu:.2f} s ({skipped} of "
              f"{len(results)} skipped)", flush=True)

        start = time.perf_counter()
        run(replace(config, figure_formats=("png",)))
        png_only = time.perf_counter() - start
        print(f"sequential run, figures as PNG only: {png_only:.1f} s (no target)", flush=True)

        split = where_cell_time_goes(notebooks, DEMO, tmp / "split")
        print("\nwhere cell time goes (demo, all notebooks, in one process):\n"
              "| part | seconds | share |\n|---|---|---|")
        for name, seconds in split.items():
            print(f"| {name} | {seconds:.2f} | {seconds / split['all cells']:.0%} |")

    per_round = {
        "sequential / (floor + cells)": [r["sequential"] / (one_floor + r["cells"])
                                         for r in rounds],
        "warm pool / no pool": [r["sequential"] / r["cold"] for r in rounds],
        "jobs 2 / sequential": [r["parallel"] / r["sequential"] for r in rounds],
        "big / demo": [r["big_cli"] / r["demo_cli"] for r in rounds],
        "peak memory, GiB": [r["big_rss"] / 2**20 for r in rounds]}
    measured = {name: statistics.median(values) for name, values in per_round.items()}
    measured["no-change re-run, s"] = nochange
    measured["bivariate fit, k = 1000, s"] = bivariate_fit_seconds()
    print(f"\n| measure | median of {len(rounds)} rounds (range) | target |\n|---|---|---|")
    for name in TARGETS:
        value = measured[name]
        mark = "" if value <= TARGETS[name] else " (missed)" if value == value else " (failed)"
        spread = (f" ({min(per_round[name]):.2f}–{max(per_round[name]):.2f})"
                  if name in per_round and len(rounds) > 1 else "")
        print(f"| {name} | {value:.2f}{mark}{spread} | ≤ {TARGETS[name]} |")
    print(json.dumps({k: round(v, 3) for k, v in measured.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
