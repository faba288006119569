"""The artifacts panel of the firm's submission page: the manifest and the browser uploader.

Importing this module registers the Jinja global `artifact_panel_for`, which the
`artifacts/panel.html` block calls. The uploads themselves go from `/static/upload.js` through
the chunked upload API (`airlock.web.api.v1.artifacts`) with the session cookie and the CSRF
header; this module only says what the panel shows and whether the viewer may upload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy import select
from sqlalchemy.orm import object_session

from airlock.bootstrap import Container
from airlock.core.access import Actor, allowed, may_read_confidential
from airlock.core.db import utcnow
from airlock.core.errors import AirlockError
from airlock.core.uow import BorrowedUnitOfWork, UnitOfWork
from airlock.enrollment import rules as enrollment_rules
from airlock.enrollment import service as enrollment
from airlock.submissions import service as submissions
from airlock.vault import rules, service
from airlock.vault.models import UploadSession
from airlock.vault.rules import ArtifactKind, UploadState
from airlock.web.pages.render import TEMPLATES

log = logging.getLogger(__name__)

# No routes of its own: the panel is part of the submission page and talks to the API.
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ManifestLine:
    """One stored file as the panel lists it."""

    id: str
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    state: str
    created_at: datetime


@dataclass(frozen=True)
class PendingUpload:
    """An open upload session the firm can resume by selecting the same file again."""

    name: str
    kind: str
    size: int
    received_bytes: int
    expires_at: datetime

    @property
    def percent(self) -> int:
        """How much of the file the server holds, in whole percent."""
        return 100 if self.size == 0 else self.received_bytes * 100 // self.size


@dataclass
class Panel:
    """What the panel shows: the manifest, and the uploader when the viewer may upload."""

    submission_id: str
    artifacts: list[ManifestLine] = field(default_factory=list)
    total_bytes: int = 0
    may_upload: bool = False
    may_download: bool = False
    why_not: str = ""
    kinds: list[str] = field(default_factory=list)
    pending: list[PendingUpload] = field(default_factory=list)
    hidden: str = ""


def allowed_kinds(agreed: frozenset[enrollment_rules.Scope]) -> list[str]:
    """The artifact kinds a firm with these agreed scopes may upload, in declaration order."""
    out = []
    for kind in ArtifactKind:
        needed = rules.KIND_SCOPE[kind]
        if needed is None or needed in agreed:
            out.append(kind.value)
    return out


def build_panel(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> Panel:
    """The manifest and upload state of a submission, as this actor may see them."""
    panel = Panel(submission_id=submission_id)
    arts = service.list_artifacts(uow, actor=actor, submission_id=submission_id)
    panel.artifacts = [
        ManifestLine(
            id=a.id,
            name=a.name,
            kind=a.kind,
            media_type=a.media_type,
            size=a.size,
            sha256=a.sha256,
            state=a.state,
            created_at=a.created_at,
        )
        for a in arts
    ]
    panel.total_bytes = sum(a.size for a in arts if a.state == rules.ArtifactState.STORED)
    sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
    panel.may_download = may_read_confidential(
        actor,
        org_id=sub.org_id,
        assigned_user_ids=submissions.assigned_user_ids(uow, submission_id=sub.id),
    )
    if actor.org_id != sub.org_id or not allowed(actor, "artifact.upload", org_id=sub.org_id):
        return panel
    # The same conditions as vault.service.start_upload, checked before the firm picks a file.
    if sub.state in service.CLOSED_FOR_UPLOADS:
        panel.why_not = f"This submission is {sub.state}: it takes no more files."
        return panel
    p = enrollment.participation_of(uow, org_id=sub.org_id)
    state = enrollment_rules.ParticipationState(p.state) if p else None
    if p is None or state is None or not enrollment_rules.may_submit(state):
        panel.why_not = (
            f"Your organisation cannot upload while its participation is "
            f"{p.state if p else 'not enrolled'}."
        )
        return panel
    panel.may_upload = True
    panel.kinds = allowed_kinds(enrollment.agreed_scopes(p))
    now = utcnow()
    open_uploads = uow.session.scalars(
        select(UploadSession)
        .where(
            UploadSession.submission_id == sub.id,
            UploadSession.state == UploadState.OPEN,
            UploadSession.expires_at > now,
        )
        .order_by(UploadSession.created_at)
    )
    panel.pending = [
        PendingUpload(
            name=up.name,
            kind=up.kind,
            size=up.size,
            received_bytes=min(len(up.parts or []) * up.chunk_bytes, up.size),
            expires_at=up.expires_at,
        )
        for up in open_uploads
    ]
    return panel


@pass_context
def artifact_panel_for(context: Context, submission: Any) -> Panel:
    """For a submission page: its manifest, and whether and what the viewer may upload.

    submission is the page's submission (read through the page's session) or its id. The
    panel never breaks the page it is on: a failure shows as a short `hidden` reason.
    """
    submission_id = str(getattr(submission, "id", submission))
    request: Request | None = context.get("request")
    actor: Actor | None = context.get("actor")
    if request is None or actor is None:
        return Panel(submission_id=submission_id, hidden="sign in to see the artifacts")
    session = object_session(submission) if hasattr(submission, "_sa_instance_state") else None
    try:
        if session is not None:
            return build_panel(
                BorrowedUnitOfWork(session), actor=actor, submission_id=submission_id
            )
        container: Container = request.app.state.container
        with container.uow() as uow:
            return build_panel(uow, actor=actor, submission_id=submission_id)
    except AirlockError as exc:
        return Panel(submission_id=submission_id, hidden=str(exc))
    except Exception:  # the rest of the submission page still shows
        log.exception("could not read the artifacts of submission %s", submission_id)
        return Panel(submission_id=submission_id, hidden="the artifacts could not be read just now")


def _size(n: int) -> str:
    """A byte count for people: 5.2 MB, 812 KB, 17 B (decimal units, as file managers show)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


TEMPLATES.env.globals["artifact_panel_for"] = artifact_panel_for
TEMPLATES.env.filters["filesize"] = _size
