"""TensorFlow, imported lazily (about 5 s) and quietly, only where a TF path needs it.

Only the real BAIR TFRecords and the standard I3D FVD use TensorFlow. Its C++ start-up logs go to
stderr with timestamps, which would make every notebook cell that touches it non-reproducible, so
they are silenced to fatal errors unless the user set ``TF_CPP_MIN_LOG_LEVEL`` already.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType


def tensorflow() -> ModuleType:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if "tensorflow" not in sys.modules:
        # the C++ runtime logs a few lines to fd 2 while loading, before any log level applies;
        # send them to /dev/null for the import only (Python exceptions still propagate)
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    import tensorflow as tf

    try:  # keep TF off any GPU: torch owns the device in this study
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # already initialised
        pass
    return tf
