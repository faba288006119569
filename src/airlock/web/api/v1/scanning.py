"""API: scanner states (agency admins) and a submission's scan findings (need-to-know)."""

from __future__ import annotations

from fastapi import APIRouter

from airlock.core.access import Actor
from airlock.core.uow import UnitOfWork
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
