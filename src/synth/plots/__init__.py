"""Figures: every plot function of synth and the one manuscript style they share.

One module per analysis (``auc``, ``regression``, ``dta``, ``quality``, ``appraisal``,
``prisma``, ``overview``, ``sensitivity``) plus ``style``. A plot
function takes an analysis result (a frozen dataclass or a tidy DataFrame) and ``ax=None``, and
returns the Figure; it computes nothing that a table of the analysis does not also hold. Only
this package (and :mod:`synth.outputs`) imports matplotlib.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["appraisal", "auc", "dta", "overview", "prisma", "quality", "regression",
           "sensitivity", "style"]


def __getattr__(name: str) -> ModuleType:
    """Import a plot module on first use (PEP 562): ``synth.plots.auc.plot_forest(...)``."""
    if name in __all__:
        return importlib.import_module(f"synth.plots.{name}")
    raise AttributeError(f"module 'synth.plots' has no attribute {name!r}")
