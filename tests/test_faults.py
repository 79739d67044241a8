"""Fault injection: damaged cache files, SIGKILL mid-training, two processes on one cache or results folder,
untrusted files, and bad input at the public entries. docs/reliability.md lists each fault with its test.

Subprocess tests train the smoke proxy evaluator (the real ``fit`` + store + data path) for a few steps; every
other test trains a toy MLP in-process. The whole file takes well under two minutes on 2 busy cores.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from magvit import data, profiles
from magvit.config import EvaluatorConfig
from magvit.data import real
from magvit.data.video import check_video
from magvit.infra import results
from magvit.infra.artifacts import ArtifactDamagedError, ArtifactStore, config_key, load_checkpoint
from magvit.infra.checks import check_seed
from magvit.infra.locks import LockTimeout, file_lock
from magvit.infra.paths import REPO_ROOT
from magvit.infra.train import DamagedArtifactWarning, compound_lr, fit, set_lr

CFG = EvaluatorConfig()
STEPS, EVERY = 20, 5
ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------------------------------------
# helpers


@pytest.fixture(autouse=True)
def no_git(monkeypatch):
    """Each save asks git for the commit (two subprocesses); provenance is not under test here."""
    import magvit.infra.artifacts

    monkeypatch.setattr(magvit.infra.artifacts, "git_commit", lambda: "test")


class Killed(Exception):
    pass


def toy(kill_at: int | None = None, calls: list[int] | None = None):
    """A seeded toy run whose step draws from torch's RNG (dropout), so a resume must restore it."""
    torch.manual_seed(123)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def step_fn(step: int) -> dict[str, float]:
        if step == kill_at:
            raise Killed
        if calls is not None:
            calls.append(step)
        x = torch.randn(16, 4, generator=torch.Generator().manual_seed(step))
        set_lr(opt, compound_lr(step, 1e-2, warmup=3, total=STEPS))
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    return model, opt, step_fn


def run_toy(store: ArtifactStore, kill_at: int | None = None, calls: list[int] | None = None):
    model, opt, step_fn = toy(kill_at, calls)
    log = fit("toy", CFG, 7, {"m": model}, {"o": opt}, step_fn, STEPS, store=store, checkpoint_every=EVERY)
    return model, log


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def flip(offset_of):
    def damage(blob: bytes) -> bytes:
        out = bytearray(blob)
        out[offset_of(len(blob))] ^= 0x10
        return bytes(out)
    return damage


# What can happen to a file outside the atomic write path: a half-copied cache, a full disk, a bad sector.
DAMAGES = {
    "truncated to half": lambda b: b[: len(b) // 2],
    "truncated to 0 bytes": lambda b: b"",
    "last byte cut": lambda b: b[:-1],
    "garbage appended": lambda b: b + b"\0garbage",
    "bit flip in the tensor data": flip(lambda n: n // 2),
    "bit flip in the zip header": flip(lambda n: 12),
    "bit flip in the central directory": flip(lambda n: n - 40),
}
SIDECAR_DAMAGES = {
    "sidecar deleted": None,
    "sidecar truncated": lambda t: t[: len(t) // 2],
    "sidecar not an object": lambda t: "[]",
}


def damage_file(path: Path, how: str) -> None:
    if how in DAMAGES:
        path.write_bytes(DAMAGES[how](path.read_bytes()))
        return
    meta = path.with_suffix(".json")
    change = SIDECAR_DAMAGES[how]
    if change is None:
        meta.unlink()
    else:
        meta.write_text(change(meta.read_text()))


# ---------------------------------------------------------------------------------------------------------
# integrity: a damaged artifact is named, or moved aside and retrained; never loaded silently


@pytest.mark.parametrize("how", [*DAMAGES, *SIDECAR_DAMAGES])
def test_damaged_artifact_load_names_the_file(tmp_path, how):
    store = ArtifactStore(tmp_path)
    path = store.save("toy", CFG, 0, {"w": torch.arange(1000.0)})
    damage_file(path, how)
    with pytest.raises(ArtifactDamagedError, match=rf"(?s){path.name} is damaged: .*Delete it"):
        store.load("toy", CFG, 0)


@pytest.mark.parametrize("how", [*DAMAGES, *SIDECAR_DAMAGES])
def test_damaged_finished_artifact_is_moved_aside_and_retrained(tmp_path, how):
    reference, _ = run_toy(ArtifactStore(tmp_path / "ref"))
    store = ArtifactStore(tmp_path / "cache")
    run_toy(store)
    path = store.path("toy", CFG, 7)
    damage_file(path, how)
    damaged_bytes = path.read_bytes()
    calls: list[int] = []
    with pytest.warns(DamagedArtifactWarning, match=rf"{path.name} is damaged.*retraining it"):
        model, log = run_toy(store, calls=calls)
    assert calls == list(range(STEPS)), "the damaged artifact was not retrained"
    assert same_weights(model, reference) and len(log) == STEPS
    kept = list((path.parent / "damaged").glob(f"{path.stem}.*.pt"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_bytes, "the damaged file was not kept aside"
    store.load("toy", CFG, 7)  # the retrained artifact verifies


@pytest.mark.parametrize("how", ["truncated to half", "bit flip in the tensor data", "sidecar deleted"])
def test_damaged_checkpoint_restarts_from_step_zero_and_ends_where_an_uninterrupted_run_does(tmp_path, how):
    reference, ref_log = run_toy(ArtifactStore(tmp_path / "ref"))
    store = ArtifactStore(tmp_path / "cache")
    with pytest.raises(Killed):
        run_toy(store, kill_at=13)  # leaves the checkpoint of step 10
    damage_file(store.path("toy.ckpt", CFG, 7), how)
    calls: list[int] = []
    with pytest.warns(DamagedArtifactWarning, match="training from step 0"):
        model, log = run_toy(store, calls=calls)
    assert calls == list(range(STEPS))
    assert same_weights(model, reference) and log.equals(ref_log)


def test_artifact_from_before_hashes_loads_and_gets_its_hash(tmp_path):
    store = ArtifactStore(tmp_path)
    reference, _ = run_toy(store)
    meta_path = store.path("toy", CFG, 7).with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    del meta["size"], meta["sha256"]  # what this store wrote before integrity checks existed
    meta_path.write_text(json.dumps(meta))
    model, _ = run_toy(store, calls=(calls := []))
    assert not calls and same_weights(model, reference)
    assert "sha256" in json.loads(meta_path.read_text()), "fit did not record the hash of the older artifact"
    damage_file(store.path("toy", CFG, 7), "bit flip in the tensor data")
    with pytest.raises(ArtifactDamagedError, match="SHA-256"):
        store.load("toy", CFG, 7)


class Payload:
    """A pickle that would run a shell command if unpickled without weights_only."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_in_a_cached_pickle_is_refused_never_run(tmp_path):
    store = ArtifactStore(tmp_path)
    run_toy(store)
    path, marker = store.path("toy", CFG, 7), tmp_path / "code_ran"
    buffer = io.BytesIO()
    torch.save({"modules": {"m": Payload(marker)}, "log": {}}, buffer)
    path.write_bytes(buffer.getvalue())
    meta = json.loads(path.with_suffix(".json").read_text())  # a consistent sidecar: the hash cannot catch it
    meta["size"], meta["sha256"] = len(buffer.getvalue()), hashlib.sha256(buffer.getvalue()).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactDamagedError, match="weights_only=True. refuses"):
        load_checkpoint(path, CFG)
    with pytest.warns(DamagedArtifactWarning):
        run_toy(store)
    assert not marker.exists(), "unpickling ran the payload"


def test_damaged_smoke_evaluator_is_retrained_by_the_code_that_uses_it(tmp_path):
    from magvit.metrics import get_evaluator

    p = profiles.get("smoke", device="cpu")
    store = ArtifactStore(tmp_path)
    first = get_evaluator(p, store=store).net.state_dict()
    path = next((tmp_path / "proxy_evaluator").glob("*.pt"))
    for how in ("truncated to half", "bit flip in the tensor data"):
        damage_file(path, how)
        with pytest.warns(DamagedArtifactWarning, match=path.name):
            again = get_evaluator(p, store=store).net.state_dict()
        assert all(torch.equal(first[k], again[k]) for k in first)


# ---------------------------------------------------------------------------------------------------------
# SIGKILL at a random step, and two processes on one cache (the smoke proxy evaluator, in subprocesses)

CHILD = textwrap.dedent("""
    import hashlib, os, sys, time
    from dataclasses import replace
    from magvit import data, profiles
    from magvit.infra.artifacts import ArtifactStore
    from magvit.metrics import get_evaluator
    cache, steps, delay, barrier = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    original = data.mixed_batch
    def traced(step, *args, **kwargs):  # the evaluator's step_fn draws its batch here: one line per step
        print(f"step {step}", flush=True)
        time.sleep(delay)
        return original(step, *args, **kwargs)
    data.mixed_batch = traced
    p = profiles.get("smoke", device="cpu")
    p = replace(p, evaluator=replace(p.evaluator, steps=steps), checkpoint_every=3)
    print("ready", flush=True)
    while barrier != "-" and not os.path.exists(barrier):
        time.sleep(0.01)
    net = get_evaluator(p, store=ArtifactStore(cache)).net
    h = hashlib.sha256()
    for t in net.state_dict().values():
        h.update(t.numpy().tobytes())
    print("weights", h.hexdigest(), flush=True)
""")
CHILD_STEPS = 12


def child(cache: Path, delay: float = 0.0, barrier: str = "-") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(cache), str(CHILD_STEPS), str(delay), barrier],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO_ROOT)


def finish(proc: subprocess.Popen) -> tuple[list[str], str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return out.splitlines(), err


def steps_run(lines: list[str]) -> list[int]:
    return [int(line.split()[1]) for line in lines if line.startswith("step ")]


def weights(lines: list[str]) -> str:
    return next(line.split()[1] for line in lines if line.startswith("weights "))


def test_sigkill_at_a_random_step_then_resume_equals_an_uninterrupted_run(tmp_path):
    reference = child(tmp_path / "ref")
    seed = random.randrange(10**6)
    kill_at = random.Random(seed).randint(4, CHILD_STEPS - 2)  # after the first checkpoint (step 3)
    victim = child(tmp_path / "cache", delay=0.2)  # leaves >= 0.4 s between the kill step and the end
    for line in victim.stdout:
        if line.strip() == f"step {kill_at}":
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL, f"the victim was not killed (kill step {kill_at}, seed {seed})"
    ref_lines, _ = finish(reference)
    assert not list((tmp_path / "cache" / "proxy_evaluator").glob("*.pt")), "finished despite the kill"
    assert list((tmp_path / "cache" / "proxy_evaluator.ckpt").glob("*.pt")), "no checkpoint survived"

    resumed, _ = finish(child(tmp_path / "cache"))
    first = steps_run(resumed)[0]
    assert first > 0 and first % 3 == 0 and first <= kill_at + 1, f"resumed at step {first} (killed at {kill_at})"
    assert weights(resumed) == weights(ref_lines), f"resume differs (killed at step {kill_at}, seed {seed})"
    ref_state, state = (torch.load(next((root / "proxy_evaluator").glob("*.pt")), weights_only=True)
                        for root in (tmp_path / "ref", tmp_path / "cache"))
    assert ref_state["log"] == state["log"]


def test_two_processes_on_one_cache_train_once_and_agree(tmp_path):
    barrier = tmp_path / "go"
    procs = [child(tmp_path / "cache", delay=0.1, barrier=str(barrier)) for _ in range(2)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    barrier.touch()
    (out_a, err_a), (out_b, err_b) = (finish(p) for p in procs)
    trained = [bool(steps_run(out)) for out in (out_a, out_b)]
    assert sorted(trained) == [False, True], f"trained by {sum(trained)} processes, want exactly one"
    assert weights(out_a) == weights(out_b)
    trainer = procs[trained.index(True)].pid
    waiter_err = (err_a, err_b)[trained.index(False)]
    assert f"held by pid {trainer} on host {socket.gethostname()}" in waiter_err, waiter_err[-2000:]


def test_lock_timeout_names_the_holder(tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path)
    monkeypatch.setenv("MAGVIT_LOCK_TIMEOUT", "0.3")
    with store.lock("toy", CFG, 7, what="training toy"):
        with pytest.raises(LockTimeout, match=rf"(?s)held by pid {os.getpid()} on host .* since .*training toy"
                                              r".*MAGVIT_LOCK_TIMEOUT"):
            run_toy(store)
    assert not store.exists("toy", CFG, 7)
    monkeypatch.setenv("MAGVIT_LOCK_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="MAGVIT_LOCK_TIMEOUT must be a number"):
        run_toy(store)


def test_a_killed_holder_releases_its_lock(tmp_path):
    lock = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom magvit.infra.locks import file_lock\n"
         "with file_lock(sys.argv[1], 'hold'):\n    print('held', flush=True)\n    time.sleep(600)", str(lock)],
        stdout=subprocess.PIPE, text=True, env=ENV)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(LockTimeout, match=f"pid {holder.pid}"):
        with file_lock(lock, timeout=0.2):
            pass
    holder.kill()
    holder.wait(timeout=30)
    with file_lock(lock, timeout=5):
        pass


# ---------------------------------------------------------------------------------------------------------
# two studies writing one results folder

APPENDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from magvit.study import append_log
    log, name, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    while not log.with_name("go").exists():
        time.sleep(0.01)
    for i in range(n):
        append_log({"notebook": f"{name}{i:02d}", "status": "ok", "wall_s": i}, log)
""")


def test_two_studies_append_to_one_log_without_losing_rows(tmp_path):
    log = tmp_path / "study_log.csv"
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(log), name, "25"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in "ab"]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    (tmp_path / "go").touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    rows = pd.read_csv(log)["notebook"].tolist()
    assert sorted(rows) == sorted(f"{n}{i:02d}" for n in "ab" for i in range(25)), f"{len(rows)} rows of 50"


def test_a_table_rewritten_while_read_is_never_torn(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path))
    monkeypatch.setattr(results, "git_commit", lambda: "test")  # git calls per write would pace the race
    tables = {w: pd.DataFrame({"writer": [w] * 4000, "value": np.arange(4000.0)}) for w in ("a", "b")}
    stop, seen, errors = threading.Event(), [], []

    def write(w: str) -> None:
        for _ in range(40):
            results.write_table(tables[w], "shared", profile="smoke", seeds=0)

    def read() -> None:
        path = tmp_path / "shared.csv"
        while not stop.is_set():
            if path.exists():
                try:
                    df = pd.read_csv(path)
                    seen.append((len(df), df["writer"].nunique()))
                except Exception as err:  # a torn file fails to parse or lacks columns
                    errors.append(repr(err))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in tables]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert seen and not errors and all(s == (4000, 1) for s in seen), (errors[:3], [s for s in seen if s != (4000, 1)])


# ---------------------------------------------------------------------------------------------------------
# bad input at the public entries: a clear error naming it, nothing written


@pytest.mark.parametrize("bad", ["x", "0", 1.5, -1, True, None, 2**64])
def test_bad_seed_is_named_at_every_entry_and_nothing_is_written(bad, tmp_path, monkeypatch):
    monkeypatch.setenv("MAGVIT_RESULTS", str(tmp_path / "results"))
    pattern = rf"seed.? must be a non-negative integer.*{bad!r}" if not isinstance(bad, int) or bad is True \
        else "seed.? must be a non-negative integer"
    from magvit.metrics import get_evaluator

    store = ArtifactStore(tmp_path / "cache")
    entries = {
        "check_seed": lambda: check_seed(bad),
        "data.load": lambda: data.load("shapes", "train", seed=bad),
        "config_key": lambda: config_key(CFG, bad),
        "fit": lambda: fit("toy", CFG, bad, {}, {}, lambda s: {}, 1, store=store),
        "get_evaluator": lambda: get_evaluator(profiles.get("smoke", device="cpu"), seed=bad, store=store),
        "write_table": lambda: results.write_table(pd.DataFrame({"a": [1.0]}), "t", profile="smoke", seeds=bad),
    }
    for name, call in entries.items():
        try:
            call()
        except (TypeError, ValueError) as err:
            assert re.search(pattern, str(err)), f"{name}: {err}"
        else:
            pytest.fail(f"{name} accepted seed {bad!r}")
    if isinstance(bad, str):
        with pytest.raises(TypeError, match="-p seed 0"):
            check_seed(bad)
    assert not (tmp_path / "results").exists() and not (tmp_path / "cache").exists(), "something was written"


def test_papermill_profile_and_device_of_the_wrong_type_or_value():
    for bad in (3, "laptop", "Smoke"):
        with pytest.raises(ValueError, match=rf"unknown profile {bad!r}; valid profiles are: smoke, cpu"):
            profiles.get(bad)
    with pytest.raises(ValueError, match="unknown device 'abacus'"):
        profiles.get("smoke", device="abacus")
    from magvit import study

    with pytest.raises(SystemExit):  # the runner's --seed is parsed as an int by argparse
        study.main(["--profile", "smoke", "--seed", "x"])
    assert study.main(["--profile", "laptop"]) == 1


BAD_VIDEOS = {
    "NaN": (torch.full((1, 3, 4, 8, 8), float("nan")), "NaN or inf"),
    "inf": (torch.full((1, 3, 4, 8, 8), float("inf")), "NaN or inf"),
    "uint8": (torch.zeros(1, 3, 4, 8, 8, dtype=torch.uint8), "must be a float tensor"),
    "rank 4": (torch.zeros(3, 4, 8, 8), "rank 4"),
    "4 channels": (torch.zeros(1, 4, 4, 8, 8), "3 channels"),
    "channels last": (torch.zeros(1, 4, 8, 8, 3), "to_video"),
    "range 0-255": (torch.full((1, 3, 4, 8, 8), 255.0), r"\[0, 1\]"),
    "empty": (torch.zeros(0, 3, 4, 8, 8), "empty"),
    "not a tensor": (np.zeros((1, 3, 4, 8, 8), np.float32), "torch.Tensor"),
}


@pytest.mark.parametrize("name", BAD_VIDEOS)
def test_bad_video_is_named(name):
    from magvit.metrics import psnr

    video, message = BAD_VIDEOS[name]
    with pytest.raises((TypeError, ValueError), match=message):
        check_video(video, "fake")
    with pytest.raises((TypeError, ValueError), match=message):
        psnr(torch.rand(1, 3, 4, 8, 8), video)


def test_token_ids_out_of_range_are_named():
    from magvit.config import DataConfig, TokenizerConfig, TransformerConfig
    from magvit.generative.decoding import check_visual
    from magvit.generative.transformer import Transformer, Vocabulary
    from magvit.tokenizer.model import build_tokenizer

    model = Transformer(TransformerConfig(num_layers=1, hidden=16, heads=2, mlp=32, dropout=0.0), Vocabulary(8), 4)
    for bad in (-1, model.vocab.size):
        with pytest.raises(ValueError, match=r"token ids must lie in \[0, \d+\)"):
            model(torch.full((1, 4), bad, dtype=torch.long))
    with pytest.raises(ValueError, match=r"codebook ids in \[0, 8\)"):
        check_visual(torch.tensor([[0, 8]]), 8, "cond_tokens")
    tok = build_tokenizer(TokenizerConfig(filters=4, channel_multipliers=(1, 1), temporal_downsample=(True,),
                                          codebook_size=8, embedding_dim=4), DataConfig(num_frames=4, resolution=8))
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 8\)"):
        tok.decode(torch.full((1, *tok.latent_shape), 8))


def test_empty_or_tiny_split(tmp_path):
    root = real.write_tiny_ucf101(tmp_path / "ucf")
    (root / "ucfTrainTestlist" / "trainlist01.txt").write_text("\n")
    with pytest.raises(ValueError, match=r"ucf101 train: the split lists no videos"):
        data.load("ucf101", "train", root=root)
    test = data.load("ucf101", "test", num_frames=8, resolution=16, root=root)
    reads = []
    test.read = lambda ref: reads.append(ref) or real.read_video(ref)
    with pytest.raises(IndexError, match=r"has 2 clip\(s\), asked for index 4.*fewer clips"):
        data.get_batch(test, range(5))
    assert not reads, "get_batch read videos before finding the split too small"
    with pytest.raises(ValueError, match="at least one index"):
        data.get_batch(test, [])


def test_corrupt_and_empty_videos_among_good_ones(tmp_path):
    root = real.write_tiny_ucf101(tmp_path / "ucf", videos_per_class=3)  # train: g01, g03 of 2 classes
    videos = root / "UCF-101"
    corrupt, empty = videos / "Basketball" / "v_Basketball_g01_c01.avi", videos / "ApplyEyeMakeup" / \
        "v_ApplyEyeMakeup_g03_c01.avi"
    corrupt.write_bytes(corrupt.read_bytes()[:300])  # a cut download
    empty.write_bytes(b"")
    with pytest.raises(OSError, match=rf"1 of 4 video files are empty.*{empty.name}.*skip_bad=True"):
        data.load("ucf101", "train", num_frames=8, resolution=16, root=root)
    with pytest.warns(UserWarning, match=rf"skipped 2 of 4 videos.*(?:{corrupt.name}|{empty.name})") as caught:
        ds = data.load("ucf101", "train", num_frames=8, resolution=16, root=root, skip_bad=True)
    message = next(str(w.message) for w in caught if "skipped" in str(w.message))
    assert corrupt.name in message and empty.name in message
    assert len(ds) == 2 and sorted(Path(ref).name for ref, _ in ds.skipped) == sorted([corrupt.name, empty.name])
    video, _ = data.get_batch(ds, range(2))
    assert video.shape == (2, 3, 8, 16, 16)
    empty.unlink()
    (root / "ucfTrainTestlist" / "trainlist01.txt").write_text(
        "".join(line + "\n" for line in (root / "ucfTrainTestlist" / "trainlist01.txt").read_text().splitlines()
                if empty.name not in line))
    ds = data.load("ucf101", "train", num_frames=8, resolution=16, root=root)
    index = [Path(ref).name for ref, _ in ds.entries].index(corrupt.name)
    with pytest.raises(OSError, match=rf"cannot read video .*{corrupt.name}.*video {index} of 3.*skip_bad=True"):
        ds[index]
    assert [Path(ref).name for ref, _ in real.check_videos(ds)] == [corrupt.name]


def test_i3d_path_that_is_no_savedmodel_is_refused_before_tensorflow(tmp_path, monkeypatch):
    from magvit.infra import lazy_tf
    from magvit.metrics import I3DFeatures

    monkeypatch.setattr(lazy_tf, "tensorflow", lambda: pytest.fail("TensorFlow was imported"))
    tarball, folder = tmp_path / "i3d.tar.gz", tmp_path / "unpacked"
    tarball.write_bytes(b"\x1f\x8b not really")
    (folder / "i3d-kinetics-400_1").mkdir(parents=True)
    for handle, why in ((tarball, "is a file"), (folder, "without saved_model.pb"), (tmp_path / "no", "not exist")):
        with pytest.raises(RuntimeError, match=rf"(?s)the handle {re.escape(str(handle))} .*{why}.*MAGVIT_I3D"):
            I3DFeatures(handle=str(handle))


def test_perceptual_network_that_is_no_torchscript_is_named(tmp_path):
    from magvit.tokenizer.perceptual import load_feature_network

    path = tmp_path / "vgg.pt"
    torch.save({"w": torch.zeros(2)}, path)  # a state dict, not TorchScript
    with pytest.raises(ValueError, match=r"vgg.pt' is not a readable TorchScript module.*torch.jit.trace"):
        load_feature_network(str(path), profiles.get("smoke", device="cpu"))
