"""The artifacts and scan tabs of a submission page: manifest, uploader, verdicts.

The tab handlers (`submission_page`) call `build_panel` and `submission_sections` with their own
unit of work and pass what they return to `submission/artifacts.html` and `submission/scan.html`:
a failure to read them fails the page like any other error. The uploads themselves go from
`/static/upload.js` through the chunked upload API (`airlock.web.api.v1.artifacts`) with the
session cookie and the CSRF header; this module only says what the panel shows and whether
the viewer may upload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airlock.core.access import Actor, allowed, may_read_confidential
from airlock.core.errors import Conflict, Forbidden
from airlock.core.uow import UnitOfWork
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission
from airlock.vault import rules, service
from airlock.web.api.v1.scanning import submission_results


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
    # staff not assigned to the submission see how many files there are, not which
    withheld: bool = False
    artifact_count: int = 0


def build_panel(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> Panel:
    """The manifest and upload state of a submission, as this actor may see them."""
    panel = Panel(submission_id=sub.id)
    manifest = service.read_manifest(uow, actor=actor, submission_id=sub.id)
    panel.withheld, panel.artifact_count = manifest.withheld, manifest.count
    arts = manifest.artifacts
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
    panel.may_download = may_read_confidential(
        actor,
        org_id=sub.org_id,
        assigned_user_ids=submissions.assigned_user_ids(uow, submission_id=sub.id),
    )
    if actor.org_id != sub.org_id or not allowed(actor, "artifact.upload", org_id=sub.org_id):
        return panel
    try:
        agreed = service.check_may_upload(uow, actor=actor, sub=sub)
    except (Conflict, Forbidden) as exc:
        panel.why_not = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        return panel
    panel.may_upload = True
    panel.kinds = [k.value for k in rules.allowed_kinds(agreed)]
    panel.pending = [
        PendingUpload(
            name=up.name,
            kind=up.kind,
            size=up.size,
            received_bytes=sum(int(p["size"]) for p in up.parts or [] if p is not None),
            expires_at=up.expires_at,
        )
        for up in service.pending_uploads(uow, actor=actor, sub=sub)
    ]
    return panel


def submission_sections(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> dict[str, Any]:
    """What the scan results tab shows: the artifacts panel and the scan results (files and
    dossier checks), the latter only for the firm and assigned staff."""
    panel = build_panel(uow, actor=actor, sub=sub)
    # Scan results are confidential: need-to-know, like the downloads (None: not for this viewer).
    scan = (
        submission_results(uow, actor=actor, submission_id=sub.id) if panel.may_download else None
    )
    return {"panel": panel, "scan": scan}
