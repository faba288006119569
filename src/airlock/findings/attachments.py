"""Evidence attachments of findings, encrypted in the vault's blob store with the vault's API.

Each attachment gets its own data key, wrapped under the firm's organisation key (so a firm's
withdrawal, which destroys that key, shreds its attachments too) and bound to the evidence
row's id. Attachments are small (a proof of concept, a screenshot), so they are encrypted in
the caller's transaction; an attachment whose transaction then fails leaves an unreferenced
object under `findings/`, never a row without its object.
"""

from __future__ import annotations

from typing import Final

from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from airlock.core.ports import BlobStore
from airlock.core.uow import UnitOfWork
from airlock.findings import service, views
from airlock.findings.models import FindingEvidence
from airlock.vault import crypto
from airlock.vault.ingest import encrypt_into_store
from airlock.vault.keyring import active_org_key_for, org_key_for
from airlock.vault.keys import MasterKey

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
MAX_ATTACHMENTS: Final = 20
MAX_NAME: Final = 255


def _bound(evidence_id: str) -> str:
    return f"finding-evidence:{evidence_id}"


def check_name(name: str) -> str:
    """A plain file name: no folders, no control characters, 1-255 characters."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name: 1 to {MAX_NAME} characters (got {len(name)})")
    if "/" in name or "\\" in name or name in (".", "..") or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"name: a plain file name without folders (got {name!r})")
    return name


def add_attachment(
    uow: UnitOfWork,
    *,
    actor: Actor,
    finding_id: str,
    name: str,
    data: bytes,
    master: MasterKey,
    store: BlobStore,
) -> FindingEvidence:
    """An assigned reviewer attaches a file to a finding; stored encrypted, never opened."""
    finding = service.get_finding(uow, actor=actor, finding_id=finding_id)
    authorize(actor, "finding.triage")
    if not actor.is_agency or not views.may_see_evidence(uow, actor=actor, finding=finding):
        raise Forbidden("only reviewers assigned to the submission attach evidence")
    name = check_name(name)
    if not data:
        raise InvalidInput("body: the attachment is empty")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(f"body: at most {MAX_ATTACHMENT_BYTES} bytes (got {len(data)})")
    count = sum(1 for e, _ in service.evidence(uow, finding_id=finding.id) if e.attachment_key)
    if count >= MAX_ATTACHMENTS:
        raise InvalidInput(f"attachments: at most {MAX_ATTACHMENTS} per finding")
    version, org_key = active_org_key_for(uow, org_id=finding.org_id, master=master)
    evidence_id = new_id()
    data_key = crypto.new_key()
    key = f"findings/{finding.org_id}/{evidence_id}"
    stored = encrypt_into_store(
        store, key, [data], data_key=data_key, artifact_id=_bound(evidence_id)
    )
    row = FindingEvidence(
        id=evidence_id,
        finding_id=finding.id,
        attachment_name=name,
        attachment_key=key,
        attachment_size=stored.size,
        attachment_sha256=stored.sha256,
        key_version=version,
        wrapped_data_key=crypto.wrap_data_key(org_key, data_key, artifact_id=_bound(evidence_id)),
        added_by=actor.user_id,
        created_at=utcnow(),
    )
    uow.session.add(row)
    audit.append(
        uow.session,
        actor=actor,
        action="finding.attachment_added",
        object_type="finding",
        object_id=finding.id,
        org_id=finding.org_id,
        detail={"evidence_id": evidence_id, "name": name, "sha256": stored.sha256},
    )
    return row


def read_attachment(
    uow: UnitOfWork,
    *,
    actor: Actor,
    finding_id: str,
    evidence_id: str,
    master: MasterKey,
    store: BlobStore,
) -> tuple[FindingEvidence, bytes]:
    """An attachment's bytes for those who may see the finding's evidence; audited."""
    finding = service.get_finding(uow, actor=actor, finding_id=finding_id)
    if not views.may_see_evidence(uow, actor=actor, finding=finding):
        raise Forbidden("only the firm and reviewers assigned to the submission see evidence")
    row = uow.session.get(FindingEvidence, evidence_id) if len(evidence_id) <= 64 else None
    if row is None or row.finding_id != finding.id or not row.attachment_key:
        raise NotFound("attachment not found")
    if row.wrapped_data_key is None or row.key_version is None:
        raise NotFound("attachment not found")
    org_key = org_key_for(uow, org_id=finding.org_id, version=row.key_version, master=master)
    data_key = crypto.unwrap_data_key(org_key, row.wrapped_data_key, artifact_id=_bound(row.id))
    data = b"".join(
        crypto.decrypt_stream(data_key, store.open(row.attachment_key), artifact_id=_bound(row.id))
    )
    audit.append(
        uow.session,
        actor=actor,
        action="finding.attachment_read",
        object_type="finding",
        object_id=finding.id,
        org_id=finding.org_id,
        detail={"evidence_id": row.id},
    )
    return row, data
