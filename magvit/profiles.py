"""Named profiles: ``smoke`` (CI), ``cpu`` (default), ``gpu`` (one GPU), ``paper`` (paper-sized).

A profile is a function returning a frozen :class:`~magvit.config.Profile`; notebooks call
``magvit.profiles.get(name)`` and never branch on the name themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import torch

from magvit.config import (
    DataConfig,
    DataParallelConfig,
    EvalConfig,
    EvaluatorConfig,
    Figure5Config,
    Profile,
    SpeedConfig,
    TablesConfig,
    TokenizerConfig,
    TransformerConfig,
    has_bf16,
)

DEFAULT_PROFILE = "cpu"

# The scale adaptations of the shared tokenizer (notebook 03's learning curves; each field's default is the paper's
# value): batch statistics instead of per-clip GroupNorm, [-1, 1] input, data-initialised codes with dead-code
# restarts, no entropy loss (the restarts keep the codes in use; the term cost ~1 dB), Adam beta1 0.9 for the
# generator, and no GAN (adversarial_start=1: started half-way, it cost 1.4-2.4 dB of held-out PSNR by the last step,
# whether the discriminator's beta1 was 0.9 or the paper's 0), and after training the EMA's BatchNorm statistics
# recomputed on 16 training batches (SWA's update_bn; the paper's GroupNorm has none). At the cpu widths the paper's
# design stays at the training-mean colour; these make it learn.
SCALE_ADAPTATIONS = {"norm": "batch", "zero_centre": True, "codebook_restart_after": 20, "entropy_weight": 0.0,
                     "beta1": 0.9, "adversarial_start": 1.0, "bn_recalibration_batches": 16}


def smoke() -> Profile:
    """CI and nbval: every notebook in well under a minute on 2 CPU cores. Numbers mean nothing."""
    return Profile(
        name="smoke",
        data=DataConfig(num_frames=16, resolution=16, stats_clips=12, probe_steps=8),
        tokenizer=TokenizerConfig(
            filters=8, channel_multipliers=(1, 2, 2), codebook_size=64, embedding_dim=16,
            discriminator_filters=8, discriminator_multipliers=(2, 2), steps=6, batch_size=3,
            warmup_steps=2, perceptual_weight=0.1, perceptual_steps=4, table7_steps=4, **SCALE_ADAPTATIONS,
        ),
        transformer=TransformerConfig(
            num_layers=1, hidden=32, heads=2, mlp=64, dropout=0.0, steps=6, batch_size=4, warmup_steps=2,
        ),
        evaluator=EvaluatorConfig(width=8, feature_dim=16, steps=6, batch_size=8, augment=0.5),
        eval=EvalConfig(num_samples=32, num_bootstrap=20, batch_size=16),
        seeds=(0,),
        tokenizer_curve_steps=4,
        checkpoint_every=4,
        figure5=Figure5Config(paper_size=False, resolutions=(32,), batches=(1, 2), predict_only=(), ar_points=2,
                              repeats=1, full_check=(0, 0)),
        tables=TablesConfig(large=TransformerConfig(num_layers=2, hidden=32, heads=2, mlp=64, dropout=0.0, steps=6,
                                                    batch_size=4, warmup_steps=2),
                            eval_samples=16, fvd_groups=2, table1_train_fraction=0.5, ar_seeds=1, eval_fraction=1.0,
                            table2_large=(), task_eval_fraction=1.0, shapes_seeds=1, shapes_single_task=False,
                            table4_large=(), prefix_seeds=1, mt8_loss_rows=False),
    )


def cpu() -> Profile:
    """The default: the whole study in under 2 hours on 2 CPU cores at 16 x 32 x 32."""
    return Profile(
        name="cpu",
        data=DataConfig(num_frames=16, resolution=32),
        # the paper's 1024 codes (+0.7-0.9 dB over 256 in the learning curves). Table 7: 8 models x 2 seeds (+ a 2D-VQ
        # to inflate per seed) of 64 steps, so that notebooks 03 + 10 fit 30 minutes (at 80 steps they took 18.6 +
        # 15.0 min). Codes of 128 dimensions (paper 256; the curves started at 32): at 300 steps +0.1 / +0.5 / +0.5 dB
        # on pushbot / shapes / scenes over 32 (64: +0.0 / +0.6 / +0.2), for no measurable time.
        # The retention gate (tokens keep what the evaluator reads) is a matter of clips seen: the gpu recipe (3000 x 24
        # clips) kept 100% of the shapes class and 92% of IS (proxy); 900 x 9 here kept 0.58-0.89 and 0.45-0.54. So the
        # 15 minutes go to clips: bf16 autocast (0.27 s a step at batch 9 against 0.52 in fp32, 2 cores with AMX) and
        # no perceptual term (its fp32 frame network cost ~0.2 s a step for a gain within seed spread: 0.89 / 0.62 of
        # the class on seeds 0 / 1 against 0.58 without, one seed), 1500 steps of 18 clips (3.3x the clips of 900 x 9):
        # in the dissection (96 val clips per benchmark, seeds 0 / 1) 0.89 / 0.90 of the class, 0.84 / 0.88 of the
        # pushbot direction, 0.59 / 0.63 of IS (proxy), +2.1 / +2.5 dB on shapes, 12.2 / 12.5 min on 2 cores.
        # Then the official code's zero padding, done by the convolution itself (a step 0.35 s instead of 0.42: 2200
        # steps in the same minutes; 0.95 / 0.82 / 0.67, one seed), and Mathieu et al.'s gradient difference loss at
        # 0.1 (the evaluator was less sure of every reconstructed class, easy ones too: blur; seeds 0 / 1: 0.95 / 0.91
        # of the class, 0.91 / 0.91 of the direction, 0.72 / 0.73 of IS (proxy), 13.6 min). Table 7 keeps reflect.
        # bf16 only on a CPU with bf16 units (AMX / AVX512_BF16): without them autocast runs emulated, 2.9 s a step
        # against 1.1 in fp32 (Intel Xeon Ice Lake, 2 cores, no AMX); where it has them, the committed run's setting.
        # Without them half the steps in fp32, ~20 minutes instead of ~40: 1100 fp32 steps kept 0.98 / 0.86 / 0.90 of
        # the class / direction / IS (proxy) on the stand-ins' v3 (the transformer dissection's tokenizer, 26.9 dB on
        # shapes), 2200 bf16 steps 0.97 / 0.87 / 0.84 on v2 (25.5 dB; the run at 173d2f5); on v2 at f99d9cf (Ice Lake,
        # 20.5 min) 0.93 / 0.83 / 0.73 at 23.9 dB: the retention gate met, with less room
        tokenizer=TokenizerConfig(codebook_size=1024, embedding_dim=128, steps=2200 if has_bf16() else 1100,
                                  batch_size=18, bf16=has_bf16(),
                                  padding="zeros", gradient_weight=0.1, table7_steps=64, **SCALE_ADAPTATIONS),
        # dropout 0 (paper 0.1): a few hundred steps on never-repeating clips need no regulariser, and
        # attention dropout forces torch's slow attention path (2x slower at 258 tokens, 5x at 1026)
        # 300 steps x batch 12 (was 16: the notebooks' measured times then summed to ~2 h 10 min, over the 2 h of
        # the whole study; it trains ~30 transformers, ~2 min each at 16 with their tokens memoised)
        transformer=TransformerConfig(dropout=0.0, batch_size=12, steps=300, warmup_steps=30),
        # half of each batch degraded as a tokenizer degrades clips (block means, blur, noise): trained on
        # clean clips only it read the shapes class of real clips at 1.00 but of their 2x2x2 block means at 0.30 and of
        # a 1-px blur at 0.58 (it judged generated clips by pixel-exact detail that no token grid keeps).
        # 1200 steps (8.8 min on 2 cores), not 400 (~3): the instrument should be as strong as a few minutes of
        # training allow; at 400 it read real shapes classes at 0.98, pushbot direction 0.79, scenes direction 0.86,
        # real IS (proxy) 6.7; at 1200 1.00 / 0.88 / 0.95 and 10.8 (the gpu evaluator's 10.9), FVD (proxy) still
        # monotone in 5 of 5 corruptions (benchmarks/evaluator_strength.py, results/diagnostics/evaluator_strength*.csv)
        evaluator=EvaluatorConfig(steps=1200, augment=0.5),
        eval=EvalConfig(num_samples=512, num_bootstrap=200, batch_size=64),
        seeds=(0, 1),
        # L: 6 x 192 (3.4x the parameters of B = 4 x 128, as the paper's L is 3.6x its B). The budget of notebooks
        # 06-09 (~10 min each at cpu): Table 1's models at half the steps (no other notebook shares them), AR
        # baselines and the prefix row on one seed (no claim rests on them), L only in Table 1 (C6 is judged there
        # and in Table 7 on two seeds), 128 clips per Table 1-3 row and 32 per Table 4-5 (model, task), shapes'
        # Table 4 models on one seed, C2 on FP only
        tables=TablesConfig(large=TransformerConfig(num_layers=6, hidden=192, heads=4, mlp=768, dropout=0.0,
                                                    batch_size=12, steps=300, warmup_steps=30),
                            eval_samples=256, table1_train_fraction=0.5, ar_seeds=1, eval_fraction=0.5,
                            table2_large=(), scenes_train_fraction=0.5, task_eval_fraction=0.125, shapes_seeds=1,
                            shapes_single_task=False, table4_large=(), prefix_seeds=1, mt8_loss_rows=False,
                            # Table 6's 2D-VQ at a third of the shared tokenizer's steps (733 of 2200, 367 of 1100)
                            vq2d_steps_fraction=1 / 3),
    )


def gpu() -> Profile:
    """One lent GPU (H100 / H200): the whole study in at most 9 minutes wall (of a 15-minute loan), at the `cpu` clip
    size (16 x 32 x 32) and the `cpu` tokenizer, with the budget spent where the claims need it: the class-conditional
    models (Table 1, the resolving power's `shapes` reference) at 4x the other transformers' steps, transformers of
    3.6x the `cpu` profile's parameters, two seeds where a claim rests on a row, C6's L model beside B.

    Refit from the H200 run of 2026-12-04 (``results/gpu/README.md``): the tokenizer's 3000 steps at 30
    steps/s, the evaluator's 1000 in 51 s, the B transformer 128 steps/s on token ids in bf16 (57 inside a notebook
    while the deterministic algorithms filled every new tensor, off since), notebook 02 287 s and 03's learning curves
    150 s. Predicted: 463 s with ``--parallel 4`` (``benchmarks/predict_gpu_times.py`` ->
    ``results/gpu/predicted_times.csv``; 539 s if the transformer stays at 57 steps/s). Run it as ``python -m
    magvit.study --profile gpu --parallel 4`` (``benchmarks/gpu_study.sh``).
    """
    # B: 4 x 256 (3.6M parameters); L: 6 x 384 (11.3M), 3.2x B's parameters (the paper's L is 3.6x its B). 500 steps of
    # batch 64 (32k clips per model; cpu: 300 x 12 = 3.6k) from 8192 tokenised training clips: on the H200 the pushbot
    # FP reference scored FVD (proxy) 368 at 500 steps and 382 at 1000 (paired difference -14 [-21, -6]): the frame
    # prediction and multi-task tables (~20 B models) gained nothing from the second 500 steps
    b = TransformerConfig(num_layers=4, hidden=256, heads=4, mlp=1024, dropout=0.0, steps=500, batch_size=64,
                          lr=1e-3, warmup_steps=50)
    return Profile(
        name="gpu",
        data=DataConfig(num_frames=16, resolution=32),
        # the cpu tokenizer's widths and scale adaptations (its learning curves hold at these widths) in fp32 with
        # reflect padding, 3000 steps of 24 clips (cpu since ef546fc: 2200 x 18 in bf16, zero padding, gradient
        # difference term): on the H200 its reconstructions kept 100% of the shapes class, 90% of the pushbot direction
        # and 92% of IS (proxy) (the retention gate: 80 / 80 / 70%; the cpu one at 1500 x 18: 90 / 87 / 57%). 100 s,
        # and notebook 02's resolving power waits for it: the critical path of the first parallel phase. Table 7's
        # 16 models at 150 steps (cpu: 64; 200 before the refit)
        tokenizer=TokenizerConfig(codebook_size=1024, embedding_dim=128, steps=3000, batch_size=24, table7_steps=150,
                                  **SCALE_ADAPTATIONS),
        transformer=b,
        evaluator=EvaluatorConfig(steps=1000, batch_size=64, augment=0.5),
        eval=EvalConfig(num_samples=512, num_bootstrap=100, batch_size=256),
        seeds=(0, 1),
        # notebook 03 reads its learning curves from results/gpu/diagnostics/tokenizer_learning_curves.csv (all 15
        # rows at 100 steps, from the H200 run: 150 s there) and trains only a row missing from it, at 100 steps
        tokenizer_curve_steps=100,
        checkpoint_every=500,
        # Fig. 5: MAGVIT-B timed end to end (direct) at 64 and 128, batch 1 (C8 is judged at 128 x 128, batch 1; the
        # H100 session in results/gpu/h100_session timed batch 8 too; 256 x 256 took minutes there: predicted by the
        # cost model only), the median of 2, AR generating every token up to 300 (64 x 64), sampled above
        figure5=Figure5Config(resolutions=(64, 128, 256), batches=(1,), predict_only=((256, 1),),
                              repeats=2, ar_points=4, direct=True, ar_direct_max_steps=300),
        # Table 1 (CG) at 4x the steps: 2000. On the H200 MAGVIT-B CG's generated shapes clips were recognised at 0.08,
        # 0.07 and 0.18 after 125, 500 and 1000 steps (real clips 1.00; bar: half that): class conditioning starts
        # late, and its models get the steps the other tables do not need. 2000 is what 9 minutes hold with L (2 seeds,
        # C6) and the AR baseline at the same steps: notebook 06 (~100 s of training) is the longest of its phase. The
        # resolving power's shapes CG reference is this B (resolving_power.reference_config: 250 / 1000 / 2000 steps).
        # The cpu profile's cuts where no claim rests on the row (AR baselines and the prefix row on one seed, L only
        # in Table 1, shapes' Table 4 models on one seed); scenes at the full 500 steps
        tables=TablesConfig(large=replace(b, num_layers=6, hidden=384, heads=6, mlp=1536),
                            eval_samples=512, table1_train_fraction=4.0, ar_seeds=1, eval_fraction=1.0,
                            table2_large=(), scenes_train_fraction=1.0, task_eval_fraction=0.25, shapes_seeds=1,
                            shapes_single_task=False, table4_large=(), prefix_seeds=1, mt8_loss_rows=False,
                            vq2d_steps_fraction=1 / 3),
        speed=SpeedConfig(train_clips=8192, workers=8, bf16=True),
    )


def paper() -> Profile:
    """Paper-sized configs on the real datasets (MAGVIT-B; torchrun DDP). Not run here."""
    return Profile(
        name="paper",
        data=DataConfig(num_frames=16, resolution=128, real_data=True),
        tokenizer=TokenizerConfig(
            filters=64, channel_multipliers=(1, 2, 2, 4), num_res_blocks=2,
            temporal_downsample=(True, True, False), codebook_size=1024, embedding_dim=256,
            discriminator_filters=64, discriminator_multipliers=(2, 4, 4, 4, 4),
            steps=37_000, batch_size=128, lr=1e-4, warmup_steps=74, ema_decay=0.999, dataset="ucf101",
            # the paper's perceptual loss: pass real weights as perceptual_network=<TorchScript path>
            perceptual_weight=0.1, table7_steps=37_000,
        ),
        transformer=TransformerConfig(
            num_layers=12, hidden=768, heads=12, mlp=3072, steps=75_000, batch_size=256,
            lr=1e-4, warmup_steps=5000, mask_count="ceil",
        ),
        evaluator=EvaluatorConfig(width=64, feature_dim=400, steps=20_000, batch_size=128),
        eval=EvalConfig(num_samples=10_000, num_bootstrap=1000, batch_size=256),
        seeds=(0, 1, 2, 3),
        checkpoint_every=1000,
        # torchrun (magvit.infra.distributed): 16 chunks of 8 clips (16 per GPU needs ~97 GB in fp32, README), 8 of 32
        data_parallel=DataParallelConfig(tokenizer_chunks=16, transformer_chunks=8),
        # MAGVIT-L (Sec. 4.1): 24 layers x 1024; FVD on 10k samples as the paper
        tables=TablesConfig(large=TransformerConfig(num_layers=24, hidden=1024, heads=16, mlp=4096, steps=75_000,
                                                    batch_size=256, lr=1e-4, warmup_steps=5000),
                            eval_samples=10_000),
    )


PROFILES: dict[str, Callable[[], Profile]] = {"smoke": smoke, "cpu": cpu, "gpu": gpu, "paper": paper}


def default_device() -> str:
    """CUDA when a GPU is visible, else CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_name(name: str | None) -> str:
    """``None`` means ``$MAGVIT_PROFILE``, else the default ``cpu`` (the notebook convention)."""
    if name is None:
        name = os.environ.get("MAGVIT_PROFILE") or DEFAULT_PROFILE
    return name


def get(name: str | None = None, device: str | None = None) -> Profile:
    """Return the profile called ``name`` with its device resolved.

    ``device=None`` picks CUDA when present; ``$MAGVIT_DEVICE`` or ``device`` override it.
    """
    name = resolve_name(name)
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles are: {', '.join(PROFILES)}")
    source = "device" if device else "$MAGVIT_DEVICE" if os.environ.get("MAGVIT_DEVICE") else None
    device = device or os.environ.get("MAGVIT_DEVICE") or default_device()
    try:
        kind = torch.device(device).type
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r} for profile {name!r}: {err}") from None
    if kind == "cuda" and not torch.cuda.is_available():  # else the first .to(device) fails deep in a notebook
        raise ValueError(f"{source or 'device'}={device!r} for profile {name!r}, but torch sees no CUDA device "
                         f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}); unset it to run on the "
                         "CPU, or use a CUDA build of torch on a machine with a GPU")
    return replace(PROFILES[name](), device=device)
