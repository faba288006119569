"""Restricted means named: coordinators grant a submission's `restricted` fields to named
assigned reviewers; without a grant an assigned reviewer sees them withheld."""

from __future__ import annotations

from sqlalchemy import select

from airlock.accounts.models import User
from airlock.core import audit
from airlock.core.access import Actor, allowed, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, InvalidInput, NotFound
from airlock.core.transitions import ObjectType
from airlock.core.uow import UnitOfWork
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import FirmMove
from airlock.submissions.models import RestrictedGrant
from airlock.submissions.service import assigned_user_ids, get_submission, granted_user_ids


def _active(uow: UnitOfWork, submission_id: str, user_id: str) -> RestrictedGrant | None:
    stmt = select(RestrictedGrant).where(
        RestrictedGrant.submission_id == submission_id,
        RestrictedGrant.user_id == user_id,
        RestrictedGrant.revoked_at.is_(None),
    )
    return uow.session.scalars(stmt).first()


def grant_restricted(
    uow: UnitOfWork, *, actor: Actor, submission_id: str, user_id: str
) -> RestrictedGrant:
    """A coordinator lets one assigned reviewer read the submission's restricted fields."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "submission.assign")
    enrollment.check_firm_allows(uow, org_id=sub.org_id, move=FirmMove.ASSIGN)
    if user_id not in assigned_user_ids(uow, submission_id=sub.id):
        raise InvalidInput("user_id: only a reviewer assigned to this submission can be granted")
    if _active(uow, sub.id, user_id) is not None:
        raise Conflict("this reviewer already has access to the restricted fields")
    grant = RestrictedGrant(
        submission_id=sub.id, user_id=user_id, granted_by=actor.user_id, granted_at=utcnow()
    )
    uow.session.add(grant)
    uow.flush()
    audit.append(
        uow.session,
        actor=actor,
        action="submission.restricted_granted",
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
        detail={"user_id": user_id},
    )
    return grant


def revoke_restricted(
    uow: UnitOfWork, *, actor: Actor, submission_id: str, user_id: str
) -> RestrictedGrant:
    """A coordinator withdraws a reviewer's access to the restricted fields."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "submission.assign")
    grant = _active(uow, sub.id, user_id)
    if grant is None:
        raise NotFound("no access to the restricted fields was granted to this user")
    grant.revoked_at, grant.revoked_by = utcnow(), actor.user_id
    audit.append(
        uow.session,
        actor=actor,
        action="submission.restricted_revoked",
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
        detail={"user_id": user_id},
    )
    return grant


def list_granted(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> list[User]:
    """The reviewers who may read the submission's restricted fields now."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    if not allowed(actor, "submission.assign"):  # who grants may list; so may reviewers
        authorize(actor, "submission.review", org_id=sub.org_id)
    ids = granted_user_ids(uow, submission_id=sub.id)
    if not ids:
        return []
    return list(uow.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.email)))
