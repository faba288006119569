"""Who may do what, in one place, deny by default.

Every route and service asks `authorize`; a developer asking about another firm's object gets
NotFound (the object's existence is not confirmed), a role that may see the object but not act
on it gets Forbidden. Confidential content needs `may_read_confidential`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from airlock.core.errors import Forbidden, NotFound
from airlock.core.roles import OrgKind, Role


@dataclass(frozen=True)
class Actor:
    """The signed-in user a request or command acts for."""

    user_id: str
    email: str
    org_id: str
    org_kind: OrgKind
    role: Role

    @property
    def label(self) -> str:
        """How the actor is named in the audit trail."""
        return f"{self.email} ({self.role})"

    @property
    def is_agency(self) -> bool:
        """Whether the actor works for the agency."""
        return self.org_kind == OrgKind.AGENCY


FIRM = frozenset({Role.DEVELOPER_ADMIN, Role.DEVELOPER_MEMBER})
FIRM_ADMIN = frozenset({Role.DEVELOPER_ADMIN})
STAFF = frozenset({Role.REVIEWER, Role.COORDINATOR, Role.AGENCY_ADMIN})
TRIAGE = frozenset({Role.COORDINATOR, Role.AGENCY_ADMIN})

# action -> roles allowed. Firm roles act only on their own organisation's objects.
POLICY: Final[dict[str, frozenset[Role]]] = {
    "org.read": FIRM | STAFF | {Role.AUDITOR},
    "participation.manage": FIRM_ADMIN,
    "participation.read": FIRM | STAFF,
    "participation.set_state": TRIAGE,
    "members.manage": FIRM_ADMIN | {Role.AGENCY_ADMIN},
    "model.create": FIRM,
    "model.read": FIRM | STAFF,
    "submission.create": FIRM,
    "submission.edit": FIRM,
    "submission.submit": FIRM_ADMIN,
    "submission.read": FIRM | STAFF,
    "queue.read": STAFF,
    "submission.triage": TRIAGE,
    "submission.assign": TRIAGE,
    "submission.review": frozenset({Role.REVIEWER, Role.COORDINATOR}),
    "submission.close": TRIAGE,
    "artifact.upload": FIRM,
    "artifact.read": FIRM | STAFF,
    "audit.read": frozenset({Role.AUDITOR, Role.AGENCY_ADMIN}),
    "orgs.list": STAFF | {Role.AUDITOR},
    "scanner.manage": frozenset({Role.AGENCY_ADMIN}),
    "coverage.manage": TRIAGE,
    # Findings: reviewers triage and verify (when assigned), the firm responds once notified,
    # coordinators alone accept a risk; admins edit the sign-off policy and read metrics.
    "finding.read": FIRM | STAFF,
    "finding.triage": frozenset({Role.REVIEWER, Role.COORDINATOR}),
    "finding.notify": frozenset({Role.REVIEWER, Role.COORDINATOR}),
    "finding.respond": FIRM,
    "finding.verify": frozenset({Role.REVIEWER, Role.COORDINATOR}),
    "finding.accept_risk": frozenset({Role.COORDINATOR}),
    "finding.close": frozenset({Role.REVIEWER, Role.COORDINATOR}),
    "review.signoff": frozenset({Role.REVIEWER, Role.COORDINATOR}),
    "signoff_policy.manage": frozenset({Role.AGENCY_ADMIN}),
    "metrics.read": frozenset({Role.COORDINATOR, Role.AGENCY_ADMIN}),
    # cases: reading a case also needs tenancy or participation (cases.service.get_case)
    "case.open": TRIAGE,
    "case.read": FIRM | STAFF,
    "case.manage": TRIAGE,
    "case.message": FIRM | STAFF,
    "case.consent": FIRM_ADMIN,
    "deadline.policy": frozenset({Role.AGENCY_ADMIN}),
    "deadline.extend": FIRM,
    "deadline.decide": TRIAGE,
    "webhook.manage": FIRM_ADMIN,
    "advisory.read": TRIAGE,
    "advisory.write": TRIAGE,
    # The transparency report: coordinators preview snapshots, agency admins build and publish.
    "report.read": TRIAGE,
    "report.manage": frozenset({Role.AGENCY_ADMIN}),
}


def authorize(actor: Actor | None, action: str, *, org_id: str | None = None) -> None:
    """Raise unless actor may do action (on an object owned by org_id, if given)."""
    if actor is None:
        raise NotFound("not found")
    allowed = POLICY.get(action)
    if allowed is None:
        raise Forbidden(f"unknown action {action!r}")
    if org_id is not None and not actor.is_agency and actor.org_id != org_id:
        raise NotFound("not found")
    if actor.role not in allowed:
        raise Forbidden(f"your role ({actor.role}) may not do this ({action})")


def allowed(actor: Actor | None, action: str, *, org_id: str | None = None) -> bool:
    """Whether authorize would let actor do action."""
    try:
        authorize(actor, action, org_id=org_id)
    except (NotFound, Forbidden):
        return False
    return True


def may_read_confidential(
    actor: Actor | None, *, org_id: str, assigned_user_ids: Collection[str]
) -> bool:
    """The owning firm, or a reviewer/coordinator assigned to the submission: need-to-know."""
    if actor is None:
        return False
    if actor.org_kind == OrgKind.DEVELOPER:
        return actor.org_id == org_id
    return actor.role in {Role.REVIEWER, Role.COORDINATOR} and actor.user_id in assigned_user_ids
