"""Conventions shared by the figures: one colour map for filters, on a scale centred on zero.

Private: the ``viz`` modules use these.
"""

import numpy as np

#: Filters and kernels everywhere in the book: negative weights red, positive blue, zero white.
FILTER_CMAP = "RdBu"


def symmetric_limit(array):
    """The colour limit that puts zero in the middle of :data:`FILTER_CMAP`: ``max |array|`` (1 for all zeros)."""
    return float(np.abs(array).max()) or 1.0
