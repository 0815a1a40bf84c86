"""Command line: ``python -m synth check PATH`` and ``python -m synth run``.

A thin shell over :mod:`synth.review` and :mod:`synth.runner`; no Python traceback reaches the
user (``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
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

    run = sub.add_parser("run", help="execute every notebook for every review")
    run.add_argument("--config", help="synth.yaml (default: ./synth.yaml if present)")
    run.add_argument("--jobs", type=int, help="notebooks run in parallel (default 1)")
    run.add_argument("--review", action="append", default=[], metavar="NAME",
                     help="only this review folder under data/ (repeatable)")
    run.add_argument("--only", action="append", default=[], metavar="NOTEBOOK",
                     help="only this notebook, e.g. 01 or 01_review_overview (repeatable)")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="notebook parameter (value read as YAML), repeatable")

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
    from synth.runner import load_config, run

    config_path = args.config or ("synth.yaml" if Path("synth.yaml").exists() else None)
    config = load_config(config_path)
    params = dict(config.parameters)
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {item!r}: write KEY=VALUE")
        params[key.strip()] = yaml.safe_load(value)
    config = replace(config, parameters=params,
                     jobs=args.jobs if args.jobs is not None else config.jobs,
                     reviews=tuple(args.review) or config.reviews,
                     notebooks=tuple(args.only) or config.notebooks)
    results = run(config, on_result=lambda r: print(r.describe(), flush=True))
    if not results:
        print(f"nothing to run: no review folders under {config.data_dir} "
              f"or no notebooks in {config.notebooks_dir}", file=sys.stderr)
        return 1
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks ran; "
          f"figures in {config.figures_dir}/, tables in {config.results_dir}/")
    return 1 if failed else 0


def _dictionary(write: str | None) -> int:
    from synth.schema import data_dictionary

    text = data_dictionary()
    if write:
        Path(write).write_text(text, encoding="utf-8")
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
        print("interrupted", file=sys.stderr)
        return 130
