"""The dissection of the shared tokenizer by *retention*: one change at a time from the profile's recipe, and
what each does to the proxy evaluator's reading of the reconstructions (not only to PSNR).

    .venv/bin/python benchmarks/tokenizer_retention_dissection.py [--profile cpu] [--changes NAME ...]
        [--seeds 0 1] [--steps N] [--clips 96] [--threads T]

Every change trains the tokenizer's own training step (``magvit.tokenizer.train.setup_training``, EMA weights, BN
recalibrated as ``get_tokenizer`` does; the ``full`` stage of ``magvit.experiments.learning_curves``) on the
profile's tokenizer batches, then reconstructs ``--clips`` val clips per benchmark and reports, per benchmark: PSNR,
the evaluator's accuracy on real clips and on reconstructions for the shapes class and for the direction, IS (proxy)
of both on shapes, their ratios (the retention gate: >= 0.8 on the shapes class and pushbot direction, >= 0.7 on IS),
and the training seconds. The work is ``magvit.experiments.tokenizer_retention``. Writes
``<results>/diagnostics/tokenizer_retention_dissection.csv``; a rerun of some
(change, seed, steps) replaces those rows and keeps the others. ``--references`` instead writes the retention of
ideal codes (block means at several compressions), of each clip's mean colour and of a blur
(``diagnostics/tokenizer_retention_references.csv``). One run at a time on a 2-core machine: at ``cpu``
300 steps take ~5 min with ``--threads 2``.
"""

from __future__ import annotations

import argparse

import torch

from magvit import profiles
from magvit.experiments.tokenizer_retention import CHANGES, dissect, merge, references, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--changes", nargs="+", default=["recipe"], metavar="NAME", choices=list(CHANGES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--clips", type=int, default=96, help="held-out val clips per benchmark")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--references", action="store_true",
                        help="instead: retention of ideal codes (block means), clip mean colour and a blur (no "
                             "training; writes diagnostics/tokenizer_retention_references.csv)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    p = profiles.get(args.profile)
    if args.references:
        ref = references(p, args.clips)
        print(ref.pivot_table(index="reference", columns=["benchmark", "head"], values="ratio").round(3).to_string())
        return
    table = merge(p, dissect(p, args.changes, args.seeds, args.steps, args.clips))
    print(summary(table, p.evaluator.steps).round(3).to_string())

if __name__ == "__main__":
    main()
