"""Command line: ``python -m synth new PATH``, ``check PATH``, ``run`` and ``dictionary``.

A thin shell over :mod:`synth.review` and :mod:`synth.runner`; no Python traceback reaches the
user (``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import yaml

from synth.errors import ReviewDataError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m synth",
                                description="Evidence synthesis for radiomics reviews.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    new = sub.add_parser("new", help="write a new review folder, ready to fill",
                         description="Write a new review folder: a commented review.yaml, "
                         "the tables with every column and one example row, the PRISMA "
                         "counts with every box, and a README with the data dictionary. "
                         "The folder passes `check` as it is.")
    new.add_argument("path", help="the folder to create (new or empty); its name is the "
                     "review's name")
    new.add_argument("--xlsx", action="store_true",
                     help="one workbook, PATH/<name>.xlsx, with drop-down lists and "
                     "column comments, instead of CSV files and prisma.yaml")
    new.add_argument("--title", default="", help="the review's title (review.yaml)")
    new.add_argument("--vocabulary", metavar="REVIEW_YAML",
                     help="take aims, sites, modalities, models, raters, consensus and "
                     "ci_level from this review.yaml (default: synth's defaults)")
    new.add_argument("--instruments", default="all", metavar="NAMES",
                     help="quality instruments to include, comma-separated, from rqs "
                     "(RQS 1.0), metrics, rqs2, quadas2, clear; all (the default) or none")

    check = sub.add_parser("check", help="validate a review folder or workbook")
    check.add_argument("path", help="review folder (or .xlsx workbook)")

    run = sub.add_parser("run", help="execute every notebook for every review",
                         description="Execute every notebook for every review folder with "
                         "papermill; skip the ones whose inputs did not change.")
    run.add_argument("--config", help="synth.yaml (default: ./synth.yaml if present)")
    run.add_argument("--jobs", type=int, metavar="N",
                     help="notebooks run in parallel processes (default: synth.yaml's jobs)")
    run.add_argument("--review", action="append", default=[], metavar="NAME",
                     help="only the review folder of exactly this name under data/ "
                     "(repeatable)")
    run.add_argument("--only", action="append", default=[], metavar="NOTEBOOK",
                     help="only this notebook: a number selects by prefix (01), a name "
                     "exactly (01_review_overview); repeatable")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="notebook parameter (value read as YAML), repeatable")
    run.add_argument("--force", action="store_true",
                     help="re-run notebooks whose inputs did not change")
    run.add_argument("--cold-kernels", action="store_true",
                     help="start each notebook's kernel when its turn comes, not ahead "
                     "(synth.yaml: warm_kernels: false)")

    imp = sub.add_parser("import-metrics", help="merge the METRICS calculator's per-paper "
                         "Excel exports into one metrics.csv",
                         description="Read every .xlsx export of the official METRICS "
                         "calculator (METRICSscore_<ID>.xlsx) in FOLDER into one metrics.csv "
                         "table: one row per paper, the study_id its Publication ID.")
    imp.add_argument("folder", metavar="FOLDER", help="the folder of exports")
    imp.add_argument("--rater", required=True, metavar="NAME",
                     help="the rater of every export (a rater review.yaml declares)")
    imp.add_argument("--out", required=True, metavar="CSV", help="the table to write")
    imp.add_argument("--force", action="store_true", help="replace --out if it exists")

    dic = sub.add_parser("dictionary", help="print (or --write) the data dictionary")
    dic.add_argument("--write", metavar="FILE", help="write to FILE instead of printing")
    return p


def _check(path: str) -> int:
    from synth.review import load_review

    review = load_review(path)
    print(review.summary())
    print("valid")
    return 0


def _new(args: argparse.Namespace) -> int:
    from synth.template import review_tables, vocabulary_from, write_review
    from synth.vocabulary import DEFAULT_VOCABULARY

    names = args.instruments.strip().lower()
    chosen = None if names == "all" else [] if names == "none" else [
        n.strip() for n in names.split(",") if n.strip()]
    vocabulary = vocabulary_from(args.vocabulary) if args.vocabulary else DEFAULT_VOCABULARY
    written = write_review(args.path, xlsx=args.xlsx, title=args.title,
                           tables=review_tables(chosen), vocabulary=vocabulary)
    folder = Path(args.path)
    print(f"wrote {folder}/: {', '.join(p.name for p in written)}")
    print(f"next: declare your aims, sites, modalities, models and raters in "
          f"{folder / 'review.yaml'}, replace the example rows, then "
          f"`python -m synth check {folder}`")
    return 0


def _run(args: argparse.Namespace) -> int:
    from synth.config import ConfigError, load_config, with_overrides
    from synth.runner import run

    # The run reports every notebook in its own line (a failure with its cell and exception);
    # papermill's log would repeat a failure, and print "Kernel died ..." for every kernel
    # that Ctrl-C stops, so it is silenced here, where synth configures logging.
    logging.getLogger("papermill").setLevel(logging.CRITICAL + 1)
    config_path = args.config or ("synth.yaml" if Path("synth.yaml").exists() else None)
    config = load_config(config_path)
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param {item!r}: write KEY=VALUE")
        params[key.strip()] = yaml.safe_load(value)
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: a whole number >= 1")
    config = with_overrides(config, reviews=args.review, notebooks=args.only, params=params,
                            jobs=args.jobs, force=args.force,
                            warm_kernels=False if args.cold_kernels else None)
    results = run(config, on_result=lambda r: print(r.describe(), flush=True),
                  on_notice=lambda line: print(line, flush=True))
    if not results:
        print(f"nothing to run: no review folders under {config.data_dir} "
              f"or no notebooks in {config.notebooks_dir}", file=sys.stderr)
        return 1
    failed = [r for r in results if not r.ok and not r.not_run]
    not_run = sum(r.not_run for r in results)
    skipped = sum(r.skipped for r in results)
    ran = len(results) - len(failed) - skipped - not_run
    invalid = f", {not_run} not run (review has problems)" if not_run else ""
    print(f"{ran} ran, {skipped} unchanged, {len(failed)} failed{invalid} of {len(results)} "
          f"notebooks; figures in {config.figures_dir}/, tables and manifest.json in "
          f"{config.results_dir}/<review>/")
    for r in failed:
        where = f" cell {r.cell}" if r.cell is not None else ""
        print(f"failed: {r.job.label}{where}; see {r.job.output}", file=sys.stderr)
    return 1 if failed or not_run else 0


def _dictionary(write: str | None) -> int:
    from synth.files import atomic_write_text
    from synth.schema import data_dictionary

    text = data_dictionary()
    if write:
        atomic_write_text(write, text)
    else:
        print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "new":
            return _new(args)
        if args.command == "check":
            return _check(args.path)
        if args.command == "run":
            return _run(args)
        if args.command == "import-metrics":
            from synth.importers import import_metrics_to_csv

            table = import_metrics_to_csv(args.folder, args.out, rater=args.rater,
                                          force=args.force)
            print(f"wrote {args.out}: one row per export ({len(table)}), rater {args.rater}")
            return 0
        return _dictionary(args.write)
    except ReviewDataError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.command == "run":
            # Threads stopped mid-notebook may leave nbclient's polling tasks to be collected
            # at exit, which asyncio would log as "Task was destroyed but it is pending!".
            logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
            print("interrupted: kernels stopped, partial notebooks and temporary files deleted; "
                  "the unfinished notebooks run again next time", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return 130
