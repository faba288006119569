"""API: models, submissions, their dossiers, transitions, assignments and the agency queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from airlock.core.access import authorize
from airlock.core.errors import InvalidInput
from airlock.core.transitions import ObjectType, history
from airlock.dossiers import rules as dossier_rules
from airlock.dossiers import validation
from airlock.submissions import grants, service
from airlock.submissions.rules import SubmissionState
from airlock.submissions.schemas import (
    AssigneeOut,
    AssignIn,
    DossierCheckOut,
    DossierOut,
    DossierProblemOut,
    ModelIn,
    ModelOut,
    QueueItemOut,
    QueueOut,
    SubmissionIn,
    SubmissionOut,
    SubmissionPatch,
    TransitionIn,
    TransitionOut,
)
from airlock.web.deps import ActorDep, ContainerDep, UoWDep

router = APIRouter(tags=["submissions"])


@router.get("/models", response_model=list[ModelOut])
def list_models(actor: ActorDep, uow: UoWDep) -> list[ModelOut]:
    """The caller's firm's registered models."""
    with uow:
        return [ModelOut.model_validate(m) for m in service.list_models(uow, actor=actor)]


@router.post("/models", response_model=ModelOut, status_code=201)
def register_model(body: ModelIn, actor: ActorDep, uow: UoWDep) -> ModelOut:
    """Register a model."""
    with uow:
        m = service.register_model(uow, actor=actor, name=body.name, description=body.description)
        uow.commit()
        return ModelOut.model_validate(m)


@router.get("/submissions", response_model=list[SubmissionOut])
def list_submissions(actor: ActorDep, uow: UoWDep) -> list[SubmissionOut]:
    """The caller's firm's submissions."""
    with uow:
        return [SubmissionOut.model_validate(s) for s in service.list_for_firm(uow, actor=actor)]


@router.post("/submissions", response_model=SubmissionOut, status_code=201)
def create_submission(
    body: SubmissionIn, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> SubmissionOut:
    """Draft a release candidate with its dossier."""
    with uow:
        s = service.create_submission(
            uow,
            actor=actor,
            model_id=body.model_id,
            title=body.title,
            version=body.version,
            carries=[c.value for c in body.carries],
            dossier=body.dossier,
            max_dossier_bytes=container.settings.max_dossier_bytes,
            fixes_submission_id=body.fixes_submission_id,
        )
        uow.commit()
        return SubmissionOut.model_validate(s)


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(submission_id: str, actor: ActorDep, uow: UoWDep) -> SubmissionOut:
    """One submission's status (and the reason of a return)."""
    with uow:
        return SubmissionOut.model_validate(
            service.get_submission(uow, actor=actor, submission_id=submission_id)
        )


@router.patch("/submissions/{submission_id}", response_model=SubmissionOut)
def update_submission(
    submission_id: str,
    body: SubmissionPatch,
    actor: ActorDep,
    uow: UoWDep,
    container: ContainerDep,
) -> SubmissionOut:
    """Edit a draft or returned submission."""
    with uow:
        s = service.update_submission(
            uow,
            actor=actor,
            submission_id=submission_id,
            title=body.title,
            version=body.version,
            carries=[c.value for c in body.carries] if body.carries is not None else None,
            dossier=body.dossier,
            max_dossier_bytes=container.settings.max_dossier_bytes,
        )
        uow.commit()
        return SubmissionOut.model_validate(s)


@router.get("/submissions/{submission_id}/dossier", response_model=DossierOut)
def get_dossier(submission_id: str, actor: ActorDep, uow: UoWDep) -> DossierOut:
    """The dossier; confidential fields only for the firm and assigned reviewers (audited)."""
    with uow:
        view = service.view_dossier(uow, actor=actor, submission_id=submission_id)
        uow.commit()  # the audit row of a confidential read
    return DossierOut(
        submission_id=submission_id, confidential=view.confidential, dossier=view.dossier
    )


@router.get("/submissions/{submission_id}/dossier/export")
def export_dossier(
    submission_id: str,
    actor: ActorDep,
    uow: UoWDep,
    format: Annotated[str, Query(max_length=20)],
    audience: Annotated[str, Query(max_length=20)] = "public",
) -> Response:
    """Download the dossier as cyclonedx, spdx, eu-mdf, hf-card or sb53 (audited)."""
    with uow:
        exported = service.export_dossier(
            uow, actor=actor, submission_id=submission_id, fmt=format, audience=audience
        )
        uow.commit()  # the audit rows of the read and the export
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.post("/dossiers/validate", response_model=DossierCheckOut)
async def check_dossier(
    request: Request, actor: ActorDep, container: ContainerDep
) -> DossierCheckOut:
    """Check a dossier (the request body, JSON) against its schema and the submit rules."""
    authorize(actor, "model.read", org_id=actor.org_id)
    raw = await request.body()
    try:
        doc = validation.parse_dossier(raw, max_bytes=container.settings.max_dossier_bytes)
    except InvalidInput as exc:
        errors = [DossierProblemOut(**e) for e in exc.errors] or [
            DossierProblemOut(path="", rule="invalid", message=str(exc))
        ]
        return DossierCheckOut(
            valid=False,
            schema_version=None,
            current_version=validation.SCHEMA_VERSION,
            errors=errors,
            missing=[],
        )
    missing = dossier_rules.check_complete(doc)
    return DossierCheckOut(
        valid=True,
        schema_version=str(doc.get("schema_version")),
        current_version=validation.SCHEMA_VERSION,
        errors=[],
        missing=[DossierProblemOut(**m.as_dict()) for m in missing],
    )


@router.post("/submissions/{submission_id}/transitions", response_model=SubmissionOut)
def transition(
    submission_id: str, body: TransitionIn, actor: ActorDep, uow: UoWDep
) -> SubmissionOut:
    """Move the submission: submit, accept, return (reason), start or complete review, close."""
    with uow:
        s = service.transition(
            uow, actor=actor, submission_id=submission_id, target=body.to, reason=body.reason
        )
        uow.commit()
        return SubmissionOut.model_validate(s)


@router.get("/submissions/{submission_id}/history", response_model=list[TransitionOut])
def submission_history(submission_id: str, actor: ActorDep, uow: UoWDep) -> list[TransitionOut]:
    """Every state change of the submission: who, when, from, to and why."""
    with uow:
        s = service.get_submission(uow, actor=actor, submission_id=submission_id)
        rows = history(uow.session, object_type=ObjectType.SUBMISSION, object_id=s.id)
        return [TransitionOut.model_validate(r) for r in rows]


@router.get("/submissions/{submission_id}/assignments", response_model=list[AssigneeOut])
def assignees(submission_id: str, actor: ActorDep, uow: UoWDep) -> list[AssigneeOut]:
    """Who is assigned to review the submission."""
    with uow:
        users = service.list_assignees(uow, actor=actor, submission_id=submission_id)
        return [AssigneeOut(user_id=u.id, email=u.email) for u in users]


@router.post(
    "/submissions/{submission_id}/assignments", response_model=AssigneeOut, status_code=201
)
def assign(submission_id: str, body: AssignIn, actor: ActorDep, uow: UoWDep) -> AssigneeOut:
    """A coordinator assigns a reviewer (need-to-know access to confidential content)."""
    with uow:
        a = service.assign_reviewer(
            uow, actor=actor, submission_id=submission_id, reviewer_id=body.reviewer_id
        )
        uow.commit()
        users = service.list_assignees(uow, actor=actor, submission_id=submission_id)
        email = next(u.email for u in users if u.id == a.user_id)
    return AssigneeOut(user_id=a.user_id, email=email)


@router.get("/submissions/{submission_id}/restricted-grants", response_model=list[AssigneeOut])
def restricted_grants(submission_id: str, actor: ActorDep, uow: UoWDep) -> list[AssigneeOut]:
    """The assigned reviewers named to read the submission's restricted fields."""
    with uow:
        users = grants.list_granted(uow, actor=actor, submission_id=submission_id)
        return [AssigneeOut(user_id=u.id, email=u.email) for u in users]


@router.post(
    "/submissions/{submission_id}/restricted-grants", response_model=AssigneeOut, status_code=201
)
def grant_restricted(
    submission_id: str, body: AssignIn, actor: ActorDep, uow: UoWDep
) -> AssigneeOut:
    """A coordinator names an assigned reviewer who may read the restricted fields."""
    with uow:
        g = grants.grant_restricted(
            uow, actor=actor, submission_id=submission_id, user_id=body.reviewer_id
        )
        uow.commit()
        users = service.list_assignees(uow, actor=actor, submission_id=submission_id)
        email = next(u.email for u in users if u.id == g.user_id)
    return AssigneeOut(user_id=g.user_id, email=email)


@router.delete(
    "/submissions/{submission_id}/restricted-grants/{user_id}", response_model=AssigneeOut
)
def revoke_restricted(
    submission_id: str, user_id: str, actor: ActorDep, uow: UoWDep
) -> AssigneeOut:
    """A coordinator revokes a reviewer's access to the restricted fields."""
    with uow:
        g = grants.revoke_restricted(uow, actor=actor, submission_id=submission_id, user_id=user_id)
        uow.commit()
        users = service.list_assignees(uow, actor=actor, submission_id=submission_id)
        email = next((u.email for u in users if u.id == g.user_id), "")
    return AssigneeOut(user_id=g.user_id, email=email)


@router.get("/queue", response_model=QueueOut)
def review_queue(
    actor: ActorDep,
    uow: UoWDep,
    state: Annotated[list[SubmissionState] | None, Query()] = None,
    org_id: Annotated[str | None, Query(max_length=64)] = None,
    mine: bool = False,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 25,
) -> QueueOut:
    """The agency's queue of submissions, filtered and paginated."""
    with uow:
        result = service.queue(
            uow,
            actor=actor,
            states=[s.value for s in state or []],
            org_id=org_id,
            assigned_to_me=mine,
            q=q,
            page=page,
            per_page=per_page,
        )
        return QueueOut(
            items=[
                QueueItemOut(
                    id=s.id,
                    title=s.title,
                    version=s.version,
                    state=s.state,
                    org_id=s.org_id,
                    firm=firm,
                    model=model,
                    updated_at=s.updated_at,
                )
                for s, firm, model in result.items
            ],
            total=result.total,
            page=result.page,
            per_page=result.per_page,
        )
