"""A dissection of the reference MAGVIT-B by what the verdicts read (the generative side's counterpart of the
tokenizer's retention dissection).

The generative claims are judged on clips the transformers generate, read by the proxy evaluator. A transformer that
has not learned what the claims compare makes every verdict "not testable here". This module trains the reference
model one change at a time and reports, per row:

- ``train_loss`` / ``heldout_loss``: the masked-token cross-entropy (nats per masked token) on the first training clips
  and on held-out test clips, at fixed masking ratios (:data:`RATIOS`, the same masks for every row): do training
  and held-out losses agree (a set small enough to be memorised would not);
- ``heldout_loss_shuffled``: the same held-out loss with the class tokens shuffled across the clips, and
  ``class_nats`` = shuffled - true: does the model use the class at all (0: the class token is ignored);
- on ``CG``: the evaluator's class accuracy of the generated clips against the class they were conditioned on
  (Wilson interval), and IS (proxy); on every task: FVD and KVD (proxy) of the generated clips against the real clips
  they were conditioned on, and the same for the tokenizer's reconstructions of those clips (the floor), with the
  ratio FVD / floor.

Every row records the stand-ins it ran on (``data_version``: ``$MAGVIT_STANDINS`` selects the third version of
``shapes``, four fixed palettes) and its tokenizer's steps. Rows (:data:`CHANGES`) name what they change from the
profile's reference (its B transformer, its token path); the benchmark script ``benchmarks/transformer_dissection.py``
runs them and writes ``<results>/diagnostics/transformer_dissection.csv`` (a rerun of a (change, benchmark, task,
seed) replaces its row).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import torch

from magvit import data as video_data
from magvit.config import Profile
from magvit.data.procedural import GENERATOR_VERSION
from magvit.experiments.resolving_power import _cond_frames as table_cond_frames
from magvit.experiments.resolving_power import accuracy_interval
from magvit.generative.commit import commit_mask, cutoff
from magvit.generative.model import MaskedVideoModel
from magvit.generative.sample import sample_clips, score_with_features, tokenizer_floor
from magvit.generative.tasks import Conditioned
from magvit.generative.train import get_transformer
from magvit.infra import plots, results
from magvit.infra.checks import check_seed
from magvit.infra.paths import results_dir
from magvit.metrics import ProxyEvaluator, get_evaluator

TABLE = "diagnostics/transformer_dissection"
RATIOS = (0.3, 0.6, 0.9)  # masking ratios of the held-out loss (every row sees the same masks)
KEY = ("change", "benchmark", "task", "seed")


@dataclass(frozen=True)
class Change:
    """One row of the dissection: ``transformer`` fields replaced in the profile's B, ``train_clips`` the token set
    (None: the profile's ``speed.train_clips``; 0: a fresh clip every step), ``sampling`` the unkeyed sampling fields
    (``choice_temperature``, ``decode_steps``) at generation time only."""

    why: str
    transformer: dict[str, Any] = field(default_factory=dict)
    train_clips: int | None = None
    sampling: dict[str, Any] = field(default_factory=dict)


SET16K_1000 = {"steps": 1000, "batch_size": 32, "warmup_steps": 100}  # 1000 x 32 from 16384 tokenised clips
SET16K_2000 = {**SET16K_1000, "steps": 2000}


def sampled(how: str, trained: dict[str, Any] = SET16K_1000, **sampling: Any) -> Change:
    """The cached ``trained`` model (16384 tokenised clips; default 1000 x 32) sampled with ``how``: only unkeyed
    sampling fields change."""
    return Change(f"the {trained['steps']} x {trained['batch_size']} model sampled with {how}", trained,
                  train_clips=16384, sampling=sampling)


CHANGES: dict[str, Change] = {
    "reference": Change("the profile's reference MAGVIT-B, as the tables train it"),
    "300x12 stream": Change("the cpu profile's budget before this dissection: 300 steps of 12 fresh clips",
                            {"steps": 300, "batch_size": 12, "warmup_steps": 30}, train_clips=0),
    "500x32 set16k": Change("500 steps of 32 clips drawn from 16384 tokenised training clips",
                            {"steps": 500, "batch_size": 32, "warmup_steps": 50}, train_clips=16384),
    "1000x32 set16k": Change("1000 steps of 32 clips drawn from 16384 tokenised training clips", SET16K_1000,
                             train_clips=16384),
    "2000x32 set16k": Change("2000 steps of 32 clips drawn from 16384 tokenised training clips", SET16K_2000,
                             train_clips=16384),
    "1000x32 set4k": Change("1000 steps of 32 from only 4096 clips: does a smaller set get memorised?",
                            {"steps": 1000, "batch_size": 32, "warmup_steps": 100}, train_clips=4096),
    "1000x32 set16k lr2e-3": Change("1000 x 32 from 16384 clips at twice the learning rate",
                                    {**SET16K_1000, "lr": 2e-3},
                                    train_clips=16384),
    # two departures from the official BERT, one at a time (neither is the profiles'): the token grid's adjacency
    # given to the positions, and pre-LN's easier optimisation
    "1000x32 set16k pos3d": Change("1000 x 32 from 16384 clips, factorized positions (E_t + E_h + E_w)",
                                   {**SET16K_1000, "position": "factorized"}, train_clips=16384),
    "1000x32 set16k preln": Change("1000 x 32 from 16384 clips, pre-LN blocks", {**SET16K_1000, "norm": "pre"},
                                   train_clips=16384),
    "1000x32 set16k pos3d preln": Change("1000 x 32 from 16384 clips, factorized positions and pre-LN",
                                         {**SET16K_1000, "position": "factorized", "norm": "pre"},
                                         train_clips=16384),
    "1000x32 set16k class-every-token": Change("1000 x 32 from 16384 clips, the class embedding added to every visual "
                                               "token too", {**SET16K_1000, "class_input": "every_token"},
                                               train_clips=16384),
    "2000x32 set16k pos3d class-every-token": Change("2000 x 32 from 16384 clips, factorized positions and the class "
                                                     "on every token", {**SET16K_2000, "position": "factorized",
                                                                        "class_input": "every_token"},
                                                     train_clips=16384),
    "3000x32 set16k pos3d class-every-token": Change("3000 x 32 from 16384 clips, factorized positions and the class "
                                                     "on every token: the budget the gate may need",
                                                     {**SET16K_2000, "steps": 3000, "position": "factorized",
                                                      "class_input": "every_token"}, train_clips=16384),
    # sampling within Alg. 1 (the choice temperature tau of the Gumbel-noised confidences, and the steps K) on the
    # cached 1000 x 32 model: a model that knows the class can still lose it to incoherent parallel sampling
    "1000x32 set16k tau1": sampled("choice temperature 1 (paper 4.5)", choice_temperature=1.0),
    "1000x32 set16k tau0": sampled("choice temperature 0: most confident first", choice_temperature=0.0),
    "1000x32 set16k K24": sampled("24 steps (paper 12)", decode_steps=24),
    "1000x32 set16k K48": sampled("48 steps", decode_steps=48),
    "1000x32 set16k tau20": sampled("choice temperature 20: a more random order", choice_temperature=20.0),
    "2000x32 set16k K24": sampled("24 steps (paper 12)", SET16K_2000, decode_steps=24),
    "2000x32 set16k K48": sampled("48 steps", SET16K_2000, decode_steps=48),
    "1000x32 set16k K24 tau20": sampled("24 steps at choice temperature 20", decode_steps=24, choice_temperature=20.0),
}


def change_config(p: Profile, change: Change) -> tuple[Profile, Any]:
    """The profile whose token path the change uses, and the transformer config it trains."""
    speed = p.speed if change.train_clips is None else replace(p.speed, train_clips=change.train_clips)
    return replace(p, speed=speed), replace(p.transformer, **change.transformer)


def held_out_tokens(model: MaskedVideoModel, task: str, split: str, count: int, first: int = 0
                    ) -> tuple[Conditioned, torch.Tensor]:
    """The ``task``'s condition of clips ``first..first+count-1`` of ``split`` (z [count, N], z~, ispad, the prefix
    with each clip's class) and their class labels [count]."""
    cfg = model.cfg
    ds = video_data.load(cfg.dataset, split, cfg.data.num_frames, cfg.data.resolution)
    video, labels = video_data.get_batch(ds, range(first, first + count))
    device = next(model.transformer.parameters()).device
    with torch.inference_mode():
        cond = model.condition(video.to(device), task, labels["label"].to(device) if model.cfg.class_conditional
                               else None)
    return cond, labels["label"]


@torch.inference_mode()
def masked_loss(model: MaskedVideoModel, cond: Any, shuffle_classes: bool = False, seed: int = 0,
                batch_size: int = 64) -> float:
    """Mean cross-entropy (nats) of the masked visual tokens at each ratio of :data:`RATIOS` (the COMMIT corruption of
    Eq. 2 with the ratio fixed instead of drawn), averaged over the ratios; ``shuffle_classes``: the class tokens
    permuted across the clips first (the same permutation and masks for every model)."""
    gen = torch.Generator().manual_seed(seed)  # the masks: the same with and without the shuffle
    prefix = cond.prefix.clone()
    if shuffle_classes:
        order = torch.randperm(len(prefix), generator=torch.Generator().manual_seed(seed + 1))
        prefix[:, 1] = prefix[order, 1]
    b, n = cond.z.shape
    total = 0.0
    for ratio in RATIOS:
        scores = torch.rand(b, n, generator=gen).to(cond.z.device)
        s_star = cutoff(scores, math.ceil(ratio * n))
        inputs = commit_mask(cond.z, cond.z_tilde, cond.ispad, scores, s_star, model.vocab.mask_id)
        masked = (scores <= s_star) & cond.ispad  # the loss of the tokens to generate: masked padding positions
        ces = []
        for i in range(0, b, batch_size):
            seq = torch.cat([prefix[i:i + batch_size], inputs[i:i + batch_size]], dim=1)
            logits = model.transformer(seq)[:, -n:].float()
            ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), cond.z[i:i + batch_size].flatten(),
                                                   reduction="none").view(-1, n)
            ces.append((ce * masked[i:i + batch_size]).sum() / masked[i:i + batch_size].sum())
        total += float(torch.stack(ces).mean())
    return total / len(RATIOS)


def dissect(p: Profile, changes: list[str], benchmarks: list[tuple[str, str]], seeds: list[int], clips: int,
            evaluator: ProxyEvaluator | None = None) -> pd.DataFrame:
    """Train each change on each (benchmark, task) and seed and measure it (module docstring); one row each."""
    unknown = [c for c in changes if c not in CHANGES]
    if unknown:
        raise ValueError(f"unknown change(s) {unknown}; known: {', '.join(CHANGES)}")
    for s in seeds:
        check_seed(s)
    evaluator = evaluator or get_evaluator(p)
    rows = []
    for name in changes:
        change = CHANGES[name]
        for benchmark, task in benchmarks:
            cond_frames = table_cond_frames(benchmark, task)  # the tables' own: scenes FP conditions on 5
            for seed in seeds:
                cp, tcfg = change_config(p, change)
                t0 = time.time()
                model, log = get_transformer(cp, benchmark, task, "commit", cfg=tcfg, cond_frames=cond_frames,
                                             seed=seed)
                train_seconds = time.time() - t0
                if change.sampling:
                    model.cfg = replace(model.cfg, transformer=replace(model.cfg.transformer, **change.sampling))
                held, _ = held_out_tokens(model, task, "test", clips)
                seen, _ = held_out_tokens(model, task, "train", clips)
                row = {"change": name, "benchmark": benchmark, "task": task, "seed": seed,
                       "data_version": GENERATOR_VERSION, "tokenizer_steps": p.tokenizer.steps, "steps": tcfg.steps,
                       "batch_size": tcfg.batch_size, "lr": tcfg.lr, "train_clips": cp.speed.train_clips,
                       "train_seconds": round(train_seconds, 1),
                       "log_loss_last": float(pd.to_numeric(log["loss"]).tail(max(1, len(log) // 10)).mean()),
                       "train_loss": masked_loss(model, seen), "heldout_loss": masked_loss(model, held),
                       "heldout_loss_shuffled": masked_loss(model, held, shuffle_classes=True)}
                row["class_nats"] = row["heldout_loss_shuffled"] - row["heldout_loss"]
                samples = sample_clips(model, task, clips, p.eval.batch_size, seed=seed)
                numbers, _ = score_with_features(samples, evaluator, p.eval.num_bootstrap, p.tables.fvd_groups, seed)
                floor = tokenizer_floor(samples, model, evaluator, p.eval.num_bootstrap, p.tables.fvd_groups, seed)
                row |= {"fvd": numbers.fvd, "fvd_low": numbers.fvd_low, "fvd_high": numbers.fvd_high,
                        "kvd": numbers.kvd, "floor_fvd": floor["fvd"], "floor_kvd": floor["kvd"],
                        "fvd_over_floor": numbers.fvd / floor["fvd"], "clips": clips}
                _, labels = video_data.get_batch(video_data.load(benchmark, "test", p.data.num_frames,
                                                                 p.data.resolution), range(clips))
                if model.cfg.class_conditional:
                    _, labels = video_data.get_batch(video_data.load(benchmark, "test", p.data.num_frames,
                                                                     p.data.resolution), range(clips))
                    target = labels["label"].numpy()
                    correct = evaluator.predict(samples.fake, "label") == target
                    low, high = accuracy_interval(correct)
                    row |= {"class_accuracy": float(correct.mean()), "class_accuracy_low": low,
                            "class_accuracy_high": high, "is_proxy": numbers.is_proxy,
                            "real_class_accuracy": float((evaluator.predict(samples.real, "label") == target).mean()),
                            "chance": 1 / video_data.num_classes(benchmark)}
                rows.append(row)
                save_samples(p, samples, labels["label"] if model.cfg.class_conditional else None, name, benchmark,
                             task, seed)
                print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return pd.DataFrame(rows)


def save_samples(p: Profile, samples: Any, labels: torch.Tensor | None, change: str, benchmark: str, task: str,
                 seed: int, rows: int = 12) -> None:
    """A frame grid of generated clips beside the real clips they were conditioned on (on CG: the first clip of each
    class), ``<results>/figures/diagnostics/transformer_dissection_<...>.png``: look before trusting a number."""
    if labels is not None:
        firsts = [int((labels == c).nonzero()[0]) for c in labels.unique().tolist()][:rows]
    else:
        firsts = list(range(min(rows // 2, len(samples.fake))))
    index = torch.tensor(firsts)
    names = [f"class {int(labels[i])}" if labels is not None else f"clip {i}" for i in firsts]
    fig = plots.frame_grid([samples.real[index], samples.fake[index]], row_labels=[f"real {n}" for n in names]
                           + [f"generated {n}" for n in names], frame_step=2, max_frames=8,
                           title=f"{change}: {benchmark} {task}, seed {seed}")
    slug = "".join(ch if ch.isalnum() else "_" for ch in f"{change}_{benchmark}_{task}_{seed}")
    results.save_figure(fig, f"diagnostics/transformer_dissection_{slug}", profile=p.name)
    plt.close(fig)


def merge(p: Profile, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` rows over the CSV's (same :data:`KEY` replaced), written back; returns the whole table."""
    path = results_dir(p.name) / f"{TABLE}.csv"
    if path.exists():
        old = pd.read_csv(path)
        old = old.drop(columns=[c for c in results.PROVENANCE if c in old.columns])
        keys = set(map(tuple, new[list(KEY)].astype(str).to_numpy()))
        old = old[[tuple(map(str, r)) not in keys for r in old[list(KEY)].to_numpy()]]
        new = pd.concat([old, new], ignore_index=True)
    table = results.blank_missing(new, [c for c in new.columns if new[c].isna().any()])
    seeds = sorted({int(s) for s in new["seed"]})
    results.write_table(table, TABLE, profile=p.name, seeds=seeds, device=p.device)
    return new


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (change, benchmark, task) of the numbers a reader compares."""
    cols = [c for c in ("steps", "batch_size", "train_clips", "train_seconds", "train_loss", "heldout_loss",
                        "class_nats", "class_accuracy", "is_proxy", "fvd", "floor_fvd", "fvd_over_floor")
            if c in table]
    return table.groupby(["change", "benchmark", "task"], sort=False)[cols].mean(numeric_only=True)



def read(profile: str) -> pd.DataFrame | None:
    """The committed dissection of ``profile`` (``<results>/diagnostics/transformer_dissection.csv``), or None."""
    path = results_dir(profile) / f"{TABLE}.csv"
    return pd.read_csv(path) if path.exists() else None


GATE_FRACTION = 0.5  # the generated clips' class accuracy the reference CG must reach: half the real clips'


def figure(table: pd.DataFrame) -> plt.Figure:
    """The class accuracy of each change's generated ``shapes`` CG clips with its Wilson interval (one point per seed),
    beside chance and the gate (half the real clips' accuracy)."""
    cg = table[table["task"] == "CG"]
    if cg.empty:
        raise ValueError("the dissection has no CG row to draw")
    names = list(dict.fromkeys(cg["change"]))
    fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(names) + 1.2))
    labelled = set()
    for i, name in enumerate(names):
        runs = cg[cg["change"] == name]
        for j, r in enumerate(runs.itertuples()):
            label = f"seed {int(r.seed)}"
            ax.errorbar(r.class_accuracy, i + 0.15 * (j - (len(runs) - 1) / 2),
                        xerr=[[r.class_accuracy - r.class_accuracy_low], [r.class_accuracy_high - r.class_accuracy]],
                        fmt="o", color=f"C{int(r.seed) % 10}", capsize=2, markersize=4,
                        label=None if label in labelled else label)
            labelled.add(label)
    ax.axvline(float(cg["chance"].iloc[0]), color="grey", linestyle=":", label="chance")
    ax.axvline(GATE_FRACTION * float(cg["real_class_accuracy"].iloc[0]), color="k", linestyle="--",
               label="gate: half the real clips'")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("evaluator's class accuracy of the generated shapes clips (CG)")
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def statement(table: pd.DataFrame) -> str:
    """What the dissection says, in words from its numbers: the best CG row against the gate, and each FP row's
    FVD (proxy) over its tokenizer floor against the 2x its gate allows."""
    lines = []
    cg = table[table["task"] == "CG"]
    if len(cg):
        best = cg.loc[cg["class_accuracy"].idxmax()]
        bar = GATE_FRACTION * float(best["real_class_accuracy"])
        met = best["class_accuracy_low"] > float(best["chance"]) and best["class_accuracy"] >= bar
        lines.append(f"- CG on shapes: the best row ({best['change']}, seed {int(best['seed'])}) generates clips the "
                     f"evaluator recognises at {best['class_accuracy']:.3f} [{best['class_accuracy_low']:.3f}, "
                     f"{best['class_accuracy_high']:.3f}] (chance {best['chance']:.3f}, real clips "
                     f"{best['real_class_accuracy']:.3f}, gate {bar:.3f}): the gate is {'met' if met else 'not met'}. "
                     f"Its FVD (proxy) is {best['fvd_over_floor']:.1f}x the tokenizer floor; the class lowers the "
                     f"held-out masked-token loss by {best['class_nats']:.3f} nats a token.")
    for r in table[table["task"] != "CG"].itertuples():
        lines.append(f"- {r.task} on {r.benchmark} ({r.change}, seed {int(r.seed)}): FVD (proxy) {r.fvd:.1f}, "
                     f"{r.fvd_over_floor:.2f}x the tokenizer floor of {r.floor_fvd:.1f} (gate: within 2x).")
    return "\n".join(lines)
