"""Unit tests never read or write the developer's model cache: one fresh cache folder per test session."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory):
    previous = os.environ.get("MAGVIT_CACHE")
    os.environ["MAGVIT_CACHE"] = str(tmp_path_factory.mktemp("magvit_cache"))
    yield
    if previous is None:
        os.environ.pop("MAGVIT_CACHE", None)
    else:
        os.environ["MAGVIT_CACHE"] = previous
