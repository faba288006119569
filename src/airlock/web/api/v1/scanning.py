"""API: check states (agency admins), a submission's scan results (need-to-know) and
rescans (assigned reviewers).

Importing this module also gives the submission pages `scan_results_for`, which the
`scanning/results.html` block calls to show each artifact's verdict and scan results.
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
    RescanIn,
    RescanOut,
    ScannerOut,
    ScannersOut,
    ScannerStateIn,
    ScanResultOut,
    SubjectCheckOut,
    SubmissionResultsOut,
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


def submission_results(
    uow: UnitOfWork, *, actor: Actor, submission_id: str
) -> SubmissionResultsOut:
    """A submission's artifacts with their verdicts and the scan results this actor may see."""
    scans = service.results_for_submission(uow, actor=actor, submission_id=submission_id)
    others = service.subject_checks_for_submission(uow, actor=actor, submission_id=submission_id)
    return SubmissionResultsOut(
        checks=[
            SubjectCheckOut(
                subject_kind=c.subject_kind,
                subject_id=c.subject_id,
                check=c.run.scanner_name,
                version=c.run.scanner_version,
                verdict=c.run.verdict,
                finished_at=c.run.finished_at,
                error=c.run.error,
                results=[ScanResultOut.model_validate(r) for r in c.results],
            )
            for c in others
        ],
        submission_id=submission_id,
        artifacts=[
            ArtifactScanOut(
                artifact_id=s.artifact_id,
                name=s.name,
                verdict=s.verdict,
                scanned_at=s.scanned_at,
                error=s.error,
                results=[
                    ScanResultOut.model_validate(r).model_copy(
                        update={"seen_in_other_submissions": s.recurring.get(r.fingerprint, 0)}
                    )
                    for r in s.results
                ],
            )
            for s in scans
        ],
    )


@router.get("/submissions/{submission_id}/results", response_model=SubmissionResultsOut)
def list_results(submission_id: str, actor: ActorDep, uow: UoWDep) -> SubmissionResultsOut:
    """Each artifact's verdict and scan results: the firm sees enabled checks, assigned staff
    also those in evaluation."""
    with uow:
        return submission_results(uow, actor=actor, submission_id=submission_id)


@router.post("/checks/{name}/rescan", response_model=RescanOut, status_code=202)
def rescan(name: str, body: RescanIn, actor: ActorDep, uow: UoWDep) -> RescanOut:
    """Run a check again on one subject, even with the same version (assigned reviewers)."""
    with uow:
        job_id = service.request_rescan(uow, actor=actor, name=name, subject_id=body.subject_id)
        uow.commit()
    return RescanOut(job_id=job_id)


@pass_context
def scan_results_for(context: Context, submission: Any) -> dict[str, Any]:
    """For a submission page: the artifacts with verdicts and scan results the viewer may see.

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
            out = submission_results(
                BorrowedUnitOfWork(session), actor=actor, submission_id=submission_id
            )
        else:
            container: Container = request.app.state.container
            with container.uow() as uow:
                out = submission_results(uow, actor=actor, submission_id=submission_id)
    except AirlockError as exc:
        return {"hidden": str(exc)}
    except Exception:  # a page shows the rest of the submission even if this part fails
        log.exception("could not read the scan results of submission %s", submission_id)
        return {"hidden": "scan results could not be read just now"}
    return {"artifacts": out.artifacts}


TEMPLATES.env.globals["scan_results_for"] = scan_results_for
