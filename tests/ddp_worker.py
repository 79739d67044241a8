"""Worker of tests/test_distributed.py: train the smoke tokenizer and a smoke transformer with the data-parallel
step (2 chunks per batch) into the store ``argv[1]``; rank 0 writes the weights and logs to ``argv[2]``.

Run alone it is one process (rank 0 of 1, gradient accumulation over both chunks); under
``torchrun --nproc_per_node=2`` each rank takes one chunk. ``$MAGVIT_TEST_STEP_SLEEP`` slows every tokenizer
batch down (seconds), so that the kill test can kill the run mid-training.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import torch

from magvit import profiles
from magvit.config import DataParallelConfig
from magvit.generative.train import get_transformer
from magvit.infra import distributed
from magvit.infra.artifacts import ArtifactStore
from magvit.tokenizer import train as tokenizer_train


def test_profile():
    p = profiles.get("smoke", device="cpu")
    # 2 clips of each benchmark per step; no dead-code restarts (they draw codes from one chunk: refused chunked)
    tokenizer = replace(p.tokenizer, batch_size=6, steps=8, codebook_restart_after=0)
    return replace(p, tokenizer=tokenizer,
                   transformer=replace(p.transformer, steps=4), checkpoint_every=2,
                   data_parallel=DataParallelConfig(tokenizer_chunks=2, transformer_chunks=2))


def main(store_dir: str, out: str) -> None:
    torch.set_num_threads(1)
    delay = float(os.environ.get("MAGVIT_TEST_STEP_SLEEP", "0"))
    if delay:
        batch = tokenizer_train.tokenizer_batch

        def slow_batch(*args, **kwargs):
            time.sleep(delay)
            return batch(*args, **kwargs)

        tokenizer_train.tokenizer_batch = slow_batch
    world = distributed.init_from_env("cpu")
    p, store = test_profile(), ArtifactStore(store_dir)
    model, log = get_transformer(p, "pushbot", "FP", "commit", seed=0, store=store)
    tokenizer, tok_log = tokenizer_train.get_tokenizer(p, seed=0, store=store)  # from the cache: trained above
    if world.is_main:
        torch.save({"tokenizer": tokenizer.state_dict(), "transformer": model.transformer.state_dict(),
                    "tokenizer_log": tok_log.to_dict("list"), "transformer_log": log.to_dict("list"),
                    "world_size": world.size}, out)
    distributed.barrier()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
