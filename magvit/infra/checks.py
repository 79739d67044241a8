"""Checks of the scalar parameters a user (or papermill) hands the library; videos: ``magvit.data.video``.

Notebooks get ``profile`` and ``seed`` from papermill, where ``-r seed 1`` or a typo passes a string. Every
library entry that takes a seed runs :func:`check_seed` first, so a wrong value stops with its name and
the fix instead of a conversion error deep inside torch or numpy, and before anything is written.
"""

from __future__ import annotations

import numpy as np

MAX_SEED = 2**63 - 1  # torch.manual_seed's range; numpy takes any non-negative int


def check_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` as an ``int`` if it is an integer in [0, 2**63); raise naming it otherwise.

    ``bool`` and integral floats are refused too: ``seed=True`` or ``seed=1.0`` is a typo, not a seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        hint = ("; papermill passes -p values as Python literals, so give a number (-p seed 0, not -r seed 0 "
                "or quotes)" if isinstance(seed, str) else "")
        raise TypeError(f"{name} must be a non-negative integer, got {seed!r} ({type(seed).__name__}){hint}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"{name} must be a non-negative integer below 2**63, got {int(seed)}")
    return int(seed)
