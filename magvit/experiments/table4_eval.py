"""Table 4's evaluation (multi-task generation on BAIR / SSv2 -> ``pushbot`` / ``shapes``) and Fig. 6: the models,
how a single-task model is asked for a task it never saw, the generated clips cached per (model, task) and their
scores. The table and the claims C3 and C11 built on them are ``magvit.experiments.table4``.

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

This module caches the generated clips of each (model, task) (:func:`cached_samples`), so that Table 5
(``magvit.experiments.table5``) reuses Table 4's evaluations of the models both tables share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.figure import Figure

from magvit import data as video_data
from magvit.config import Profile, TransformerConfig
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
from magvit.infra.progress import sampled_from_cache, sampling
from magvit.metrics import ProxyEvaluator, fvd
from magvit.metrics.estimate import Estimate
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
    for start in sampling(range(0, num_samples, batch_size), task=task, clips=num_samples):
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
        sampled_from_cache()  # counted in the table's one line of sampling (summary mode, the study runner)
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


def evaluation_row(spec: ModelSpec, task: str, e: Evaluation) -> dict:
    """One long-format row of Table 4: a (model, seed, task) and its evaluation."""
    return {"benchmark": spec.benchmark, "method": spec.label, "training": "multi" if spec.method == "MT" else "single",
            "size": spec.size, "seed": spec.seed, "task": task, "seen": task in training_tasks(spec.method,
                                                                                             spec.benchmark),
            **e.as_dict()}


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
