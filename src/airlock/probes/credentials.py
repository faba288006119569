"""The API key of a submission's evaluation endpoint: set by the firm, sealed under its key.

Only a firm whose participation includes the `eval_endpoint` scope registers one. The key is
sealed (bound to the submission) and opened only by the probe checks in `prepare`; it is
never written to a log, an audit row, a run folder or a page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Forbidden, InvalidInput
from airlock.core.uow import UnitOfWork
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import Scope
from airlock.probes.models import EndpointKey
from airlock.submissions import service as submissions
from airlock.vault import sealing

MAX_KEY_CHARS: Final = 4096


def _binding(submission_id: str) -> str:
    return f"submission:{submission_id}:endpoint_key"


def set_key(uow: UnitOfWork, *, actor: Actor, submission_id: str, api_key: str) -> datetime:
    """The firm registers (or replaces) the key of its submission's evaluation endpoint."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "submission.edit", org_id=sub.org_id)
    scopes = enrollment.scopes_while_submitting(
        uow, org_id=sub.org_id, doing="register an endpoint key"
    )
    if Scope.EVAL_ENDPOINT not in scopes:
        raise Forbidden("your participation does not include the eval_endpoint scope")
    key = api_key.strip()
    if not key or len(key) > MAX_KEY_CHARS or any(c in key for c in "\r\n\x00"):
        raise InvalidInput(f"api_key: 1 to {MAX_KEY_CHARS} characters on one line")
    token = sealing.seal(uow, org_id=sub.org_id, bound_to=_binding(sub.id), plaintext=key.encode())
    row = uow.session.get(EndpointKey, sub.id)
    replaced = row is not None
    now = utcnow()
    if row is None:
        row = EndpointKey(submission_id=sub.id, org_id=sub.org_id)
        uow.session.add(row)
    row.sealed, row.set_by, row.set_at = token, actor.user_id, now
    audit.append(
        uow.session,
        action="endpoint_key.set",
        actor=actor,
        object_type="submission",
        object_id=sub.id,
        org_id=sub.org_id,
        detail={"replaced": replaced},  # never the key
    )
    uow.flush()
    return now


def clear_key(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> None:
    """The firm withdraws the key; probes then go without one."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "submission.edit", org_id=sub.org_id)
    row = uow.session.get(EndpointKey, sub.id)
    if row is not None:
        uow.session.delete(row)
        audit.append(
            uow.session,
            action="endpoint_key.cleared",
            actor=actor,
            object_type="submission",
            object_id=sub.id,
            org_id=sub.org_id,
        )
        uow.flush()


def key_set_at(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> datetime | None:
    """When the firm set the key (None: no key); the key itself is never shown."""
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "submission.edit", org_id=sub.org_id)
    row = uow.session.get(EndpointKey, sub.id)
    return row.set_at if row is not None else None


def open_key(uow: UnitOfWork, *, submission_id: str) -> str | None:
    """The key for the probe checks (system use); None without one or after a withdrawal."""
    row = uow.session.get(EndpointKey, submission_id)
    if row is None:
        return None
    plain = sealing.open_sealed(
        uow, org_id=row.org_id, bound_to=_binding(submission_id), token=row.sealed
    )
    return plain.decode() if plain is not None else None
