"""Factories of the vault stage: artifacts uploaded through the chunked upload API."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

# The chunk size vault tests configure, small enough that a few chunks make a file.
VAULT_CHUNK = 64 * 1024


def declare(
    client: TestClient,
    headers: dict[str, str],
    sid: str,
    data: bytes,
    name: str = "model.safetensors",
    kind: str = "weights",
    **extra: Any,
) -> Any:
    """Declare an upload of data to the submission; returns the response."""
    body = {
        "name": name,
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        **extra,
    }
    return client.post(f"/api/v1/submissions/{sid}/uploads", headers=headers, json=body)


def send(
    client: TestClient,
    headers: dict[str, str],
    upload_id: str,
    data: bytes,
    index: int,
    chunk: int = VAULT_CHUNK,
) -> Any:
    """Send chunk index of data; returns the response."""
    part = data[index * chunk : (index + 1) * chunk]
    return client.put(f"/api/v1/uploads/{upload_id}/chunks/{index}", headers=headers, content=part)


def upload(
    client: TestClient, headers: dict[str, str], sid: str, data: bytes, **kw: Any
) -> dict[str, Any]:
    """Upload data as one artifact of the submission (declare, every chunk, complete)."""
    r = declare(client, headers, sid, data, **kw)
    assert r.status_code == 201, r.text
    up = r.json()
    for i in range(up["chunks_total"]):
        r = send(client, headers, up["id"], data, i, chunk=up["chunk_bytes"])
        assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out
