"""Benchmark ``python -m synth run`` (a script, not a timed test): the ratios issue 6 sets.

Measured in one run, in a temporary folder (the repository's figures/ and results/ are not
touched), with the repository's notebooks:

1. full sequential run on the demo review / floor, where the floor is papermill executing, once
   per notebook, an empty notebook holding the same import statements (target <= 1.3);
2. the same run with ``--jobs 2`` / sequential (target <= 0.75);
3. a re-run with nothing changed, wall-clock seconds of the command (target <= 0.5 s);
4. a generated 10 000-study review / the 45-study demo, both as ``python -m synth run --force
   --jobs 1`` (target <= 1.5), and the peak memory of the 10 000-study run: the largest
   resident set of any process of the run, kernels included (target <= 1 GiB).

For reading ratio 1 (no target): the same sequential run writing figures as PNG only, divided
by the floor, which tells how much of the run the vector formats (SVG, PDF) take.

Runs 1 and 2 call :func:`synth.runner.run` in this process, as the floor calls papermill here:
both exclude starting Python and importing papermill, which run 3 and 4 include.

Usage: ``.venv/bin/python benchmarks/run_benchmark.py [--studies 10000]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
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
TARGETS = {"sequential / floor": 1.3, "jobs 2 / sequential": 0.75, "no-change re-run, s": 0.5,
           "big / demo": 1.5, "peak memory, GiB": 1.0}


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


def write_config(folder: Path, data: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "synth.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(data),
                                      "notebooks_dir": str(ROOT / "notebooks"),
                                      "figures_dir": str(folder / "figures"),
                                      "results_dir": str(folder / "results"), "jobs": 1}))
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10_000)
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
        start = time.perf_counter()
        results = run(config)
        sequential = time.perf_counter() - start
        failed = [r.describe() for r in results if not r.ok]
        if failed:
            raise SystemExit("\n".join(failed))
        print(f"sequential run: {sequential:.1f} s", flush=True)
        for r in results:
            print(f"  {r.job.notebook.name}: {r.seconds:.1f} s (floor "
                  f"{floors[r.job.notebook.name]:.1f} s)", flush=True)
        start = time.perf_counter()
        run(replace(config, figure_formats=("png",)))
        png_only = time.perf_counter() - start
        print(f"sequential run, figures as PNG only: {png_only:.1f} s "
              f"({png_only / floor:.2f} x the floor; no target)", flush=True)
        start = time.perf_counter()
        run(with_overrides(config, jobs=2))
        parallel = time.perf_counter() - start
        print(f"--jobs 2 run: {parallel:.1f} s", flush=True)

        nochange, _, out, cpu = cli_run(demo_config)
        skipped = out.count("\nskipped ") + out.startswith("skipped ")
        print(f"no-change re-run: {nochange:.2f} s, CPU {cpu:.2f} s ({skipped} of "
              f"{len(results)} skipped)", flush=True)

        demo_cli, demo_rss, _, _ = cli_run(demo_config, "--force", "--jobs", "1")
        make_big_review(tmp / "big-data" / "big", args.studies)
        big_config = write_config(tmp / "big", tmp / "big-data")
        big_cli, big_rss, _, _ = cli_run(big_config, "--force", "--jobs", "1")
        print(f"demo via the command: {demo_cli:.1f} s, peak {demo_rss / 2**20:.2f} GiB; "
              f"{args.studies} studies: {big_cli:.1f} s, peak {big_rss / 2**20:.2f} GiB",
              flush=True)

    measured = {"sequential / floor": sequential / floor,
                "jobs 2 / sequential": parallel / sequential, "no-change re-run, s": nochange,
                "big / demo": big_cli / demo_cli,
                "peak memory, GiB": big_rss / 2**20}
    print("\n| measure | measured | target |\n|---|---|---|")
    for name, value in measured.items():
        mark = "" if value <= TARGETS[name] else " (missed)" if value == value else " (failed)"
        print(f"| {name} | {value:.2f}{mark} | ≤ {TARGETS[name]} |")
    print(json.dumps({k: round(v, 3) for k, v in measured.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
