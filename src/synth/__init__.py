"""synth: reproducible evidence synthesis for systematic reviews of radiomics studies.

The review's data are loaded and validated by :func:`load_review`; analyses live in one module
per concept (``overview``, ``auc``, ``quality``, ``prisma``, ...), each with its own ``__all__``.
"""

from __future__ import annotations

from typing import Any

from synth.errors import ReviewDataError

__all__ = ["load_review", "Review", "ReviewDataError", "warm_up", "__version__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import the loader on first use (PEP 562), so `synth run` with nothing to do stays fast."""
    if name in ("load_review", "Review"):
        from synth import review

        return getattr(review, name)
    raise AttributeError(f"module 'synth' has no attribute {name!r}")


_ON_USE = ("scipy.stats", "statsmodels.stats.inter_rater", "pingouin")
"""Modules synth's analyses import on first use, to keep ``import synth`` light."""


_warmed: set[str] = set()
"""What :func:`warm_up` has done in this process (a kernel forked from a template that did it,
:mod:`synth.forkserver`, inherits it)."""


def warm_up() -> None:
    """Do ahead what a notebook's first cells would otherwise wait for; once a process.

    A warm kernel (:mod:`synth.kernels`) calls it before its notebook starts: it imports the
    modules synth's analyses import on first use, lets pandera register its pandas backends
    (a process's first validation takes about 0.3 s) and, when the notebook draws (matplotlib
    is imported), saves a small figure and table to memory (:func:`synth.outputs.warm_up`).
    Nothing is written; no name, setting or figure is left behind.
    """
    import importlib
    import sys

    if "modules" not in _warmed:
        for name in _ON_USE:
            try:
                importlib.import_module(name)
            except ImportError:
                continue
        import pandas as pd
        import pandera.pandas as pa

        pa.DataFrameSchema({"a": pa.Column(int)}).validate(pd.DataFrame({"a": [1]}))
        _warmed.add("modules")
    if "matplotlib" in sys.modules and "figures" not in _warmed:
        from synth import outputs

        outputs.warm_up()
        _warmed.add("figures")
