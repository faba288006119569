"""Roles and what each kind of organisation may hold; pure."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OrgKind(StrEnum):
    """A participating developer firm, or the agency running the program."""

    DEVELOPER = "developer"
    AGENCY = "agency"


class Role(StrEnum):
    """What a member may do inside their organisation."""

    DEVELOPER_ADMIN = "developer_admin"
    DEVELOPER_MEMBER = "developer_member"
    REVIEWER = "reviewer"
    COORDINATOR = "coordinator"
    AGENCY_ADMIN = "agency_admin"
    AUDITOR = "auditor"


ROLES_BY_KIND: Final = {
    OrgKind.DEVELOPER: frozenset({Role.DEVELOPER_ADMIN, Role.DEVELOPER_MEMBER}),
    OrgKind.AGENCY: frozenset({Role.REVIEWER, Role.COORDINATOR, Role.AGENCY_ADMIN, Role.AUDITOR}),
}

# Who may invite whom: an admin invites into their own organisation only.
INVITERS: Final = {
    Role.DEVELOPER_ADMIN: ROLES_BY_KIND[OrgKind.DEVELOPER],
    Role.AGENCY_ADMIN: ROLES_BY_KIND[OrgKind.AGENCY],
}


def role_fits_org(role: Role, kind: OrgKind) -> bool:
    """Whether a member of an organisation of this kind may hold this role."""
    return role in ROLES_BY_KIND[kind]


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
