"""The run's configuration: ``synth.yaml`` read and checked, command-line choices applied.

:func:`load_config` rejects unknown keys and values outside what is allowed, one line each, so
that a typo stops the run before anything executes; :func:`with_overrides` applies the
command line's ``--review``, ``--only``, ``--param``, ``--jobs``, ``--force`` and
``--cold-kernels``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from synth.errors import did_you_mean
from synth.files import FIGURE_FORMAT_CHOICES, TABLE_FORMAT_CHOICES

__all__ = ["ConfigError", "RunConfig", "load_config", "with_overrides", "notebook_name"]


class ConfigError(ValueError):
    """A problem with ``synth.yaml`` or the command line: one line per problem."""


@dataclass(frozen=True)
class RunConfig:
    """Where things are, which reviews and notebooks to run, and with which parameters.

    ``parameters`` go to every notebook that declares them, then ``review_parameters[review]``,
    then ``notebook_parameters[notebook]``, then ``overrides`` (``--param``), later ones
    winning. ``figure_formats``, ``dpi`` and ``table_formats`` of None mean the defaults of
    :mod:`synth.files`.
    """

    data_dir: Path = Path("data")
    notebooks_dir: Path = Path("notebooks")
    figures_dir: Path = Path("figures")
    results_dir: Path = Path("results")
    reviews: tuple[str, ...] = ()
    notebooks: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    review_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    notebook_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    figure_formats: tuple[str, ...] | None = None
    dpi: int | None = None
    table_formats: tuple[str, ...] | None = None
    jobs: int = 1
    force: bool = False
    warm_kernels: bool = True
    """Start each notebook's kernel, with its imports loaded, while the one before executes
    (:mod:`synth.kernels`); False starts it when the notebook's turn comes."""
    root: Path | None = None
    """Folder that manifest paths are relative to (the config file's); default: the cwd."""


_CONFIG_KEYS: dict[str, str] = {
    "data_dir": "a folder (relative to synth.yaml) holding one folder per review",
    "notebooks_dir": "a folder holding NN_topic.ipynb notebooks",
    "figures_dir": "a folder for figures",
    "results_dir": "a folder for tables, executed notebooks and manifests",
    "reviews": "a list of review folder names (empty: all)",
    "notebooks": "a list of notebooks, e.g. 01 or 01_review_overview (empty: all)",
    "jobs": "a whole number >= 1, or auto (one per CPU)",
    "warm_kernels": "true (start the next notebook's kernel ahead) or false",
    "figures": "a mapping with formats and dpi",
    "tables": "a mapping with formats",
    "parameters": "a mapping of notebook parameters",
    "review_parameters": "a mapping review name -> mapping of parameters",
    "notebook_parameters": "a mapping notebook name -> mapping of parameters",
}


def load_config(path: str | Path | None) -> RunConfig:
    """Read ``synth.yaml``; paths in it are relative to the file. None gives the defaults.

    Raises
    ------
    ConfigError
        Listing every problem, one line each (``synth.yaml:key: value — what is allowed``);
        unknown keys are errors, not warnings.
    """
    if path is None:
        return RunConfig(root=Path.cwd())
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a mapping of settings, got {type(data).__name__}")
    problems: list[str] = []

    def bad(key: str, value: object, allowed: str) -> None:
        problems.append(f"{name}:{key}: {value!r} — {allowed}")

    for key in data:
        if key not in _CONFIG_KEYS:
            problems.append(f"{name}:{key}: unknown key — allowed: {', '.join(_CONFIG_KEYS)}"
                            f"{did_you_mean(str(key), _CONFIG_KEYS)}")
    base = path.parent
    kw: dict[str, Any] = {"root": base.resolve()}
    for key in ("data_dir", "notebooks_dir", "figures_dir", "results_dir"):
        if key in data:
            if isinstance(data[key], str) and data[key]:
                kw[key] = base / data[key]
            else:
                bad(key, data[key], _CONFIG_KEYS[key])
        else:
            kw[key] = base / getattr(RunConfig, key)
    for key in ("reviews", "notebooks"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, list) and all(isinstance(x, str | int) for x in value):
            kw[key] = tuple(notebook_name(x) if key == "notebooks" else str(x)
                            for x in value)
        else:
            bad(key, value, _CONFIG_KEYS[key])
    if "jobs" in data:
        jobs = data["jobs"]
        if jobs == "auto":
            kw["jobs"] = os.cpu_count() or 1
        elif isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1:
            kw["jobs"] = jobs
        else:
            bad("jobs", jobs, _CONFIG_KEYS["jobs"])
    if "warm_kernels" in data:
        if isinstance(data["warm_kernels"], bool):
            kw["warm_kernels"] = data["warm_kernels"]
        else:
            bad("warm_kernels", data["warm_kernels"], _CONFIG_KEYS["warm_kernels"])
    for section, allowed in (("figures", ("formats", "dpi")), ("tables", ("formats",))):
        value = data.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            bad(section, value, _CONFIG_KEYS[section])
            continue
        for key in value:
            if key not in allowed:
                problems.append(f"{name}:{section}.{key}: unknown key — allowed: "
                                f"{', '.join(allowed)}{did_you_mean(str(key), allowed)}")
        choices = FIGURE_FORMAT_CHOICES if section == "figures" else TABLE_FORMAT_CHOICES
        formats = value.get("formats")
        if formats is not None:
            if isinstance(formats, list) and formats and all(f in choices for f in formats):
                kw["figure_formats" if section == "figures" else "table_formats"] = tuple(formats)
            else:
                bad(f"{section}.formats", formats, f"a list of: {', '.join(choices)}")
        dpi = value.get("dpi")
        if section == "figures" and dpi is not None:
            if isinstance(dpi, int) and not isinstance(dpi, bool) and 72 <= dpi <= 2400:
                kw["dpi"] = dpi
            else:
                bad("figures.dpi", dpi, "a whole number from 72 to 2400 (300, or 600 on request)")
    params = data.get("parameters")
    if params is not None:
        if isinstance(params, dict):
            kw["parameters"] = dict(params)
        else:
            bad("parameters", params, _CONFIG_KEYS["parameters"])
    for key in ("review_parameters", "notebook_parameters"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, dict) and all(isinstance(v, dict | None) for v in value.values()):
            name_of = notebook_name if key == "notebook_parameters" else str
            kw[key] = {name_of(k): dict(v or {}) for k, v in value.items()}
        else:
            bad(key, value, _CONFIG_KEYS[key])
    if problems:
        raise ConfigError("\n".join(problems))
    return RunConfig(**kw)


def notebook_name(value: str | int) -> str:
    """A notebook as ``synth.yaml`` names it; YAML reads ``01`` as the integer 1, the prefix."""
    return f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def with_overrides(config: RunConfig, *, reviews: Iterable[str] = (),
                   notebooks: Iterable[str] = (), params: dict[str, Any] | None = None,
                   jobs: int | None = None, force: bool = False,
                   warm_kernels: bool | None = None) -> RunConfig:
    """The config with command-line choices applied (non-empty ones replace the config's)."""
    return replace(config, reviews=tuple(reviews) or config.reviews,
                   notebooks=tuple(notebooks) or config.notebooks,
                   overrides={**config.overrides, **(params or {})},
                   jobs=jobs if jobs is not None else config.jobs,
                   force=force or config.force,
                   warm_kernels=config.warm_kernels if warm_kernels is None else warm_kernels)

