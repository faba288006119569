"""API: findings triage (assigned reviewers), the firm's responses, fix verification,
sign-off and the sign-off policy."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from airlock.core.access import authorize
from airlock.core.errors import PayloadTooLarge
from airlock.core.transitions import ObjectType, history
from airlock.findings import attachments, review, service, views
from airlock.findings.rules import FindingState
from airlock.findings.schemas import (
    BulkFalsePositiveIn,
    ConfirmIn,
    DuplicateIn,
    EvidenceOut,
    FindingDetailOut,
    FindingOut,
    FindingsOut,
    FixDiffOut,
    ManualFindingIn,
    MetricsOut,
    ReasonIn,
    ReviewStatusOut,
    SignoffIn,
    SignoffOut,
    SignoffPolicyIn,
    SignoffPolicyOut,
    TransitionIn,
)
from airlock.submissions.schemas import TransitionOut
from airlock.vault.keys import master_key_for
from airlock.web.deps import ActorDep, ContainerDep, UoWDep

router = APIRouter(tags=["findings"])


@router.get("/findings", response_model=FindingsOut)
def list_findings(
    actor: ActorDep,
    uow: UoWDep,
    submission_id: str | None = Query(default=None, max_length=64),
    check: str | None = Query(default=None, max_length=80),
    rule: str | None = Query(default=None, max_length=40),
    severity: str | None = Query(default=None, max_length=16),
    state: list[FindingState] | None = Query(default=None, max_length=12),
) -> FindingsOut:
    """Findings the caller may see: the triage queue for staff, the inbox for a firm."""
    with uow:
        rows = service.list_findings(
            uow,
            actor=actor,
            submission_id=submission_id,
            check=check,
            rule=rule,
            severity=severity,
            states=state,
        )
        return FindingsOut(findings=[views.finding_out(uow, actor=actor, finding=f) for f in rows])


@router.post("/findings", response_model=FindingDetailOut, status_code=201)
def create_manual_finding(body: ManualFindingIn, actor: ActorDep, uow: UoWDep) -> FindingDetailOut:
    """An assigned reviewer records a finding no check raised (it starts confirmed)."""
    with uow:
        f = service.create_manual(
            uow,
            actor=actor,
            submission_id=body.submission_id,
            title=body.title,
            description=body.description,
            severity=body.severity,
            cvss_vector=body.cvss_vector,
            atlas=body.atlas,
            owasp_llm=body.owasp_llm,
            cwe=body.cwe,
        )
        uow.commit()
        return views.finding_detail(uow, actor=actor, finding_id=f.id)


@router.post("/findings/false-positive", response_model=FindingsOut)
def bulk_false_positive(body: BulkFalsePositiveIn, actor: ActorDep, uow: UoWDep) -> FindingsOut:
    """Mark many draft findings false positive with one reason: all of them or none."""
    with uow:
        rows = service.bulk_false_positive(
            uow, actor=actor, finding_ids=body.finding_ids, reason=body.reason
        )
        uow.commit()
        return FindingsOut(findings=[views.finding_out(uow, actor=actor, finding=f) for f in rows])


@router.get("/findings/{finding_id}", response_model=FindingDetailOut)
def get_finding(finding_id: str, actor: ActorDep, uow: UoWDep) -> FindingDetailOut:
    """One finding with its evidence (need-to-know) and decisions."""
    with uow:
        return views.finding_detail(uow, actor=actor, finding_id=finding_id)


@router.get("/findings/{finding_id}/history", response_model=list[TransitionOut])
def finding_history(finding_id: str, actor: ActorDep, uow: UoWDep) -> list[TransitionOut]:
    """Every state change of the finding, oldest first."""
    with uow:
        f = service.get_finding(uow, actor=actor, finding_id=finding_id)
        rows = history(uow.session, object_type=ObjectType.FINDING, object_id=f.id)
        return [TransitionOut.model_validate(r) for r in rows]


@router.post("/findings/{finding_id}/confirm", response_model=FindingOut)
def confirm_finding(finding_id: str, body: ConfirmIn, actor: ActorDep, uow: UoWDep) -> FindingOut:
    """Confirm a draft finding with its severity, optional CVSS 4.0 vector and taxonomy ids."""
    with uow:
        f = service.confirm(
            uow,
            actor=actor,
            finding_id=finding_id,
            severity=body.severity,
            cvss_vector=body.cvss_vector,
            atlas=body.atlas,
            owasp_llm=body.owasp_llm,
            cwe=body.cwe,
            note=body.note,
        )
        uow.commit()
        return views.finding_out(uow, actor=actor, finding=f)


@router.post("/findings/{finding_id}/false-positive", response_model=FindingOut)
def false_positive(finding_id: str, body: ReasonIn, actor: ActorDep, uow: UoWDep) -> FindingOut:
    """Mark a finding false positive; the reason is required."""
    with uow:
        f = service.mark_false_positive(uow, actor=actor, finding_id=finding_id, reason=body.reason)
        uow.commit()
        return views.finding_out(uow, actor=actor, finding=f)


@router.post("/findings/{finding_id}/duplicate", response_model=FindingOut)
def duplicate(finding_id: str, body: DuplicateIn, actor: ActorDep, uow: UoWDep) -> FindingOut:
    """Mark a draft finding a duplicate of another finding."""
    with uow:
        f = service.mark_duplicate(
            uow,
            actor=actor,
            finding_id=finding_id,
            duplicate_of=body.duplicate_of,
            reason=body.reason,
        )
        uow.commit()
        return views.finding_out(uow, actor=actor, finding=f)


@router.post("/findings/{finding_id}/transitions", response_model=FindingOut)
def move_finding(finding_id: str, body: TransitionIn, actor: ActorDep, uow: UoWDep) -> FindingOut:
    """Notify, acknowledge, dispute, start or submit a fix, verify, accept the risk, close."""
    with uow:
        f = service.transition(
            uow, actor=actor, finding_id=finding_id, target=body.target, reason=body.reason
        )
        uow.commit()
        return views.finding_out(uow, actor=actor, finding=f)


@router.get("/submissions/{submission_id}/fix-diff", response_model=FixDiffOut)
def fix_diff(submission_id: str, actor: ActorDep, uow: UoWDep) -> FixDiffOut:
    """Each finding of the submission matched against its latest fixed version."""
    with uow:
        return views.fix_diff_out(uow, actor=actor, submission_id=submission_id)


@router.get("/submissions/{submission_id}/review-status", response_model=ReviewStatusOut)
def review_status(submission_id: str, actor: ActorDep, uow: UoWDep) -> ReviewStatusOut:
    """What still keeps the review from completing, and the sign-offs so far (staff)."""
    with uow:
        return views.review_status(uow, actor=actor, submission_id=submission_id)


@router.post("/submissions/{submission_id}/signoffs", response_model=SignoffOut, status_code=201)
def sign_off(submission_id: str, body: SignoffIn, actor: ActorDep, uow: UoWDep) -> SignoffOut:
    """Approve the review or request changes, with a comment."""
    with uow:
        row = review.sign_off(
            uow,
            actor=actor,
            submission_id=submission_id,
            decision=body.decision,
            comment=body.comment,
        )
        uow.commit()
        return SignoffOut.model_validate(row)


@router.get("/signoff-policy", response_model=SignoffPolicyOut)
def get_signoff_policy(actor: ActorDep, uow: UoWDep) -> SignoffPolicyOut:
    """The roles that must sign off a review (staff)."""
    with uow:
        authorize(actor, "queue.read")
        return SignoffPolicyOut(required_roles=review.required_roles(uow))


@router.put("/signoff-policy", response_model=SignoffPolicyOut)
def set_signoff_policy(body: SignoffPolicyIn, actor: ActorDep, uow: UoWDep) -> SignoffPolicyOut:
    """An agency admin sets the roles that must sign off (a new version of the policy)."""
    with uow:
        row = review.set_required_roles(uow, actor=actor, roles=body.required_roles)
        uow.commit()
        return SignoffPolicyOut(required_roles=list(row.required_roles))


@router.get("/metrics/findings", response_model=MetricsOut)
def findings_metrics(actor: ActorDep, uow: UoWDep) -> MetricsOut:
    """Times to acknowledge, fix and verify; critical fixes before release; false-positive
    rates per check and rule (coordinators and agency admins)."""
    with uow:
        return views.metrics_out(uow, actor=actor)


@router.post("/findings/{finding_id}/attachments", response_model=EvidenceOut, status_code=201)
async def add_attachment(
    finding_id: str,
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    container: ContainerDep,
    name: str = Query(default="", max_length=255),
) -> EvidenceOut:
    """Attach a file (the raw body) to a finding as evidence, encrypted in the vault."""
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > attachments.MAX_ATTACHMENT_BYTES:
            raise PayloadTooLarge(f"body: at most {attachments.MAX_ATTACHMENT_BYTES} bytes")
    with uow:
        row = attachments.add_attachment(
            uow,
            actor=actor,
            finding_id=finding_id,
            name=name,
            data=bytes(data),
            master=master_key_for(container.settings),
            store=container.blob_store,
        )
        uow.commit()
        return EvidenceOut(
            id=row.id,
            scan_result_id=None,
            artifact_id=None,
            rule_id=None,
            severity=None,
            verdict=None,
            message=None,
            location=None,
            attachment_name=row.attachment_name,
            attachment_size=row.attachment_size,
            note=row.note,
            created_at=row.created_at,
        )


@router.get("/findings/{finding_id}/attachments/{evidence_id}")
def read_attachment(
    finding_id: str, evidence_id: str, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """An attachment's bytes (the firm and assigned reviewers); always a download."""
    with uow:
        row, data = attachments.read_attachment(
            uow,
            actor=actor,
            finding_id=finding_id,
            evidence_id=evidence_id,
            master=master_key_for(container.settings),
            store=container.blob_store,
        )
        uow.commit()  # the audit row of the read
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.attachment_name)}"
        },
    )
