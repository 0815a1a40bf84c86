"""A review's own words: its aims, sites, modalities, models and raters, declared in review.yaml.

Every table and figure follows the :class:`Vocabulary` of the review it shows: the aims and
their display order and labels, the sites, modalities and models a row may name, the raters
and which of them is the consensus, and the confidence level of the intervals the studies
report. A review that declares nothing gets :data:`DEFAULT_VOCABULARY`, documented in the data
dictionary; a review that declares a list gets exactly that list (declared lists replace the
default, they do not extend it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from synth.errors import Problem, did_you_mean

__all__ = [
    "Aim",
    "Vocabulary",
    "LIST_KEYS",
    "VOCABULARY_KEYS",
    "parse_vocabulary",
    "DEFAULT_AIMS",
    "DEFAULT_SITES",
    "DEFAULT_MODALITIES",
    "DEFAULT_MODELS",
    "DEFAULT_RATERS",
    "DEFAULT_CONSENSUS",
    "DEFAULT_CI_LEVEL",
    "DEFAULT_VOCABULARY",
    "MAX_AIMS",
    "COHORTS",
]

MAX_AIMS = 10
"""Most aims a review may declare: each aim keeps a colour of its own in every figure."""

COHORTS: tuple[str, ...] = ("training", "internal validation", "external validation")
"""Cohorts an AUC is measured in: not a review's choice, the representative-row rule ranks them."""


@dataclass(frozen=True)
class Aim:
    """One clinical aim: its key in the tables (``name``) and its label in figures."""

    name: str
    label: str


@dataclass(frozen=True)
class Vocabulary:
    """What a review's rows may say, in display order; see the module docstring."""

    aims: tuple[Aim, ...]
    sites: tuple[str, ...]
    modalities: tuple[str, ...]
    models: tuple[str, ...]
    raters: tuple[str, ...]
    consensus: str
    ci_level: float = 0.95
    declared: frozenset[str] = field(default=frozenset(), compare=False)
    """The review.yaml keys this vocabulary was declared with (the rest are defaults)."""

    def __post_init__(self) -> None:
        names = [a.name for a in self.aims]
        if not names or len(set(names)) != len(names) or len(names) > MAX_AIMS:
            raise ValueError(f"aims must be 1 to {MAX_AIMS} distinct names, got {names}")
        if self.consensus not in self.raters:
            raise ValueError(f"consensus={self.consensus!r} is not one of raters {self.raters}")
        if not 0 < self.ci_level < 1:
            raise ValueError(f"ci_level={self.ci_level!r} must lie between 0 and 1")

    @property
    def aim_names(self) -> tuple[str, ...]:
        """The aims' keys in display order."""
        return tuple(a.name for a in self.aims)

    @property
    def aim_labels(self) -> dict[str, str]:
        """Each aim's label in figures and tables people read, by key."""
        return {a.name: a.label for a in self.aims}

    def values(self, key: str) -> tuple[str, ...]:
        """The values a column bound to list ``key`` (``"aims"``, ``"sites"``, ...) allows."""
        if key not in LIST_KEYS:
            raise ValueError(f"key={key!r} is not one of {LIST_KEYS}")
        return self.aim_names if key == "aims" else getattr(self, key)

    def source(self, key: str) -> str:
        """Where list ``key`` comes from, for messages: ``review.yaml: sites`` or the default."""
        if key in self.declared:
            return f"review.yaml: {key}"
        return f"the default {key}; declare your own as {key}: in review.yaml"


DEFAULT_AIMS: tuple[Aim, ...] = (
    Aim("diagnosis", "diagnosis"),
    Aim("differential diagnosis", "differential diagnosis"),
    Aim("grade", "grade"),
    Aim("stage", "stage"),
    Aim("molecular", "molecular status"),
    Aim("response", "response"),
    Aim("outcome", "outcome"),
)
"""Aims of radiomics studies in general, used when review.yaml declares none."""

DEFAULT_SITES: tuple[str, ...] = (
    "brain", "head and neck", "thyroid", "lung", "breast", "heart", "oesophagus", "stomach",
    "duodenum", "small intestine", "appendix", "colorectum", "liver", "pancreas", "kidney",
    "adrenal", "bladder", "prostate", "ovary", "uterus", "cervix", "bone", "soft tissue",
    "skin", "lymph node", "mixed",
)
"""Body sites, used when review.yaml declares none."""

DEFAULT_MODALITIES: tuple[str, ...] = (
    "CT", "MRI", "PET", "PET/CT", "SPECT", "ultrasound", "radiography", "mammography",
    "multiple",
)
"""Imaging modalities, used when review.yaml declares none."""

DEFAULT_MODELS: tuple[str, ...] = (
    "radiomics", "deep learning", "combined", "clinical", "single feature",
)
"""Kinds of model, used when review.yaml declares none."""

DEFAULT_RATERS: tuple[str, ...] = ("A", "B", "C", "D", "consensus")
"""Raters of quality scores, used when review.yaml declares none."""

DEFAULT_CONSENSUS = "consensus"
"""The rater whose scores the summaries use, unless review.yaml names another."""

DEFAULT_CI_LEVEL = 0.95
"""Confidence level of the intervals studies report, unless review.yaml says otherwise."""

DEFAULT_VOCABULARY = Vocabulary(
    aims=DEFAULT_AIMS,
    sites=DEFAULT_SITES,
    modalities=DEFAULT_MODALITIES,
    models=DEFAULT_MODELS,
    raters=DEFAULT_RATERS,
    consensus=DEFAULT_CONSENSUS,
    ci_level=DEFAULT_CI_LEVEL,
)
"""The vocabulary of a review that declares none of its own."""


LIST_KEYS: tuple[str, ...] = ("aims", "sites", "modalities", "models", "raters")
"""review.yaml's vocabulary lists, each bound to a column (performance.aim, studies.site, ...)."""

VOCABULARY_KEYS: tuple[str, ...] = (*LIST_KEYS, "consensus", "ci_level")
"""Every review.yaml key :func:`parse_vocabulary` reads."""

_Report = Callable[[str, str, str], None]
"""Records one problem: (key, value as shown, what is allowed)."""

_EXAMPLES = {"aims": "[grade, {name: dd, label: differential diagnosis}]",
             "sites": "[pancreas, stomach]", "modalities": "[CT, MRI]",
             "models": "[radiomics, deep learning]", "raters": "[A, B, consensus]"}


def _name(value: Any) -> str | None:
    """A list item as a name: non-empty text (a whole number is read as its digits)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_vocabulary(data: Mapping[str, Any], *, file: str = "review.yaml",
                     lines: Mapping[tuple[str, ...], int] | None = None
                     ) -> tuple[Vocabulary, list[Problem]]:
    """Read the vocabulary keys of review.yaml; the others are left to the caller.

    Parameters
    ----------
    data
        review.yaml's mapping (keys other than :data:`VOCABULARY_KEYS` are ignored here).
    file, lines
        The file's label and the line of each key path, for the messages.

    Returns
    -------
    tuple[Vocabulary, list[Problem]]
        The review's vocabulary — each undeclared key, and each key with a problem, taken
        from :data:`DEFAULT_VOCABULARY` — and one problem per bad key or list item, on the
        key's line: ``review.yaml:4:sites: 'lung' — a list of names, e.g. [pancreas, stomach]``.
    """
    lines = lines or {}
    problems: list[Problem] = []

    def problem(key: str, value: str, allowed: str) -> None:
        problems.append(Problem(file, lines.get((key,)), key, value, allowed))

    values: dict[str, Any] = {}
    for key in LIST_KEYS:
        if key not in data:
            continue
        parsed = _parse_list(key, data[key], problem)
        if parsed is not None:
            values[key] = parsed
    declared = frozenset(values)
    aims = values.get("aims", DEFAULT_AIMS)
    raters = values.get("raters", DEFAULT_RATERS)
    consensus = DEFAULT_CONSENSUS
    if "consensus" in data:
        name = _name(data["consensus"])
        if name is None or name not in raters:
            shown = repr(data["consensus"]) if name is None else repr(name)
            hint = did_you_mean(name, raters) if name else ""
            problem("consensus", shown, f"one of the raters ({', '.join(raters)}){hint}")
        else:
            consensus = name
            declared |= {"consensus"}
    elif consensus not in raters:
        problem("raters", ", ".join(raters), "a list holding the consensus rater, or "
                f"consensus: one of them (the default consensus is {DEFAULT_CONSENSUS!r})")
    if consensus not in raters:  # a problem above: both fall back to the defaults
        raters, consensus = DEFAULT_RATERS, DEFAULT_CONSENSUS
        declared -= {"raters"}
    ci_level = DEFAULT_CI_LEVEL
    if "ci_level" in data:
        value = data["ci_level"]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value < 1:
            hint = (f"; write {value / 100:g} for {value:g} %"
                    if isinstance(value, int | float) and not isinstance(value, bool)
                    and 1 < value < 100 else "")
            problem("ci_level", repr(value), "a number between 0 and 1, e.g. 0.95" + hint)
        else:
            ci_level = float(value)
            declared |= {"ci_level"}
    return Vocabulary(
        aims=aims,
        sites=values.get("sites", DEFAULT_SITES),
        modalities=values.get("modalities", DEFAULT_MODALITIES),
        models=values.get("models", DEFAULT_MODELS),
        raters=raters,
        consensus=consensus,
        ci_level=ci_level,
        declared=declared,
    ), problems


def _parse_list(key: str, value: Any, problem: _Report) -> tuple | None:
    """One list of review.yaml as names (aims as :class:`Aim`); None after a problem."""
    example = f"a list of names, e.g. {_EXAMPLES[key]}"
    if not isinstance(value, list):
        problem(key, repr(value), example)
        return None
    if not value:
        problem(key, "[] (empty list)", example + "; or leave the key out for the defaults")
        return None
    if key == "aims" and len(value) > MAX_AIMS:
        problem(key, f"{len(value)} aims", f"at most {MAX_AIMS} aims (each keeps a colour of "
                "its own in every figure)")
        return None
    items: list[Any] = []
    ok = True
    for i, item in enumerate(value, start=1):
        if key == "aims" and isinstance(item, dict):
            aim = _parse_aim(item, i, problem)
            ok &= aim is not None
            items.append(aim)
            continue
        name = _name(item)
        if name is None:
            allowed = ("a name or a mapping {name: ..., label: ...}" if key == "aims"
                       else "a non-empty name")
            problem(key, f"item {i}: {item!r}", allowed)
            ok = False
        items.append(Aim(name, name) if key == "aims" and name is not None else name)
    if not ok:
        return None
    names = [a.name if isinstance(a, Aim) else a for a in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problem(key, ", ".join(repr(n) for n in repeated) + " listed twice",
                "each name once")
        return None
    return tuple(items)


def _parse_aim(item: dict, i: int, problem: _Report) -> Aim | None:
    """An aim written as ``{name: egfr, label: EGFR mutation}`` (label optional)."""
    unknown = [str(k) for k in item if k not in ("name", "label")]
    if unknown:
        problem("aims", f"item {i}: key {unknown[0]!r}", "name and label"
                + did_you_mean(unknown[0], ("name", "label")))
        return None
    name = _name(item.get("name"))
    if name is None:
        problem("aims", f"item {i}: name {item.get('name')!r}",
                "a non-empty name, e.g. {name: egfr, label: EGFR mutation}")
        return None
    label = _name(item.get("label", name))
    if label is None:
        problem("aims", f"item {i}: label {item.get('label')!r}",
                "a non-empty label, or no label (the name is shown)")
        return None
    return Aim(name, label)
