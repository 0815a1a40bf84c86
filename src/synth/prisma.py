"""PRISMA 2020 flow counts: read from ``prisma.yaml`` (or a workbook sheet) and validate.

Any count may be "not reported" (``None`` here); nothing is ever guessed for it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synth.errors import Problem

__all__ = ["NOT_REPORTED", "OtherMethods", "PrismaCounts", "read_prisma", "parse_prisma"]

NOT_REPORTED = "not reported"
"""How a count that the review does not report is written in ``prisma.yaml``."""

Count = int | None

_COUNT_HELP = f"a whole number ≥ 0 or '{NOT_REPORTED}'"
_NAMED_HELP = f"a mapping of names to counts ({_COUNT_HELP})"


@dataclass(frozen=True)
class OtherMethods:
    """The second column of the diagram: records from citation searching, websites, ..."""

    sources: dict[str, Count] = field(default_factory=dict)
    sought: Count = None
    not_retrieved: Count = None
    assessed: Count = None
    excluded_reasons: dict[str, Count] = field(default_factory=dict)


@dataclass(frozen=True)
class PrismaCounts:
    """The counts of the PRISMA 2020 flow diagram for new (or updated) reviews."""

    databases: dict[str, Count] = field(default_factory=dict)
    registers: dict[str, Count] = field(default_factory=dict)
    duplicates: Count = None
    automation: Count = None
    removed_other: Count = None
    screened: Count = None
    excluded_screening: Count = None
    sought: Count = None
    not_retrieved: Count = None
    assessed: Count = None
    excluded_reasons: dict[str, Count] = field(default_factory=dict)
    other_methods: OtherMethods | None = None
    studies_included: Count = None
    reports_included: Count = None
    previous_studies: Count = None
    source: str | None = None


_TOP_COUNTS = ("screened", "excluded_screening", "sought", "not_retrieved", "assessed",
               "studies_included", "reports_included", "previous_studies")
_TOP_NAMED = ("databases", "registers", "excluded_reasons")
_REMOVED = {"duplicates": "duplicates", "automation": "automation", "other": "removed_other"}
_OTHER_COUNTS = ("sought", "not_retrieved", "assessed")
_OTHER_NAMED = ("sources", "excluded_reasons")
_TOP_KEYS = (*_TOP_NAMED, "removed_before_screening", *_TOP_COUNTS, "other_methods", "source")


def _suggest(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _line_map(text: str) -> dict[tuple[str, ...], int]:
    """Map each key path of a YAML mapping to its line number (1-based)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                p = (*path, str(k.value))
                lines[p] = k.start_mark.line + 1
                walk(v, p)

    try:
        walk(yaml.compose(text), ())
    except yaml.YAMLError:
        pass
    return lines


def _count(value: Any) -> tuple[Count, bool]:
    """Return (count, ok) for a YAML value; "not reported" and null become None."""
    if value is None or (isinstance(value, str) and value.strip().lower() == NOT_REPORTED):
        return None, True
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None, False
    return value, True


def parse_prisma(
    data: Any, *, file: str = "prisma.yaml", lines: dict[tuple[str, ...], int] | None = None
) -> tuple[PrismaCounts | None, list[Problem]]:
    """Validate a mapping of PRISMA counts; return the counts (None if invalid) and problems."""
    lines = lines or {}
    problems: list[Problem] = []

    def at(path: tuple[str, ...]) -> int | None:
        return lines.get(path)

    def bad(path: tuple[str, ...], value: Any, allowed: str) -> None:
        problems.append(Problem(file, at(path), ".".join(path), repr(value), allowed))

    def count(path: tuple[str, ...], value: Any) -> Count:
        c, ok = _count(value)
        if not ok:
            bad(path, value, _COUNT_HELP)
        return c

    def named(path: tuple[str, ...], value: Any) -> dict[str, Count]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            bad(path, value, _NAMED_HELP)
            return {}
        return {str(k): count((*path, str(k)), v) for k, v in value.items()}

    def unknown(path: tuple[str, ...], mapping: dict, allowed: tuple[str, ...]) -> None:
        for k in mapping:
            if str(k) not in allowed:
                problems.append(Problem(file, at((*path, str(k))), ".".join((*path, str(k))),
                                        "unknown key",
                                        "allowed: " + ", ".join(allowed)
                                        + _suggest(str(k), allowed)))

    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, "not a mapping of counts",
                                "keys such as databases, screened, studies_included"))
        return None, problems

    unknown((), data, _TOP_KEYS)
    kw: dict[str, Any] = {k: named((k,), data.get(k)) for k in _TOP_NAMED}
    kw |= {k: count((k,), data.get(k)) for k in _TOP_COUNTS}
    removed = data.get("removed_before_screening") or {}
    if not isinstance(removed, dict):
        bad(("removed_before_screening",), removed, "duplicates, automation, other: counts")
        removed = {}
    unknown(("removed_before_screening",), removed, tuple(_REMOVED))
    for key, attr in _REMOVED.items():
        kw[attr] = count(("removed_before_screening", key), removed.get(key))
    other = data.get("other_methods")
    if other is not None:
        if not isinstance(other, dict):
            bad(("other_methods",), other, "a mapping with sources, sought, assessed, ...")
        else:
            unknown(("other_methods",), other, (*_OTHER_NAMED, *_OTHER_COUNTS))
            okw = {k: named(("other_methods", k), other.get(k)) for k in _OTHER_NAMED}
            okw |= {k: count(("other_methods", k), other.get(k)) for k in _OTHER_COUNTS}
            kw["other_methods"] = OtherMethods(**okw)
    source = data.get("source")
    kw["source"] = None if source is None else str(source)
    if problems:
        return None, problems
    return PrismaCounts(**kw), problems


def read_prisma(path: str | Path) -> tuple[PrismaCounts | None, list[Problem]]:
    """Read and validate ``prisma.yaml``; problems carry the YAML line of each key."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, None, f"byte 0x{path.read_bytes()[exc.start]:02x} at "
                              f"offset {exc.start} is not UTF-8", "save the file as UTF-8")]
    if not text.strip():
        return None, [Problem(name, None, None, "file is empty",
                              "PRISMA counts as in data/README.md")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or "not valid YAML"
        return None, [Problem(name, line, None, what, "valid YAML (key: value, two-space indents)")]
    return parse_prisma(data, file=name, lines=_line_map(text))
