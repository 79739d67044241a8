"""The standard FVD path (TF-Hub I3D) end to end on a tiny SavedModel of the same signature, offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from magvit.metrics import I3DFeatures, frechet_distance
from magvit.metrics.i3d import preprocess, write_tiny_i3d


def test_preprocess_resizes_to_224_and_scales_to_minus_one_one():
    video = torch.zeros(2, 3, 9, 16, 16)
    video[:, :, :, :, 8:] = 1.0  # left half black, right half white
    x = preprocess(video).numpy()
    assert x.shape == (2, 9, 224, 224, 3)
    assert x.min() == pytest.approx(-1.0) and x.max() == pytest.approx(1.0)
    # TF1 legacy resize (align_corners=False, no half-pixel centres): source x = dst * 16/224, so the
    # edge moves left of the centre compared with a half-pixel resize
    # source 7 is black, 8 white; legacy: dst 100 -> src 7.14 (-0.714), dst 115 -> src 8.2 (white);
    # half-pixel centres would give src 6.68 (black) and 7.75 (grey) instead
    row = x[0, 0, 100, :, 0]
    assert row[:99].max() == pytest.approx(-1.0, abs=1e-5) and row[112:].min() == pytest.approx(1.0, abs=1e-5)
    assert row[100] == pytest.approx(-1 + 2 * (100 / 14 - 7), abs=1e-5)
    assert row[115] == pytest.approx(1.0, abs=1e-5)


def test_i3d_features_on_tiny_savedmodel(tmp_path, monkeypatch):
    path = write_tiny_i3d(tmp_path / "i3d")
    monkeypatch.setenv("MAGVIT_I3D", path)
    i3d = I3DFeatures(batch_size=3)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.rand(5, 3, 16, 16, 16, generator=g), torch.rand(5, 3, 16, 16, 16, generator=g) * 0.5
    feats = i3d(real)
    assert feats.shape == (5, 400) and feats.dtype == np.float64 and np.isfinite(feats).all()
    assert np.allclose(i3d(real), feats)
    assert frechet_distance(feats, i3d(fake)) > 0
    with pytest.raises(ValueError, match="at least 9 frames"):
        i3d(real[:, :, :8])


def test_offline_failure_tells_how_to_get_the_model(monkeypatch):
    monkeypatch.delenv("MAGVIT_I3D", raising=False)
    with pytest.raises(RuntimeError, match=r"(?s)could not be loaded.*download.*MAGVIT_I3D"):
        I3DFeatures(handle="/nonexistent/i3d-kinetics-400_1")
