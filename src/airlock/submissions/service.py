"""Submissions: registering models, drafting release candidates, moving them through review."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from airlock.accounts.models import Membership, Organisation, User
from airlock.core import audit, events
from airlock.core.access import Actor, authorize, may_read_confidential
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from airlock.core.roles import Role
from airlock.core.transitions import ObjectType, record_change
from airlock.core.uow import UnitOfWork
from airlock.dossiers import rules as dossier_rules
from airlock.dossiers import validation, versions
from airlock.dossiers.interop import exports
from airlock.enrollment import rules as enrollment_rules
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import FirmMove
from airlock.submissions import rules, sealed
from airlock.submissions.models import AIModel, Assignment, RestrictedGrant, Submission
from airlock.submissions.rules import SubmissionState as SS

MAX_PER_PAGE = 100
SUBMISSION_SUBMITTED_EVENT = "submission.submitted"
# Its endpoint_id is the submission's id: the endpoint is the one its dossier declares.
ENDPOINT_DECLARED_EVENT = "endpoint.declared"


def _clean(text: str, field: str, *, max_len: int, required: bool = True) -> str:
    text = text.strip()
    if required and not text:
        raise InvalidInput(f"{field}: must not be empty")
    if len(text) > max_len:
        raise InvalidInput(f"{field}: must be at most {max_len} characters (got {len(text)})")
    return text


def register_model(uow: UnitOfWork, *, actor: Actor, name: str, description: str = "") -> AIModel:
    """A firm registers a model it may later submit release candidates of."""
    authorize(actor, "model.create", org_id=actor.org_id)
    enrollment.check_firm_allows(uow, org_id=actor.org_id, move=FirmMove.REGISTER_MODEL)
    name = _clean(name, "name", max_len=200)
    exists = uow.session.scalars(
        select(AIModel).where(AIModel.org_id == actor.org_id, AIModel.name == name)
    ).first()
    if exists:
        raise Conflict(f"name: your organisation already has a model called {name!r}")
    model = AIModel(
        org_id=actor.org_id,
        name=name,
        description=_clean(description, "description", max_len=5000, required=False),
        created_at=utcnow(),
    )
    uow.session.add(model)
    uow.flush()
    audit.append(
        uow.session,
        actor=actor,
        action="model.registered",
        object_type="ai_model",
        object_id=model.id,
        org_id=actor.org_id,
    )
    return model


def list_models(uow: UnitOfWork, *, actor: Actor, org_id: str | None = None) -> list[AIModel]:
    """The models of the actor's firm (or of org_id, for agency staff)."""
    org_id = org_id or actor.org_id
    authorize(actor, "model.read", org_id=org_id)
    return list(
        uow.session.scalars(select(AIModel).where(AIModel.org_id == org_id).order_by(AIModel.name))
    )


def _check_sharing(
    uow: UnitOfWork, *, org_id: str, carries: list[str], dossier: dict[str, Any]
) -> list[str]:
    """The scopes carried, if the firm may submit, agreed to them, and the dossier stays in them."""
    carried = enrollment_rules.parse_scopes(carries)
    agreed = enrollment.scopes_while_submitting(uow, org_id=org_id, doing="submit")
    missing = enrollment_rules.missing_scopes(carried, agreed)
    if missing:
        names = ", ".join(s.value for s in missing)
        raise InvalidInput(f"carries: your agreement does not include {names}")
    scope_errors = dossier_rules.check_scopes(dossier, frozenset(s.value for s in carried))
    if scope_errors:
        raise validation.invalid_input(scope_errors)
    return sorted(s.value for s in carried)


def _check_content(
    uow: UnitOfWork, *, org_id: str, carries: list[str], dossier: dict[str, Any], limit: int
) -> list[str]:
    """Validate the dossier against the schema, then what it shares against the agreement."""
    errors = validation.validate_dossier(dossier, max_bytes=limit)
    if errors:
        raise validation.invalid_input(errors)
    return _check_sharing(uow, org_id=org_id, carries=carries, dossier=dossier)


def _current(dossier: dict[str, Any]) -> dict[str, Any]:
    """A valid dossier of any known version, upgraded to the version the editor writes."""
    return versions.upgrade(dossier) if versions.needs_upgrade(dossier) else dossier


def existing_draft(
    uow: UnitOfWork, *, actor: Actor, model_id: str, title: str, version: str = ""
) -> Submission | None:
    """The actor's draft of this model with this title and version, if one exists: a form
    sent twice (a double click, the back button) finds it instead of drafting a twin."""
    return uow.session.scalars(
        select(Submission).where(
            Submission.org_id == actor.org_id,
            Submission.model_id == model_id,
            Submission.title == title.strip(),
            Submission.version == version.strip(),
            Submission.state == SS.DRAFT,
            Submission.created_by == actor.user_id,
        )
    ).first()


def create_submission(
    uow: UnitOfWork,
    *,
    actor: Actor,
    model_id: str,
    title: str,
    version: str = "",
    carries: Iterable[str] = (),
    dossier: dict[str, Any] | None = None,
    max_dossier_bytes: int,
    fixes_submission_id: str | None = None,
) -> Submission:
    """A firm drafts a release candidate of one of its models (or a fixed version of one)."""
    authorize(actor, "submission.create", org_id=actor.org_id)
    model = uow.session.get(AIModel, model_id)
    if model is None or model.org_id != actor.org_id:
        raise NotFound("model_id: no such model in your organisation")
    if fixes_submission_id is not None:
        fixed = uow.session.get(Submission, fixes_submission_id)
        if fixed is None or fixed.org_id != actor.org_id:
            raise NotFound("fixes_submission_id: no such submission in your organisation")
        if fixed.model_id != model.id:
            raise InvalidInput("fixes_submission_id: a fixed version must be of the same model")
        if SS(fixed.state) not in rules.FIXABLE:
            raise InvalidInput(
                f"fixes_submission_id: only a submission under review can be fixed "
                f"(that one is {fixed.state})"
            )
    doc = (
        dossier
        if dossier is not None
        else {"schema_version": validation.SCHEMA_VERSION, "sections": {}}
    )
    carried = _check_content(
        uow, org_id=actor.org_id, carries=list(carries), dossier=doc, limit=max_dossier_bytes
    )
    sub_id = new_id()
    sub = Submission(
        id=sub_id,
        org_id=actor.org_id,
        model_id=model.id,
        title=_clean(title, "title", max_len=200),
        version=_clean(version, "version", max_len=80, required=False),
        state=SS.DRAFT,
        carries=carried,
        dossier=sealed.seal_dossier(
            uow, org_id=actor.org_id, submission_id=sub_id, doc=_current(doc)
        ),
        dossier_schema_version=validation.SCHEMA_VERSION,
        created_by=actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
        fixes_submission_id=fixes_submission_id,
    )
    uow.session.add(sub)
    uow.flush()
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
        from_state=None,
        to_state=SS.DRAFT,
        reason="created",
    )
    return sub


DOSSIER_CHANGED_EVENT = "submission.dossier_changed"

# Later stages refuse moves they know a reason against (the findings stage refuses
# review_complete while a blocking finding is open); a guard raises to refuse.
Guard = Callable[[UnitOfWork, Submission], None]
_GUARDS: dict[SS, list[Guard]] = {}


def add_guard(target: SS, guard: Guard) -> None:
    """Register a check that must pass before any submission moves to target."""
    if guard not in _GUARDS.setdefault(target, []):
        _GUARDS[target].append(guard)


def _get(uow: UnitOfWork, submission_id: str) -> Submission:
    sub = uow.session.get(Submission, submission_id) if len(submission_id) <= 64 else None
    if sub is None:
        raise NotFound("submission not found")
    return sub


def assigned_user_ids(uow: UnitOfWork, *, submission_id: str) -> set[str]:
    """The agency users assigned to a submission."""
    return set(
        uow.session.scalars(
            select(Assignment.user_id).where(Assignment.submission_id == submission_id)
        )
    )


def granted_user_ids(uow: UnitOfWork, *, submission_id: str) -> set[str]:
    """The assigned users granted the submission's restricted fields (grants not revoked)."""
    stmt = select(RestrictedGrant.user_id).where(
        RestrictedGrant.submission_id == submission_id, RestrictedGrant.revoked_at.is_(None)
    )
    return set(uow.session.scalars(stmt)) & assigned_user_ids(uow, submission_id=submission_id)


def stored_dossier(uow: UnitOfWork, *, sub: Submission) -> dict[str, Any]:
    """A submission's dossier with its sealed fields opened; callers have checked access."""
    return sealed.plain_dossier(uow, org_id=sub.org_id, submission_id=sub.id, doc=sub.dossier)


def get_submission(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> Submission:
    """One submission, for its firm or agency staff (404 for anyone else)."""
    sub = _get(uow, submission_id)
    authorize(actor, "submission.read", org_id=sub.org_id)
    if actor.is_agency and sub.state == SS.DRAFT:
        raise NotFound("submission not found")  # a draft is the firm's own business
    return sub


@dataclass(frozen=True)
class DossierView:
    """A dossier as one viewer may see it."""

    dossier: dict[str, Any]
    confidential: bool


def view_dossier(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> DossierView:
    """The dossier with confidential fields shown only on a need-to-know basis (and audited)."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    assigned = assigned_user_ids(uow, submission_id=sub.id)
    if may_read_confidential(actor, org_id=sub.org_id, assigned_user_ids=assigned):
        # The firm sees its own restricted fields; agency staff only when named in a grant.
        restricted = actor.org_id == sub.org_id or actor.user_id in granted_user_ids(
            uow, submission_id=sub.id
        )
        audit.append(
            uow.session,
            actor=actor,
            action="dossier.read_confidential",
            object_type=ObjectType.SUBMISSION,
            object_id=sub.id,
            org_id=sub.org_id,
            detail={"restricted": restricted},
        )
        doc = versions.upgrade(stored_dossier(uow, sub=sub))
        if restricted:
            return DossierView(doc, True)
        return DossierView(dossier_rules.confidential_view(doc, "reviewer"), True)
    return DossierView(dossier_rules.public_view(versions.upgrade(sub.dossier)), False)


def update_submission(
    uow: UnitOfWork,
    *,
    actor: Actor,
    submission_id: str,
    title: str | None = None,
    version: str | None = None,
    carries: Iterable[str] | None = None,
    dossier: dict[str, Any] | None = None,
    max_dossier_bytes: int,
) -> Submission:
    """The firm edits a draft or returned submission."""
    sub = _get(uow, submission_id)
    authorize(actor, "submission.edit", org_id=sub.org_id)
    if not rules.is_editable(SS(sub.state)):
        raise Conflict(f"a submission that is {sub.state} can no longer be edited")
    new_carries = list(carries) if carries is not None else list(sub.carries)
    new_doc = dossier if dossier is not None else stored_dossier(uow, sub=sub)
    sub.carries = _check_content(
        uow, org_id=sub.org_id, carries=new_carries, dossier=new_doc, limit=max_dossier_bytes
    )
    dossier_changed = dossier is not None and _current(new_doc) != sub.dossier
    if dossier is not None:
        sub.dossier = sealed.seal_dossier(
            uow, org_id=sub.org_id, submission_id=sub.id, doc=_current(new_doc)
        )
        sub.dossier_schema_version = validation.SCHEMA_VERSION
    if title is not None:
        sub.title = _clean(title, "title", max_len=200)
    if version is not None:
        sub.version = _clean(version, "version", max_len=80, required=False)
    sub.updated_at = utcnow()
    audit.append(
        uow.session,
        actor=actor,
        action="submission.edited",
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
    )
    if dossier_changed:
        events.publish(uow, DOSSIER_CHANGED_EVENT, {"submission_id": sub.id})
    return sub


def _check_role_may_ask(actor: Actor, sub: Submission, target: SS) -> None:
    action = rules.ACTION_FOR.get(target)
    if action is None:
        raise InvalidInput(f"state: {target} cannot be asked for")
    authorize(actor, action, org_id=sub.org_id)


def _check_assigned_if_needed(actor: Actor, target: SS, assigned: set[str]) -> None:
    if target in rules.NEEDS_ASSIGNMENT and actor.user_id not in assigned:
        raise Forbidden("only a reviewer assigned to this submission may do this")


def allowed_moves(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> list[SS]:
    """The states this actor may move a submission to now (what a page offers), sorted."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    assigned = assigned_user_ids(uow, submission_id=sub.id)
    moves = []
    state = enrollment.firm_state(uow, org_id=sub.org_id)
    for target in rules.ALLOWED[SS(sub.state)]:
        try:
            _check_role_may_ask(actor, sub, target)
            _check_assigned_if_needed(actor, target, assigned)
        except (InvalidInput, Forbidden, NotFound):
            continue
        if not enrollment_rules.may(state, rules.FIRM_MOVE_FOR[target]):
            continue
        moves.append(target)
    return sorted(moves, key=lambda s: s.value)


def _declares_endpoint(dossier: dict[str, Any]) -> bool:
    """Whether section G names an evaluation endpoint's base URL (a sealed one counts: the
    stored dossier keeps confidential values sealed)."""
    g = dossier.get("sections", {}).get("G")
    ep = g.get("eval_endpoint") if isinstance(g, dict) else None
    url = ep.get("base_url") if isinstance(ep, dict) else None
    return bool((url.get("value") or url.get("sealed")) if isinstance(url, dict) else url)


def transition(
    uow: UnitOfWork, *, actor: Actor, submission_id: str, target: SS, reason: str = ""
) -> Submission:
    """Move a submission through its state machine, if the actor's role may make that move."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    _check_role_may_ask(actor, sub, target)
    current = SS(sub.state)
    rules.check_transition(current, target)
    reason = reason.strip()
    if len(reason) > 5000:
        raise InvalidInput("reason: must be at most 5000 characters")
    if target in rules.REASON_REQUIRED and not reason:
        raise InvalidInput(f"reason: required when a submission is {target}")
    _check_assigned_if_needed(actor, target, assigned_user_ids(uow, submission_id=sub.id))
    if target != SS.SUBMITTED:  # the firm's own submit is refused by _check_sharing below
        enrollment.check_firm_allows(uow, org_id=sub.org_id, move=rules.FIRM_MOVE_FOR[target])
    for guard in _GUARDS.get(target, []):
        guard(uow, sub)
    if target == SS.SUBMITTED:
        doc = stored_dossier(uow, sub=sub)
        gaps = dossier_rules.check_complete(doc, scopes=frozenset(sub.carries))
        if gaps:
            raise validation.invalid_input(gaps)
        # The dossier was validated when saved; the agreement may have narrowed since.
        _check_sharing(uow, org_id=sub.org_id, carries=list(sub.carries), dossier=doc)
        sub.submitted_at = utcnow()
        sub.return_reason = ""
    if target == SS.RETURNED:
        sub.return_reason = reason
    sub.state = target
    sub.updated_at = utcnow()
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
        from_state=current,
        to_state=target,
        reason=reason,
    )
    if target == SS.SUBMITTED:
        # Dossier checks react to this; sent only if the move commits.
        events.publish(uow, SUBMISSION_SUBMITTED_EVENT, {"submission_id": sub.id})
        if _declares_endpoint(sub.dossier):
            events.publish(uow, ENDPOINT_DECLARED_EVENT, {"endpoint_id": sub.id})
    return sub


def assign_reviewer(
    uow: UnitOfWork, *, actor: Actor, submission_id: str, reviewer_id: str
) -> Assignment:
    """A coordinator gives a reviewer need-to-know access to a submission."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    authorize(actor, "submission.assign")
    if not rules.may_assign(SS(sub.state)):
        raise Conflict(f"a submission that is {sub.state} cannot be assigned")
    enrollment.check_firm_allows(uow, org_id=sub.org_id, move=FirmMove.ASSIGN)
    membership = uow.session.scalars(
        select(Membership).where(Membership.user_id == reviewer_id)
    ).first()
    if (
        membership is None
        or membership.org_id != actor.org_id
        or membership.role not in (Role.REVIEWER, Role.COORDINATOR)
    ):
        raise InvalidInput("reviewer_id: not a reviewer or coordinator of the agency")
    if reviewer_id in assigned_user_ids(uow, submission_id=sub.id):
        raise Conflict("this reviewer is already assigned")
    a = Assignment(
        submission_id=sub.id,
        user_id=reviewer_id,
        assigned_by=actor.user_id,
        assigned_at=utcnow(),
    )
    uow.session.add(a)
    uow.flush()
    audit.append(
        uow.session,
        actor=actor,
        action="submission.assigned",
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
        detail={"reviewer_id": reviewer_id},
    )
    return a


def list_assignees(uow: UnitOfWork, *, actor: Actor, submission_id: str) -> list[User]:
    """The users assigned to a submission."""
    sub = get_submission(uow, actor=actor, submission_id=submission_id)
    ids = assigned_user_ids(uow, submission_id=sub.id)
    if not ids:
        return []
    return list(uow.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.email)))


def list_for_firm(uow: UnitOfWork, *, actor: Actor) -> list[Submission]:
    """The actor's firm's submissions, newest first."""
    authorize(actor, "submission.read", org_id=actor.org_id)
    if actor.is_agency:
        raise Forbidden("agency staff use the review queue")
    return list(
        uow.session.scalars(
            select(Submission)
            .where(Submission.org_id == actor.org_id)
            .order_by(Submission.updated_at.desc())
        )
    )


@dataclass(frozen=True)
class QueuePage:
    """One page of the agency queue."""

    items: list[tuple[Submission, str, str]]  # submission, firm name, model name
    total: int
    page: int
    per_page: int


def queue(
    uow: UnitOfWork,
    *,
    actor: Actor,
    states: Iterable[str] = (),
    org_id: str | None = None,
    assigned_to_me: bool = False,
    q: str = "",
    page: int = 1,
    per_page: int = 25,
) -> QueuePage:
    """The agency's queue of submissions (never drafts), filtered and paginated."""
    authorize(actor, "queue.read")
    if page < 1:
        raise InvalidInput("page: must be 1 or more")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page: must be between 1 and {MAX_PER_PAGE}")
    wanted = [SS(s).value for s in states] if states else []
    stmt = (
        select(Submission, Organisation.name, AIModel.name)
        .join(Organisation, Organisation.id == Submission.org_id)
        .join(AIModel, AIModel.id == Submission.model_id)
        .where(Submission.state != SS.DRAFT)
    )
    if wanted:
        stmt = stmt.where(Submission.state.in_(wanted))
    if org_id:
        stmt = stmt.where(Submission.org_id == org_id)
    if assigned_to_me:
        stmt = stmt.where(
            Submission.id.in_(
                select(Assignment.submission_id).where(Assignment.user_id == actor.user_id)
            )
        )
    if q.strip():
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(
                Submission.title.ilike(like),
                AIModel.name.ilike(like),
                Organisation.name.ilike(like),
            )
        )
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = uow.session.execute(
        stmt.order_by(Submission.updated_at.desc(), Submission.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return QueuePage([(s, o, m) for s, o, m in rows], total, page, per_page)


def redact_organisation(uow: UnitOfWork, *, org_id: str) -> int:
    """Replace every confidential dossier field of a firm's submissions by a redaction marker."""
    count = 0
    for sub in uow.session.scalars(select(Submission).where(Submission.org_id == org_id)):
        sub.dossier = dossier_rules.redact_all_confidential(sub.dossier)
        sub.redacted = True
        count += 1
    return count


def counts_by_state(uow: UnitOfWork, *, actor: Actor) -> dict[str, int]:
    """How many submissions (drafts excluded) are in each state, for the queue's chart."""
    authorize(actor, "queue.read")
    rows = uow.session.execute(
        select(Submission.state, func.count())
        .where(Submission.state != SS.DRAFT)
        .group_by(Submission.state)
    ).all()
    found = {str(state): int(n) for state, n in rows}
    return {s.value: found.get(s.value, 0) for s in SS if s != SS.DRAFT}


def export_dossier(
    uow: UnitOfWork, *, actor: Actor, submission_id: str, fmt: str, audience: str
) -> exports.Exported:
    """The dossier in an exchange format, as much of it as the actor may see (audited)."""
    view = view_dossier(uow, actor=actor, submission_id=submission_id)
    # What the viewer may not see is already redacted; the audience narrows it further.
    exported = exports.export(
        view.dossier,
        fmt=fmt,
        audience=audience,  # type: ignore[arg-type]  # checked by export
        formats=exports.SERVER_FORMATS,
    )
    sub = _get(uow, submission_id)
    audit.append(
        uow.session,
        actor=actor,
        action="dossier.exported",
        object_type=ObjectType.SUBMISSION,
        object_id=sub.id,
        org_id=sub.org_id,
        detail={"format": fmt, "audience": audience, "confidential": view.confidential},
    )
    return exported
