"""API: check states (agency admins), a submission's scan results (need-to-know) and
rescans (assigned reviewers)."""

from __future__ import annotations

from fastapi import APIRouter

from airlock.core.access import Actor
from airlock.core.uow import UnitOfWork
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
        out = submission_results(uow, actor=actor, submission_id=submission_id)
        uow.commit()  # the audit row of the read
        return out


@router.post("/checks/{name}/rescan", response_model=RescanOut, status_code=202)
def rescan(name: str, body: RescanIn, actor: ActorDep, uow: UoWDep) -> RescanOut:
    """Run a check again on one subject, even with the same version (assigned reviewers)."""
    with uow:
        job_id = service.request_rescan(uow, actor=actor, name=name, subject_id=body.subject_id)
        uow.commit()
    return RescanOut(job_id=job_id)
