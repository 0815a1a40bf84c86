"""synth: reproducible evidence synthesis for systematic reviews of radiomics studies.

The review's data are loaded and validated by :func:`load_review`; analyses live in one module
per concept (``overview``, ``quality``, ``prisma``, ...), each with its own ``__all__``.
"""

from synth.errors import ReviewDataError
from synth.review import Review, load_review

__all__ = ["load_review", "Review", "ReviewDataError", "__version__"]

__version__ = "0.1.0"
