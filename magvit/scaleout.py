"""Launch data-parallel training of a profile's tokenizer or transformer under ``torchrun`` (docs/scale-out.md).

    torchrun --standalone --nproc_per_node=8 -m magvit.scaleout --profile paper --stage tokenizer
    torchrun --standalone --nproc_per_node=8 -m magvit.scaleout --profile paper --stage transformer --tasks FP

Every rank runs the same ``get_tokenizer`` / ``get_transformer`` call; ``magvit.infra.distributed`` says how a
step is shared out (chunks of the global batch, one all-reduce, rank 0 writes).
"""

from __future__ import annotations

import argparse

import torch.distributed as dist

from magvit import profiles
from magvit.generative.train import get_transformer
from magvit.infra.distributed import init_from_env
from magvit.tokenizer.train import get_tokenizer


def main(argv: list[str] | None = None) -> int:
    """Train the profile's tokenizer or transformer on every rank of a ``torchrun`` launch."""
    parser = argparse.ArgumentParser(prog="torchrun ... -m magvit.scaleout", description=main.__doc__)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--stage", choices=("tokenizer", "transformer"), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", default=None, help="transformer stage: dataset (default: the tokenizer's)")
    parser.add_argument("--tasks", nargs="+", default=["FP"], help="transformer stage: task names")
    args = parser.parse_args(argv)
    profile = profiles.get(args.profile)
    wrld = init_from_env(profile.device)
    try:
        if args.stage == "tokenizer":
            get_tokenizer(profile, seed=args.seed)
        else:
            get_transformer(profile, args.dataset or profile.tokenizer.dataset, tuple(args.tasks), seed=args.seed)
        if wrld.is_main:
            print(f"{args.stage} of profile {profile.name} trained on {wrld.size} rank(s)")
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
