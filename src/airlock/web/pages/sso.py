"""Pages: single sign-on for agency staff through OpenID Connect."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from airlock.accounts import service, sso
from airlock.core.errors import AirlockError
from airlock.web.deps import ContainerDep, UoWDep
from airlock.web.pages.render import form_data, page
from airlock.web.pages.session import _safe_next, signed_in

router = APIRouter(include_in_schema=False)

SSO_COOKIE = "airlock_sso"
CALLBACK = "/login/sso/callback"


def _refused(request: Request, message: str, status_code: int) -> Response:
    settings = request.app.state.container.settings
    return page(
        request,
        "login.html",
        status_code=status_code,
        next="/",
        error=f"Single sign-on: {message}",
        email="",
        sso_label=settings.oidc_label if settings.oidc_enabled() else "",
    )


@router.post("/login/sso")
async def sso_start(request: Request, uow: UoWDep, container: ContainerDep) -> Response:
    """Send the browser to the identity provider (state, nonce and PKCE recorded)."""
    data = await form_data(request)
    settings = container.settings
    try:
        provider = sso.provider(settings)
    except AirlockError as exc:
        return _refused(request, str(exc), exc.status_code)
    with uow:
        started = sso.begin(
            uow,
            p=provider,
            redirect_uri=settings.base_url.rstrip("/") + CALLBACK,
            next_path=_safe_next(data.get("next", "/")),
        )
        uow.commit()
    response = RedirectResponse(started.url, status_code=303)
    # Lax: the provider's redirect back is a top-level GET, which carries it.
    response.set_cookie(
        SSO_COOKIE,
        started.state,
        max_age=sso.LOGIN_MINUTES * 60,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path=CALLBACK,
    )
    return response


@router.get(CALLBACK)
def sso_callback(
    request: Request,
    uow: UoWDep,
    container: ContainerDep,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    """Complete the sign-in the provider sent back, and open a session."""
    settings = container.settings
    if error:
        return _refused(request, f"the provider refused ({error[:80]})", 401)
    with uow:
        try:
            user, target = sso.finish(
                uow,
                settings=settings,
                redirect_uri=settings.base_url.rstrip("/") + CALLBACK,
                state=state[:200],
                browser_state=request.cookies.get(SSO_COOKIE, "")[:200],
                code=code[:2000],
            )
        except AirlockError as exc:
            uow.commit()  # the spent state and the refusal's audit row
            return _refused(request, str(exc), exc.status_code)
        new = service.open_session(uow, user_id=user.id, hours=settings.session_hours, method="sso")
        uow.commit()
    response = signed_in(_safe_next(target), new, settings)
    response.delete_cookie(SSO_COOKIE, path=CALLBACK)
    return response
