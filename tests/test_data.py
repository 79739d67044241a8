"""Procedural benchmarks: determinism, disjoint splits, formats, and that they are hard enough."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from magvit import data
from magvit.data.probe import frozen_after, label_probe
from magvit.data.procedural import SHAPES_CLASSES


@pytest.mark.parametrize("name", data.BENCHMARKS)
def test_clip_format_and_determinism(name):
    ds = data.load(name, "train", num_frames=16, resolution=32, seed=0)
    clip, labels = ds[5]
    assert clip.dtype == torch.uint8 and clip.shape == (16, 32, 32, 3)
    assert set(labels) == set(data.LABEL_KEYS) and labels["benchmark"] == data.BENCHMARKS.index(name)
    again, _ = data.load(name, "train", num_frames=16, resolution=32, seed=0)[5]
    assert clip.numpy().tobytes() == again.numpy().tobytes()
    assert not torch.equal(clip, ds[6][0])
    assert not torch.equal(clip, data.load(name, "train", seed=1)[5][0])
    assert int(clip.max()) - int(clip.min()) > 60, "clip is nearly constant"
    assert (clip[1:].int() - clip[:-1].int()).abs().float().mean() > 0.1, "nothing moves"
    small, _ = data.load(name, "val", num_frames=8, resolution=16)[0]
    assert small.shape == (8, 16, 16, 3)


@pytest.mark.parametrize("name", data.BENCHMARKS)
def test_splits_are_disjoint(name):
    digests = {}
    for split in data.SPLITS:
        ds = data.load(name, split, resolution=16)
        digests[split] = {hashlib.sha1(ds[i][0].numpy().tobytes()).hexdigest() for i in range(40)}
        assert len(digests[split]) == 40
    assert not digests["train"] & digests["val"]
    assert not digests["train"] & digests["test"]
    assert not digests["val"] & digests["test"]


def test_get_batch_and_num_classes():
    video, labels = data.get_batch(data.load("shapes", "train"), range(4))
    assert video.shape == (4, 3, 16, 32, 32) and video.dtype == torch.float32
    assert 0 <= video.min() and video.max() <= 1
    assert labels["label"].shape == (4,) and ((labels["label"] >= 0) & (labels["label"] < 12)).all()
    assert data.num_classes("shapes") == len(SHAPES_CLASSES) == 12
    with pytest.raises(ValueError, match="no class labels"):
        data.num_classes("pushbot")


def test_bad_names():
    with pytest.raises(ValueError, match="unknown dataset 'bair2'.*pushbot"):
        data.load("bair2", "train")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        data.load("shapes", "dev")
    with pytest.raises(TypeError, match="takes no options"):
        data.load("shapes", "train", root="/x")


def test_all_shapes_classes_occur():
    labels = [data.load("shapes", "train", resolution=16)[i][1]["label"] for i in range(150)]
    assert set(labels) == set(range(len(SHAPES_CLASSES)))


@pytest.fixture
def one_thread():
    """The probe's small convolutions run faster on one thread than on two contended ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_single_frame_does_not_reveal_the_shapes_class(one_thread):
    """A probe that sees one frame stays near chance (1/12); the same probe on the clip does not."""
    kwargs = dict(steps=100, num_frames=8, width=8, num_train=1024, num_test=256, batch_size=64)
    frame_acc = label_probe("shapes", "label", visible_frames=1, **kwargs)
    clip_acc = label_probe("shapes", "label", **kwargs)
    assert frame_acc < 0.2, f"a single frame reveals the class ({frame_acc:.2f} vs chance 0.083)"
    assert clip_acc > frame_acc + 0.15, f"the clip does not reveal the class ({clip_acc:.2f})"


def test_frozen_after_shows_only_the_first_frames():
    video = torch.rand(2, 3, 6, 4, 4)
    frozen = frozen_after(video, 3)
    assert frozen.shape == video.shape and torch.equal(frozen[:, :, :3], video[:, :, :3])
    assert all(torch.equal(frozen[:, :, t], video[:, :, 2]) for t in range(3, 6))
    assert torch.equal(frozen_after(video, 6), video)
    with pytest.raises(ValueError, match=r"visible_frames must be in \[1, 6\], got 0"):
        frozen_after(video, 0)


def test_label_probe_errors():
    with pytest.raises(ValueError, match="unknown label 'colour'"):
        label_probe("shapes", "colour")
    with pytest.raises(ValueError, match="'pushbot' has no 'label' label"):
        label_probe("pushbot", "label", steps=1, num_train=4, num_test=4, num_frames=2, resolution=8)


def test_pushbot_future_is_uncertain():
    """Same first frame, different futures: frame 0 does not determine the gripper path."""
    ds = data.load("pushbot", "train", resolution=32)
    clips = torch.stack([ds[i][0] for i in range(64)]).float()
    # predict frame 15 by copying frame 0: the error is large compared to consecutive frames
    copy_err = (clips[:, 15] - clips[:, 0]).abs().mean()
    step_err = (clips[:, 1] - clips[:, 0]).abs().mean()
    assert copy_err > 2 * step_err


@pytest.mark.parametrize("name", ["pushbot", "scenes"])
def test_alternative_futures_share_frame_zero(name):
    from magvit.data.procedural import future_spread, make_clip

    a, _ = make_clip(name, "val", 3, future_seed=0)
    b, _ = make_clip(name, "val", 3, future_seed=1)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[-1], b[-1])
    spread = future_spread(name, 3, num_futures=4)
    assert spread[0] == 0 and spread[-1] > 0.01


def test_generated_clips_are_cached_per_process_and_handed_out_as_copies():
    """Clip i is generated once per process (``CLIP_CACHE_SIZE``), always equal to ``make_clip``'s, and a caller
    that writes into its clip or labels changes nothing that a later caller gets."""
    from magvit.data import _cached_clip
    from magvit.data.procedural import make_clip

    ds = data.load("shapes", "val", 8, 16, seed=3)
    clip, labels = ds[5]
    fresh, fresh_labels = make_clip("shapes", "val", 5, 8, 16, 3)
    assert np.array_equal(clip.numpy(), fresh) and labels == fresh_labels
    hits = _cached_clip.cache_info().hits
    clip.zero_()
    labels["label"] = -7
    again, again_labels = ds[5]
    assert _cached_clip.cache_info().hits == hits + 1  # served from the cache ...
    assert np.array_equal(again.numpy(), fresh) and again_labels == fresh_labels  # ... untouched by the writes


# ---------------------------------------------------------------------------------------------
# the stand-ins' second version: classes and labels are visible at the token grid's scale and agree with the motion


def test_shapes_trajectories_keep_their_invariants_on_many_draws():
    """Translations move 8-11 pixels (at 32) along their own axis; every centre stays inside the frame; classes
    without a translation have no direction label; frame 0 is drawn alike for every class."""
    from magvit.data.procedural import TRANSLATIONS, shapes_trajectory

    rng = np.random.default_rng(0)
    starts = {}
    for cls, name in enumerate(SHAPES_CLASSES):
        for _ in range(200):
            cy, cx, scale, angle = shapes_trajectory(cls, rng, 16)
            assert ((cy >= 0) & (cy <= 1) & (cx >= 0) & (cx <= 1)).all(), f"{name} leaves the frame"
            assert (scale > 0.3).all() and (scale < 2.5).all()
            starts.setdefault(name, []).append((cy[0], cx[0], scale[0]))
            if name in TRANSLATIONS:
                dy, dx = TRANSLATIONS[name]
                disp = np.array([cy[-1] - cy[0], cx[-1] - cx[0]])
                assert disp @ np.array([dy, dx]) >= 0.25 - 1e-6 and abs(disp @ np.array([dx, dy])) < 1e-6
    means = np.array([np.mean(v, 0) for v in starts.values()])
    assert np.ptp(means, 0).max() < 0.05, "frame 0 depends on the class"


def test_shapes_direction_labels_agree_with_the_class():
    from magvit.data.procedural import TRANSLATIONS, direction_bucket, make_clip

    for i in range(300):
        _, labels = make_clip("shapes", "train", i)
        name = SHAPES_CLASSES[labels["label"]]
        if name in TRANSLATIONS:
            assert labels["direction"] == direction_bucket(*TRANSLATIONS[name]) and labels["speed"] > 0
        else:
            assert labels["direction"] == -1
        if name in ("grow", "shrink", "rotate_cw", "rotate_ccw", "pulse", "still"):
            assert labels["speed"] == 0


@pytest.mark.parametrize("resolution", [16, 32, 64])
def test_scenes_camera_pans_inside_its_world_and_faster_than_objects(resolution):
    """No camera pans under 3 pixels (at 32) in 16 frames, none stops at the world's edge, and the direction label
    is the bucket of the displacement."""
    from magvit.data.procedural import CAMERA_SPEED, OBJECT_SPEED_FRACTION, camera_path, direction_bucket

    rng = np.random.default_rng(1)
    px = resolution / 32
    for _ in range(500):
        top, left, speed, (vy, vx), world = camera_path(rng, rng, 16, resolution)
        assert top.min() >= 0 and left.min() >= 0 and top.max() + resolution < world and left.max() + resolution < world
        disp = np.hypot(top[-1] - top[0], left[-1] - left[0])
        assert disp >= 3 * px and disp == pytest.approx(speed * 15, rel=1e-4)
        assert direction_bucket(float(top[-1] - top[0]), float(left[-1] - left[0])) == direction_bucket(vy, vx)
    assert CAMERA_SPEED[0] * 15 >= 3 and OBJECT_SPEED_FRACTION < 1


def test_scenes_direction_label_matches_the_pixels():
    """The pixels pan as the label says: frame 15 matches frame 0 shifted by the camera's displacement (recomputed
    from the clip's generator) better than unshifted or shifted the opposite way, and that displacement's direction
    is the label."""
    from magvit.data.procedural import PHOTOS, camera_path, clip_rng, direction_bucket, make_clip

    def error(a: np.ndarray, b: np.ndarray, dy: int, dx: int) -> float:  # b[y, x] vs a[y + dy, x + dx]
        ya, yb = slice(max(dy, 0), 32 + min(dy, 0)), slice(max(-dy, 0), 32 + min(-dy, 0))
        xa, xb = slice(max(dx, 0), 32 + min(dx, 0)), slice(max(-dx, 0), 32 + min(-dx, 0))
        return float(np.mean((a[ya, xa] - b[yb, xb]) ** 2))

    agree = 0
    for i in range(40):
        clip, labels = make_clip("scenes", "test", i)
        rng = clip_rng("scenes", "test", 0, i, 16, 32)
        rng.integers(len(PHOTOS))  # make_scenes draws the photo first
        top, left, _, _, _ = camera_path(rng, rng, 16, 32)
        dy, dx = round(float(top[-1] - top[0])), round(float(left[-1] - left[0]))
        assert direction_bucket(float(top[-1] - top[0]), float(left[-1] - left[0])) == labels["direction"]
        a, b = clip[0].astype(float), clip[15].astype(float)
        agree += error(a, b, dy, dx) < min(error(a, b, 0, 0), error(a, b, -dy, -dx))
    assert agree >= 34, f"only {agree} of 40 clips pan as their camera path says"  # sub-pixel pans on fine textures


def test_a_seeded_clip_is_always_the_same():
    from magvit.data.procedural import make_clip

    for name in data.BENCHMARKS:
        a, la = make_clip(name, "val", 17, seed=5)
        b, lb = make_clip(name, "val", 17, seed=5)
        assert np.array_equal(a, b) and la == lb
