"""Figures: frame grids, GIFs and loss curves are written where the notebooks expect them."""

from __future__ import annotations

import imageio.v2 as imageio
import matplotlib

matplotlib.use("Agg")
import pandas as pd
import pytest
import torch

from magvit.data import video as data_video
from magvit.infra import plots, results
from magvit.infra import video as infra_video


def test_grid_gif_and_curves(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    video = torch.rand(3, 3, 8, 16, 16)
    fig = plots.frame_grid([video, video.flip(2)], row_labels=["a", "b", "c", "d", "e", "f"], max_frames=4)
    assert len(fig.axes) == 6 * 4
    path = results.save_figure(fig, "grid", profile="smoke")
    assert path == tmp_path / "figures" / "grid.png" and path.stat().st_size > 0
    results.save_figure(fig, "grid", profile="smoke")  # saved twice: one stamp, not two
    assert [t.get_text() for t in fig.texts] == ["profile smoke"]
    gif = plots.save_gif(video, "clip", upscale=2, columns=2, profile="smoke")
    frames = imageio.mimread(gif)
    strip = 12  # the profile strip below the clips
    assert len(frames) == 8 and frames[0].shape[:2] == (2 * 16 * 2 + strip, 2 * 16 * 2)
    assert frames[0][-strip:].max() > 0, "the profile strip is blank"
    log = pd.DataFrame({"step": range(20), "loss": [1 / (i + 1) for i in range(20)], "aux": [0.0] * 20})
    assert len(plots.loss_curves(log).axes) == 2


def test_grid_refuses_bad_video():
    with pytest.raises(ValueError, match="channels"):
        plots.frame_grid(torch.rand(1, 8, 16, 16, 3))


def test_video_convention_lives_below_plots_and_data_reexports_it():
    """plots needs check_video / to_uint8 without importing the (higher) data layer; old imports keep working."""
    for name in ("check_video", "to_video", "to_uint8", "RANGE_TOLERANCE"):
        assert getattr(data_video, name) is getattr(infra_video, name)
    with pytest.raises(ValueError, match="video contains NaN or inf"):  # plots still checks its input
        plots.frame_grid([torch.full((1, 3, 2, 4, 4), float("nan"))], max_frames=1)
