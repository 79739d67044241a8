"""The retention gate at the `gpu` profile, alone: train (or load) the shared tokenizer and the proxy evaluator, and
write the retention table and its gate (``magvit.tokenizer.evaluate.retention`` / ``retention_bar``) for 256 held-out
test clips per benchmark, as notebook 03 does. For a lent GPU's short call where the whole study cannot run:

    MAGVIT_RESULTS=<folder> python3 benchmarks/gpu_retention.py [--profile gpu] [--clips 256]
"""

from __future__ import annotations

import argparse
import time

from magvit import metrics, profiles
from magvit.infra import results
from magvit.tokenizer.evaluate import labelled_clips, reconstruct, retention, retention_bar, retention_text
from magvit.tokenizer.train import get_tokenizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="gpu")
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    p = profiles.get(args.profile)
    t0 = time.perf_counter()
    evaluator = metrics.get_evaluator(p, seed=args.seed)
    t1 = time.perf_counter()
    tokenizer, _ = get_tokenizer(p, seed=args.seed)
    t2 = time.perf_counter()
    clips = labelled_clips(p.data, args.clips, "test", args.seed)
    table = retention(evaluator, clips, lambda v: reconstruct(tokenizer, v))
    gate = retention_bar(table)
    seconds = {"evaluator_s": round(t1 - t0, 1), "tokenizer_s": round(t2 - t1, 1),
               "retention_s": round(time.perf_counter() - t2, 1)}
    results.write_table(table.assign(**seconds), "tokenizer_retention", profile=p.name, seeds=args.seed,
                        device=p.device)
    numeric = [c for c in gate.columns if gate[c].dtype.kind == "f"]  # a ratio over a real accuracy of 0 is empty
    results.write_table(results.blank_missing(gate, numeric), "tokenizer_bar", profile=p.name, seeds=args.seed,
                        device=p.device)
    print(table.round(3).to_string(index=False))
    print(gate.round(3).to_string(index=False))
    print(retention_text(gate))
    print(seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
