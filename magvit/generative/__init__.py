"""Stage 2 (paper Sec. 3.2): the transformer, the ten tasks, COMMIT, decoding, training and sampling."""
