"""Enrollment: inviting firms, signing the agreement, scopes, suspension and withdrawal."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from airlock.accounts import service as accounts
from airlock.accounts.models import Organisation
from airlock.core import audit, events
from airlock.core.access import Actor, allowed, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from airlock.core.roles import OrgKind
from airlock.core.transitions import ObjectType, record_change, record_transition
from airlock.core.uow import UnitOfWork
from airlock.enrollment import rules
from airlock.enrollment.models import Participation
from airlock.enrollment.rules import ParticipationState as PS
from airlock.enrollment.rules import Scope

WITHDRAWN_EVENT = "participation.withdrawn"


def _move(
    uow: UnitOfWork, p: Participation, target: PS, *, actor: Actor | None, reason: str
) -> None:
    current = PS(p.state)
    rules.check_transition(current, target)
    p.state = target
    p.updated_at = utcnow()
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.PARTICIPATION,
        object_id=p.id,
        org_id=p.org_id,
        from_state=current,
        to_state=target,
        reason=reason,
    )


def create_organisation(uow: UnitOfWork, *, name: str, kind: OrgKind) -> Organisation:
    """Create an organisation; a developer firm gets its participation, in the invited state."""
    org = accounts.create_organisation(uow, name=name, kind=kind)
    if kind == OrgKind.DEVELOPER:
        open_participation(uow, org_id=org.id)
    return org


def open_participation(uow: UnitOfWork, *, org_id: str) -> Participation:
    """Start a firm's participation in the invited state."""
    org = uow.session.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.DEVELOPER:
        raise NotFound("firm not found")
    p = Participation(org_id=org_id, state=PS.INVITED, scopes=[], invited_at=utcnow())
    uow.session.add(p)
    uow.flush()
    record_transition(
        uow.session,
        object_type=ObjectType.PARTICIPATION,
        object_id=p.id,
        from_state=None,
        to_state=PS.INVITED,
        actor_user_id=None,
        reason="invited to the program",
    )
    return p


def get_participation(uow: UnitOfWork, *, actor: Actor, org_id: str) -> Participation:
    """A firm's participation, for that firm or agency staff."""
    authorize(actor, "participation.read", org_id=org_id)
    p = uow.session.scalars(select(Participation).where(Participation.org_id == org_id)).first()
    if p is None:
        raise NotFound("participation not found")
    return p


def participation_of(uow: UnitOfWork, *, org_id: str) -> Participation | None:
    """The participation row of a firm, without access checks (for other services)."""
    return uow.session.scalars(select(Participation).where(Participation.org_id == org_id)).first()


def enroll(
    uow: UnitOfWork, *, actor: Actor, agreement_version: str, scopes: Iterable[str]
) -> Participation:
    """The firm's admin signs the agreement and chooses what to share."""
    authorize(actor, "participation.manage", org_id=actor.org_id)
    rules.check_agreement(agreement_version)
    chosen = rules.parse_scopes(scopes)
    p = get_participation(uow, actor=actor, org_id=actor.org_id)
    _move(uow, p, PS.ENROLLED, actor=actor, reason=f"signed agreement {agreement_version}")
    p.agreement_version = agreement_version
    p.scopes = sorted(s.value for s in chosen)
    p.enrolled_at = utcnow()
    return p


def change_scopes(uow: UnitOfWork, *, actor: Actor, scopes: Iterable[str]) -> Participation:
    """The firm's admin widens or narrows what it shares from now on."""
    authorize(actor, "participation.manage", org_id=actor.org_id)
    chosen = rules.parse_scopes(scopes)
    p = get_participation(uow, actor=actor, org_id=actor.org_id)
    if not rules.may_submit(PS(p.state)):
        raise InvalidInput(f"scopes: cannot be changed while participation is {p.state}")
    before = list(p.scopes)
    p.scopes = sorted(s.value for s in chosen)
    p.updated_at = utcnow()
    audit.append(
        uow.session,
        actor=actor,
        action="participation.scopes_changed",
        object_type=ObjectType.PARTICIPATION,
        object_id=p.id,
        org_id=p.org_id,
        detail={"from": before, "to": p.scopes},
    )
    return p


def set_public_name_consent(uow: UnitOfWork, *, actor: Actor, consent: bool) -> Participation:
    """The firm's admin says whether the public site may name the firm as a participant."""
    authorize(actor, "participation.manage", org_id=actor.org_id)
    p = get_participation(uow, actor=actor, org_id=actor.org_id)
    if p.public_name_consent == consent:
        return p
    p.public_name_consent = consent
    p.updated_at = utcnow()
    audit.append(
        uow.session,
        actor=actor,
        action="participation.public_name_consent",
        object_type=ObjectType.PARTICIPATION,
        object_id=p.id,
        org_id=p.org_id,
        detail={"consent": consent},
    )
    return p


def publicly_named(uow: UnitOfWork) -> list[str]:
    """The names of firms taking part (enrolled or active) that agreed to be named, sorted."""
    stmt = (
        select(Organisation.name)
        .join(Participation, Participation.org_id == Organisation.id)
        .where(
            Participation.public_name_consent.is_(True),
            Participation.state.in_([PS.ENROLLED, PS.ACTIVE]),
        )
        .order_by(Organisation.name)
    )
    return list(uow.session.scalars(stmt))


def set_state(
    uow: UnitOfWork, *, actor: Actor, org_id: str, target: PS, reason: str
) -> Participation:
    """Agency staff activate, suspend or reactivate a firm's participation."""
    authorize(actor, "participation.set_state")
    if target not in rules.STAFF_TARGETS:
        raise InvalidInput(f"state: agency staff may only set active or suspended, not {target}")
    if not reason.strip() and target == PS.SUSPENDED:
        raise InvalidInput("reason: a suspension needs a reason")
    p = get_participation(uow, actor=actor, org_id=org_id)
    _move(uow, p, target, actor=actor, reason=reason.strip())
    return p


def allowed_moves(*, actor: Actor, p: Participation) -> list[PS]:
    """The states this actor may set a firm's participation to now (none for most roles)."""
    if not allowed(actor, "participation.set_state"):
        return []
    return rules.staff_moves(PS(p.state))


def withdraw(uow: UnitOfWork, *, actor: Actor, reason: str) -> Participation:
    """The firm's admin leaves the program; later stages destroy its data through a job."""
    authorize(actor, "participation.manage", org_id=actor.org_id)
    p = get_participation(uow, actor=actor, org_id=actor.org_id)
    _move(uow, p, PS.WITHDRAWN, actor=actor, reason=reason.strip() or "withdrawn by the firm")
    p.withdrawn_at = utcnow()
    # Closed in the same transaction: no request of the firm succeeds after the withdrawal.
    accounts.close_organisation(uow, org_id=p.org_id)
    events.publish(uow, WITHDRAWN_EVENT, {"org_id": p.org_id, "actor_user_id": actor.user_id})
    return p


def agreed_scopes(p: Participation) -> frozenset[Scope]:
    """The scopes a participation agreed to."""
    return rules.parse_scopes(p.scopes)


def scopes_while_submitting(uow: UnitOfWork, *, org_id: str, doing: str) -> frozenset[Scope]:
    """The scopes a firm agreed to, or Forbidden while its participation does not let it submit.

    doing names what was refused ("submit", "upload") in the error.
    """
    p = participation_of(uow, org_id=org_id)
    if p is None or not rules.may_submit(PS(p.state)):
        state = p.state if p else "not enrolled"
        raise Forbidden(f"your organisation cannot {doing} while its participation is {state}")
    return agreed_scopes(p)


def firm_state(uow: UnitOfWork, *, org_id: str) -> PS | None:
    """The firm's participation state (None: it has none)."""
    p = participation_of(uow, org_id=org_id)
    return PS(p.state) if p is not None else None


def firm_allows(uow: UnitOfWork, *, org_id: str, move: rules.FirmMove) -> bool:
    """Whether the firm's participation state allows move (what pages offer)."""
    return rules.may(firm_state(uow, org_id=org_id), move)


def check_firm_allows(uow: UnitOfWork, *, org_id: str, move: rules.FirmMove) -> None:
    """Raise when the firm's participation state forbids move (what services enforce): Forbidden
    for the firm's own moves, Conflict for the agency's moves on its submissions."""
    why = rules.why_not(firm_state(uow, org_id=org_id), move)
    if why:
        error = Forbidden if move in rules.FIRM_OWN_MOVES else Conflict
        raise error(f"not possible: {why}")


def list_firms(uow: UnitOfWork, *, actor: Actor) -> list[tuple[Organisation, Participation]]:
    """Every firm with its participation, for agency staff."""
    authorize(actor, "orgs.list")
    stmt = (
        select(Organisation, Participation)
        .join(Participation, Participation.org_id == Organisation.id)
        .order_by(Organisation.name)
    )
    return [(o, p) for o, p in uow.session.execute(stmt).all()]
