"""synth: reproducible evidence synthesis for systematic reviews of radiomics studies.

The review's data are loaded and validated by :func:`load_review`; analyses live in one module
per concept (``overview``, ``auc``, ``quality``, ``prisma``, ...), each with its own ``__all__``.
"""

from __future__ import annotations

from typing import Any

from synth.errors import ReviewDataError

__all__ = ["load_review", "Review", "ReviewDataError", "__version__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import the loader on first use (PEP 562), so `synth run` with nothing to do stays fast."""
    if name in ("load_review", "Review"):
        from synth import review

        return getattr(review, name)
    raise AttributeError(f"module 'synth' has no attribute {name!r}")
