"""Developer portal pages: dashboard, enrollment, models, the submission editor."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.cases import todo
from airlock.core import safejson
from airlock.core.access import Actor
from airlock.core.errors import Conflict, Forbidden, InvalidInput
from airlock.core.uow import UnitOfWork
from airlock.enrollment import rules as enrollment_rules
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import FirmMove
from airlock.submissions import rules as submission_rules
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState
from airlock.web.deps import ActorDep, ContainerDep, UoWDep
from airlock.web.pages import dossier_editor, dossier_post, dossier_view, once, submission_page
from airlock.web.pages.render import form_data, form_lists, page, redirect

router = APIRouter(prefix="/portal", include_in_schema=False)


def _firm(actor: Actor) -> Actor:
    if actor.is_agency:
        raise Forbidden("the developer portal is for participating firms")
    return actor


def _dashboard(
    request: Request, uow: UnitOfWork, actor: Actor, *, error: str = "", status_code: int = 200
) -> Response:
    p = enrollment.get_participation(uow, actor=actor, org_id=actor.org_id)
    subs = submissions.list_for_firm(uow, actor=actor)
    by_state = {s.value: 0 for s in SubmissionState}
    for sub in subs:
        by_state[sub.state] = by_state.get(sub.state, 0) + 1
    state = enrollment_rules.ParticipationState(p.state)
    return page(
        request,
        "portal/dashboard.html",
        participation=p,
        models=submissions.list_models(uow, actor=actor),
        submissions=subs,
        by_state={k: n for k, n in by_state.items() if n},
        todo=todo.firm_todo(uow, actor=actor),
        # what the firm's participation state lets it do (enrollment.rules.MOVES_BY_STATE)
        may={m.value: enrollment_rules.may(state, m) for m in FirmMove},
        scopes=[s.value for s in enrollment_rules.Scope],
        agreement=enrollment_rules.CURRENT_AGREEMENT,
        status_code=status_code,
        error=error,
    )


@router.get("")
def dashboard(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The firm's dashboard: participation, models and submissions."""
    with uow:
        return _dashboard(request, uow, _firm(actor))


@router.post("/enroll")
async def enroll(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Sign the agreement with the chosen scopes."""
    data = await form_lists(request)
    with uow:
        try:
            enrollment.enroll(
                uow,
                actor=_firm(actor),
                agreement_version=(data.get("agreement_version") or [""])[0],
                scopes=data.get("scopes", []),
            )
        except InvalidInput as exc:
            return _dashboard(request, uow, actor, error=str(exc), status_code=422)
        uow.commit()
    return redirect("/portal", done="enrolled")


@router.post("/public-name")
async def public_name(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Say whether the public site may name the firm as a participant."""
    data = await form_data(request)
    with uow:
        enrollment.set_public_name_consent(
            uow, actor=_firm(actor), consent=data.get("consent") == "yes"
        )
        uow.commit()
    return redirect("/portal", done="public_name_saved")


@router.post("/withdraw")
async def withdraw(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Withdraw from the program (asks for an explicit confirmation)."""
    data = await form_data(request)
    with uow:
        if data.get("confirm") != "WITHDRAW":
            return _dashboard(
                request,
                uow,
                _firm(actor),
                status_code=422,
                error="type WITHDRAW to confirm the withdrawal",
            )
        enrollment.withdraw(uow, actor=actor, reason=data.get("reason", ""))
        uow.commit()
    return redirect("/portal", done="withdrawn")


@router.post("/models")
async def register_model(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Register a model."""
    data = await form_data(request)
    with uow:
        again = once.replay(uow, data, actor, "model")
        if again is not None:
            return again
        try:
            submissions.register_model(
                uow,
                actor=_firm(actor),
                name=data.get("name", ""),
                description=data.get("description", ""),
            )
        except (InvalidInput, Conflict) as exc:
            return _dashboard(request, uow, actor, error=str(exc), status_code=exc.status_code)
        once.record(uow, data, actor, "model", "/portal")
        uow.commit()
    return redirect("/portal", done="model_registered")


@router.get("/submissions/new")
def new_submission_form(
    request: Request, actor: ActorDep, uow: UoWDep, fixes: str = ""
) -> Response:
    """The form that drafts a submission (with ?fixes=ID: a fixed version of that one)."""
    with uow:
        actor = _firm(actor)
        p = enrollment.get_participation(uow, actor=actor, org_id=actor.org_id)
        fixed = (
            submissions.get_submission(uow, actor=actor, submission_id=fixes[:64])
            if fixes
            else None
        )
        return page(
            request,
            "portal/new_submission.html",
            models=submissions.list_models(uow, actor=actor),
            scopes=list(p.scopes),
            error="",
            fixes=fixed,
            why_not=enrollment_rules.why_not(
                enrollment_rules.ParticipationState(p.state), FirmMove.DRAFT
            ),
        )


@router.post("/submissions")
async def create_submission(
    request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """Draft a submission, then open its editor."""
    data = await form_lists(request)
    first = {k: v[0] for k, v in data.items()}
    with uow:
        actor = _firm(actor)
        again = once.replay(uow, data, actor, "submission")
        if again is not None:
            return again
        twin = submissions.existing_draft(
            uow,
            actor=actor,
            model_id=first.get("model_id", ""),
            title=first.get("title", ""),
            version=first.get("version", ""),
        )
        if twin is not None:  # the same draft asked for again: open the draft it made
            return redirect(f"/portal/submissions/{twin.id}/dossier/A", done="submission_created")
        try:
            sub = submissions.create_submission(
                uow,
                actor=actor,
                model_id=first.get("model_id", ""),
                title=first.get("title", ""),
                version=first.get("version", ""),
                carries=data.get("carries", []),
                max_dossier_bytes=container.settings.max_dossier_bytes,
                fixes_submission_id=first.get("fixes_submission_id") or None,
            )
        except (InvalidInput, Forbidden) as exc:
            p = enrollment.get_participation(uow, actor=actor, org_id=actor.org_id)
            return page(
                request,
                "portal/new_submission.html",
                status_code=exc.status_code,
                models=submissions.list_models(uow, actor=actor),
                scopes=list(p.scopes),
                error=str(exc),
                fixes=None,
                why_not="",
            )
        editor = f"/portal/submissions/{sub.id}/dossier/A"
        once.record(uow, data, actor, "submission", editor)
        uow.commit()
        return redirect(editor, done="submission_created")


def _editor(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    submission_id: str,
    *,
    max_dossier_bytes: int,
    doc: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    # the submission page's header and tabs; this editor is its Dossier tab
    tab = submission_page.context(uow, actor=actor, submission_id=submission_id, tab="dossier")
    sub = tab["sub"]
    p = enrollment.get_participation(uow, actor=actor, org_id=actor.org_id)
    doc = doc if doc is not None else submissions.stored_dossier(uow, sub=sub)
    return page(
        request,
        "portal/submission.html",
        status_code=status_code,
        dossier_status=dossier_editor.status_for(
            uow, actor=actor, sub=sub, max_bytes=max_dossier_bytes
        ),
        errors=errors or [],
        message=message,
        # enrollment.rules.MOVES_BY_STATE: no Save or Submit a suspended firm could not use
        editable=submission_rules.is_editable(SubmissionState(sub.state))
        and enrollment.firm_allows(uow, org_id=sub.org_id, move=FirmMove.EDIT),
        scopes=list(p.scopes),
        raw_json=json.dumps(doc, indent=2),
        **tab,
        sections=dossier_view.sections(doc),
    )


@router.get("/submissions/{submission_id}")
def submission_editor(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """The submission page: status, where the dossier stands (its editor), history."""
    with uow:
        response = _editor(
            request,
            uow,
            _firm(actor),
            submission_id,
            max_dossier_bytes=container.settings.max_dossier_bytes,
        )
        uow.commit()
        return response


@router.post("/submissions/{submission_id}")
async def save_submission(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """Save the dossier form (or the raw JSON), then submit if asked to."""
    data = await form_lists(request)
    first = {k: v[0] for k, v in data.items()}
    with uow:
        actor = _firm(actor)
        try:
            if first.get("mode") == "json":
                doc = safejson.loads(first.get("raw_json", "") or "{}", where="raw_json")
                if not isinstance(doc, dict):
                    raise InvalidInput("dossier: must be a JSON object")
            else:
                doc = dossier_post.parse_form(first)
        except safejson.JSONRefused as exc:
            return _editor(
                request,
                uow,
                actor,
                submission_id,
                max_dossier_bytes=container.settings.max_dossier_bytes,
                status_code=422,
                message=f"the JSON is not valid: {exc.message.removeprefix('is not valid JSON: ')}"
                if exc.rule == "json"
                else str(exc),
            )
        try:
            submissions.update_submission(
                uow,
                actor=actor,
                submission_id=submission_id,
                title=first.get("title"),
                version=first.get("version"),
                carries=data.get("carries", []),
                dossier=doc,
                max_dossier_bytes=container.settings.max_dossier_bytes,
            )
            if first.get("action") == "submit":
                submissions.transition(
                    uow, actor=actor, submission_id=submission_id, target=SubmissionState.SUBMITTED
                )
        except InvalidInput as exc:
            uow.session.rollback()
            return _editor(
                request,
                uow,
                actor,
                submission_id,
                max_dossier_bytes=container.settings.max_dossier_bytes,
                doc=doc,
                errors=exc.errors,
                message=str(exc),
                status_code=422,
            )
        uow.commit()
    return redirect(
        f"/portal/submissions/{submission_id}",
        done="submitted" if first.get("action") == "submit" else "saved",
    )
