"""Frozen config dataclasses, one per part of the study.

A profile (``magvit.profiles``) is a function that returns a :class:`Profile` built from these.
Every trained artifact is keyed by the hash of the config that made it (``magvit.infra.artifacts``):
changing, adding or removing a field gives new keys, so a cache never serves a model trained under
another definition (it retrains instead). Fields that cannot change the trained weights (what a notebook
reads or how a trained model is sampled) are declared with :func:`unkeyed` and left out of the hash, so
changing them never retrains anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def cpu_flags() -> set[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where it cannot be read): read at the config floor, so that
    a profile can choose a stage's precision by what this CPU does fast (``magvit.profiles``)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def has_bf16() -> bool:
    """Whether the CPU has bf16 arithmetic units (AVX512_BF16 or AMX); without them bf16 runs emulated."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


KEYED = "keyed"  # field metadata: False leaves the field out of artifact keys


def unkeyed(default: Any) -> Any:
    """A config field that does not change any trained weights: left out of artifact keys and sidecars."""
    return field(default=default, metadata={KEYED: False})


UNLESS_DEFAULT = "unless default"


def keyed_unless_default(default: Any) -> Any:
    """A config field added after artifacts were cached, whose default is the behaviour from before it: in artifact
    keys and sidecars only when set to anything else, so that the caches made before it stay valid."""
    return field(default=default, metadata={KEYED: UNLESS_DEFAULT})


@dataclass(frozen=True)
class DataConfig:
    """Clip geometry shared by every benchmark of a profile (paper: 16 x 128 x 128, BAIR 64 x 64)."""

    num_frames: int = 16
    resolution: int = 32
    # real-data roots are not part of a profile's identity: they come from $MAGVIT_DATA_<NAME>
    # (see magvit.data); the paper profile sets real_data=True to read them.
    real_data: bool = False
    # data notebook (01): clips per statistic and steps of the one-frame vs clip class probe (not keyed)
    stats_clips: int = unkeyed(96)
    probe_steps: int = unkeyed(300)


@dataclass(frozen=True)
class TokenizerConfig:
    """The 3D-VQ (paper Sec. 3.1). Defaults follow the official ``videogvt/configs/vqgan3d_bair_config.py``, shrunk."""

    kind: str = "magvit3d"  # "magvit3d" | "vq2d" | "tats3d"
    filters: int = 16  # F: base width (64 for B, 128 for L)
    channel_multipliers: tuple[int, ...] = (1, 2, 4)  # M
    num_res_blocks: int = 1  # R (2 in the paper)
    temporal_downsample: tuple[bool, ...] = (True, True)  # TD, one flag per downsample
    codebook_size: int = 256  # 1024 in the paper
    embedding_dim: int = 32  # 256 in the paper
    padding: str = "reflect"  # paper: reflect; official code: zeros
    norm: str = "group"  # paper/code: GroupNorm; "batch" / "none" only for the cpu-scale diagnosis
    commitment_weight: float = 0.25
    entropy_weight: float = 0.1
    # losses (paper Sec. 3.1; official videogvt/train_lib/losses.py)
    # The paper's per-frame perceptual loss needs pretrained weights (VGG/ResNet-50) that cannot be
    # downloaded here. perceptual_network = "frame_net" uses a small frame network trained on the
    # stand-in data (magvit.tokenizer.perceptual); a path to a TorchScript module plugs in real weights. The
    # smoke and paper profiles use the code's 0.1; cpu spends its 15 minutes on more clips instead (the tokenizer's
    # retention dissection, ``magvit.profiles.cpu``).
    perceptual_weight: float = 0.0
    perceptual_network: str = "frame_net"
    perceptual_steps: int = 150  # training steps of the frame network stand-in
    # not in the paper or code: Mathieu et al. 2016's gradient difference loss, | |d x| - |d x^| | along t, h and w,
    # which an MSE-trained decoder's blur violates (the proxy evaluator reads its frame differences). 0 = the paper
    gradient_weight: float = 0.0
    # the pixel term: "l2" (paper Sec. 3.1 and official losses.py) or "l1" (taming's VQGAN: the median under
    # uncertainty, not the mean, so sharper edges where the decoder cannot tell)
    recon_loss: str = keyed_unless_default("l2")
    adversarial_weight: float = 0.1
    lecam_weight: float = 0.001  # paper: LeCam on; official configs: off (0)
    r1_weight: float = 10.0
    # share of the steps trained on reconstruction + quantiser terms alone before the GAN terms (and the
    # discriminator's updates) start, in [0, 1]. Paper/code: 0, the GAN from the first step; a later start as taming's
    # VQGAN (disc_start); 1 = no GAN at all (the small profiles: see magvit.profiles.SCALE_ADAPTATIONS).
    adversarial_start: float = 0.0
    r1_every: int = 1  # official code: every step; >1 = lazy R1 (StyleGAN2), scaled by r1_every
    discriminator_filters: int = 16
    discriminator_multipliers: tuple[int, ...] = (2, 4, 4)
    # optimisation (paper Sec. 4.1; official vqgan3d_bair_config.py)
    steps: int = 500
    batch_size: int = 9  # split equally over the three benchmarks when dataset == "mix"
    # paper/code: 1e-4 over ~37k steps; a few hundred CPU steps need a larger step size (measured:
    # recon MSE 0.24 -> 0.08 in 60 steps at 1e-3)
    lr: float = 1e-3
    beta1: float = 0.0  # the generator's Adam beta1 (paper/code: 0, as for the discriminator)
    discriminator_beta1: float = 0.0  # paper/code: 0; GAN practice, and the curves: 0.9 here costs ~2 dB of PSNR
    beta2: float = 0.99
    warmup_steps: int = 50
    ema_decay: float = 0.999
    init: str = "scratch"  # "scratch" | "central" | "average" (2D->3D inflation, Tab. 7)
    dataset: str = "mix"  # "mix" = equal share of pushbot, shapes, scenes (one tokenizer serves every table)
    # steps of each Table 7 model at the full budget (notebook 10; the half budget trains half; 2D pretraining gets the
    # row's steps); not keyed: table7_configs copies it into ``steps`` of the models it trains
    table7_steps: int = unkeyed(100)
    # Scale adaptations (notebook 03's learning curves, benchmarks/tokenizer_learning_curves.py). Each default is
    # the paper's / official code's value, so the paper design is one switch away; a profile sets what it changes.
    output_norm: bool = True  # paper/code: GroupNorm -> swish -> conv at the decoder's output
    latent_norm: bool = True  # paper/code: GroupNorm -> swish -> 1x1 conv at the encoder's output
    zero_centre: bool = False  # paper/code: the encoder sees [0, 1] video; True: [-1, 1] (as VQGAN/taming)
    codebook_restart_after: int = 0  # paper/code: 0 (uniform init, no restarts); N: data init + dead-code restarts
    # paper/code: default init; True: the last conv of every residual branch starts at zero, so that each ResBlock
    # starts as its shortcut and the network as a shallow pool / upsample path (Goyal et al. 2017; Fixup)
    zero_init_residual: bool = False
    # paper/code: 0 (GroupNorm keeps no running statistics). With norm="batch": after the last step, recompute the
    # EMA's BatchNorm statistics on this many further training batches (SWA's update_bn, Izmailov et al. 2018):
    # averaged weights never produced the statistics the training copy's running averages hold
    bn_recalibration_batches: int = 0
    # paper/code: fp32 (TPU bf16 matmuls aside). True: the generator's forward under bfloat16 autocast; the
    # quantizer, the losses, the frame network and the discriminator in fp32 (fp32 master weights, fp32 inference).
    # On a CPU with bf16 units (AMX / AVX512_BF16) a cpu-profile step takes 0.21 s instead of 0.52 (measured,
    # 2 cores); without them bf16 runs emulated and slower (``magvit.infra.hardware.has_bf16``)
    bf16: bool = False


@dataclass(frozen=True)
class TransformerConfig:
    """The bidirectional transformer (paper Sec. 4.1; B = 12 x 768, L = 24 x 1024; official maskgvt_*_config.py)."""

    num_layers: int = 4
    hidden: int = 128
    heads: int = 4
    mlp: int = 512
    dropout: float = 0.1
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.96
    weight_decay: float = 0.045
    warmup_steps: int = 100
    grad_clip: float = 1.0
    label_smoothing: float = 1e-4
    mask_count: str = "ceil"  # paper: ceil(gamma(r) N); official code: "floor" (min 1)
    inpainting_token: str = "inpainting"  # paper/bug-patch: own token; official code: "outpainting"
    # two departures from the official simplified_bert.py that the transformer dissection measures (neither is the
    # profiles' setting): "factorized" positions (one learned vector per latent frame, row and column, summed: the token
    # grid's adjacency given, not learned from 258 unrelated vectors) and "pre" LayerNorm (x + MHSA(LN(x)))
    position: str = keyed_unless_default("learned")  # official: one learned vector per sequence position
    norm: str = keyed_unless_default("post")  # official: post-LN BERT
    # a third: "every_token" adds the class token's embedding to every token after the prefix as well (paper: the class
    # token c is one token of the sequence, which each visual token must find among 258 by attention)
    class_input: str = keyed_unless_default("token")
    decode_steps: int = unkeyed(12)  # K (sampling only: not keyed)
    choice_temperature: float = unkeyed(4.5)  # tau in Alg. 1 (sampling only: not keyed)


@dataclass(frozen=True)
class EvaluatorConfig:
    """The proxy evaluator: a compact 3D-CNN trained on the stand-in benchmarks (``magvit.metrics.proxy``).

    ``width``: the trunk's first width (then 2x, 4x, 4x; mean + max pooled to 8 x width); ``feature_dim``: the FVD
    (proxy) features, which must stay well below the number of evaluation samples; ``batch_size`` clips per step,
    an equal share of each benchmark.
    """

    width: int = 24
    feature_dim: int = 64  # must stay well below the number of evaluation samples
    steps: int = 400
    batch_size: int = 32
    lr: float = 2e-3
    # the share of each training batch degraded the way a tokenizer degrades a clip (block means, blur,
    # noise; ``magvit.metrics.proxy.degrade``) with its labels kept, so that the evaluator reads a class from coarse
    # motion rather than from pixel-exact frame differences. 0: clean clips only (the first evaluator)
    augment: float = 0.0


@dataclass(frozen=True)
class EvalConfig:
    """How many samples each FVD/IS uses, and the bootstrap around it."""

    num_samples: int = 512
    num_bootstrap: int = 200
    batch_size: int = 64


@dataclass(frozen=True)
class Figure5Config:
    """Notebook 11's sizes (Fig. 5): untrained networks, timed, never trained (``magvit.experiments.figure5``).

    ``paper_size``: MAGVIT-B (12 x 768 transformer, the paper profile's 3D-VQ) at ``resolutions``; else the
    profile's own models. Each resolution is timed at every batch in ``batches`` unless ``(resolution, batch)``
    is in ``predict_only`` (there the CSV holds the prediction alone). The transformer's step is timed at 1 and 2
    layers and extrapolated per layer (the layers are identical); AR steps at ``ar_points`` cache lengths; the
    3D-VQ decoder at ``decode_batch`` clips and extrapolated per clip. ``direct`` (where time allows, e.g. a GPU):
    the full-depth decoders timed end to end instead (COMMIT and MaskGIT all K steps; diffusion as
    ``diffusion_steps`` x a timed full forward; AR generating every token, where it takes at most
    ``ar_direct_max_steps`` steps), as the median of ``repeats``: on a GPU a step costs the larger of the host's
    dispatch and the GPU's work, which is not linear in the depth.
    """

    paper_size: bool = True
    resolutions: tuple[int, ...] = (64, 128, 256)
    batches: tuple[int, ...] = (1, 8)
    predict_only: tuple[tuple[int, int], ...] = ((256, 8),)
    decode_steps: int = 12  # K of COMMIT and MaskGIT
    diffusion_steps: int = 256
    ar_points: int = 3
    repeats: int = 2
    decode_batch: int = 1
    full_check: tuple[int, int] = (128, 1)  # (resolution, batch) where the full-depth step is timed too
    direct: bool = False
    ar_direct_max_steps: int = 1000


@dataclass(frozen=True)
class TablesConfig:
    """Tables 1-5 (notebooks 06-09): the profile's L transformer and how each (model, task) is evaluated.

    The profile's ``transformer`` is B. Paper: B = 12 x 768, L = 24 x 1024 (~3.6x the parameters of B); ``large``
    keeps that ratio at the profile's scale. Every table model trains the B config's steps and batch, so that
    models shared between tables (Table 6's COMMIT FP model is Table 2's B row and Table 5's full-COMMIT FP row)
    are one cached artifact.
    """

    large: TransformerConfig = field(default_factory=lambda: TransformerConfig(num_layers=6, hidden=192, heads=4,
                                                                               mlp=768))
    eval_samples: int = 256  # generated clips per (model, task); FVD (proxy) against as many real clips
    fvd_groups: int = 4  # the official code's FVD: mean +- std over this many disjoint groups of samples
    # The budget of notebooks 06-09 (their notebook parameters of the same names override these; None there means
    # the profile's). Defaults: the full design; a small profile cuts where no claim rests on the cut.
    table1_train_fraction: float = 1.0  # training steps of Table 1's models relative to the B/L configs'
    ar_seeds: int = 0  # training seeds of the AR baselines of Tables 1-2 (0: all of the profile's seeds)
    eval_fraction: float = 1.0  # generated clips per (model, seed) in Tables 1-3, relative to eval_samples
    table2_large: tuple[str, ...] = ("pushbot", "scenes")  # Table 2 benchmarks with an L model
    scenes_train_fraction: float = 1.0  # training steps of Table 2's scenes models (pushbot's are shared: 1)
    task_eval_fraction: float = 1.0  # generated clips per (model, task) in Tables 4-5, relative to eval_samples
    shapes_seeds: int = 0  # training seeds of Table 4's shapes models (0: all)
    shapes_single_task: bool = True  # Table 4's UNC and FP models on shapes too (C3's SSv2 half)
    table4_large: tuple[str, ...] = ("pushbot", "shapes")  # Table 4 benchmarks with an L multi-task model
    prefix_seeds: int = 0  # training seeds of Table 5's prefix-condition row (0: all)
    mt8_loss_rows: bool = True  # Table 5's L_mask and L_mask + L_recons models on MT8 too (C2 on MT8)
    vq2d_steps_fraction: float = 1.0  # training steps of Table 6's 2D-VQ (notebook 05) relative to the tokenizer's

    def seeds(self, seeds: tuple[int, ...], count: int) -> tuple[int, ...]:
        """The first ``count`` of ``seeds`` (0: all)."""
        return tuple(seeds[:count]) if count else tuple(seeds)


@dataclass(frozen=True)
class DataParallelConfig:
    """How a step's global batch is cut for data-parallel training (``magvit.infra.distributed``, torchrun).

    ``0``: the plain single-process step. ``n >= 1``: the batch is split into ``n`` equal chunks, processed
    by ``W`` ranks (``W`` divides ``n``) with gradient accumulation; the result does not depend on ``W``.
    """

    tokenizer_chunks: int = 0
    transformer_chunks: int = 0


@dataclass(frozen=True)
class SpeedConfig:
    """How a profile uses a GPU (the one-GPU study); every default is the old path (``smoke`` and ``cpu`` keep them).

    ``train_clips`` > 0: each transformer trains on the frozen tokenizer's ids of the first ``train_clips`` training
    clips, tokenised once per (tokenizer, dataset, tasks) and drawn at random on the device (the paper trains on a
    fixed dataset too); 0: a fresh clip every step, never repeated. ``workers``: processes that draw procedural clips
    (tokenizer training, the token sets); 0 draws them on the training loop's thread. ``bf16``: the transformers
    train under bfloat16 autocast. ``train_clips`` and ``bf16`` change the trained weights and enter the transformer's
    artifact key when set (``magvit.generative.train``); ``workers`` draws the same clips and does not.
    """

    train_clips: int = 0
    workers: int = 0
    bf16: bool = False


@dataclass(frozen=True)
class Profile:
    """Everything a notebook needs to know about one scale of the study."""

    name: str
    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seeds: tuple[int, ...] = (0,)
    # notebook 03's learning curves (magvit.experiments.learning_curves): steps per row when the notebook must run
    # them itself (smoke; at cpu the benchmark script's committed CSV is read)
    tokenizer_curve_steps: int = 300
    device: str = "cpu"  # resolved by profiles.get (CUDA when present unless overridden)
    checkpoint_every: int = 200
    data_parallel: DataParallelConfig = field(default_factory=DataParallelConfig)  # torchrun scale-out
    figure5: Figure5Config = field(default_factory=Figure5Config)  # notebook 11's timed sizes
    tables: TablesConfig = field(default_factory=TablesConfig)  # notebooks 06-09 (Tables 1-5)
    speed: SpeedConfig = field(default_factory=SpeedConfig)  # the GPU paths (finite token sets, workers, bf16)
