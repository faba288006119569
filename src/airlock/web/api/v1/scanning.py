"""API: scanner states (agency admins) and a submission's scan findings (need-to-know).

Importing this module also gives the submission pages `scan_findings_for`, which the
`scanning/findings.html` block calls to show each artifact's verdict and findings.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.orm import object_session

from airlock.bootstrap import Container
from airlock.core.access import Actor
from airlock.core.errors import AirlockError
from airlock.core.uow import BorrowedUnitOfWork, UnitOfWork
from airlock.scanning import service
from airlock.scanning.schemas import (
    ArtifactScanOut,
    FindingOut,
    ScannerOut,
    ScannersOut,
    ScannerStateIn,
    SubmissionFindingsOut,
)
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages.render import TEMPLATES

log = logging.getLogger(__name__)

router = APIRouter(tags=["scanning"])


@router.get("/scanners", response_model=ScannersOut)
def list_scanners(actor: ActorDep, uow: UoWDep) -> ScannersOut:
    """Every scanner with its version and state (agency admins)."""
    with uow:
        rows = service.list_scanners(uow, actor=actor)
        return ScannersOut(scanners=[ScannerOut.model_validate(r) for r in rows])


@router.put("/scanners/{name}", response_model=ScannerOut)
def set_scanner_state(name: str, body: ScannerStateIn, actor: ActorDep, uow: UoWDep) -> ScannerOut:
    """Set a scanner's state: enabled, evaluation (records, the firm sees nothing), disabled."""
    with uow:
        row = service.set_scanner_state(uow, actor=actor, name=name, state=body.state)
        uow.commit()
        return ScannerOut.model_validate(row)


def submission_findings(
    uow: UnitOfWork, *, actor: Actor, submission_id: str
) -> SubmissionFindingsOut:
    """A submission's artifacts with their verdicts and the findings this actor may see."""
    scans = service.findings_for_submission(uow, actor=actor, submission_id=submission_id)
    return SubmissionFindingsOut(
        submission_id=submission_id,
        artifacts=[
            ArtifactScanOut(
                artifact_id=s.artifact_id,
                name=s.name,
                verdict=s.verdict,
                scanned_at=s.scanned_at,
                error=s.error,
                findings=[
                    FindingOut.model_validate(f).model_copy(
                        update={"seen_in_other_submissions": s.recurring.get(f.fingerprint, 0)}
                    )
                    for f in s.findings
                ],
            )
            for s in scans
        ],
    )


@router.get("/submissions/{submission_id}/findings", response_model=SubmissionFindingsOut)
def list_findings(submission_id: str, actor: ActorDep, uow: UoWDep) -> SubmissionFindingsOut:
    """Each artifact's verdict and findings: the firm sees enabled scanners, assigned staff
    also those in evaluation."""
    with uow:
        return submission_findings(uow, actor=actor, submission_id=submission_id)


@pass_context
def scan_findings_for(context: Context, submission: Any) -> dict[str, Any]:
    """For a submission page: the artifacts with verdicts and findings the viewer may see.

    submission is the page's submission (read through the page's session) or its id. Returns
    {"artifacts": [...]} or {"hidden": reason}; it never breaks the page it is on.
    """
    request: Request | None = context.get("request")
    actor: Actor | None = context.get("actor")
    if request is None or actor is None:
        return {"hidden": "sign in to see scan results"}
    submission_id = str(getattr(submission, "id", submission))
    session = object_session(submission) if hasattr(submission, "_sa_instance_state") else None
    try:
        if session is not None:
            out = submission_findings(
                BorrowedUnitOfWork(session), actor=actor, submission_id=submission_id
            )
        else:
            container: Container = request.app.state.container
            with container.uow() as uow:
                out = submission_findings(uow, actor=actor, submission_id=submission_id)
    except AirlockError as exc:
        return {"hidden": str(exc)}
    except Exception:  # a page shows the rest of the submission even if this part fails
        log.exception("could not read the scan findings of submission %s", submission_id)
        return {"hidden": "scan results could not be read just now"}
    return {"artifacts": out.artifacts}


TEMPLATES.env.globals["scan_findings_for"] = scan_findings_for
