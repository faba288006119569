"""A tiny randomly initialised GPT-2 (built from a config, no download) through a full run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import GPT2Config, GPT2LMHeadModel

from airlock.probes.engine.packs import builtin_names, load_pack
from airlock.probes.engine.run import RunConfig, run, score
from airlock.probes.engine.targets import LocalModelTarget, _chat_prompt

TINY = {"n_layer": 2, "n_head": 2, "n_embd": 32, "vocab_size": 300, "n_positions": 1024}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny" / "config.json"
    path.parent.mkdir()
    GPT2Config(**TINY).to_json_file(str(path))
    return path


def test_local_gpt2_full_run_matches_its_own_greedy_generation(
    config_file: Path, tmp_path: Path
) -> None:
    packs = [load_pack(name) for name in builtin_names()]
    target = LocalModelTarget(source=str(config_file), batch_size=8, seed=3)
    result = run(target=target, packs=packs, out=tmp_path / "local", config=RunConfig(max_tokens=6))
    assert result.summary["attempts"] == sum(len(p.probes) for p in packs)
    assert all(a.status == "ok" for a in result.attempts)
    # The "script" of a random model is its greedy decoding: redo a sample one prompt at a time
    # (no batching, no padding) and check the run recorded the same answers and outcomes.
    reference = LocalModelTarget(source=str(config_file), seed=3)
    for attempt in result.attempts[::9]:
        [(text, _, new_tokens)] = reference.generate_batch([_chat_prompt(attempt.messages)], 6)
        assert attempt.response == text
        assert new_tokens == 6
        copy = type(attempt)(attempt.index, attempt.probe, 0, attempt.secret, attempt.messages)
        score(copy, text)
        assert copy.outcome == attempt.outcome
    manifest = json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert manifest["target"]["kind"] == "local-transformers"
    assert len(manifest["target"]["config_sha256"]) == 64
    turns = sum(3 if a.probe.interactive else 1 for a in result.attempts)
    assert manifest["budget"]["requests"] == turns


def test_local_model_loads_saved_safetensors_weights(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(**TINY))
    model.save_pretrained(str(tmp_path / "saved"), safe_serialization=True)
    assert list((tmp_path / "saved").glob("*.safetensors"))
    target = LocalModelTarget(source=str(tmp_path / "saved"))
    [(text, prompt_tokens, _)] = target.generate_batch(["user: hello\nassistant:"], 4)
    ids = torch.tensor([[b + 3 for b in b"user: hello\nassistant:"]])
    expected = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=0)
    assert text == target._decode(expected[0, ids.shape[1] :].tolist())
    assert prompt_tokens == ids.shape[1]


def test_local_model_without_config_is_an_error_on_every_attempt(tmp_path: Path) -> None:
    target = LocalModelTarget(source=str(tmp_path / "missing"))
    result = run(target=target, packs=[load_pack("capability")], out=tmp_path / "m")
    assert all(a.status == "error" and "no config.json" in a.reason for a in result.attempts)
