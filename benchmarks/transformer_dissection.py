"""The dissection of the reference MAGVIT-B by what the verdicts read (``magvit.experiments.transformer_dissection``).

    .venv/bin/python benchmarks/transformer_dissection.py [--profile cpu] [--changes NAME ...]
        [--benchmarks shapes:CG pushbot:FP] [--seeds 0 1] [--clips 256] [--tokenizer-steps N] [--threads T]

The committed rows ran as ``MAGVIT_STANDINS=shapes-v3 ... --tokenizer-steps 1100`` (the third version of ``shapes``,
and the profile's tokenizer at half its steps: 20 minutes in fp32 on a 2-core CPU without bf16 units).

Each change trains the reference model (COMMIT, the profile's B with the change's fields) on each benchmark and task,
then reports the masked-token loss on training and held-out clips, the held-out loss with the classes shuffled (does
the model use the class?), and on the generated clips: the evaluator's class accuracy (CG), IS (proxy), FVD / KVD
(proxy) and their ratio to the tokenizer floor. Writes ``<results>/diagnostics/transformer_dissection.csv``; a rerun
of some (change, benchmark, task, seed) replaces those rows. Models come from and go to the artifact cache, so a
change that is the tables' own setting costs nothing twice. One run at a time on a 2-core machine.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from magvit import profiles
from magvit.experiments.transformer_dissection import CHANGES, dissect, merge, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--changes", nargs="+", default=["reference"], metavar="NAME", choices=list(CHANGES))
    parser.add_argument("--benchmarks", nargs="+", default=["shapes:CG"], metavar="BENCHMARK:TASK")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--clips", type=int, default=256, help="held-out test clips (losses and generation)")
    parser.add_argument("--tokenizer-steps", type=int, default=0,
                        help="train the profile's tokenizer this many steps instead (0: the profile's)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    pairs = []
    for item in args.benchmarks:
        benchmark, sep, task = item.partition(":")
        if not sep:
            parser.error(f"--benchmarks takes BENCHMARK:TASK pairs (e.g. shapes:CG), got {item!r}")
        pairs.append((benchmark, task))
    p = profiles.get(args.profile)
    if args.tokenizer_steps:
        p = replace(p, tokenizer=replace(p.tokenizer, steps=args.tokenizer_steps))
    table = merge(p, dissect(p, args.changes, pairs, args.seeds, args.clips))
    print(summary(table).round(3).to_string())


if __name__ == "__main__":
    main()
