"""Real-format loaders read tiny datasets written in each released format; bad layouts fail clearly."""

from __future__ import annotations

import json
import re
import sys

import imageio_ffmpeg
import pytest
import torch

from magvit import data
from magvit.data import real
from magvit.data.real import bair, common, kinetics600, ssv2, ucf101


def check_item(ds, resolution: int, num_frames: int = 8):
    clip, labels = ds[0]
    assert clip.dtype == torch.uint8 and clip.shape == (num_frames, resolution, resolution, 3)
    assert clip.float().std() > 5, "decoded clip is flat"
    again, _ = ds[0]
    assert torch.equal(clip, again)
    return labels


def test_ucf101(tmp_path):
    root = real.write_tiny_ucf101(tmp_path / "ucf")
    train = data.load("ucf101", "train", num_frames=8, resolution=32, root=root)
    test = data.load("ucf101", "test", num_frames=8, resolution=32, root=root, fold=2)
    assert len(train) == 2 and len(test) == 2
    assert sorted(train.entries[i][1] for i in range(2)) == [0, 1]
    assert check_item(train, 32)["label"] in (0, 1)
    strided = data.load("ucf101", "train", num_frames=8, resolution=16, root=root, stride=2)
    assert strided[1][0].shape == (8, 16, 16, 3)


def test_ucf101_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("MAGVIT_DATA_UCF101", raising=False)
    with pytest.raises(FileNotFoundError, match=r"MAGVIT_DATA_UCF101.*ucfTrainTestlist.*crcv.ucf.edu"):
        data.load("ucf101", "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load("ucf101", "train", root=tmp_path / "nowhere")
    root = real.write_tiny_ucf101(tmp_path / "ucf")
    (root / "ucfTrainTestlist" / "testlist01.txt").unlink()
    with pytest.raises(FileNotFoundError, match="missing split list .*testlist01.txt"):
        data.load("ucf101", "test", root=root)
    (root / "ucfTrainTestlist" / "trainlist01.txt").write_text("Juggling/v_Juggling_g01_c01.avi 3\n")
    with pytest.raises(ValueError, match="'Juggling' absent from classInd"):
        data.load("ucf101", "train", root=root)
    monkeypatch.setenv("MAGVIT_DATA_UCF101", str(root))
    (root / "ucfTrainTestlist" / "trainlist01.txt").write_text("Basketball/v_Basketball_g01_c01.avi 2\n")
    broken = root / "UCF-101" / "Basketball" / "v_Basketball_g01_c01.avi"
    broken.write_bytes(b"not a video")
    with pytest.raises(OSError, match="cannot read video .*v_Basketball_g01_c01.avi"):
        data.load("ucf101", "train")[0]


def test_bair_tfrecord_and_npy(tmp_path):
    tf_root = real.write_tiny_bair(tmp_path / "bair_tf")
    ds = data.load("bair", "val", num_frames=16, resolution=64, root=tf_root)
    assert len(ds) == 3
    assert check_item(ds, 64, 16)["label"] == -1
    npy_root = real.write_tiny_bair(tmp_path / "bair_npy", fmt="npy")
    ds_npy = data.load("bair", "train", num_frames=16, resolution=64, root=npy_root)
    assert torch.equal(ds_npy[1][0], ds[1][0]), "the .npy conversion and the TFRecord disagree"
    with pytest.raises(FileNotFoundError, match="softmotion30_44k"):
        data.load("bair", "train", root=tmp_path)


def test_kinetics600(tmp_path):
    root = real.write_tiny_kinetics600(tmp_path / "k600")
    ds = data.load("kinetics600", "val", num_frames=8, resolution=32, root=root)
    assert len(ds) == 2 and [e[1] for e in ds.entries] == [0, 1]
    check_item(ds, 32)
    (root / "test.csv").write_text("youtube_id,label\nabc,zumba\n")
    with pytest.raises(ValueError, match="must have columns"):
        data.load("kinetics600", "test", root=root)


def test_ssv2(tmp_path):
    root = real.write_tiny_ssv2(tmp_path / "ssv2")
    ds = data.load("ssv2", "train", num_frames=8, resolution=32, root=root)
    assert [e[1] for e in ds.entries] == [0, 1]
    check_item(ds, 32)
    items = json.loads((root / "labels" / "validation.json").read_text())
    items[0]["template"] = "Juggling [something]"
    (root / "labels" / "validation.json").write_text(json.dumps(items))
    with pytest.raises(ValueError, match="'Juggling something' .* not in labels.json"):
        data.load("ssv2", "val", root=root)


def test_short_video_is_named(tmp_path):
    root = real.write_tiny_ucf101(tmp_path / "ucf")
    with pytest.raises(ValueError, match=r"v_ApplyEyeMakeup_g01_c01.avi has 20 frames; .* needs 31"):
        data.load("ucf101", "train", num_frames=16, stride=2, root=root)[0]


def test_one_module_per_format_and_the_old_imports_work():
    """The loaders split per dataset format; ``magvit.data.real`` still exports every public name."""
    for name, module in (("ucf101", ucf101), ("bair", bair), ("kinetics600", kinetics600), ("ssv2", ssv2)):
        assert real.LOADERS[name] is getattr(module, f"load_{name}")
        assert real.WRITERS[name] is getattr(module, f"write_tiny_{name}")
    assert real.RealVideo is common.RealVideo and real.check_videos is common.check_videos
    assert set(real.__all__) <= set(dir(real))


def without_ffmpeg(monkeypatch) -> None:
    """As on a lent GPU's image: imageio_ffmpeg cannot be imported."""
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)


def test_without_ffmpeg_the_video_formats_fail_clearly(tmp_path, monkeypatch):
    """A lent GPU's image has no imageio-ffmpeg; imageio's own error named neither the pin nor the step."""
    roots = {name: real.WRITERS[name](tmp_path / name) for name in real.NEEDS_VIDEO_BACKEND}
    assert real.video_backend_missing() is None
    without_ffmpeg(monkeypatch)
    assert "imageio-ffmpeg is not installed (pip install imageio-ffmpeg==0.8.1)" in real.video_backend_missing()
    for name in real.NEEDS_VIDEO_BACKEND:
        with pytest.raises(ImportError, match=rf"write_tiny_{name} .*pip install imageio-ffmpeg==0\.8\.1"):
            real.WRITERS[name](tmp_path / f"{name}_again")
        with pytest.raises(ImportError, match=rf"the {name} loader .*needs ffmpeg.*imageio-ffmpeg==0\.8\.1"):
            data.load(name, "train", num_frames=8, resolution=32, root=roots[name])
    video = next((roots["ucf101"] / "UCF-101").rglob("*.avi"))
    with pytest.raises(ImportError, match="reading .*avi needs ffmpeg"):  # not "cannot read video" (OSError)
        real.read_video(video)


def test_ffmpeg_without_its_binary_is_named(monkeypatch):
    def no_binary() -> str:
        raise RuntimeError("No ffmpeg exe could be found.")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_binary)
    reason = real.video_backend_missing()
    assert "finds no ffmpeg binary (No ffmpeg exe could be found.)" in reason and "IMAGEIO_FFMPEG_EXE" in reason


def test_tiny_datasets_skip_what_this_machine_cannot_write(tmp_path, monkeypatch):
    """Notebook 01's demo: the video formats skipped with a line saying why, BAIR kept (as .npy without TF)."""
    roots, notes = real.write_tiny_available(tmp_path / "all")
    assert list(roots) == ["ucf101", "bair", "kinetics600", "ssv2"] and notes == []
    without_ffmpeg(monkeypatch)
    monkeypatch.setattr(real, "tensorflow_missing", lambda: "TensorFlow is not installed")
    roots, notes = real.write_tiny_available(tmp_path / "bare")
    assert list(roots) == ["bair"] and (roots["bair"] / "train.npy").exists()
    why = "its videos need ffmpeg: imageio-ffmpeg is not installed (pip install imageio-ffmpeg==0.8.1)"
    assert notes == [f"skipped: ucf101 ({why})",
                     "bair: written as its .npy conversion, not TFRecords (TensorFlow is not installed)",
                     f"skipped: kinetics600 ({why})", f"skipped: ssv2 ({why})"]
    assert check_item(data.load("bair", "train", num_frames=16, resolution=64, root=roots["bair"]), 64, 16)[
        "label"] == -1
    with pytest.raises(ValueError, match=re.escape("no tiny writer for ['ucf']")):
        real.write_tiny_available(tmp_path, names=("ucf",))
