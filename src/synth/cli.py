"""Command line: ``python -m synth check PATH``, ``python -m synth run`` and ``dictionary``.

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

    dic = sub.add_parser("dictionary", help="print (or --write) the data dictionary")
    dic.add_argument("--write", metavar="FILE", help="write to FILE instead of printing")
    return p


def _check(path: str) -> int:
    from synth.review import load_review

    review = load_review(path)
    print(review.summary())
    print("valid")
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
    failed = [r for r in results if not r.ok]
    skipped = sum(r.skipped for r in results)
    ran = len(results) - len(failed) - skipped
    print(f"{ran} ran, {skipped} unchanged, {len(failed)} failed of {len(results)} notebooks; "
          f"figures in {config.figures_dir}/, tables and manifest.json in "
          f"{config.results_dir}/<review>/")
    for r in failed:
        where = f" cell {r.cell}" if r.cell is not None else ""
        print(f"failed: {r.job.label}{where}; see {r.job.output}", file=sys.stderr)
    return 1 if failed else 0


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
        if args.command == "check":
            return _check(args.path)
        if args.command == "run":
            return _run(args)
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
            print("interrupted: kernels stopped, partial notebooks and temporary files deleted; "
                  "the unfinished notebooks run again next time", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return 130
