"""Data parallelism under torchrun (magvit.infra.distributed): 2 ranks (gloo, CPU) train the smoke tokenizer and a
smoke transformer to the weights one process gets with the same global batch; a killed 2-rank run resumes."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from magvit.infra import distributed
from magvit.infra.distributed import World, chunk_ranges, chunk_seed

WORKER = Path(__file__).with_name("ddp_worker.py")
ROOT = Path(__file__).resolve().parents[1]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **extra}


def free_port() -> int:
    with socket.socket() as s:  # torchrun's --master_port=0 hangs the static rendezvous (torch 2.13, tried)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(store: Path, out: Path, **kwargs) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}",
           str(WORKER), str(store), str(out)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)


def wait_until_unlocked(store: Path, timeout: float = 120.0) -> None:
    """Until every artifact lock in ``store`` is free: flock is released by the kernel only when its holder has
    exited, which a SIGKILLed rank does not do at once on a loaded machine."""
    deadline = time.monotonic() + timeout
    for path in store.rglob("*.lock"):
        with open(path, "a") as fh:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(fh, fcntl.LOCK_UN)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, f"{path} still held {timeout:g} s after the kill"
                    time.sleep(0.1)


def run_to_end(proc: subprocess.Popen) -> str:
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output
    return output


def assert_same_weights(a: dict, b: dict) -> None:
    for part in ("tokenizer", "transformer"):
        assert a[part].keys() == b[part].keys()
        for name, tensor in a[part].items():
            torch.testing.assert_close(b[part][name], tensor, rtol=1e-5, atol=1e-6, msg=f"{part}.{name}")
    for log in ("tokenizer_log", "transformer_log"):
        for column, values in a[log].items():
            assert b[log][column] == pytest.approx(values, rel=1e-5, abs=1e-6), f"{log}.{column}"


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> dict:
    """The reference: one process, both chunks of every batch accumulated (no torchrun)."""
    root = tmp_path_factory.mktemp("one")
    subprocess.run([sys.executable, str(WORKER), str(root / "store"), str(root / "out.pt")], cwd=ROOT, env=env(),
                   check=True, timeout=300)
    out = torch.load(root / "out.pt", weights_only=False)
    assert out["world_size"] == 1
    return out


def test_chunks_are_shared_out_by_rank():
    assert chunk_ranges(8, 4, World(0, 2)) == [(0, range(0, 2)), (2, range(4, 6))]
    assert chunk_ranges(8, 4, World(1, 2)) == [(1, range(2, 4)), (3, range(6, 8))]
    assert [c for c, _ in chunk_ranges(8, 4, World(0, 1))] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="cannot share 4 chunks"):
        chunk_ranges(8, 4, World(0, 3))
    with pytest.raises(ValueError, match="equal chunks"):
        chunk_ranges(6, 4, World(0, 1))
    assert len({chunk_seed(0, s, c) for s in range(10) for c in range(4)}) == 40


def test_chunked_tokenizer_refuses_dead_code_restarts(tmp_path):
    from dataclasses import replace

    from magvit import profiles
    from magvit.config import DataParallelConfig
    from magvit.infra.artifacts import ArtifactStore
    from magvit.tokenizer.train import get_tokenizer

    p = profiles.get("smoke", device="cpu")
    p = replace(p, tokenizer=replace(p.tokenizer, perceptual_weight=0.0),
                data_parallel=DataParallelConfig(tokenizer_chunks=1))
    assert p.tokenizer.codebook_restart_after > 0
    with pytest.raises(ValueError, match="dead-code restarts"):
        get_tokenizer(p, seed=0, store=ArtifactStore(tmp_path))


def test_buffers_are_averaged_over_chunks():
    norm = torch.nn.BatchNorm1d(2)
    with distributed.averaged_buffers([norm], chunks=2) as after_chunk:
        for x in (torch.zeros(4, 2), torch.ones(4, 2) * 2):
            norm(x)
            after_chunk()
    # each chunk starts from mean 0: momentum 0.1 gives 0 and 0.2; their mean is 0.1
    torch.testing.assert_close(norm.running_mean, torch.full((2,), 0.1))
    assert int(norm.num_batches_tracked) == 1


def test_two_ranks_find_the_weights_of_one_process(tmp_path, one_process):
    output = run_to_end(torchrun(tmp_path / "store", tmp_path / "out.pt", env=env()))
    two = torch.load(tmp_path / "out.pt", weights_only=False)
    assert two["world_size"] == 2, output
    assert_same_weights(one_process, two)


def test_killed_two_rank_run_resumes_to_the_same_weights(tmp_path, one_process):
    store = tmp_path / "store"
    proc = torchrun(store, tmp_path / "out.pt", env=env(MAGVIT_TEST_STEP_SLEEP="0.4"))
    deadline = time.monotonic() + 240
    while not list(store.glob("tokenizer_magvit3d.ckpt/*.json")):  # rank 0 wrote a checkpoint (sidecar last)
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # torchrun and both ranks, mid-training
    proc.wait()
    assert not (tmp_path / "out.pt").exists() and not list(store.glob("tokenizer_magvit3d/*.pt"))
    wait_until_unlocked(store)  # the killed ranks are gone (in CI one held its lock while the resumed run started)
    run_to_end(torchrun(store, tmp_path / "out.pt", env=env()))
    assert_same_weights(one_process, torch.load(tmp_path / "out.pt", weights_only=False))
