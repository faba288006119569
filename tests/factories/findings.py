"""Factories of the findings stage: API helpers to walk findings and submissions."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from airlock.scanning.engine import ENGINE_NAME


def call(
    client: TestClient, method: str, url: str, headers: dict[str, str], status: int = 200, **kw: Any
) -> Any:
    """Send one request and check its status; the JSON answer."""
    r = client.request(method, url, headers=headers, **kw)
    assert r.status_code == status, (method, url, r.status_code, r.text)
    return r.json()


def findings_of(
    client: TestClient, headers: dict[str, str], sid: str, *, check: str | None = ENGINE_NAME
) -> list[dict[str, Any]]:
    """The findings of a submission the caller may see, raised by one check (the artifact
    scanner unless told; submitting also runs the dossier checks) or by any when None."""
    query = f"submission_id={sid}" + (f"&check={check}" if check else "")
    out: list[dict[str, Any]] = call(client, "GET", f"/api/v1/findings?{query}", headers)[
        "findings"
    ]
    return out


def move_finding(
    client: TestClient,
    headers: dict[str, str],
    fid: str,
    target: str,
    status: int = 200,
    reason: str = "",
) -> Any:
    """Ask for one lifecycle move of a finding."""
    return call(
        client,
        "POST",
        f"/api/v1/findings/{fid}/transitions",
        headers,
        status,
        json={"target": target, "reason": reason},
    )


def move_submission(
    client: TestClient,
    headers: dict[str, str],
    sid: str,
    target: str,
    status: int = 200,
    reason: str = "",
) -> Any:
    """Ask for one move of a submission."""
    return call(
        client,
        "POST",
        f"/api/v1/submissions/{sid}/transitions",
        headers,
        status,
        json={"to": target, "reason": reason},
    )
