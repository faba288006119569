"""Organisation kinds and roles: what the access policy and every stage decide with; pure."""

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


def kind_for_role(role: Role) -> OrgKind:
    """The kind of organisation a member with this role belongs to."""
    return next(kind for kind, roles in ROLES_BY_KIND.items() if role in roles)


def role_fits_org(role: Role, kind: OrgKind) -> bool:
    """Whether a member of an organisation of this kind may hold this role."""
    return role in ROLES_BY_KIND[kind]
