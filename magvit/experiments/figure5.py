"""Figure 5 timed here: per-frame generation time of COMMIT, MaskGIT, AR (KV cache) and a diffusion-style loop,
split into transformer and 3D-VQ decoder, with untrained weights (speed does not depend on them).

Paper: Sec. 4.3 and Fig. 5 (MAGVIT-B 37 fps on a V100 at 128 x 128, 60x faster than a same-size AR transformer,
two orders of magnitude faster than video diffusion); official code: ``videogvt/train_lib`` (decoding in
``parallel_decode.py``). Where every step costs the same, a few are timed and the rest extrapolated:

- COMMIT / MaskGIT / diffusion: one step (``commit_decode`` / ``maskgit_decode`` with K = 1, which runs the same
  forward and sampling as each of the K steps; a bare forward for diffusion) is timed with 1 and 2 layers; a
  layer's time is the difference, and the full-depth step is ``t(1) + (L - 1) (t(2) - t(1))`` (the L layers are
  identical); at ``Figure5Config.full_check`` the full-depth forward is timed as well, to check that;
- AR: its steps do *not* cost the same (attention reads a cache that grows by one position per step, and our
  ``KVCache`` copies it with ``torch.cat``): the full-depth model's step is timed at ``ar_points`` cache lengths
  (random keys and values: speed does not depend on them) and the per-step time integrated over the positions
  by the straight line through those points;
- the 3D-VQ decoder: ``decode_batch`` clips timed, extrapolated per clip.

With ``Figure5Config.direct`` (the `gpu` profile) every full-depth decoder is timed end to end instead, as the median
of its repeats. On a GPU the extrapolation failed once (``results/gpu/rerun``): a step costs the larger of the
host's dispatch and the GPU's work, and at 1 and 2 layers the host dominates while at 12 the GPU can, so the time is
not linear in the depth. ``dtype`` casts the networks (bf16 on a GPU), as inference runs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from magvit import profiles
from magvit.config import DataConfig, Figure5Config, Profile, TokenizerConfig, TransformerConfig
from magvit.experiments import claims, cost_model
from magvit.experiments.verdicts import NOT_REPRODUCED, PARTLY, REPRODUCED, combine_pairs
from magvit.generative.decoding import ar_decode, commit_decode, maskgit_decode, sample_logits
from magvit.generative.transformer import KVCache, Transformer, Vocabulary, transformer_b
from magvit.infra import hardware
from magvit.tokenizer.model import build_tokenizer


@dataclass(frozen=True)
class Model:
    """The networks of one row set: transformer, 3D-VQ, and the name shown in the tables."""

    name: str
    transformer: TransformerConfig
    tokenizer: TokenizerConfig


def models(profile: Profile) -> list[tuple[Model, tuple[int, ...]]]:
    """(model, resolutions) to time: MAGVIT-B at the paper's resolutions (``paper_size``), and the profile's own
    models at the profile's resolution (the study's size, for reference)."""
    f5 = profile.figure5
    out = []
    if f5.paper_size:
        out.append((Model("MAGVIT-B", replace(transformer_b(), dropout=0.0), profiles.paper().tokenizer),
                    f5.resolutions))
    else:
        out.append((Model(f"profile {profile.name}", profile.transformer, profile.tokenizer), f5.resolutions))
    out.append((Model(f"profile {profile.name}", profile.transformer, profile.tokenizer), (profile.data.resolution,)))
    return out


def wall_times(fn: Callable[[], object], repeats: int, device: str = "cpu") -> list[float]:
    """``repeats`` wall times of ``fn()``, the device synchronised around each (CUDA runs asynchronously: a host clock
    alone would time the launches)."""
    times = []
    for _ in range(repeats):
        hardware.synchronize(device)
        t0 = time.perf_counter()
        fn()
        hardware.synchronize(device)
        times.append(time.perf_counter() - t0)
    return times


def best(fn: Callable[[], object], repeats: int, device: str = "cpu") -> float:
    """Best of ``repeats`` wall times of ``fn()`` on ``device`` (no warm-up: callers warm up at batch 1)."""
    return min(wall_times(fn, repeats, device))


def median(fn: Callable[[], object], repeats: int, device: str = "cpu") -> float:
    """Median of ``repeats`` wall times of ``fn()`` on ``device`` after one warm-up call (``direct`` timing)."""
    fn()
    return float(np.median(wall_times(fn, repeats, device)))


def direct_times(cfg: TransformerConfig, codebook: int, tokens: int, cond: int, batch: int, f5: Figure5Config,
                 device: str = "cpu", dtype: torch.dtype | None = None) -> tuple[dict[str, float], pd.DataFrame]:
    """Seconds of each full-depth decoder for ``batch`` clips, timed end to end (``Figure5Config.direct``): COMMIT and
    MaskGIT with K steps, diffusion as ``diffusion_steps`` x one full forward, AR generating all ``tokens - cond``
    tokens with its KV cache (no ``"ar"`` key when that exceeds ``ar_direct_max_steps``: the caller then samples
    steps)."""
    vocab = Vocabulary(codebook)
    prefix, z, ispad = _inputs(vocab, batch, tokens, cond, device)
    seq = cost_model.PREFIX + tokens
    gen = torch.Generator(device=device)
    torch.manual_seed(0)
    model = Transformer(cfg, vocab, seq).to(device, dtype or torch.float32).eval()
    out: dict[str, float] = {}
    with torch.inference_mode():
        forward = median(lambda: model(torch.cat([prefix, z], 1)), f5.repeats, device)
        out["diffusion"] = f5.diffusion_steps * forward
        out["forward_full_timed"] = forward
        out["commit"] = median(lambda: commit_decode(model, prefix, z, ispad, steps=f5.decode_steps,
                                                     generator=gen.manual_seed(0)), f5.repeats, device)
        out["maskgit"] = median(lambda: maskgit_decode(model, prefix, z, ispad, steps=f5.decode_steps,
                                                       generator=gen.manual_seed(0)), f5.repeats, device)
    rows = []
    if tokens - cond <= f5.ar_direct_max_steps:
        torch.manual_seed(0)
        causal = Transformer(cfg, vocab, seq, causal=True).to(device, dtype or torch.float32).eval()
        with torch.inference_mode():
            out["ar"] = median(lambda: ar_decode(causal, prefix, z[:, :cond], tokens, generator=gen.manual_seed(0)),
                               f5.repeats, device)
        rows.append({"cache_length": np.nan, "s_per_step": out["ar"] / (tokens - cond), "method": "direct"})
    return out, pd.DataFrame(rows)


def _inputs(vocab: Vocabulary, batch: int, tokens: int, cond: int, device: str = "cpu") -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    prefix = torch.stack([torch.full((batch,), vocab.special("TASK_FRAME_PREDICTION")),
                          torch.full((batch,), vocab.uncond_id)], dim=1)  # [B, 2]
    z = torch.randint(0, vocab.codebook_size, (batch, tokens), generator=gen)  # [B, N]
    ispad = torch.ones(batch, tokens, dtype=torch.bool)
    ispad[:, :cond] = False  # frame prediction from one frame: the first latent frame is given
    return prefix.to(device), z.to(device), ispad.to(device)


def step_times(cfg: TransformerConfig, codebook: int, tokens: int, cond: int, batch: int, repeats: int,
               full: bool, device: str = "cpu", dtype: torch.dtype | None = None) -> dict[str, float]:
    """Seconds of one full-depth COMMIT / MaskGIT / diffusion step, from 1- and 2-layer models (see module doc);
    with ``full``, also the full-depth forward timed directly (``forward_full_timed``). ``dtype``: the network's
    weights and activations (None: fp32)."""
    vocab = Vocabulary(codebook)
    prefix, z, ispad = _inputs(vocab, batch, tokens, cond, device)
    seq = cost_model.PREFIX + tokens
    out: dict[str, dict[int, float]] = {"diffusion": {}, "commit": {}, "maskgit": {}}
    gen = torch.Generator(device=device)  # on the device: sampling draws no host-to-device copies
    for layers in (1, 2):
        torch.manual_seed(0)
        model = Transformer(replace(cfg, num_layers=layers), vocab, seq).to(device, dtype or torch.float32).eval()
        with torch.inference_mode():
            model(torch.cat([prefix[:1], z[:1]], 1))  # warm-up at batch 1
            commit_decode(model, prefix[:1], z[:1], ispad[:1], steps=1, generator=gen.manual_seed(0))
            out["diffusion"][layers] = best(lambda m=model: m(torch.cat([prefix, z], 1)), repeats, device)
            out["commit"][layers] = best(lambda m=model, g=gen: commit_decode(
                m, prefix, z, ispad, steps=1, generator=g.manual_seed(0)), repeats, device)
            out["maskgit"][layers] = best(lambda m=model, g=gen: maskgit_decode(
                m, prefix, z, ispad, steps=1, generator=g.manual_seed(0)), repeats, device)
        del model
    # the same layers run in every kind of step; clamped at 0 (at smoke sizes timing noise can exceed a layer)
    per_layer = max(0.0, out["diffusion"][2] - out["diffusion"][1])
    result = {k: v[1] + (cfg.num_layers - 1) * per_layer for k, v in out.items()}
    result["layer_s"] = per_layer
    if full:
        torch.manual_seed(0)
        model = Transformer(cfg, vocab, seq).to(device, dtype or torch.float32).eval()
        with torch.inference_mode():
            model(torch.cat([prefix[:1], z[:1]], 1))  # warm-up (on CPU the batch-1 calls above warmed up)
            result["forward_full_timed"] = best(lambda: model(torch.cat([prefix, z], 1)), 1, device)
    return result


def ar_seconds(cfg: TransformerConfig, codebook: int, tokens: int, cond: int, batch: int, points: int,
               repeats: int, device: str = "cpu", dtype: torch.dtype | None = None) -> tuple[float, pd.DataFrame]:
    """Seconds for the AR decoder to generate ``tokens - cond`` tokens with a KV cache (module doc), and the
    timed steps (cache length, seconds)."""
    vocab = Vocabulary(codebook)
    seq = cost_model.PREFIX + tokens
    torch.manual_seed(0)
    model = Transformer(cfg, vocab, seq, causal=True).to(device, dtype or torch.float32).eval()
    heads, head_dim = cfg.heads, cfg.hidden // cfg.heads
    first = cost_model.PREFIX + cond
    lengths = np.linspace(first, seq - 1, points).round().astype(int)
    token = torch.zeros(batch, 1, dtype=torch.long, device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    cache_dtype = dtype or torch.float32
    rows = []
    with torch.inference_mode():
        prefix, z, _ = _inputs(vocab, batch, tokens, cond, device)
        model(torch.cat([prefix[:1], z[:1, :cond]], 1), KVCache())  # warm-up
        t_first = best(lambda: model(torch.cat([prefix, z[:, :cond]], 1), KVCache()), 1, device)  # the prefill
        for length in lengths:
            keys = [torch.randn(batch, heads, int(length), head_dim, device=device, dtype=cache_dtype)
                    for _ in range(cfg.num_layers)]
            values = [torch.randn(batch, heads, int(length), head_dim, device=device, dtype=cache_dtype)
                      for _ in range(cfg.num_layers)]

            def one_step(keys: list = keys, values: list = values) -> None:
                cache = KVCache()
                cache.keys, cache.values = list(keys), list(values)
                sample_logits(model(token, cache)[:, -1], generator=gen)

            one_step()  # warm-up at this cache length (a new attention shape)
            rows.append({"cache_length": int(length), "s_per_step": best(one_step, repeats, device),
                         "method": "points"})
            del keys, values
    timed = pd.DataFrame(rows)
    slope, intercept = np.polyfit(timed["cache_length"], timed["s_per_step"], 1) if points > 1 else (0.0, rows[0][
        "s_per_step"])
    positions = np.arange(first, seq - 1)  # cache length before each of the tokens - cond - 1 later steps
    return t_first + float(np.sum(intercept + slope * positions)), timed


def decode_seconds(cfg: TokenizerConfig, num_frames: int, resolution: int, batch: int, repeats: int,
                   device: str = "cpu", dtype: torch.dtype | None = None) -> float:
    """Seconds for the 3D-VQ to decode ``batch`` clips' tokens to pixels (untrained weights)."""
    torch.manual_seed(0)
    tokenizer = build_tokenizer(cfg, DataConfig(num_frames=num_frames, resolution=resolution))
    tokenizer = tokenizer.to(device, dtype or torch.float32).eval()
    ids = torch.randint(0, cfg.codebook_size, (batch, *tokenizer.latent_shape)).to(device)
    with torch.inference_mode():
        if torch.device(device).type != "cpu":
            tokenizer.decode(ids)  # warm-up: kernel selection and the allocator's first blocks
        return best(lambda: tokenizer.decode(ids), repeats, device)


def measure(profile: Profile, progress: Callable[[str], None] = print, dtype: torch.dtype | None = None,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time every decoder at every size and batch of ``profile.figure5`` on ``profile.device``, with the networks
    cast to ``dtype`` (e.g. bf16 on a GPU, as an inference stack runs them: autocast would recast every weight at
    every step; None: fp32). Returns per (model, resolution, batch, decoder) the measured seconds per clip of the
    transformer and of the 3D-VQ decoder (NaN where ``predict_only``), and the table of timed AR steps."""
    f5, device = profile.figure5, profile.device
    precision = "fp32" if dtype is None else str(dtype).removeprefix("torch.")
    rows, ar_steps = [], []
    frames = profile.data.num_frames
    for model, resolutions in models(profile):
        for res in resolutions:
            _, latent = cost_model.tokenizer_decode_pass(model.tokenizer, frames, res, 1)
            tokens, cond = int(np.prod(latent)), latent[1] * latent[2]
            codebook = model.tokenizer.codebook_size
            decode_clip = (decode_seconds(model.tokenizer, frames, res, f5.decode_batch, 1, device, dtype)
                           / f5.decode_batch)
            for batch in f5.batches:
                base = {"model": model.name, "resolution": res, "frames": frames, "batch": batch, "tokens": tokens,
                        "layers": model.transformer.num_layers, "hidden": model.transformer.hidden,
                        "precision": precision}
                if (res, batch) in f5.predict_only:
                    rows += [{**base, "decoder": d, "transformer_s_per_clip": np.nan, "decode_s_per_clip": np.nan}
                             for d in cost_model.DECODERS]
                    continue
                progress(f"timing {model.name} at {res}x{res}, batch {batch} ({tokens} tokens)")
                if f5.direct:
                    seconds, timed = direct_times(model.transformer, codebook, tokens, cond, batch, f5, device, dtype)
                    step = {"layer_s": np.nan, "forward_full_timed": seconds["forward_full_timed"],
                            "diffusion": np.nan}
                else:
                    full = (res, batch) == tuple(f5.full_check) and model.name == "MAGVIT-B"
                    step = step_times(model.transformer, codebook, tokens, cond, batch, f5.repeats, full, device,
                                      dtype)
                    seconds = {"commit": f5.decode_steps * step["commit"],
                               "maskgit": f5.decode_steps * step["maskgit"],
                               "diffusion": f5.diffusion_steps * step["diffusion"]}
                    timed = pd.DataFrame()
                if "ar" not in seconds:  # sampled cache lengths (module doc)
                    seconds["ar"], timed = ar_seconds(model.transformer, codebook, tokens, cond, batch, f5.ar_points,
                                                      f5.repeats, device, dtype)
                ar_steps.append(timed.assign(model=model.name, resolution=res, batch=batch))
                for decoder in cost_model.DECODERS:
                    rows.append({**base, "decoder": decoder, "transformer_s_per_clip": seconds[decoder] / batch,
                                 "decode_s_per_clip": decode_clip, "timing": "direct" if f5.direct else "extrapolated",
                                 "layer_s": step["layer_s"], "forward_full_timed_s": step.get("forward_full_timed",
                                                                                              np.nan),
                                 "forward_full_extrapolated_s": step["diffusion"]})
    return pd.DataFrame(rows), pd.concat(ar_steps, ignore_index=True)


# measure()'s timed columns: NaN where a size was predicted only (written empty: results.blank_missing)
MEASURED_COLUMNS = ("transformer_s_per_clip", "decode_s_per_clip", "layer_s", "forward_full_timed_s",
                    "forward_full_extrapolated_s")


def predict(table: pd.DataFrame, profile: Profile, hardware: list[cost_model.Hardware]) -> pd.DataFrame:
    """Add predicted seconds per clip (transformer and 3D-VQ decoder) on each of ``hardware`` to ``table``."""
    f5 = profile.figure5
    tokenizers = {m.name: m.tokenizer for m, _ in models(profile)}
    transformers = {m.name: m.transformer for m, _ in models(profile)}
    out = table.copy()
    for hw in hardware:
        key = hw.key
        pred_t, pred_d, bounds = [], [], []
        for row in table.itertuples():
            tcfg, tok = transformers[row.model], tokenizers[row.model]
            _, latent = cost_model.tokenizer_decode_pass(tok, row.frames, row.resolution, 1)
            steps = f5.diffusion_steps if row.decoder == "diffusion" else f5.decode_steps
            passes = cost_model.decoder_passes(row.decoder, tcfg, row.tokens, row.batch, steps,
                                               cond_tokens=latent[1] * latent[2],
                                               codebook_size=tok.codebook_size, bytes_per_value=hw.bytes_per_value,
                                               cache_copy=not hw.static_kv_cache)
            dec, _ = cost_model.tokenizer_decode_pass(tok, row.frames, row.resolution, row.batch)
            dec = cost_model.Pass(dec.flops, dec.bytes * hw.bytes_per_value / 4)
            pred_t.append(cost_model.seconds(passes, hw) / row.batch)
            pred_d.append(cost_model.seconds([dec], hw) / row.batch)
            kinds = {cost_model.bound(p, hw) for p in passes}
            bounds.append("/".join(sorted(kinds)))
        out[f"pred_{key}_transformer_s"] = pred_t
        out[f"pred_{key}_decode_s"] = pred_d
        out[f"pred_{key}_bound"] = bounds
    return out


PAPER_AR_RATIO, PAPER_DIFFUSION_RATIO = 60.0, 100.0  # Sec. 4.3: "60 times slower"; "two orders of magnitude"


def speedups(table: pd.DataFrame, column: str, decode_column: str, resolution: int, batch: int,
             model: str = "MAGVIT-B") -> dict[str, float]:
    """Per-clip time (transformer + 3D-VQ decoder) of AR and diffusion over COMMIT's at one size."""
    rows = table[(table["model"] == model) & (table["resolution"] == resolution) & (table["batch"] == batch)]
    total = (rows[column] + rows[decode_column]).set_axis(rows["decoder"]).to_dict()
    return {"ar_over_commit": total["ar"] / total["commit"],
            "diffusion_over_commit": total["diffusion"] / total["commit"]}


def c8_verdict(ratios: dict[str, float]) -> str:
    """C8 from the two speed-ups: each part ``reproduced`` when COMMIT is at least half as much faster as the paper
    says (AR >= 30x, diffusion >= 50x: a factor 2 for hardware and implementation), ``partly`` when COMMIT is
    faster but by less, ``not reproduced`` when it is not faster; C8 combines the parts (``verdicts.combine_pairs``:
    all reproduced -> reproduced, none faster -> not reproduced, else partly)."""
    def part(ratio: float, paper: float) -> str:
        return REPRODUCED if ratio >= paper / 2 else PARTLY if ratio > 1 else NOT_REPRODUCED

    parts = [part(ratios["ar_over_commit"], PAPER_AR_RATIO), part(ratios["diffusion_over_commit"],
                                                                   PAPER_DIFFUSION_RATIO)]
    return combine_pairs(parts)


# C8's ratios are measured once, without an interval of their own: a threshold rule, not a difference's interval
C8_REASON = "speed-up ratios measured in one run (no interval): each judged against half the paper's ratio"
# (setting, transformer seconds column, decoder seconds column) of the two judgements of C8
C8_SETTINGS = (("measured, this CPU (1 thread, fp32)", "transformer_s_per_clip", "decode_s_per_clip"),
               ("predicted, H100 SXM bf16", "pred_h100_bf16_transformer_s", "pred_h100_bf16_decode_s"))


def c8_claims(table: pd.DataFrame, resolution: int, batch: int, num_frames: int,
              model: str = "MAGVIT-B", settings: tuple[tuple[str, str, str], ...] = C8_SETTINGS) -> pd.DataFrame:
    """C8 judged in each of ``settings`` (default: the measured times and the H100 prediction), in the
    ``magvit.experiments.claims`` schema."""
    rows = []
    for setting, t_col, d_col in settings:
        ratios = speedups(table, t_col, d_col, resolution, batch, model)
        commit = table[(table["model"] == model) & (table["resolution"] == resolution) & (table["batch"] == batch)
                       & (table["decoder"] == "commit")]
        fps = num_frames / float(commit[[t_col, d_col]].sum(axis=1).iloc[0])
        ours = (f"AR / COMMIT {ratios['ar_over_commit']:.1f}x, diffusion / COMMIT "
                f"{ratios['diffusion_over_commit']:.1f}x, COMMIT {fps:.2f} fps")
        rows.append(claims.verdict_row("C8", ours, c8_verdict(ratios),
                                       f"{setting}, {model} {resolution}x{resolution}, batch {batch}",
                                       reason=C8_REASON))
    return claims.verdict_table(rows, benchmark="-")


def gpu_runs(folder: str | Path, resolution: int = 128, batch: int = 1, model: str = "MAGVIT-B") -> pd.DataFrame:
    """The committed GPU runs of ``benchmarks/gpu_session.py`` (``figure5_generation.csv`` in ``folder`` and in its
    subfolders), side by side at one size: per run and precision, COMMIT's and AR's seconds per clip and per
    decoding step (K steps; one per generated token), the 3D-VQ decoder, and the two speed-ups of C8."""
    rows = []
    for path in sorted(Path(folder).rglob("figure5_generation.csv")):
        table = pd.read_csv(path)
        for precision, part in table.groupby("precision", sort=False):
            sel = part[(part["model"] == model) & (part["resolution"] == resolution) & (part["batch"] == batch)]
            if sel.empty:
                continue
            seconds = sel.set_index("decoder")["transformer_s_per_clip"].astype(float)
            decode = float(sel["decode_s_per_clip"].iloc[0])
            tokens = int(sel["tokens"].iloc[0])
            _, latent = cost_model.tokenizer_decode_pass(profiles.paper().tokenizer, int(sel["frames"].iloc[0]),
                                                         resolution, 1)
            ar_steps = tokens - latent[1] * latent[2]  # the first latent frame is given (frame prediction)
            total = seconds + decode
            rows.append({"run": str(path.parent.relative_to(Path(folder).parent)),
                         "git_commit": sel["git_commit"].iloc[0], "device": sel["device"].iloc[0],
                         "precision": precision, "timing": sel["timing"].iloc[0] if "timing" in sel else "extrapolated",
                         "commit_s_per_clip": seconds["commit"], "ar_s_per_clip": seconds["ar"],
                         "diffusion_s_per_clip": seconds["diffusion"], "decode_s_per_clip": decode,
                         "commit_ms_per_step": 1e3 * seconds["commit"] / profiles.paper().figure5.decode_steps,
                         "ar_ms_per_step": 1e3 * seconds["ar"] / ar_steps,
                         "ar_over_commit": total["ar"] / total["commit"],
                         "diffusion_over_commit": total["diffusion"] / total["commit"],
                         "commit_fps": int(sel["frames"].iloc[0]) / total["commit"],
                         # the check of the layer extrapolation: the full-depth forward timed directly beside it
                         "forward_timed_ms": 1e3 * float(sel["forward_full_timed_s"].iloc[0]),
                         "forward_extrapolated_ms": 1e3 * float(sel["forward_full_extrapolated_s"].iloc[0])})
    return pd.DataFrame(rows)
