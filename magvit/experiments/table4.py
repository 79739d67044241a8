"""Table 4 (multi-task generation on BAIR / SSv2 -> ``pushbot`` / ``shapes``) and Fig. 6: claims C3 and C11.

Paper Sec. 4.4 and Tab. 4: a model trained unconditionally (UNC), one trained on frame prediction only (FP) and one
multi-task model (MT: the eight BAIR tasks, or the ten SSv2 tasks with the class-conditional CG and CFP), each
evaluated on every task of its benchmark by FVD, with the average over the tasks. Official code:
``videogvt/configs/maskgvt_bair_multitask_config.py`` (the eight tasks) and ``videogvt/train_lib/task_registry.py``.

How a single-task model is asked for a task it never trained on (the paper's grey cells; its Appendix B, which would
say, is not in the text available): the official single-task layout has no task token (``[class token, visual
tokens]``), so such a model always sees its own prefix; we give it the prompt and class token of its training task
(:class:`OnUnseenTask`). It receives the evaluated task's condition the only way its training allows: the FP model
(trained with COMMIT) gets the task's condition tokens z~ inside the COMMIT canvas (Algorithm 1); the UNC model, a
plain masked token model that never saw a condition token, gets them as fixed unmasked tokens (MaskGIT's way of
conditioning; its FP number in Tab. 4, 74.0, is exactly Tab. 5's latent-masking FP number, 74). A model without
class tokens sees CG as unconditional generation and CFP as FP.

This module also caches the generated clips of each (model, task) (:func:`cached_samples`), so that Table 5
(``magvit.experiments.table5``) reuses Table 4's evaluations of the models both tables share.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from tqdm import tqdm

from magvit import data as video_data
from magvit.config import Profile, TransformerConfig
from magvit.experiments import claims
from magvit.experiments.verdicts import (
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    Estimate,
    Outcome,
    cap_seeds,
    combine,
    compare_rows,
)
from magvit.generative import tasks as task_registry
from magvit.generative.decoding import DecodeResult, commit_decode, maskgit_decode
from magvit.generative.model import GenerativeConfig, MaskedVideoModel
from magvit.generative.sample import ClipFeatures, Evaluation, Samples, clip_features, score
from magvit.generative.tasks import (
    MT8,
    MT10,
    Conditioned,
    condition_video,
    is_class_conditional,
    prepare_batch,
    prompt_id,
)
from magvit.generative.train import get_transformer
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.results import blank_missing
from magvit.metrics import ProxyEvaluator, fvd
from magvit.metrics.paired import RowFeatures
from magvit.tokenizer.evaluate import reconstruct

UNC = "UNC"  # unconditional generation (``magvit.generative.tasks``): the full-generation prompt, no class or condition
BENCHMARK_TASKS: dict[str, tuple[str, ...]] = {"pushbot": MT8, "shapes": MT10}
PLAYS = {"pushbot": "BAIR", "shapes": "SSv2"}
# the paper's column order, and its average column per benchmark (results/paper/table4_multitask.csv)
COLUMNS = ("FP", "FI", "OPC", "OPV", "OPH", "OPD", "IPC", "IPD", "CG", "CFP")
PAPER_AVERAGE = {"pushbot": "bair_mt8_avg", "shapes": "ssv2_mt10_avg"}
METHODS = ("UNC", "FP", "MT")
SIZES = ("B", "L")


def ordered(benchmark: str) -> tuple[str, ...]:
    """The benchmark's tasks in the paper's column order."""
    return tuple(t for t in COLUMNS if t in BENCHMARK_TASKS[check_benchmark(benchmark)])


def check_benchmark(benchmark: str) -> str:
    if benchmark not in BENCHMARK_TASKS:
        raise ValueError(f"unknown Table 4 benchmark {benchmark!r}; choose from {tuple(BENCHMARK_TASKS)}")
    return benchmark


def training_tasks(method: str, benchmark: str) -> tuple[str, ...]:
    """The tasks a Table 4 model trains on: UNC -> (UNC,), FP -> (FP,), MT -> the benchmark's task set."""
    check_benchmark(benchmark)
    if method not in METHODS:
        raise ValueError(f"unknown Table 4 method {method!r}; choose from {METHODS}")
    return {"UNC": (UNC,), "FP": ("FP",), "MT": BENCHMARK_TASKS[benchmark]}[method]


@dataclass(frozen=True)
class ModelSpec:
    """One Table 4 model: benchmark, training (UNC / FP / MT), size (B / L) and training seed."""

    benchmark: str
    method: str
    size: str = "B"
    seed: int = 0

    def __post_init__(self) -> None:
        training_tasks(self.method, self.benchmark)
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}, got {self.size!r}")
        check_seed(self.seed)

    @property
    def label(self) -> str:
        """The paper's row name, e.g. ``MAGVIT-B-MT``."""
        return f"MAGVIT-{self.size}-{self.method}"

    def transformer(self, profile: Profile) -> TransformerConfig | None:
        """The transformer config to pass to ``get_transformer``: None (the profile's B, as every other notebook
        passes it, so the cache key is shared) or the profile's L."""
        return profile.tables.large if self.size == "L" else None


def get_model(profile: Profile, spec: ModelSpec, store: ArtifactStore | None = None,
              ) -> tuple[MaskedVideoModel, pd.DataFrame]:
    """Train (or load) a Table 4 model with COMMIT and the full loss, with the arguments every notebook uses for
    the same model: pushbot FP and MT8 B are notebook 05's and Table 5's models."""
    return get_transformer(profile, spec.benchmark, training_tasks(spec.method, spec.benchmark), "commit",
                           cfg=spec.transformer(profile), seed=spec.seed, store=store)


class OnUnseenTask:
    """A single-task model asked for another task: the task's condition (z~, ispad) with the model's own prefix
    (the prompt and class token of its training task), decoded by COMMIT (``decoding="commit"``) or with the
    condition tokens fixed as MaskGIT does (``"maskgit"``). It has what ``sample.sample_clips`` uses of a model."""

    def __init__(self, model: MaskedVideoModel, decoding: str) -> None:
        if len(model.cfg.tasks) != 1 or model.cfg.class_conditional:
            raise ValueError(f"OnUnseenTask wraps a single-task model without class tokens, got tasks "
                             f"{model.cfg.tasks}")
        if decoding not in ("commit", "maskgit"):
            raise ValueError(f"decoding must be 'commit' or 'maskgit', got {decoding!r}")
        self.model, self.decoding = model, decoding
        self.cfg, self.transformer, self.latent_shape = model.cfg, model.transformer, model.latent_shape

    def condition(self, video: torch.Tensor, task: str) -> Conditioned:
        """The evaluated task's z~ and ispad (CG as UNC, CFP as FP: no class token to give) under the own prefix."""
        cfg, vocab = self.cfg, self.model.vocab
        geometry = {"CG": UNC, "CFP": "FP"}.get(task, task)
        cond = prepare_batch(self.model.tokenizer, video, geometry, vocab, None, cfg.cond_frames,
                             cfg.transformer.inpainting_token)
        own = prompt_id(cfg.tasks[0], vocab, cfg.transformer.inpainting_token)
        prefix = torch.stack([torch.full_like(cond.prefix[:, 0], own),
                              vocab.class_ids(None, video.shape[0], video.device)], dim=1)
        return replace(cond, prefix=prefix, tasks=[task] * video.shape[0])

    @torch.inference_mode()
    def generate(self, video: torch.Tensor, task: str, labels: torch.Tensor | None = None,
                 method: str | None = None, generator: torch.Generator | None = None,
                 steps: int | None = None, **_: object) -> tuple[DecodeResult, Conditioned]:
        task_registry.check_task(task)
        if method not in (None, self.decoding):
            raise ValueError(f"this wrapper decodes by {self.decoding!r}, not {method!r}")
        cond = self.condition(video, task)
        tcfg = self.cfg.transformer
        decode = commit_decode if self.decoding == "commit" else maskgit_decode
        result = decode(self.transformer, cond.prefix, cond.z_tilde, cond.ispad, steps or tcfg.decode_steps,
                        tcfg.choice_temperature, tcfg.mask_count, generator=generator)
        return result, cond

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.decode(tokens)


def for_task(model: MaskedVideoModel, task: str) -> MaskedVideoModel | OnUnseenTask:
    """The model itself for a task it trained on; else the :class:`OnUnseenTask` wrapper that conditions it."""
    if task in model.cfg.tasks:
        return model
    if len(model.cfg.tasks) > 1:
        raise ValueError(f"the multi-task model {model.cfg.tasks} is evaluated on its own tasks only, not {task!r}")
    return OnUnseenTask(model, "maskgit" if model.cfg.tasks == (UNC,) else "commit")


# --- generated clips, cached per (model, task) ---------------------------------------------------------------------

@dataclass(frozen=True)
class SampleKey:
    """Everything that decides the generated clips of one (model, task): the artifact key of :func:`cached_samples`.
    The decoding fields are spelled out because the model config leaves them out of its own key."""

    model: GenerativeConfig
    model_seed: int
    task: str
    num_samples: int
    batch_size: int
    decode_steps: int
    choice_temperature: float
    decoding: str  # "own" (the model's) or the OnUnseenTask wrapper's
    split: str = "test"


def sample_key(model: MaskedVideoModel, model_seed: int, task: str, num_samples: int, batch_size: int) -> SampleKey:
    wrapped = for_task(model, task)
    decoding = "own" if wrapped is model else wrapped.decoding
    tcfg = model.cfg.transformer
    return SampleKey(model.cfg, check_seed(model_seed, "model_seed"), task_registry.check_task(task), num_samples,
                     batch_size, tcfg.decode_steps, tcfg.choice_temperature, decoding)


def real_clips(cfg: GenerativeConfig, num_samples: int, split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out clips ``0..num_samples-1`` every (model, task) is conditioned on, and their class labels."""
    ds = video_data.load(cfg.dataset, split, cfg.data.num_frames, cfg.data.resolution)
    video, labels = video_data.get_batch(ds, range(num_samples))
    return video, labels["label"]


def to_uint8(video: torch.Tensor) -> torch.Tensor:
    return (video.clamp(0, 1) * 255).round().to(torch.uint8)


@torch.inference_mode()
def generate_clips(model: MaskedVideoModel, task: str, num_samples: int, batch_size: int, seed: int = 0,
                   split: str = "test") -> Samples:
    """``sample.sample_clips`` for any task of the benchmark: clips ``0..n-1`` of ``split`` conditioned on for
    ``task``, through :func:`for_task`. The generated clips are rounded to 8 bits, as the real ones are."""
    wrapped = for_task(model, task)
    video_all, labels_all = real_clips(model.cfg, num_samples, split)
    device = next(model.transformer.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    fakes, per_clip, steps = [], [], 0
    for start in tqdm(range(0, num_samples, batch_size), desc=f"sampling {task}", mininterval=2.0):
        video = video_all[start:start + batch_size].to(device)
        label = labels_all[start:start + batch_size].to(device) if is_class_conditional(task) else None
        t0 = time.perf_counter()
        result, _ = wrapped.generate(video, task, label, generator=generator)
        fake = wrapped.decode(result.tokens)
        if device.type == "cuda":
            torch.cuda.synchronize()
        per_clip.append((time.perf_counter() - t0) / video.shape[0])
        steps = result.steps
        fakes.append(to_uint8(fake).cpu())
    fake = torch.cat(fakes).float() / 255
    return Samples(video_all, fake, per_clip, steps, model.transformer.seq_len)


def cached_samples(model: MaskedVideoModel, model_seed: int, task: str, num_samples: int, batch_size: int,
                   store: ArtifactStore | None = None) -> Samples:
    """:func:`generate_clips` (sampling seed 0) through the artifact cache: a (model, task) generated once is
    reused by every notebook that asks for the same clips (Table 4's MT8 and FP rows are Table 5's full rows)."""
    store = store or ArtifactStore()
    key = sample_key(model, model_seed, task, num_samples, batch_size)
    if store.exists("samples", key, 0):
        state = store.load("samples", key, 0)
        real, _ = real_clips(model.cfg, num_samples, key.split)
        return Samples(real, state["fake"].float() / 255, state["seconds_per_clip"].tolist(), int(state["steps"]),
                       model.transformer.seq_len)
    out = generate_clips(model, task, num_samples, batch_size, seed=0, split=key.split)
    store.save("samples", key, 0, {"fake": to_uint8(out.fake), "steps": torch.tensor(out.decode_steps),
                                   "seconds_per_clip": torch.tensor(out.seconds_per_clip_batches)})
    return out


def evaluate_task(model: MaskedVideoModel, model_seed: int, task: str, evaluator: ProxyEvaluator, num_samples: int,
                  batch_size: int, num_bootstrap: int, groups: int,
                  store: ArtifactStore | None = None) -> tuple[Evaluation, Samples]:
    """FVD (proxy) etc. of ``model`` on ``task`` (any task of its benchmark), from the cached clips."""
    samples = cached_samples(model, model_seed, task, num_samples, batch_size, store)
    return score(samples, evaluator, num_bootstrap, groups), samples


@torch.inference_mode()
def condition_reference(model: MaskedVideoModel, task: str, evaluator: ProxyEvaluator, num_samples: int,
                        num_bootstrap: int, batch_size: int = 32) -> Estimate:
    """:func:`condition_reference_features`' estimate."""
    return condition_reference_features(model, task, evaluator, num_samples, num_bootstrap, batch_size)[0]


@torch.inference_mode()
def condition_reference_features(model: MaskedVideoModel, task: str, evaluator: ProxyEvaluator, num_samples: int,
                                 num_bootstrap: int, batch_size: int = 32) -> tuple[Estimate, ClipFeatures]:
    """FVD (proxy) of the condition video V~ taken as the output ("doing nothing": the given frames repeated, the
    given region padded, black for CG), passed through the model's tokenizer (encode -> decode), against the real
    clips: the bar a model must clear to be said to do the task (C11).

    Through the tokenizer, because every generated clip is a decoding of tokens: the raw V~ of an outpainting task
    keeps most real pixels and scores below the tokenizer's own reconstruction floor, a bar no model can clear
    (pushbot OPH: raw V~ 18 against a reconstruction floor of ~325 at ``cpu``), while "doing nothing" in the
    model's token space is exactly the tokenised V~. Also returns the per-clip features of the real clips and of the
    tokenised V~, for the paired verdict of C11 (:func:`c11_claim`)."""
    real, _ = real_clips(model.cfg, num_samples)
    geometry = {"CG": UNC, "CFP": "FP"}.get(task, task)
    given = condition_video(real, geometry, model.cfg.cond_frames)
    through = reconstruct(model.tokenizer, given, batch_size)
    features = clip_features(Samples(real, through, [float("nan")], 0, 0), evaluator)
    est = fvd(features.real, features.fake, num_bootstrap=num_bootstrap).estimate()
    return Estimate(float(est.value), float(est.low), float(est.high)), features


# --- the table -----------------------------------------------------------------------------------------------------

def evaluation_row(spec: ModelSpec, task: str, e: Evaluation) -> dict:
    """One long-format row of Table 4: a (model, seed, task) and its evaluation."""
    return {"benchmark": spec.benchmark, "method": spec.label, "training": "multi" if spec.method == "MT" else "single",
            "size": spec.size, "seed": spec.seed, "task": task, "seen": task in training_tasks(spec.method,
                                                                                             spec.benchmark),
            **e.as_dict()}


def average(estimates: list[Estimate]) -> Estimate:
    """The mean of several tasks' FVDs with an interval from their half-widths, taken as independent errors:
    mean -/+ sqrt(sum of squared half-widths) / k."""
    if not estimates:
        raise ValueError("an average needs at least one estimate")
    k = len(estimates)
    value = sum(e.value for e in estimates) / k
    below = np.sqrt(sum((e.value - e.low) ** 2 for e in estimates)) / k
    above = np.sqrt(sum((e.high - e.value) ** 2 for e in estimates)) / k
    return Estimate(value, value - below, value + above)


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """Table 4's layout: one row per (benchmark, method, seed), one column per task in the paper's order (FVD
    (proxy)), then ``average`` with ``average_low`` / ``average_high`` over the benchmark's tasks. A benchmark's
    missing task is an error: the average must cover them all."""
    rows = []
    for (benchmark, method, seed), part in long.groupby(["benchmark", "method", "seed"], sort=False):
        by_task = part.set_index("task")
        expected = BENCHMARK_TASKS[check_benchmark(benchmark)]
        missing = [t for t in expected if t not in by_task.index]
        if missing:
            raise ValueError(f"{method} seed {seed} on {benchmark} lacks tasks {missing}")
        avg = average([Estimate(by_task.loc[t, "fvd"], by_task.loc[t, "fvd_low"], by_task.loc[t, "fvd_high"])
                       for t in expected])
        row = {"benchmark": benchmark, "method": method, "training": part["training"].iloc[0], "seed": seed}
        row.update({t: by_task.loc[t, "fvd"] if t in expected else np.nan for t in COLUMNS})
        row.update({"average": avg.value, "average_low": avg.low, "average_high": avg.high})
        rows.append(row)
    return pd.DataFrame(rows)


def task_estimates(long: pd.DataFrame, benchmark: str, method: str, tasks: tuple[str, ...]) -> list[Estimate]:
    """One estimate per training seed (seed order): the average FVD (proxy) of ``method`` over ``tasks``."""
    part = long[(long.benchmark == benchmark) & (long.method == method)]
    out = []
    for _, runs in part.groupby("seed", sort=True):
        by_task = runs.set_index("task")
        out.append(average([Estimate(by_task.loc[t, "fvd"], by_task.loc[t, "fvd_low"], by_task.loc[t, "fvd_high"])
                            for t in tasks]))
    return out


def cap_to_seeds(verdict: str, seeds: int, required: int) -> str:
    """An ordering judged on fewer training seeds than the profile's cannot be ``reproduced`` nor ``not reproduced``
    (the training noise is not measured): ``not testable here`` (``verdicts.cap_seeds`` on an ``Outcome``)."""
    return NOT_TESTABLE if seeds < required and verdict in (REPRODUCED, NOT_REPRODUCED) else verdict


def show(estimates: list[Estimate]) -> str:
    return ", ".join(f"{e.value:.1f} [{e.low:.1f}, {e.high:.1f}]" for e in estimates)


def show_outcome(outcome: Outcome) -> str:
    """A part's verdict with its difference (paper's direction positive) and what it was computed on."""
    return outcome.shown()


# real clips' features and the generated clips' features per method label (``RowFeatures`` over the benchmark's
# tasks), for the paired bootstrap; None: judge from the rows' own FVD (proxy) intervals
Paired = tuple[np.ndarray, Mapping[str, RowFeatures]]


def paired_features(features: Mapping[tuple[ModelSpec, str], ClipFeatures], size: str = "B") -> dict[str, Paired]:
    """Per benchmark, the paired bootstrap's input from the per-clip features of each (model, task) evaluation
    (``sample.clip_features``): the real clips' features (clips 0..n-1, the same for every task) and one
    ``RowFeatures`` per method label of ``size``, seeds in order."""
    out: dict[str, Paired] = {}
    by_benchmark: dict[str, dict[str, dict[int, dict[str, np.ndarray]]]] = {}
    reals: dict[str, np.ndarray] = {}
    for (spec, task), f in features.items():
        if spec.size != size:
            continue
        real = reals.setdefault(spec.benchmark, f.real)
        if f.real.shape != real.shape or not np.array_equal(f.real, real):
            raise ValueError(f"{spec.label} seed {spec.seed} {task} was scored against other real clips")
        by_benchmark.setdefault(spec.benchmark, {}).setdefault(spec.label, {}).setdefault(spec.seed, {})[task] = f.fake
    for benchmark, rows in by_benchmark.items():
        out[benchmark] = (reals[benchmark], {m: RowFeatures(tuple(per_seed[s] for s in sorted(per_seed)))
                                             for m, per_seed in rows.items()})
    return out


def subset(row: RowFeatures, tasks: tuple[str, ...]) -> RowFeatures:
    """``row`` restricted to ``tasks``."""
    return RowFeatures(tuple({t: per_task[t] for t in tasks} for per_task in row.per_seed))


def c3_outcomes(long: pd.DataFrame, benchmark: str, size: str = "B", resolvable: bool | None = None,
                paired: Paired | None = None) -> tuple[list[Outcome], str]:
    """C3 on one benchmark, three orderings (lower FVD is better), each by the three-outcome rule on its difference
    (``verdicts.compare_rows``): MT beats UNC on the average over every task, MT beats FP on that average, and MT
    beats FP on the average over the tasks FP never saw. Returns (the parts' outcomes, our numbers)."""
    tasks = BENCHMARK_TASKS[check_benchmark(benchmark)]
    unseen = tuple(t for t in tasks if t != "FP")
    mt, unc, fp = (f"MAGVIT-{size}-{m}" for m in ("MT", "UNC", "FP"))
    est = {m: task_estimates(long, benchmark, m, tasks) for m in (mt, unc, fp)}
    unseen_mt, unseen_fp = (task_estimates(long, benchmark, m, unseen) for m in (mt, fp))

    def pair(better: str, worse: str, over: tuple[str, ...]) -> tuple | None:
        if paired is None:
            return None
        missing = [m for m in (better, worse) if m not in paired[1]]
        if missing:
            raise ValueError(f"the paired features lack {missing}")
        return paired[0], subset(paired[1][better], over), subset(paired[1][worse], over)

    parts = [compare_rows(est[mt], est[unc], resolvable=resolvable, paired=pair(mt, unc, tasks)),
             compare_rows(est[mt], est[fp], resolvable=resolvable, paired=pair(mt, fp, tasks)),
             compare_rows(unseen_mt, unseen_fp, resolvable=resolvable, paired=pair(mt, fp, unseen))]
    ours = (f"{benchmark}: average FVD (proxy) per seed, MT {show(est[mt])}; UNC {show(est[unc])}; "
            f"FP {show(est[fp])}; on FP's unseen tasks MT {show(unseen_mt)} vs FP {show(unseen_fp)}")
    return parts, ours


def c3_parts(long: pd.DataFrame, benchmark: str, size: str = "B") -> tuple[list[str], str]:
    """:func:`c3_outcomes`' verdicts and our numbers."""
    parts, ours = c3_outcomes(long, benchmark, size)
    return [p.verdict for p in parts], ours


C3_PARTS = ("MT over UNC", "MT over FP", "MT over FP on FP's unseen tasks")


def c3_claim(long: pd.DataFrame, required_seeds: int, setting: str = "",
             resolvable: bool | Mapping[str, bool | None] | None = None,
             paired: Mapping[str, Paired] | None = None) -> dict[str, str]:
    """C3 over every benchmark whose three B models are in ``long``: the parts' outcomes combined by
    ``verdicts.combine``, each ``not testable here`` where fewer than ``required_seeds`` seeds were run
    (``verdicts.cap_seeds``). ``resolvable``: the evaluator's resolving power, one for all or per benchmark (None:
    unknown); ``paired``: per benchmark, the features for the paired bootstrap (:data:`Paired`)."""
    outcomes, names, texts, judged = [], [], [], []
    for benchmark in BENCHMARK_TASKS:
        part = long[(long.benchmark == benchmark) & (long["size"] == "B")]
        if set(part.method) != {f"MAGVIT-B-{m}" for m in METHODS}:
            continue
        judged.append(benchmark)
        seeds = part.seed.nunique()
        resolves = resolvable.get(benchmark) if isinstance(resolvable, Mapping) else resolvable
        parts, ours = c3_outcomes(long, benchmark, resolvable=resolves,
                                  paired=None if paired is None else paired.get(benchmark))
        parts = [cap_seeds(p, seeds, required_seeds) for p in parts]
        outcomes += parts
        names += [f"{benchmark} {n}" for n in C3_PARTS]
        texts.append(f"{ours} ({seeds} seed{'s' if seeds > 1 else ''}; parts: "
                     f"{'; '.join(show_outcome(p) for p in parts)})")
    if not outcomes:
        raise ValueError("C3 needs the UNC, FP and MT B models of at least one benchmark")
    return claims.verdict_row("C3", " | ".join(texts), combine(outcomes, names), setting,
                              benchmark=", ".join(judged))


def c11_claim(long: pd.DataFrame, references: dict[str, Estimate], required_seeds: int, benchmark: str = "shapes",
              setting: str = "", resolvable: bool | None = None,
              paired: tuple[np.ndarray, RowFeatures, Mapping[str, np.ndarray]] | None = None) -> dict[str, str]:
    """C11: for each of the benchmark's tasks, the MT B model beats the condition video through the tokenizer
    (``references[task]``, :func:`condition_reference`; the same for every seed), by the three-outcome rule on the
    difference (``verdicts.compare_rows``; with ``paired`` = (real features, the MT row's ``RowFeatures``, the
    tokenised V~'s features per task), the paired bootstrap), combined over the tasks by ``verdicts.combine`` and
    not testable here on fewer than ``required_seeds`` seeds."""
    tasks = BENCHMARK_TASKS[check_benchmark(benchmark)]
    missing = [t for t in tasks if t not in references]
    if missing:
        raise ValueError(f"C11 needs the condition-video reference of every task; missing {missing}")
    part = long[(long.benchmark == benchmark) & (long.method == "MAGVIT-B-MT")]
    if part.empty:
        raise ValueError(f"C11 needs the MT B model on {benchmark}")
    seeds = part.seed.nunique()
    outcomes, texts = [], []
    for t in tasks:
        ours = task_estimates(long, benchmark, "MAGVIT-B-MT", (t,))
        pair = None if paired is None else (paired[0], subset(paired[1], (t,)),
                                            RowFeatures.of(paired[2][t], task=t))
        outcome = cap_seeds(compare_rows(ours, [references[t]], resolvable=resolvable, paired=pair), seeds,
                            required_seeds)
        outcomes.append(outcome)
        texts.append(f"{t} {show(ours)} vs tokenised V~ {references[t].value:.1f}: {show_outcome(outcome)}")
    won = sum(o.verdict == REPRODUCED for o in outcomes)
    ours = (f"{benchmark}, one MT model on {len(tasks)} tasks, FVD (proxy) vs the condition video through the "
            f"tokenizer; resolved better on {won} of {len(tasks)} ({seeds} seed{'s' if seeds > 1 else ''}): "
            + "; ".join(texts))
    return claims.verdict_row("C11", ours, combine(outcomes, list(tasks)), setting, benchmark=benchmark)


def c11_paired(paired: Mapping[str, Paired], reference_features: Mapping[str, ClipFeatures],
               benchmark: str = "shapes") -> tuple[np.ndarray, RowFeatures, dict[str, np.ndarray]]:
    """:func:`c11_claim`'s ``paired`` from :func:`paired_features` and :func:`condition_reference_features`."""
    real, rows = paired[benchmark]
    for task, f in reference_features.items():
        if f.real.shape != real.shape or not np.array_equal(f.real, real):
            raise ValueError(f"the {task} reference was scored against other real clips than the models")
    return real, rows["MAGVIT-B-MT"], {t: f.fake for t, f in reference_features.items()}


def table4_claims(long: pd.DataFrame, references: dict[str, Estimate], required_seeds: int,
                  setting: str = "", resolvable: Mapping[str, bool | None] | None = None,
                  paired: Mapping[str, Paired] | None = None,
                  reference_features: Mapping[str, ClipFeatures] | None = None) -> pd.DataFrame:
    """The verdicts of C3 and C11 in the claims schema (``resolvable``: the evaluator's resolving power per
    benchmark, None where unknown; ``paired`` / ``reference_features``: the per-clip features for the paired
    bootstrap, :func:`paired_features` / :func:`condition_reference_features`, None to judge from the rows' own
    intervals)."""
    resolvable = resolvable or {}
    c11 = c11_paired(paired, reference_features) if paired and reference_features and "shapes" in paired else None
    return claims.verdict_table([c3_claim(long, required_seeds, resolvable=resolvable, paired=paired),
                                 c11_claim(long, references, required_seeds, resolvable=resolvable.get("shapes"),
                                           paired=c11)], setting)


def for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """The wide table with the task columns a benchmark does not have left empty (``write_table`` refuses NaN in a
    metric column; an empty cell says "no such task here")."""
    return blank_missing(table, COLUMNS)


def paper_side_by_side(table: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Paper vs ours, one row per (benchmark, method): the paper's per-task FVD and average beside our mean over
    seeds of FVD (proxy), for the tasks the paper's table gives on that benchmark."""
    rows = []
    for (benchmark, method), part in table.groupby(["benchmark", "method"], sort=False):
        theirs = paper[paper.method == method]
        for column in (*ordered(benchmark), "average"):
            paper_column = PAPER_AVERAGE[benchmark] if column == "average" else column
            shown = benchmark == "pushbot" or column in ("CG", "CFP", "average")  # the paper's SSv2 columns
            rows.append({"benchmark": f"{benchmark} ({PLAYS[benchmark]} stand-in)", "method": method, "task": column,
                         "paper_FVD": float(theirs[paper_column].iloc[0]) if shown and len(theirs) else np.nan,
                         "ours_FVD (proxy) mean": float(part[column].mean()),
                         "ours per seed": ", ".join(f"{v:.1f}" for v in part[column])})
    return pd.DataFrame(rows)


def task_grid(model: MaskedVideoModel, clip: torch.Tensor, label: torch.Tensor | None, seed: int = 0,
              frames: tuple[int, ...] | None = None) -> Figure:
    """Fig. 6 on our data: one row per task of the (multi-task) model, the condition video V~ and the generated
    frames side by side, for one held-out clip [1, 3, T, H, W] (``label`` [1]: its class, for CG / CFP)."""
    t = clip.shape[2]
    frames = frames or tuple(sorted({0, t // 4, t // 2, 3 * t // 4, t - 1}))
    names = model.cfg.tasks
    fig, axes = plt.subplots(len(names), 2 * len(frames) + 1, figsize=((2 * len(frames) + 1) * 0.8,
                                                                       len(names) * 0.85), squeeze=False)
    gen = torch.Generator(device=clip.device).manual_seed(seed)
    for i, name in enumerate(names):
        result, cond = model.generate(clip, name, label if is_class_conditional(name) else None, generator=gen)
        video = model.decode(result.tokens)[0]
        given = cond.condition_video[0]  # black for CG: no condition pixels
        panels = [given[:, f] for f in frames] + [None] + [video[:, f] for f in frames]
        for ax, panel in zip(axes[i], panels, strict=True):
            ax.set_xticks([])
            ax.set_yticks([])
            if panel is None:
                ax.axis("off")
                continue
            ax.imshow(panel.permute(1, 2, 0).clamp(0, 1).cpu().numpy(), interpolation="nearest")
        axes[i, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    for j, f in enumerate(frames):
        axes[0, j].set_title(f"V~ t={f}", fontsize=6)
        axes[0, len(frames) + 1 + j].set_title(f"output t={f}", fontsize=6)
    fig.suptitle(f"one model, {len(names)} tasks: condition (left) and generated frames (right)", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.1)
    return fig

