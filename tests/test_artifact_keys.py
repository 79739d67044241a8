"""Artifact keys hold only what changes trained weights: a notebook-only or sampling-only field keeps the
key of the tokenizer and of the transformer (no retraining), a training field changes it."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from magvit import profiles
from magvit.config import KEYED, DataConfig, TokenizerConfig, TransformerConfig
from magvit.generative.model import GenerativeConfig
from magvit.infra.artifacts import FORMAT_VERSION, ArtifactStore, config_dict, config_key
from magvit.infra.distributed import ChunkedKey
from magvit.tokenizer.train import TokenizerKey

P = profiles.get("smoke", device="cpu")


def tokenizer_key(cfg: TokenizerConfig, data: DataConfig = P.data) -> str:
    """The key ``get_tokenizer`` trains and caches the tokenizer of ``cfg`` under."""
    return config_key(TokenizerKey(cfg, data.num_frames, data.resolution), 0)


def transformer_key(tokenizer: TokenizerConfig = P.tokenizer, data: DataConfig = P.data,
                    transformer: TransformerConfig = P.transformer) -> str:
    """The key ``get_transformer`` trains and caches a transformer under."""
    return config_key(GenerativeConfig(transformer=transformer, tokenizer=tokenizer, data=data), 0)


def unkeyed(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if not f.metadata.get(KEYED, True)}


def test_the_unkeyed_fields():
    assert unkeyed(TokenizerConfig) == {"table7_steps"}
    assert unkeyed(DataConfig) == {"stats_clips", "probe_steps"}
    assert unkeyed(TransformerConfig) == {"decode_steps", "choice_temperature"}
    assert FORMAT_VERSION == 2


@pytest.mark.parametrize("change", [{"table7_steps": 7}])
def test_notebook_only_tokenizer_field_keeps_the_tokenizer_and_transformer_keys(change):
    cfg = replace(P.tokenizer, **change)
    assert tokenizer_key(cfg) == tokenizer_key(P.tokenizer)
    assert transformer_key(tokenizer=cfg) == transformer_key()


@pytest.mark.parametrize("change", [{"stats_clips": 5}, {"probe_steps": 9}])
def test_notebook_01_data_fields_keep_the_keys(change):
    data = replace(P.data, **change)
    assert tokenizer_key(P.tokenizer, data) == tokenizer_key(P.tokenizer)
    assert transformer_key(data=data) == transformer_key()


@pytest.mark.parametrize("change", [{"decode_steps": 3}, {"choice_temperature": 1.0}])
def test_sampling_fields_keep_the_transformer_key(change):
    assert transformer_key(transformer=replace(P.transformer, **change)) == transformer_key()


@pytest.mark.parametrize("change", [{"steps": 7}, {"lr": 0.5}, {"norm": "group"}, {"codebook_size": 32},
                                    {"adversarial_start": 0.5}, {"recon_loss": "l1"}])
def test_a_tokenizer_training_field_changes_both_keys(change):
    cfg = replace(P.tokenizer, **change)
    assert tokenizer_key(cfg) != tokenizer_key(P.tokenizer)
    assert transformer_key(tokenizer=cfg) != transformer_key()


def test_a_field_added_later_is_keyed_only_away_from_its_default():
    """``recon_loss`` came after the caches of the committed run: at its default ("l2", the behaviour from before it)
    it is not in the key or the sidecar, so those caches stay valid; set to anything else it is."""
    from magvit.config import UNLESS_DEFAULT

    assert {f.name for f in dataclasses.fields(TokenizerConfig) if f.metadata.get(KEYED) == UNLESS_DEFAULT} == {
        "recon_loss"}
    assert "recon_loss" not in config_dict(P.tokenizer)
    assert config_dict(replace(P.tokenizer, recon_loss="l1"))["recon_loss"] == "l1"
    assert "recon_loss" not in config_dict(GenerativeConfig(transformer=P.transformer, tokenizer=P.tokenizer,
                                                            data=P.data))["tokenizer"]


@pytest.mark.parametrize("change", [{"num_frames": 8}, {"resolution": 32}, {"real_data": True}])
def test_a_data_field_that_shapes_training_changes_the_transformer_key(change):
    assert transformer_key(data=replace(P.data, **change)) != transformer_key()


@pytest.mark.parametrize("change", [{"steps": 7}, {"mask_count": "floor"}, {"label_smoothing": 0.0}])
def test_a_transformer_training_field_changes_its_key(change):
    assert transformer_key(transformer=replace(P.transformer, **change)) != transformer_key()


def test_unkeyed_fields_are_dropped_in_nested_keys_and_sidecars(tmp_path):
    gcfg = GenerativeConfig(transformer=P.transformer, tokenizer=P.tokenizer, data=P.data)
    d = config_dict(ChunkedKey(gcfg, 2))
    assert "table7_steps" not in d["key"]["tokenizer"] and "stats_clips" not in d["key"]["data"]
    assert "decode_steps" not in d["key"]["transformer"] and d["key"]["tokenizer"]["steps"] == P.tokenizer.steps
    store = ArtifactStore(tmp_path)
    store.save("transformer", gcfg, 0, {"w": 1})
    # a model saved under one decode_steps loads under another: same file, same sidecar config
    other = replace(gcfg, transformer=replace(P.transformer, decode_steps=P.transformer.decode_steps + 1))
    assert store.path("transformer", other, 0) == store.path("transformer", gcfg, 0)
    assert store.load("transformer", other, 0) == {"w": 1}
    assert "decode_steps" not in store.sidecar("transformer", gcfg, 0)["config"]["transformer"]
