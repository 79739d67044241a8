"""A question about the instrument: does the retention gate's reading depend on how long the proxy evaluator
trained? The evaluator should be as strong as a few minutes of training allow; IS (proxy) reads the
evaluator's confidence, so a stronger evaluator can move the gate's IS ratio either way. For each evaluator budget
(``EvaluatorConfig.steps``, everything else the profile's), train (or load) the evaluator, then read the profile's
shared tokenizer (trained or loaded from the cache) on held-out test clips: the real clips' accuracy of every head,
IS (proxy) of real clips and reconstructions, and the gate (``magvit.tokenizer.evaluate.retention_bar``) with its
paired bootstrap intervals; and notebook 02's validation (does FVD (proxy) still rise with every corruption's level,
``magvit.metrics.validation.monotonicity``). Writes ``diagnostics/evaluator_strength.csv`` and
``diagnostics/evaluator_strength_monotonicity.csv`` of the profile's results folder. Minutes per budget on 2 cores
(the evaluator's training); not part of a notebook:

    python benchmarks/evaluator_strength.py --profile cpu --steps 400 1200 [--clips 256]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import pandas as pd

from magvit import metrics, profiles
from magvit.infra import results
from magvit.metrics import validation
from magvit.tokenizer.evaluate import labelled_clips, reconstruct, retention, retention_bar, retention_intervals
from magvit.tokenizer.train import get_tokenizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, nargs="+", default=[400, 1200], help="evaluator training steps to compare")
    parser.add_argument("--clips", type=int, default=256, help="held-out test clips per benchmark")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    p = profiles.get(args.profile)
    tokenizer, _ = get_tokenizer(p, seed=args.seed)
    clips = labelled_clips(p.data, args.clips, "test", args.seed)
    recons = {name: reconstruct(tokenizer, item.video) for name, item in clips.items()}
    rows, mono = [], []
    for steps in args.steps:
        q = replace(p, evaluator=replace(p.evaluator, steps=steps))
        t0 = time.perf_counter()
        evaluator = metrics.get_evaluator(q, seed=args.seed)
        seconds = time.perf_counter() - t0  # ~0 where the cache had it
        table = retention(evaluator, clips, recons=recons)
        gate = retention_bar(table, intervals=retention_intervals(evaluator, clips, recons,
                                                                  num_bootstrap=p.eval.num_bootstrap, seed=args.seed))
        gated = {(r.benchmark, r.head): r for r in gate.itertuples()}
        for r in table.itertuples():
            g = gated.get((r.benchmark, r.head))
            ratio = r.recon_accuracy / r.real_accuracy if r.real_accuracy > 0 else float("nan")
            rows.append({"evaluator_steps": steps, "benchmark": r.benchmark, "head": r.head, "real": r.real_accuracy,
                         "recon": r.recon_accuracy, "ratio": ratio,
                         "ratio_low": g.ratio_low if g else float("nan"),
                         "ratio_high": g.ratio_high if g else float("nan"),
                         "required": g.required if g else float("nan"), "clips": r.clips,
                         "evaluator_train_s": seconds})
        curves = validation.validation_curves(evaluator, p.data.num_frames, p.data.resolution, p.eval.num_samples,
                                              num_bootstrap=max(10, p.eval.num_bootstrap // 2), seed=args.seed)
        mono.append(validation.monotonicity(curves, "fvd_proxy").assign(evaluator_steps=steps))
        print(f"evaluator {steps} steps ({seconds:.0f} s): FVD (proxy) monotonic in "
              f"{int(mono[-1].monotonic.sum())} of {len(mono[-1])} corruptions")
        print(gate[["benchmark", "head", "real", "reconstruction", "ratio", "ratio_low", "ratio_high"]].round(3)
              .to_string(index=False))
    out = pd.DataFrame(rows)
    results.write_table(results.blank_missing(out, ["ratio", "ratio_low", "ratio_high", "required"]),
                        "diagnostics/evaluator_strength", profile=p.name, seeds=args.seed, device=p.device)
    results.write_table(pd.concat(mono, ignore_index=True), "diagnostics/evaluator_strength_monotonicity",
                        profile=p.name, seeds=args.seed, device=p.device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
