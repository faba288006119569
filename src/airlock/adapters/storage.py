"""Pick a blob store by URL: file:///path or s3://bucket/prefix (S3 is imported only when asked)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from airlock.core.ports import BlobStore
from airlock.settings import SettingsError

MAX_KEY_CHARS: Final = 512
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


def validate_key(key: str) -> str:
    """Return key if it is a safe relative object name; raise ValueError naming the fault."""
    if not key or len(key) > MAX_KEY_CHARS:
        raise ValueError(f"blob key {key!r}: must be 1..{MAX_KEY_CHARS} characters")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
            raise ValueError(
                f"blob key {key!r}: segment {segment!r} is not allowed "
                "(letters, digits, '.', '_', '-'; no empty, '.' or '..' segments, no leading dot)"
            )
    return key


def blob_store_from_url(url: str) -> BlobStore:
    """A blob store for file:///path or s3://bucket/prefix?endpoint_url=...&region=..."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "file":
        from airlock.adapters.storage_local import LocalBlobStore

        if parts.netloc not in ("", "localhost"):
            raise SettingsError(f"AIRLOCK_STORAGE_URL {url!r}: use file:///absolute/path")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise SettingsError(f"AIRLOCK_STORAGE_URL {url!r}: the folder must be absolute")
        return LocalBlobStore(Path(path))
    if parts.scheme == "s3":
        from airlock.adapters.storage_s3 import S3BlobStore

        if not parts.netloc:
            raise SettingsError(f"AIRLOCK_STORAGE_URL {url!r}: no bucket (s3://bucket/prefix)")
        endpoint = query.get("endpoint_url") or os.environ.get("AIRLOCK_S3_ENDPOINT_URL") or None
        region = query.get("region") or os.environ.get("AWS_DEFAULT_REGION") or None
        part_size = int(query["part_size"]) if "part_size" in query else None
        return S3BlobStore.connect(
            bucket=parts.netloc,
            prefix=unquote(parts.path).strip("/"),
            endpoint_url=endpoint,
            region=region,
            part_size=part_size,
        )
    raise SettingsError(
        f"AIRLOCK_STORAGE_URL: unsupported scheme {parts.scheme!r} "
        "(use file:///path or s3://bucket/prefix)"
    )
