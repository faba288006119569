"""People and access: pending invitations (list, renew, revoke), a member's role and
deactivation, and a user's own password. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from airlock.accounts import rules
from airlock.accounts.models import ApiToken, Invitation, Membership, User, WebSession
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from airlock.core.roles import Role
from airlock.core.secrets import hash_password, new_token, token_hash, verify_password
from airlock.core.uow import UnitOfWork

# Roles that may manage their organisation's members; one of them must stay active.
ADMINS = frozenset({Role.DEVELOPER_ADMIN, Role.AGENCY_ADMIN})


def pending_invitations(uow: UnitOfWork, *, actor: Actor) -> list[Invitation]:
    """The organisation's invitations not yet accepted (expired ones included, newest first)."""
    authorize(actor, "members.manage")
    return list(
        uow.session.scalars(
            select(Invitation)
            .where(Invitation.org_id == actor.org_id, Invitation.accepted_at.is_(None))
            .order_by(Invitation.created_at.desc())
        )
    )


def open_invitation_for(uow: UnitOfWork, *, org_id: str, email: str) -> Invitation | None:
    """An unexpired, unaccepted invitation of this email into this organisation."""
    return uow.session.scalars(
        select(Invitation).where(
            Invitation.org_id == org_id,
            Invitation.email == email.strip().lower(),
            Invitation.accepted_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ).first()


def _invitation(uow: UnitOfWork, actor: Actor, invitation_id: str) -> Invitation:
    authorize(actor, "members.manage")
    inv = uow.session.get(Invitation, invitation_id)
    if inv is None or inv.org_id != actor.org_id or inv.accepted_at is not None:
        raise NotFound("invitation not found or already accepted")
    return inv


@dataclass(frozen=True)
class RenewedInvitation:
    """An invitation with a new link; the token is shown only here."""

    token: str
    invitation: Invitation


def renew_invitation(
    uow: UnitOfWork, *, actor: Actor, invitation_id: str, days: int
) -> RenewedInvitation:
    """Give an invitation a fresh link and expiry (to send again); the old link stops working."""
    inv = _invitation(uow, actor, invitation_id)
    secret = new_token()
    inv.token_hash = token_hash(secret)
    inv.expires_at = utcnow() + timedelta(days=days)
    audit.append(
        uow.session,
        actor=actor,
        action="invitation.renewed",
        object_type="invitation",
        object_id=inv.id,
        org_id=actor.org_id,
    )
    return RenewedInvitation(token=secret, invitation=inv)


def revoke_invitation(uow: UnitOfWork, *, actor: Actor, invitation_id: str) -> Invitation:
    """Make an invitation's link stop working now."""
    inv = _invitation(uow, actor, invitation_id)
    if inv.expires_at > utcnow():
        inv.expires_at = utcnow()
        audit.append(
            uow.session,
            actor=actor,
            action="invitation.revoked",
            object_type="invitation",
            object_id=inv.id,
            org_id=actor.org_id,
        )
    return inv


def _member(uow: UnitOfWork, actor: Actor, user_id: str) -> Membership:
    authorize(actor, "members.manage")
    m = uow.session.scalars(select(Membership).where(Membership.user_id == user_id)).first()
    if m is None or m.org_id != actor.org_id:
        raise NotFound("member not found")
    if m.user_id == actor.user_id:
        raise Forbidden("you cannot change your own role or deactivate yourself")
    return m


def _check_an_admin_remains(uow: UnitOfWork, m: Membership) -> None:
    # The acting admin always remains today (nobody changes themselves); this guards callers
    # that act for no member, such as a future command line.
    if Role(m.role) not in ADMINS:
        return
    others = uow.session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.org_id == m.org_id,
            Membership.role == m.role,
            Membership.user_id != m.user_id,
            User.active.is_(True),
        )
    ).first()
    if others is None:
        raise Conflict(f"the organisation needs at least one active {m.role}")


def change_role(uow: UnitOfWork, *, actor: Actor, user_id: str, role: Role) -> Membership:
    """Give a member of the actor's organisation another role of that organisation."""
    m = _member(uow, actor, user_id)
    if not rules.may_invite(actor.role, role):
        raise InvalidInput(f"role: a {actor.role} cannot give the role {role}")
    if m.role == role:
        return m
    _check_an_admin_remains(uow, m)
    before = m.role
    m.role = role
    audit.append(
        uow.session,
        actor=actor,
        action="member.role_changed",
        object_type="user",
        object_id=m.user_id,
        org_id=actor.org_id,
        detail={"from": before, "to": str(role)},
    )
    return m


def deactivate_member(uow: UnitOfWork, *, actor: Actor, user_id: str, reason: str = "") -> User:
    """Stop a member signing in: their sessions and API tokens end at once."""
    m = _member(uow, actor, user_id)
    user = m.user
    if not user.active:
        return user
    _check_an_admin_remains(uow, m)
    now = utcnow()
    user.active = False
    uow.session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    uow.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.append(
        uow.session,
        actor=actor,
        action="member.deactivated",
        object_type="user",
        object_id=user.id,
        org_id=actor.org_id,
        detail={"reason": reason.strip()[:500]} if reason.strip() else None,
    )
    return user


def change_password(
    uow: UnitOfWork, *, actor: Actor, current: str, new: str, keep_session: str = ""
) -> User:
    """Change the actor's own password; every other session of theirs ends."""
    user = uow.session.get(User, actor.user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise Unauthenticated("current password: it is not your current password")
    problem = rules.password_problem(new)
    if problem:
        raise InvalidInput(f"new password: {problem}")
    if verify_password(user.password_hash, new):
        raise InvalidInput("new password: it is the same as the current one")
    user.password_hash = hash_password(new)
    stmt = update(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
    if keep_session:
        stmt = stmt.where(WebSession.token_hash != token_hash(keep_session))
    uow.session.execute(stmt.values(revoked_at=utcnow()))
    audit.append(
        uow.session,
        actor=actor,
        action="auth.password_changed",
        object_type="user",
        object_id=user.id,
        org_id=actor.org_id,
    )
    return user
