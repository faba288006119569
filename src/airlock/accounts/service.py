"""Accounts: organisations, users, sign-in, sessions, API tokens and invitations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from airlock.accounts import rules, throttle
from airlock.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    User,
    WebSession,
)
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from airlock.core.roles import OrgKind, Role, role_fits_org
from airlock.core.secrets import hash_password, new_token, token_hash, verify_password
from airlock.core.uow import UnitOfWork


def _norm_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or " " in email:
        raise InvalidInput(f"email: not a valid address (got {email[:80]!r})")
    return email


def create_organisation(uow: UnitOfWork, *, name: str, kind: OrgKind) -> Organisation:
    """Register an organisation (a firm or the agency)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("name: must be 1 to 200 characters")
    if uow.session.scalars(select(Organisation).where(Organisation.name == name)).first():
        raise Conflict(f"an organisation named {name!r} already exists")
    org = Organisation(name=name, kind=kind, created_at=utcnow())
    uow.session.add(org)
    uow.flush()
    audit.append(
        uow.session,
        action="org.created",
        object_type="organisation",
        object_id=org.id,
        org_id=org.id,
        detail={"kind": str(kind)},
    )
    return org


def create_user(
    uow: UnitOfWork, *, org_id: str, email: str, password: str, role: Role, name: str = ""
) -> User:
    """Create a user with a password and a role in an organisation."""
    org = uow.session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    if not role_fits_org(role, OrgKind(org.kind)):
        raise InvalidInput(f"role: {role} is not a role in a {org.kind} organisation")
    problem = rules.password_problem(password)
    if problem:
        raise InvalidInput(f"password: {problem}")
    email = _norm_email(email)
    if uow.session.scalars(select(User).where(User.email == email)).first():
        raise Conflict(f"a user with email {email} already exists")
    user = User(email=email, name=name.strip()[:200], password_hash=hash_password(password))
    uow.session.add(user)
    uow.flush()
    uow.session.add(Membership(user_id=user.id, org_id=org.id, role=role))
    uow.flush()
    audit.append(
        uow.session,
        action="user.created",
        object_type="user",
        object_id=user.id,
        org_id=org.id,
        detail={"role": str(role)},
    )
    return user


def actor_for(uow: UnitOfWork, *, user_id: str) -> Actor:
    """The Actor of an active user with a membership."""
    user = uow.session.get(User, user_id)
    if user is None or not user.active or user.membership is None:
        raise Unauthenticated("your account is not active")
    m = user.membership
    return Actor(
        user_id=user.id,
        email=user.email,
        org_id=m.org_id,
        org_kind=OrgKind(m.org.kind),
        role=Role(m.role),
    )


def authenticate(uow: UnitOfWork, *, email: str, password: str, address: str) -> User:
    """Check a password, throttled by (account, address) and by address (never a lockout)."""
    email = email.strip().lower()[:320]
    throttle.check(uow, email=email, address=address)
    user = uow.session.scalars(select(User).where(User.email == email)).first()
    ok = verify_password(user.password_hash if user else "", password)
    if user is None or not ok or not user.active:
        throttle.record_failure(uow, email=email, address=address)
        audit.append(uow.session, action="auth.failed", actor_label=email)
        raise Unauthenticated("wrong email or password")
    throttle.record_success(uow, email=email, address=address)
    return user


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value is shown only here."""

    cookie: str
    csrf_token: str
    session: WebSession


def open_session(uow: UnitOfWork, *, user_id: str, hours: int, method: str) -> NewSession:
    """Open a browser session for a user who proved who they are (password and any second
    factor, or single sign-on)."""
    actor = actor_for(uow, user_id=user_id)
    cookie = new_token()
    ws = WebSession(
        token_hash=token_hash(cookie),
        user_id=user_id,
        csrf_token=new_token(),
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=hours),
        auth_method=method,
    )
    uow.session.add(ws)
    audit.append(
        uow.session,
        action="auth.signed_in",
        actor_user_id=user_id,
        actor_label=actor.label,
        org_id=actor.org_id,
        detail={"method": method},
    )
    return NewSession(cookie=cookie, csrf_token=ws.csrf_token, session=ws)


def session_for_cookie(uow: UnitOfWork, *, cookie: str) -> WebSession:
    """The live session behind a cookie value."""
    ws = uow.session.scalars(
        select(WebSession).where(WebSession.token_hash == token_hash(cookie))
    ).first()
    if ws is None or ws.revoked_at is not None or ws.expires_at <= utcnow():
        raise Unauthenticated("your session has expired; sign in again")
    return ws


def sign_out(uow: UnitOfWork, *, cookie: str) -> None:
    """Revoke the session behind a cookie."""
    ws = uow.session.scalars(
        select(WebSession).where(WebSession.token_hash == token_hash(cookie))
    ).first()
    if ws is not None and ws.revoked_at is None:
        ws.revoked_at = utcnow()
        audit.append(uow.session, action="auth.signed_out", actor_user_id=ws.user_id)


@dataclass(frozen=True)
class NewToken:
    """A token just created; its secret value is shown only here."""

    secret: str
    token: ApiToken


TOKEN_PREFIX = "alk_"  # noqa: S105 - a public marker, not a secret


def create_api_token(
    uow: UnitOfWork,
    *,
    actor: Actor,
    name: str,
    days: int | None = None,
    scopes: frozenset[str] = rules.ALL_SCOPES,
    unique_name: bool = False,
) -> NewToken:
    """Create an API token carrying the actor's rights within scopes, expiring after days
    (default: the api_token_days setting); with unique_name, refuse a second active token of
    the same name (a re-sent form must not mint a token nobody saw)."""
    if days is None:
        days = uow.services.settings.api_token_days
    if not 1 <= days <= 366:
        raise InvalidInput("days: must be 1 to 366")
    if not scopes or not scopes <= rules.ALL_SCOPES:
        raise InvalidInput(f"scopes: choose one or more of {', '.join(rules.SCOPES)}")
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("name: must be 1 to 120 characters")
    if (
        unique_name
        and uow.session.scalars(
            select(ApiToken).where(
                ApiToken.user_id == actor.user_id,
                ApiToken.name == name,
                ApiToken.revoked_at.is_(None),
            )
        ).first()
    ):
        raise Conflict(
            f"name: you already have an active token named {name!r}; revoke it or "
            "choose another name"
        )
    secret = new_token(TOKEN_PREFIX)
    tok = ApiToken(
        user_id=actor.user_id,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=token_hash(secret),
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days),
        scopes=rules.scopes_text(scopes),
    )
    uow.session.add(tok)
    uow.flush()
    audit.append(
        uow.session,
        actor=actor,
        action="token.created",
        object_type="api_token",
        object_id=tok.id,
        org_id=actor.org_id,
        detail={"scopes": tok.scopes, "days": days},
    )
    return NewToken(secret=secret, token=tok)


def list_api_tokens(uow: UnitOfWork, *, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens (their secrets are never shown again)."""
    return list(
        uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.created_at)
        )
    )


def revoke_api_token(uow: UnitOfWork, *, actor: Actor, token_id: str) -> ApiToken:
    """Revoke one of the actor's own tokens."""
    tok = uow.session.get(ApiToken, token_id)
    if tok is None or tok.user_id != actor.user_id:
        raise NotFound("token not found")
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        audit.append(
            uow.session,
            actor=actor,
            action="token.revoked",
            object_type="api_token",
            object_id=tok.id,
            org_id=actor.org_id,
        )
    return tok


@dataclass(frozen=True)
class TokenGrant:
    """Who a live API token acts for and what it may do."""

    user_id: str
    scopes: frozenset[str]


def user_for_token(uow: UnitOfWork, *, secret: str) -> TokenGrant:
    """The user and scopes behind a live API token; records when it was last used (to the
    minute, so most requests write nothing)."""
    tok = uow.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash(secret))
    ).first()
    now = utcnow()
    if tok is None or tok.revoked_at is not None:
        raise Unauthenticated("the API token is not valid (unknown or revoked)")
    if tok.expires_at is not None and tok.expires_at <= now:
        raise Unauthenticated(
            f"the API token expired on {tok.expires_at:%Y-%m-%d %H:%M} UTC; create a new one"
        )
    if rules.token_use_worth_recording(tok.last_used_at, now):
        tok.last_used_at = now
    return TokenGrant(user_id=tok.user_id, scopes=rules.parse_scopes(tok.scopes))


def require_scope(grant: TokenGrant | None, *, method: str, actor: Actor) -> None:
    """Refuse a request the token's scopes do not cover (sessions carry every scope)."""
    if grant is None:
        return
    needed = rules.scope_needed(method=method, agency=actor.is_agency)
    if needed not in grant.scopes:
        raise Forbidden(
            f"this API token lacks the {needed!r} scope (it has: "
            f"{rules.scopes_text(grant.scopes) or 'none'})"
        )


@dataclass(frozen=True)
class NewInvitation:
    """An invitation just made; the link's token is shown only here."""

    token: str
    invitation: Invitation


def invite(uow: UnitOfWork, *, actor: Actor, email: str, role: Role, days: int) -> NewInvitation:
    """Invite an email address to a role in the actor's organisation."""
    authorize(actor, "members.manage")
    if not rules.may_invite(actor.role, role):
        raise InvalidInput(f"role: a {actor.role} cannot invite a {role}")
    email = _norm_email(email)
    if uow.session.scalars(select(User).where(User.email == email)).first():
        raise Conflict(f"{email} already has an account")
    pending = select(Invitation).where(
        Invitation.org_id == actor.org_id,
        Invitation.email == email,
        Invitation.accepted_at.is_(None),
        Invitation.expires_at > utcnow(),
    )
    if uow.session.scalars(pending).first():
        raise Conflict(f"{email} is already invited; renew or revoke that invitation instead")
    secret = new_token()
    inv = Invitation(
        org_id=actor.org_id,
        email=email,
        role=role,
        token_hash=token_hash(secret),
        invited_by=actor.user_id,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days),
    )
    uow.session.add(inv)
    uow.flush()
    audit.append(
        uow.session,
        actor=actor,
        action="invitation.created",
        object_type="invitation",
        object_id=inv.id,
        org_id=actor.org_id,
        detail={"role": str(role)},
    )
    return NewInvitation(token=secret, invitation=inv)


def invitation_for_token(uow: UnitOfWork, *, token: str) -> Invitation:
    """The open invitation behind a link token."""
    inv = uow.session.scalars(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).first()
    if inv is None or inv.accepted_at is not None:
        raise NotFound("this invitation link is not valid or was already used")
    if inv.expires_at <= utcnow():
        raise NotFound("this invitation link has expired; ask for a new one")
    return inv


def accept_invitation(uow: UnitOfWork, *, token: str, password: str, name: str = "") -> User:
    """Create the invited user with the chosen password."""
    inv = invitation_for_token(uow, token=token)
    user = create_user(
        uow,
        org_id=inv.org_id,
        email=inv.email,
        password=password,
        role=Role(inv.role),
        name=name,
    )
    inv.accepted_at = utcnow()
    return user


def list_members(uow: UnitOfWork, *, actor: Actor) -> list[Membership]:
    """The members of the actor's organisation."""
    authorize(actor, "org.read")
    return list(
        uow.session.scalars(
            select(Membership)
            .where(Membership.org_id == actor.org_id)
            .order_by(Membership.created_at)
        )
    )


def organisation_name(uow: UnitOfWork, *, org_id: str) -> str:
    """The name of an organisation ("" if there is none), for page headers."""
    org = uow.session.get(Organisation, org_id)
    return org.name if org is not None else ""


def users_with_role(uow: UnitOfWork, *, org_id: str, roles: set[Role]) -> list[User]:
    """Users of an organisation holding one of the roles."""
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id, Membership.role.in_([str(r) for r in roles]))
        .order_by(User.email)
    )
    return list(uow.session.scalars(stmt).unique())


def close_organisation(uow: UnitOfWork, *, org_id: str) -> dict[str, int]:
    """Shut a firm out for good (on withdrawal): disable its accounts, revoke every session
    and API token, and expire its open invitations. Rows stay, as non-confidential records."""
    now = utcnow()
    user_ids = list(
        uow.session.scalars(select(Membership.user_id).where(Membership.org_id == org_id))
    )
    users = list(uow.session.scalars(select(User).where(User.id.in_(user_ids)))) if user_ids else []
    for user in users:
        user.active = False
    sessions = list(
        uow.session.scalars(
            select(WebSession).where(
                WebSession.user_id.in_(user_ids), WebSession.revoked_at.is_(None)
            )
        )
    )
    for ws in sessions:
        ws.revoked_at = now
    tokens = list(
        uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id.in_(user_ids), ApiToken.revoked_at.is_(None))
        )
    )
    for tok in tokens:
        tok.revoked_at = now
    invitations = list(
        uow.session.scalars(
            select(Invitation).where(
                Invitation.org_id == org_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
        )
    )
    for inv in invitations:
        inv.expires_at = now
    report = {
        "accounts_disabled": len(users),
        "sessions_revoked": len(sessions),
        "tokens_revoked": len(tokens),
        "invitations_closed": len(invitations),
    }
    audit.append(
        uow.session,
        action="organisation.closed",
        actor_label="system",
        object_type="organisation",
        object_id=org_id,
        org_id=org_id,
        detail=report,
    )
    return report
