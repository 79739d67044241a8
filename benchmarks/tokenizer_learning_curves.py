"""Learning curves of the tokenizer at a profile's widths (``magvit.experiments.learning_curves``): what makes the
MAGVIT 3D-VQ learn, one change at a time.

    .venv/bin/python benchmarks/tokenizer_learning_curves.py [--profile cpu] [--rows NAME ...] [--seeds 0 1]
        [--steps N] [--every K] [--threads T]

Writes ``<results>/diagnostics/tokenizer_learning_curves.csv`` (rows of earlier runs are kept), which notebook 03
plots. At ``cpu`` one ``ae`` row of 300 steps takes ~10 min on one thread of a 2-core machine: run two rows at
once with ``--threads 1`` each (never more processes than cores). The committed curves ran ``--steps 300`` (the
paper-design rows 400) ``--every 100 --threads 1``, one row per process.
"""

from __future__ import annotations

import argparse

import torch

from magvit import profiles
from magvit.experiments import learning_curves


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--rows", nargs="+", default=list(learning_curves.ROWS), metavar="NAME")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--clips", type=int, default=24, help="held-out val clips per benchmark")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    table = learning_curves.run(profiles.get(args.profile), args.rows, args.seeds, args.steps, args.every, args.clips)
    psnr = table[(table.metric == "psnr")]
    last = psnr[psnr.step == psnr.groupby(["row", "seed"]).step.transform("max")]
    print(last.pivot_table(index=["row", "seed", "step"], columns="benchmark", values="value").round(2).to_string())


if __name__ == "__main__":
    main()
