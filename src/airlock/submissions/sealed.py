"""Confidential dossier fields stored sealed under the firm's key.

Each field whose disclosure is `reviewer` or `restricted` is stored with its value replaced by
`"sealed": token` (disclosure and provenance stay, so lists and checks of completeness can
still see that the field exists); the token is bound to the submission and the field's path.
"""

from __future__ import annotations

import json
from typing import Any

from airlock.core.uow import UnitOfWork
from airlock.dossiers import rules as dossier_rules


def _binding(submission_id: str, path: tuple[str, ...]) -> str:
    return f"submission:{submission_id}:dossier:/{'/'.join(path)}"


def seal_dossier(
    uow: UnitOfWork, *, org_id: str, submission_id: str, doc: dict[str, Any]
) -> dict[str, Any]:
    """The dossier as stored: every confidential value sealed."""
    sealer = uow.services.sealer

    def seal(path: tuple[str, ...], field: dict[str, Any]) -> dict[str, Any]:
        if "value" not in field:
            return dict(field)
        plain = json.dumps(field["value"], separators=(",", ":")).encode()
        token = sealer.seal(
            uow, org_id=org_id, bound_to=_binding(submission_id, path), plaintext=plain
        )
        # "sealed" takes the place of "value", so opening gives back the same key order
        return {
            ("sealed" if k == "value" else k): (token if k == "value" else v)
            for k, v in field.items()
        }

    return dossier_rules.map_confidential_fields(doc, seal)


def plain_dossier(
    uow: UnitOfWork, *, org_id: str, submission_id: str, doc: dict[str, Any]
) -> dict[str, Any]:
    """The dossier with its sealed values opened (for callers that checked access); after a
    withdrawal a sealed field reads as {"redacted": true, "reason": "withdrawn"}."""
    sealer = uow.services.sealer

    def open_(path: tuple[str, ...], field: dict[str, Any]) -> dict[str, Any]:
        token = field.get("sealed")
        if not isinstance(token, str):
            return dict(field)
        plain = sealer.open(uow, org_id=org_id, bound_to=_binding(submission_id, path), token=token)
        if plain is None:
            return {"redacted": True, "reason": "withdrawn"}
        value = json.loads(plain)
        return {
            ("value" if k == "sealed" else k): (value if k == "sealed" else v)
            for k, v in field.items()
        }

    return dossier_rules.map_confidential_fields(doc, open_)
