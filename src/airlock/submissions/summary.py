"""What a submission page's header names: the submission, its firm and its model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from airlock.accounts.models import Membership, Organisation, User
from airlock.core.access import Actor
from airlock.core.transitions import ObjectType, Transition
from airlock.core.uow import UnitOfWork
from airlock.submissions.models import AIModel, Submission
from airlock.submissions.service import get_submission


@dataclass(frozen=True)
class Heading:
    """A submission with the names of its firm and model."""

    sub: Submission
    firm: str
    model: str


def heading(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> Heading:
    """The submission (if the actor may see it) with its firm's and model's names."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    firm = uow.session.scalar(select(Organisation.name).where(Organisation.id == sub.org_id))
    model = uow.session.scalar(select(AIModel.name).where(AIModel.id == sub.model_id))
    return Heading(sub, str(firm or ""), str(model or ""))


@dataclass(frozen=True)
class Move:
    """One move of a submission: who, when, from, to, why."""

    at: datetime
    who: str
    role: str
    from_state: str
    to_state: str
    reason: str


def moves(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> list[Move]:
    """The submission's moves, oldest first, naming who made each: the firm sees agency staff
    as "the agency", not by name; a move with no person was made by the system."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    stmt = (
        select(Transition, User.email, Membership.role, Membership.org_id)
        .outerjoin(User, User.id == Transition.actor_user_id)
        .outerjoin(Membership, Membership.user_id == Transition.actor_user_id)
        .where(Transition.object_type == ObjectType.SUBMISSION, Transition.object_id == sub.id)
        .order_by(Transition.at, Transition.id)
    )
    out = []
    for t, email, role, org_id in uow.session.execute(stmt):
        if email is None:
            who, role = "System (automatic)", ""
        elif not actor.is_agency and org_id != actor.org_id:
            who, role = "The agency", ""
        else:
            who = str(email)
        out.append(Move(t.at, who, str(role or ""), t.from_state or "", t.to_state, t.reason))
    return out
