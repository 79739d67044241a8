"""The tokenizer's architecture switch (``magvit.tokenizer.model.ARCHITECTURES``) and the norm every design honours."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from magvit import profiles
from magvit.tokenizer.magvit3d import Decoder, Encoder
from magvit.tokenizer.model import ARCHITECTURES, KINDS, build_tokenizer
from magvit.tokenizer.tats import TATSDecoder, TATSEncoder

P = profiles.get("smoke", device="cpu")


def test_one_switch_picks_the_architecture():
    assert KINDS == ("magvit3d", "vq2d", "tats3d") == tuple(ARCHITECTURES)
    expected = {"magvit3d": (Encoder, (4, 4, 4)), "vq2d": (Encoder, (1, 4, 4)), "tats3d": (TATSEncoder, (4, 4, 4))}
    for kind, (encoder, compression) in expected.items():
        tok = build_tokenizer(replace(P.tokenizer, kind=kind), P.data)
        assert type(tok.encoder) is encoder and tok.compression == compression
        assert type(tok.decoder) is {Encoder: Decoder, TATSEncoder: TATSDecoder}[encoder]
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        build_tokenizer(replace(P.tokenizer, kind="vq3"), P.data)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("norm, layer", [("group", nn.GroupNorm), ("batch", nn.BatchNorm3d)])
def test_every_design_honours_cfg_norm(kind, norm, layer):
    tok = build_tokenizer(replace(P.tokenizer, kind=kind, norm=norm), P.data)
    norms = [m for m in tok.modules() if isinstance(m, nn.GroupNorm | nn.BatchNorm3d)]
    assert norms and all(isinstance(m, layer) for m in norms)


def test_the_same_seed_builds_the_same_weights_whatever_the_kind():
    for kind in KINDS:
        torch.manual_seed(0)
        a = build_tokenizer(replace(P.tokenizer, kind=kind), P.data).state_dict()
        torch.manual_seed(0)
        b = build_tokenizer(replace(P.tokenizer, kind=kind), P.data).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
