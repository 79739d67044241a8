"""Stage 1 (paper Sec. 3.1): the 3D-VQ tokenizer, its baselines (2D-VQ, TATS-style), losses, training and evaluation."""
