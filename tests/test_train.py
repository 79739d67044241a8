"""The shared training loop: resume after a kill ends exactly where an uninterrupted run does."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from magvit.config import EvaluatorConfig
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.train import compound_lr, deterministic, fit, set_lr


class Killed(Exception):
    pass


def make_run(kill_at: int | None = None):
    torch.manual_seed(123)  # the init is the caller's business; fit seeds the steps
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def step_fn(step: int) -> dict[str, float]:
        if step == kill_at:
            raise Killed
        g = torch.Generator().manual_seed(step)  # the batch is a pure function of the step
        x = torch.randn(16, 4, generator=g)
        y = x.sum(1, keepdim=True)
        set_lr(opt, compound_lr(step, 1e-2, warmup=3, total=20))
        loss = (model(x) - y).pow(2).mean()  # dropout draws from torch's global RNG
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    return model, opt, step_fn


def test_resume_after_kill_matches_uninterrupted(tmp_path):
    cfg = EvaluatorConfig()
    model_a, opt_a, step_a = make_run()
    log_a = fit("toy", cfg, 7, {"m": model_a}, {"o": opt_a}, step_a, 20,
                store=ArtifactStore(tmp_path / "a"), checkpoint_every=5)

    store_b = ArtifactStore(tmp_path / "b")
    model_b, opt_b, step_b = make_run(kill_at=13)
    with pytest.raises(Killed):
        fit("toy", cfg, 7, {"m": model_b}, {"o": opt_b}, step_b, 20, store=store_b, checkpoint_every=5)
    assert store_b.exists("toy.ckpt", cfg, 7) and not store_b.exists("toy", cfg, 7)
    model_c, opt_c, step_c = make_run()  # a fresh process: new modules, resumes from step 10
    log_c = fit("toy", cfg, 7, {"m": model_c}, {"o": opt_c}, step_c, 20, store=store_b, checkpoint_every=5)

    for pa, pc in zip(model_a.parameters(), model_c.parameters(), strict=True):
        assert torch.equal(pa, pc)
    assert log_a.equals(log_c) and len(log_c) == 20
    assert not store_b.exists("toy.ckpt", cfg, 7)


def test_finished_artifact_is_loaded_not_retrained(tmp_path):
    store = ArtifactStore(tmp_path)
    model, opt, step_fn = make_run()
    log = fit("toy", EvaluatorConfig(), 0, {"m": model}, {"o": opt}, step_fn, 6, store=store)
    model2, opt2, _ = make_run()
    log2 = fit("toy", EvaluatorConfig(), 0, {"m": model2}, {"o": opt2},
               lambda s: (_ for _ in ()).throw(AssertionError("retrained")), 6, store=store)
    assert log.equals(log2)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters(), strict=True))


def test_nonfinite_loss_is_an_error(tmp_path):
    model, opt, _ = make_run()
    with pytest.raises(FloatingPointError, match="'loss' is nan at step 0"):
        fit("toy", EvaluatorConfig(), 0, {"m": model}, {"o": opt}, lambda s: {"loss": float("nan")}, 3,
            store=ArtifactStore(tmp_path))


def test_compound_lr_warmup_then_cosine():
    assert compound_lr(0, 1.0, 10, 100) == pytest.approx(0.1)
    assert compound_lr(9, 1.0, 10, 100) == pytest.approx(1.0)
    assert compound_lr(55, 1.0, 10, 100) == pytest.approx(0.5)
    assert compound_lr(100, 1.0, 10, 100) == pytest.approx(0.0, abs=1e-12)


def test_deterministic_mode_leaves_new_tensors_unfilled(monkeypatch):
    """Filling every new tensor halved the gpu profile's transformer step rate; no result depends on it."""
    monkeypatch.setattr(torch.utils.deterministic, "fill_uninitialized_memory", True)
    deterministic()
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.utils.deterministic.fill_uninitialized_memory
