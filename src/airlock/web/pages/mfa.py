"""Pages: the second-factor step of signing in, and setting up the authenticator app."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.accounts import mfa, service, throttle
from airlock.accounts.models import User
from airlock.core.access import Actor
from airlock.core.errors import AirlockError, Conflict, InvalidInput
from airlock.core.uow import UnitOfWork
from airlock.vault import sealing
from airlock.web.deps import ActorDep, ContainerDep, UoWDep, client_address
from airlock.web.errors import error_headers
from airlock.web.pages.render import form_data, page, redirect
from airlock.web.pages.session import MFA_COOKIE, _safe_next, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/login/code")
def code_form(request: Request, uow: UoWDep, next: str = "/") -> Response:
    """Ask for the authenticator code after a right password."""
    with uow:
        try:
            mfa.challenge_for(uow, token=request.cookies.get(MFA_COOKIE, ""))
        except AirlockError:
            return redirect("/login")
        return page(request, "login_code.html", next=_safe_next(next), error="")


@router.post("/login/code")
async def code_answer(request: Request, uow: UoWDep, container: ContainerDep) -> Response:
    """Check the code (or a recovery code) and open the session."""
    data = await form_data(request)
    target = _safe_next(data.get("next", "/"))
    token = request.cookies.get(MFA_COOKIE, "")
    address = client_address(request)
    with uow:
        challenge = mfa.challenge_for(uow, token=token)
        user = uow.session.get(User, challenge.user_id)
        email = user.email if user is not None else ""
        try:
            throttle.check(uow, email=email, address=address)
            user_id = mfa.answer_challenge(
                uow, token=token, sealer=sealing, code=data.get("code", "")
            )
        except AirlockError as exc:
            if exc.status_code == 401:
                throttle.record_failure(uow, email=email, address=address)
            uow.commit()
            response = page(
                request,
                "login_code.html",
                status_code=exc.status_code,
                next=target,
                error=str(exc),
            )
            response.headers.update(error_headers(exc) or {})
            return response
        s = container.settings
        new = service.open_session(uow, user_id=user_id, hours=s.session_hours, method="password")
        uow.commit()
    return signed_in(target, new, s)


def _issuer(request: Request) -> str:
    return str(request.app.state.container.settings.agency_name or "Airlock")


def _mfa_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    *,
    codes: list[str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    enrolled = mfa.is_enrolled(uow, user_id=actor.user_id)
    pending = (
        None
        if enrolled
        else mfa.pending_enrolment(uow, actor=actor, sealer=sealing, issuer=_issuer(request))
    )
    return page(
        request,
        "mfa.html",
        status_code=status_code,
        enrolled=enrolled,
        pending=pending,
        codes=codes or [],
        recovery_left=mfa.recovery_codes_left(uow, user_id=actor.user_id),
        required=request.app.state.container.settings.mfa_required() and actor.is_agency,
        error=error,
    )


@router.get("/account/mfa")
def mfa_page(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The second factor: its state, or the set-up steps."""
    with uow:
        return _mfa_page(request, uow, actor)


@router.post("/account/mfa/start")
def mfa_start(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Make the secret to scan (kept, unconfirmed, until a code confirms it)."""
    with uow:
        mfa.start_enrolment(uow, actor=actor, sealer=sealing, issuer=_issuer(request))
        uow.commit()
    return redirect("/account/mfa")


@router.post("/account/mfa/confirm")
async def mfa_confirm(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Confirm the set-up with a code; the recovery codes are shown this once."""
    data = await form_data(request)
    with uow:
        try:
            codes = mfa.confirm_enrolment(
                uow, actor=actor, sealer=sealing, code=data.get("code", "")
            )
        except (InvalidInput, Conflict) as exc:
            return _mfa_page(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
        return _mfa_page(request, uow, actor, codes=codes)


@router.post("/account/mfa/recovery-codes")
async def mfa_recovery_codes(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Replace the recovery codes (proven by a current code); shown this once."""
    data = await form_data(request)
    with uow:
        try:
            codes = mfa.new_recovery_codes(
                uow, actor=actor, sealer=sealing, code=data.get("code", "")
            )
        except InvalidInput as exc:
            return _mfa_page(request, uow, actor, error=str(exc), status_code=exc.status_code)
        uow.commit()
        return _mfa_page(request, uow, actor, codes=codes)
