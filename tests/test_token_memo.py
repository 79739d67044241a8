"""Memoised tokenisation returns exactly what encode returns, and recomputes when weights or input change."""

from __future__ import annotations

import torch

from magvit import profiles
from magvit.generative import token_memo
from magvit.tokenizer.model import build_tokenizer


class CountingTokenizer(torch.nn.Module):
    """The smoke tokenizer, counting its encode calls."""

    def __init__(self) -> None:
        super().__init__()
        p = profiles.get("smoke", device="cpu")
        torch.manual_seed(0)
        self.inner = build_tokenizer(p.tokenizer, p.data).eval()
        self.calls = 0
        self.shape = (p.data.num_frames, p.data.resolution)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.inner.encode(video)


def test_memo_hits_only_on_identical_weights_and_input(monkeypatch):
    monkeypatch.setattr(token_memo, "DISK", False)  # the process level alone (the disk level: its own test)
    token_memo.clear()
    tok = CountingTokenizer().eval()
    t, r = tok.shape
    video = torch.rand(2, 3, t, r, r, generator=torch.Generator().manual_seed(0))
    first = token_memo.encode(tok, video)
    assert torch.equal(first, tok.inner.encode(video)) and tok.calls == 1
    first[0, 0, 0, 0] = -1  # callers get a copy: mutating it does not poison the cache
    again = token_memo.encode(tok, video.clone())
    assert tok.calls == 1 and torch.equal(again, tok.inner.encode(video))
    token_memo.encode(tok, video[[1, 0]])  # same clips, other order: another batch
    assert tok.calls == 2
    other = video.clone()
    other[0, 0, 0, 0, 0] += 1e-3
    token_memo.encode(tok, other)  # one value differs
    assert tok.calls == 3
    with torch.no_grad():
        tok.inner.quantizer.codebook.mul_(2.0)  # weights changed in place (as an optimizer step would)
    changed = token_memo.encode(tok, video)
    assert tok.calls == 4 and torch.equal(changed, tok.inner.encode(video))
    tok.inner.load_state_dict(build_tokenizer(tok.inner.cfg, tok.inner.data).state_dict())  # loaded weights
    token_memo.encode(tok, video)
    assert tok.calls == 5
    token_memo.clear()


def test_memo_evicts_least_recently_used_beyond_its_budget(monkeypatch):
    monkeypatch.setattr(token_memo, "DISK", False)
    token_memo.clear()
    tok = CountingTokenizer().eval()
    t, r = tok.shape
    clips = [torch.rand(1, 3, t, r, r, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    one = token_memo.encode(tok, clips[0]).numel() * 8
    monkeypatch.setattr(token_memo, "MAX_BYTES", 2 * one)
    for c in clips:
        token_memo.encode(tok, c)
    assert token_memo.cached_bytes() == 2 * one and tok.calls == 3
    token_memo.encode(tok, clips[0])  # evicted first: encoded again
    assert tok.calls == 4
    token_memo.encode(tok, clips[2])  # still cached
    assert tok.calls == 4
    token_memo.clear()


def test_disk_level_survives_the_process_and_skips_training_mode(monkeypatch, tmp_path):
    monkeypatch.setenv("MAGVIT_CACHE", str(tmp_path))
    token_memo.clear()
    tok = CountingTokenizer().eval()
    t, r = tok.shape
    video = torch.rand(2, 3, t, r, r, generator=torch.Generator().manual_seed(5))
    first = token_memo.encode(tok, video)
    files = list((tmp_path / "token_memo").rglob("*.pt"))
    assert tok.calls == 1 and len(files) == 1 and torch.load(files[0]).dtype == torch.int16
    token_memo.clear()  # a new process: only the disk remembers
    again = token_memo.encode(tok, video)
    assert tok.calls == 1 and torch.equal(again, first) and again.dtype == torch.int64
    tok.train()  # batch statistics: never persisted
    token_memo.encode(tok, video)
    assert tok.calls == 2 and len(list((tmp_path / "token_memo").rglob("*.pt"))) == 1
    monkeypatch.setattr(token_memo, "DISK", False)
    token_memo.clear()
    tok.eval()
    token_memo.encode(tok, video)
    assert tok.calls == 3
    token_memo.clear()
