"""The agency's review queue with what a coordinator sorts and filters by: age, assignees, scan
verdict counts and the next deadline of each submission.

It reads the submissions of earlier stages (names, states, dates: never dossier content), the
verdict counts the findings stage computes and the deadlines of this stage, so it lives here.
Filters and the sort are plain values a page keeps in its URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_, select

from airlock.accounts.models import Organisation, User
from airlock.cases.deadlines import next_due_by_submission
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import InvalidInput
from airlock.core.uow import UnitOfWork
from airlock.findings import review as findings_review
from airlock.submissions.models import AIModel, Assignment, Submission
from airlock.submissions.rules import SubmissionState

SORTS: Final = ("updated", "age", "assignee", "verdicts", "deadline", "firm")
VERDICT_FILTERS: Final = ("block", "review", "untriaged", "clear")
DEADLINE_FILTERS: Final = ("overdue", "week", "any", "none")
# The queue is sorted in memory over every matching submission; more than this is refused.
MAX_MATCHES: Final = 5000
SOON: Final = timedelta(days=7)
# The order a column sorts in when first chosen: the oldest, most blocked, soonest due first.
DESCENDING_FIRST: Final = frozenset({"updated", "age", "verdicts"})


@dataclass(frozen=True)
class QueueFilters:
    """What the coordinator asked to see, and in which order."""

    states: Sequence[str] = ()
    q: str = ""
    assignee: str = ""  # a user id, "me", or "none"
    verdict: str = ""  # block, review, untriaged, clear
    deadline: str = ""  # overdue, week, any, none
    sort: str = "updated"
    descending: bool = True


@dataclass(frozen=True)
class QueueRow:
    """One submission as the queue lists it."""

    id: str
    title: str
    version: str
    state: str
    firm: str
    model: str
    updated_at: datetime
    since: datetime  # submitted (or created) at: what the age counts from
    assignees: list[str] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    next_due: datetime | None = None

    @property
    def age_days(self) -> int:
        """Whole days since the submission was sent."""
        return max(0, (utcnow() - self.since).days)

    @property
    def overdue(self) -> bool:
        """Whether its next deadline has passed."""
        return self.next_due is not None and self.next_due < utcnow()


@dataclass(frozen=True)
class QueueView:
    """One page of the sorted, filtered queue."""

    rows: list[QueueRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filter gives."""
        return max(1, -(-self.total // self.per_page))


def _check(filters: QueueFilters) -> None:
    if filters.sort not in SORTS:
        raise InvalidInput(f"sort: must be one of {', '.join(SORTS)}")
    if filters.verdict and filters.verdict not in VERDICT_FILTERS:
        raise InvalidInput(f"verdict: must be one of {', '.join(VERDICT_FILTERS)}")
    if filters.deadline and filters.deadline not in DEADLINE_FILTERS:
        raise InvalidInput(f"deadline: must be one of {', '.join(DEADLINE_FILTERS)}")
    for s in filters.states:
        SubmissionState(s)  # ValueError for an unknown state, turned into 422 by the caller


def _matching(uow: UnitOfWork, actor: Actor, filters: QueueFilters) -> list[QueueRow]:
    stmt = (
        select(
            Submission.id,
            Submission.title,
            Submission.version,
            Submission.state,
            Submission.updated_at,
            Submission.submitted_at,
            Submission.created_at,
            Organisation.name,
            AIModel.name,
        )
        .join(Organisation, Organisation.id == Submission.org_id)
        .join(AIModel, AIModel.id == Submission.model_id)
        .where(Submission.state != SubmissionState.DRAFT)
    )
    if filters.states:
        stmt = stmt.where(Submission.state.in_(list(filters.states)))
    if filters.q.strip():
        like = f"%{filters.q.strip()[:100]}%"
        stmt = stmt.where(
            or_(
                Submission.title.ilike(like),
                AIModel.name.ilike(like),
                Organisation.name.ilike(like),
            )
        )
    assigned = select(Assignment.submission_id)
    if filters.assignee == "none":
        stmt = stmt.where(Submission.id.not_in(assigned))
    elif filters.assignee:
        who = actor.user_id if filters.assignee == "me" else filters.assignee[:64]
        stmt = stmt.where(Submission.id.in_(assigned.where(Assignment.user_id == who)))
    rows = uow.session.execute(stmt.limit(MAX_MATCHES + 1)).all()
    if len(rows) > MAX_MATCHES:
        raise InvalidInput(f"the filter matches more than {MAX_MATCHES} submissions: narrow it")
    return [
        QueueRow(
            id=sid,
            title=title,
            version=version,
            state=state,
            firm=str(firm),
            model=str(model),
            updated_at=updated,
            since=submitted or created,
        )
        for sid, title, version, state, updated, submitted, created, firm, model in rows
    ]


def _assignees(uow: UnitOfWork, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not ids:
        return out
    stmt = (
        select(Assignment.submission_id, User.email)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.submission_id.in_(ids))
        .order_by(User.email)
    )
    for sid, email in uow.session.execute(stmt):
        out.setdefault(sid, []).append(str(email))
    return out


def _keep(row: QueueRow, filters: QueueFilters, now: datetime) -> bool:
    v = row.verdicts
    if filters.verdict == "clear" and (v.get("block") or v.get("review") or v.get("untriaged")):
        return False
    if filters.verdict in ("block", "review", "untriaged") and not v.get(filters.verdict):
        return False
    due = row.next_due
    if filters.deadline == "none":
        return due is None
    if filters.deadline == "any":
        return due is not None
    if filters.deadline == "overdue":
        return due is not None and due < now
    if filters.deadline == "week":
        return due is not None and due < now + SOON
    return True


def _key(row: QueueRow, sort: str) -> tuple[object, ...]:
    if sort == "age":
        return (-row.since.timestamp(),)
    if sort == "assignee":
        return (not row.assignees, row.assignees[0] if row.assignees else "")
    if sort == "verdicts":
        v = row.verdicts
        return (v.get("block", 0), v.get("review", 0), v.get("untriaged", 0))
    if sort == "deadline":
        return (row.next_due is None, row.next_due or datetime.max)
    if sort == "firm":
        return (row.firm.lower(), row.title.lower())
    return (row.updated_at,)


def review_queue(
    uow: UnitOfWork, *, actor: Actor, filters: QueueFilters, page: int = 1, per_page: int = 20
) -> QueueView:
    """The agency's queue (never drafts), filtered, sorted and cut to one page."""
    authorize(actor, "queue.read")
    _check(filters)
    if page < 1 or not 1 <= per_page <= 100:
        raise InvalidInput("page: must be 1 or more, with 1 to 100 rows a page")
    rows = _matching(uow, actor, filters)
    ids = [r.id for r in rows]
    verdicts = findings_review.verdict_counts(uow, actor=actor, submission_ids=ids)
    dues = next_due_by_submission(uow, actor=actor, submission_ids=ids)
    people = _assignees(uow, ids)
    full = [
        QueueRow(
            **{
                **r.__dict__,
                "assignees": people.get(r.id, []),
                "verdicts": verdicts.get(r.id, {}),
                "next_due": dues.get(r.id),
            }
        )
        for r in rows
    ]
    now = utcnow()
    kept = [r for r in full if _keep(r, filters, now)]
    kept.sort(key=lambda r: _key(r, filters.sort), reverse=filters.descending)
    start = (page - 1) * per_page
    return QueueView(kept[start : start + per_page], len(kept), page, per_page)
