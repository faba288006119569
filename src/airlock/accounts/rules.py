"""Who may invite whom, and what a password must be; pure (roles live in core.roles)."""

from __future__ import annotations

from typing import Final

from airlock.core.roles import ROLES_BY_KIND, OrgKind, Role

# Who may invite whom: an admin invites into their own organisation only.
INVITERS: Final = {
    Role.DEVELOPER_ADMIN: ROLES_BY_KIND[OrgKind.DEVELOPER],
    Role.AGENCY_ADMIN: ROLES_BY_KIND[OrgKind.AGENCY],
}


def may_invite(inviter: Role, role: Role) -> bool:
    """Whether a member with role inviter may invite someone as role."""
    return role in INVITERS.get(inviter, frozenset())


MIN_PASSWORD_LENGTH: Final = 12


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > 1024:
        return "password must be at most 1024 characters long"
    if password.strip() != password or not password.strip():
        return "password must not start or end with spaces"
    return None


def invitation_link(base_url: str, token: str) -> str:
    """The link an invited person opens: the token rides in the fragment, which browsers never
    send, so it cannot reach a server's access log (the page's script posts it)."""
    return f"{base_url}/invitations#{token}"
