"""The video convention, re-exported where the data layer's callers have always imported it.

It lives in ``magvit.infra.video`` since ``magvit.infra.plots`` needs it too and the shared machinery must not import
the data layer (each package on its floor, ``tests/test_layout.py``).
"""

from __future__ import annotations

from magvit.infra.video import RANGE_TOLERANCE, check_video, to_uint8, to_video

__all__ = ["RANGE_TOLERANCE", "check_video", "to_uint8", "to_video"]
