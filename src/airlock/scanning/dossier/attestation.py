"""Airlock's review outcome as a signed in-toto Statement (v1) in a DSSE envelope, Ed25519.

The statement's subjects are the artifact digests; its predicate names the checks and versions
that ran, their result counts and the outcome. `verify_envelope` checks the signature against
trusted public keys and returns the statement; `verify_subjects` checks a folder against it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .integrity import ManifestEntry, hash_file
from .results import CheckReport

STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"
PREDICATE_TYPE: Final = "urn:airlock:review-outcome:v1"
MAX_ENVELOPE_BYTES: Final = 64 * 1024 * 1024


class AttestationError(Exception):
    """The envelope or statement is not what Airlock signs, or its signature does not verify."""


def keyid(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: names the key that signed."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what the signature covers."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def build_statement(
    entries: Sequence[ManifestEntry],
    reports: Sequence[CheckReport],
    *,
    outcome: str,
    reviewed_at: datetime | None = None,
) -> dict[str, Any]:
    """An in-toto Statement over the artifacts with the checks that ran and the outcome."""
    when = (reviewed_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": e.path,
                "digest": {"sha256": e.sha256, **({"blake3": e.blake3} if e.blake3 else {})},
            }
            for e in entries
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "outcome": outcome,
            "reviewedAt": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "checks": [
                {
                    "name": r.check,
                    "version": r.version,
                    "results": len(r.results),
                    "rules": sorted({x.rule_id for x in r.results}),
                }
                for r in reports
            ],
        },
    }


def sign_statement(statement: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """A DSSE envelope carrying the statement, signed with Ed25519."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    sig = private_key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": keyid(private_key.public_key()), "sig": base64.b64encode(sig).decode()}
        ],
    }


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or AttestationError naming what it is instead."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise AttestationError(f"public key is not PEM: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AttestationError(f"public key is {type(key).__name__}, not Ed25519")
    return key


def verify_envelope(envelope_bytes: bytes, trusted: Sequence[Ed25519PublicKey]) -> dict[str, Any]:
    """The statement inside a DSSE envelope, if one trusted key signed it."""
    if len(envelope_bytes) > MAX_ENVELOPE_BYTES:
        raise AttestationError(f"envelope is larger than {MAX_ENVELOPE_BYTES} bytes")
    try:
        env = json.loads(envelope_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AttestationError(f"envelope is not JSON: {str(exc)[:120]}") from None
    if not isinstance(env, dict) or env.get("payloadType") != PAYLOAD_TYPE:
        raise AttestationError(f"envelope payloadType must be {PAYLOAD_TYPE}")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise AttestationError("envelope has no signatures")
    try:
        payload = base64.b64decode(str(env.get("payload", "")), validate=True)
    except (binascii.Error, ValueError):
        raise AttestationError("envelope payload is not base64") from None
    message = pae(PAYLOAD_TYPE, payload)
    by_id = {keyid(k): k for k in trusted}
    verified = False
    for s in sigs:
        if not isinstance(s, dict):
            continue
        key = by_id.get(str(s.get("keyid")))
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(str(s.get("sig", "")), validate=True), message)
            verified = True
            break
        except (InvalidSignature, binascii.Error, ValueError):
            continue
    if not verified:
        raise AttestationError("no signature verifies with a trusted key")
    try:
        statement = json.loads(payload)
    except ValueError:
        raise AttestationError("signed payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise AttestationError(f"signed payload is not an in-toto {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise AttestationError(f"predicateType must be {PREDICATE_TYPE}")
    return statement


def verify_subjects(statement: Mapping[str, Any], folder: Path) -> list[str]:
    """Sentences for each subject whose file is missing or whose SHA-256 differs."""
    problems: list[str] = []
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        return ["statement has no subjects"]
    root = folder.resolve()
    for s in subjects:
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            problems.append("a subject has no name")
            continue
        name = s["name"]
        path = (folder / name).resolve()
        if not path.is_relative_to(root):
            problems.append(f"{name}: leaves the folder")
            continue
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        want = (s.get("digest") or {}).get("sha256") if isinstance(s.get("digest"), dict) else None
        if hash_file(path)[1] != want:
            problems.append(f"{name}: SHA-256 differs from the attested digest")
    return problems
