"""Pure vault rules: names, kinds and scopes, chunk arithmetic."""

from __future__ import annotations

import pytest

from airlock.core.errors import InvalidInput
from airlock.enrollment.rules import Scope
from airlock.vault import rules
from airlock.vault.rules import ArtifactKind


@pytest.mark.parametrize(
    "name",
    ["config.json", "model-00001-of-00002.safetensors", "tokenizer/vocab.json", "1_Pooling/c.json"],
)
def test_model_folder_names_are_accepted(name: str) -> None:
    assert rules.check_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../x",
        "a/../b",
        "/etc/passwd",
        "a\\b",
        "a//b",
        "./a",
        ".hidden",
        "-rf",
        "a\x00b",
        "x" * 256,
    ],
)
def test_paths_out_of_the_folder_and_odd_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="name"):
        rules.check_name(name)


def test_every_kind_has_a_scope_rule() -> None:
    assert set(rules.KIND_SCOPE) == set(ArtifactKind)


@pytest.mark.parametrize("kind", list(ArtifactKind))
def test_kinds_need_their_scope(kind: ArtifactKind) -> None:
    needed = rules.KIND_SCOPE[kind]
    rules.check_kind_allowed(kind, set(Scope))
    if needed is None:
        rules.check_kind_allowed(kind, set())
    else:
        with pytest.raises(InvalidInput, match=f"needs the {needed} scope"):
            rules.check_kind_allowed(kind, set(Scope) - {needed})


@pytest.mark.parametrize(
    ("size", "chunk", "sizes"),
    [(0, 4, [0]), (1, 4, [1]), (4, 4, [4]), (5, 4, [4, 1]), (12, 4, [4, 4, 4])],
)
def test_chunk_arithmetic(size: int, chunk: int, sizes: list[int]) -> None:
    assert rules.chunk_count(size, chunk) == len(sizes)
    assert [rules.expected_chunk_size(size, chunk, i) for i in range(len(sizes))] == sizes
    with pytest.raises(InvalidInput, match=f"chunk {len(sizes)} does not exist"):
        rules.expected_chunk_size(size, chunk, len(sizes))


def test_sha256_and_media_type_are_normalised_or_refused() -> None:
    assert rules.check_sha256("A" * 64) == "a" * 64
    with pytest.raises(InvalidInput, match="64 hex digits"):
        rules.check_sha256("xyz")
    assert rules.check_media_type("Application/JSON") == "application/json"
    with pytest.raises(InvalidInput, match="media_type"):
        rules.check_media_type("text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("model.safetensors", ArtifactKind.WEIGHTS),
        ("config.json", ArtifactKind.CONFIG),
        ("generation_config.json", ArtifactKind.CONFIG),
        ("tokenizer.json", ArtifactKind.TOKENIZER),
        ("tokenizer_config.json", ArtifactKind.TOKENIZER),
        ("merges.txt", ArtifactKind.TOKENIZER),
        ("README.md", ArtifactKind.OTHER),
    ],
)
def test_kinds_are_guessed_from_hugging_face_file_names(name: str, kind: ArtifactKind) -> None:
    assert rules.guess_kind(name) == kind
