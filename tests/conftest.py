"""Unit tests never read or write the developer's model cache: one fresh cache folder per test session. And the
smoke profile with an untrained tokenizer, for tests of the transformer side."""

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


@pytest.fixture(scope="module")
def smoke_untrained():
    """(smoke profile, a fresh artifact store) with ``get_tokenizer`` replaced by an untrained, seeded tokenizer: the
    transformer side of the study without tokenizer training."""
    import tempfile
    from pathlib import Path

    import torch

    from magvit import profiles
    from magvit.generative import train as generative_train
    from magvit.infra.artifacts import ArtifactStore
    from magvit.tokenizer.model import build_tokenizer

    def untrained_tokenizer(profile, cfg=None, seed=0, store=None):
        torch.manual_seed(seed)
        return build_tokenizer(cfg or profile.tokenizer, profile.data).eval(), None

    patch = pytest.MonkeyPatch()
    patch.setattr(generative_train, "get_tokenizer", untrained_tokenizer)
    with tempfile.TemporaryDirectory() as cache:
        yield profiles.get("smoke", device="cpu"), ArtifactStore(Path(cache))
    patch.undo()
