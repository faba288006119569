"""Artifact kinds and the scopes they need, safe names, upload chunk arithmetic; pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Final

from airlock.core.errors import InvalidInput
from airlock.enrollment.rules import Scope


class ArtifactKind(StrEnum):
    """What a stored file is."""

    WEIGHTS = "weights"
    CONFIG = "config"
    TOKENIZER = "tokenizer"
    DATASET_SAMPLE = "dataset_sample"
    MANIFEST = "manifest"
    EVAL_REPORT = "eval_report"
    OTHER = "other"


class ArtifactState(StrEnum):
    """A stored artifact, or one whose key was destroyed on withdrawal."""

    STORED = "stored"
    DESTROYED = "destroyed"


class UploadState(StrEnum):
    """Where an upload session is."""

    OPEN = "open"
    COMPLETING = "completing"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"


class KeyState(StrEnum):
    """An organisation key in use, or crypto-shredded."""

    ACTIVE = "active"
    DESTROYED = "destroyed"


# The scope a firm must have agreed to before it may upload an artifact of this kind.
KIND_SCOPE: Final[Mapping[ArtifactKind, Scope | None]] = {
    ArtifactKind.WEIGHTS: Scope.WEIGHTS,
    ArtifactKind.DATASET_SAMPLE: Scope.TRAINING_DATA_DOCS,
    ArtifactKind.CONFIG: None,
    ArtifactKind.TOKENIZER: None,
    ArtifactKind.MANIFEST: None,
    ArtifactKind.EVAL_REPORT: None,
    ArtifactKind.OTHER: None,
}

MAX_NAME_CHARS: Final = 255
MAX_SEGMENT_CHARS: Final = 120
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 ._+=@,()\[\]-]*")
_MEDIA_TYPE: Final = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


def kind_allowed(kind: ArtifactKind, agreed: Iterable[Scope]) -> bool:
    """Whether the firm's agreed scopes include what this kind of artifact needs."""
    needed = KIND_SCOPE[kind]
    return needed is None or needed in set(agreed)


def allowed_kinds(agreed: Iterable[Scope]) -> list[ArtifactKind]:
    """The artifact kinds a firm with these agreed scopes may upload, in declaration order."""
    agreed_set = frozenset(agreed)
    return [kind for kind in ArtifactKind if kind_allowed(kind, agreed_set)]


def check_kind_allowed(kind: ArtifactKind, agreed: Iterable[Scope]) -> None:
    """Raise unless the firm's agreed scopes include what this kind of artifact needs."""
    needed = KIND_SCOPE[kind]
    if not kind_allowed(kind, agreed):
        raise InvalidInput(
            f"kind: a {kind} artifact needs the {needed} scope, which your agreement does not "
            "include"
        )


def check_name(name: str) -> str:
    """A file name relative to the model folder ('tokenizer/vocab.json'); no paths out of it."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"name: must be 1..{MAX_NAME_CHARS} characters (got {len(name)})")
    if unicodedata.normalize("NFC", name) != name or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"name: {name[:60]!r} has control or unnormalised characters")
    if name.startswith("/") or "\\" in name:
        raise InvalidInput(f"name: {name[:60]!r} must be a relative path with '/' separators")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidInput(f"name: {name[:60]!r} contains an empty, '.' or '..' segment")
        if len(segment) > MAX_SEGMENT_CHARS or not _SEGMENT.fullmatch(segment):
            raise InvalidInput(
                f"name: segment {segment[:60]!r} may hold letters, digits, spaces and ._+=@,()[]- "
                "and must not start with a dot or dash"
            )
    return name


def check_media_type(media_type: str) -> str:
    """A lower-case type/subtype media type, without parameters."""
    value = media_type.strip().lower()
    if len(value) > 127 or not _MEDIA_TYPE.fullmatch(value):
        raise InvalidInput(f"media_type: {media_type[:60]!r} is not a type/subtype media type")
    return value


def check_sha256(digest: str) -> str:
    """A SHA-256 digest as 64 lower-case hex digits."""
    value = digest.strip().lower()
    if not _SHA256.fullmatch(value):
        raise InvalidInput(f"sha256: must be 64 hex digits (got {digest[:70]!r})")
    return value


def chunk_count(size: int, chunk_bytes: int) -> int:
    """How many upload chunks a file of this size is sent in (an empty file: one empty chunk)."""
    return max(1, -(-size // chunk_bytes))


def expected_chunk_size(size: int, chunk_bytes: int, index: int) -> int:
    """The exact size chunk index must have; InvalidInput if there is no such chunk."""
    total = chunk_count(size, chunk_bytes)
    if not 0 <= index < total:
        raise InvalidInput(f"index: chunk {index} does not exist (this file has {total} chunks)")
    if index < total - 1:
        return chunk_bytes
    return size - chunk_bytes * (total - 1)


def received_indexes(parts: Sequence[object]) -> list[int]:
    """The chunk indexes recorded in a session's parts (a list with None where one is missing)."""
    return [i for i, p in enumerate(parts) if p is not None]


def missing_ranges(parts: Sequence[object], total: int) -> list[tuple[int, int]]:
    """The chunks still to send as half-open [start, end) index ranges, in order."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i in range(total):
        have = i < len(parts) and parts[i] is not None
        if not have and start is None:
            start = i
        elif have and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, total))
    return out


def with_part(parts: Sequence[object], index: int, part: object) -> list[object]:
    """A copy of parts with chunk index set (chunks arrive in any order; gaps stay None)."""
    out = list(parts)
    if index >= len(out):
        out.extend([None] * (index + 1 - len(out)))
    out[index] = part
    return out


MEDIA_BY_SUFFIX: Final[Mapping[str, str]] = {
    ".json": "application/json",
    ".safetensors": "application/octet-stream",
    ".gguf": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".pt": "application/octet-stream",
    ".onnx": "application/octet-stream",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".model": "application/octet-stream",
    ".jsonl": "application/jsonl",
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
}
WEIGHT_SUFFIXES: Final = frozenset(
    {".safetensors", ".gguf", ".bin", ".pt", ".pth", ".onnx", ".h5", ".keras", ".ckpt", ".npz"}
)
TOKENIZER_HINTS: Final = ("tokenizer", "vocab", "merges", "special_tokens_map", "spiece")


def guess_kind(name: str) -> ArtifactKind:
    """A likely kind for a file of a Hugging Face style model folder."""
    base = name.rsplit("/", 1)[-1].lower()
    suffix = "." + base.rsplit(".", 1)[-1] if "." in base else ""
    if any(hint in base for hint in TOKENIZER_HINTS):
        return ArtifactKind.TOKENIZER
    if suffix in WEIGHT_SUFFIXES:
        return ArtifactKind.WEIGHTS
    if base.endswith("config.json"):
        return ArtifactKind.CONFIG
    if base in ("manifest.json", "sha256sums", "sha256sums.txt"):
        return ArtifactKind.MANIFEST
    return ArtifactKind.OTHER


def guess_media_type(name: str) -> str:
    """A media type from the file name's suffix (application/octet-stream when unknown)."""
    base = name.rsplit("/", 1)[-1].lower()
    suffix = "." + base.rsplit(".", 1)[-1] if "." in base else ""
    return MEDIA_BY_SUFFIX.get(suffix, "application/octet-stream")
