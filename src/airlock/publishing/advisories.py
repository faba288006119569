"""Advisories: drafted from a case by a coordinator, reviewed, approved, published, updated
or withdrawn. Publication needs the firm's consent or the end of the disclosure deadline, and
no embargo; while a case is embargoed nothing about it is exported either."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from airlock.cases.models import Case, Deadline
from airlock.cases.rules import Phase
from airlock.cases.service import case_findings, get_case, is_embargoed
from airlock.core.access import Actor, authorize
from airlock.core.db import new_id, utcnow
from airlock.core.errors import Conflict, InvalidInput, NotFound
from airlock.core.transitions import ObjectType, record_change
from airlock.core.uow import UnitOfWork
from airlock.publishing.advisories_models import Advisory, AdvisoryRevision
from airlock.publishing.advisories_rules import (
    AdvisoryState,
    check_advisory_move,
    check_may_publish,
)

MAX_TITLE = 300
MAX_TEXT = 20_000
MAX_VULNERABILITY_TEXT = 5_000
CWE = re.compile(r"^CWE-[1-9]\d{0,5}$")


def _tracking_id(uow: UnitOfWork) -> str:
    count = uow.session.scalar(select(func.count()).select_from(Advisory)) or 0
    return f"AIRLOCK-ADV-{utcnow().year}-{count + 1:04d}"


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    clean = value.strip()
    if required and not clean:
        raise InvalidInput(f"{field}: must not be empty")
    if len(clean) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters (got {len(clean)})")
    return clean


def _vulnerabilities(
    uow: UnitOfWork, actor: Actor, case: Case, given: dict[str, Any] | None
) -> dict[str, Any]:
    """The case's findings as advisory entries; the coordinator's texts override the defaults."""
    given = given or {}
    known = {f.finding_id: f for f in case_findings(uow, actor=actor, case=case) if f.notified_at}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidInput(
            f"vulnerabilities: {', '.join(unknown)} is not a notified finding of this case"
        )
    out: dict[str, Any] = {}
    for finding_id, finding in known.items():
        entry = given.get(finding_id) or {}
        if not isinstance(entry, dict):
            raise InvalidInput(f"vulnerabilities.{finding_id}: must be an object")
        cwe = str(entry.get("cwe", "") or "")
        if cwe and not CWE.match(cwe):
            raise InvalidInput(
                f"vulnerabilities.{finding_id}.cwe: must look like CWE-502 (got {cwe!r})"
            )
        out[finding_id] = {
            "title": _text(
                str(entry.get("title") or finding.title or "Finding"),
                f"vulnerabilities.{finding_id}.title",
                MAX_TITLE,
            ),
            "severity": finding.severity,
            "cwe": cwe,
            "description": _text(
                str(entry.get("description") or finding.title or "See the advisory."),
                f"vulnerabilities.{finding_id}.description",
                MAX_VULNERABILITY_TEXT,
            ),
            "remediation": _text(
                str(entry.get("remediation") or ""),
                f"vulnerabilities.{finding_id}.remediation",
                MAX_VULNERABILITY_TEXT,
                required=False,
            ),
            "fixed": bool(entry.get("fixed", False)),
        }
    if not out:
        raise Conflict("the case has no finding notified to the firm yet; an advisory needs one")
    return out


def _case_for_staff(uow: UnitOfWork, actor: Actor, case_id: str) -> Case:
    authorize(actor, "advisory.write")
    return get_case(uow, actor=actor, case_id=case_id)


def draft(
    uow: UnitOfWork,
    *,
    actor: Actor,
    case_id: str,
    title: str,
    summary: str,
    vulnerabilities: dict[str, Any] | None = None,
) -> Advisory:
    """A coordinator drafts an advisory from a case's notified findings."""
    case = _case_for_staff(uow, actor, case_id)
    vulns = _vulnerabilities(uow, actor, case, vulnerabilities)
    adv = Advisory(
        id=new_id(),
        case_id=case.id,
        tracking_id=_tracking_id(uow),
        state=AdvisoryState.DRAFT,
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    uow.session.add(adv)
    uow.flush()
    uow.session.add(
        AdvisoryRevision(
            advisory_id=adv.id,
            number=1,
            title=_text(title, "title", MAX_TITLE),
            summary=_text(summary, "summary", MAX_TEXT),
            change="Initial draft",
            vulnerabilities=vulns,
            created_by=actor.user_id,
            created_at=utcnow(),
        )
    )
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.ADVISORY,
        object_id=adv.id,
        org_id=case.org_id,
        from_state=None,
        to_state=AdvisoryState.DRAFT,
    )
    uow.flush()
    return adv


def get(uow: UnitOfWork, *, actor: Actor, advisory_id: str) -> Advisory:
    """An advisory of a case the actor may manage."""
    authorize(actor, "advisory.read")
    adv = uow.session.get(Advisory, advisory_id)
    if adv is None:
        raise NotFound("no such advisory")
    get_case(uow, actor=actor, case_id=adv.case_id)
    return adv


def of_case(uow: UnitOfWork, *, actor: Actor, case_id: str) -> list[Advisory]:
    """The advisories drafted from a case."""
    authorize(actor, "advisory.read")
    get_case(uow, actor=actor, case_id=case_id)
    return list(
        uow.session.scalars(
            select(Advisory).where(Advisory.case_id == case_id).order_by(Advisory.created_at)
        )
    )


def revisions(uow: UnitOfWork, *, advisory_id: str) -> list[AdvisoryRevision]:
    """Every revision, oldest first."""
    stmt = (
        select(AdvisoryRevision)
        .where(AdvisoryRevision.advisory_id == advisory_id)
        .order_by(AdvisoryRevision.number)
    )
    return list(uow.session.scalars(stmt))


def revise(
    uow: UnitOfWork,
    *,
    actor: Actor,
    advisory_id: str,
    title: str,
    summary: str,
    change: str,
    vulnerabilities: dict[str, Any] | None = None,
) -> AdvisoryRevision:
    """Append a revision; a published advisory becomes updated, one in review goes back to draft."""
    adv = get(uow, actor=actor, advisory_id=advisory_id)
    authorize(actor, "advisory.write")
    state = AdvisoryState(adv.state)
    if state in {AdvisoryState.WITHDRAWN, AdvisoryState.APPROVED}:
        raise Conflict(
            f"an advisory that is {state} cannot be revised"
            + (" (send it back to review first)" if state == AdvisoryState.APPROVED else "")
        )
    case = get_case(uow, actor=actor, case_id=adv.case_id)
    if state in {AdvisoryState.PUBLISHED, AdvisoryState.UPDATED}:
        _check_publishable(uow, case)
        move(uow, actor=actor, advisory_id=adv.id, target=AdvisoryState.UPDATED, reason=change)
    elif state == AdvisoryState.IN_REVIEW:
        move(uow, actor=actor, advisory_id=adv.id, target=AdvisoryState.DRAFT, reason=change)
    previous = revisions(uow, advisory_id=adv.id)[-1]
    row = AdvisoryRevision(
        advisory_id=adv.id,
        number=previous.number + 1,
        title=_text(title, "title", MAX_TITLE),
        summary=_text(summary, "summary", MAX_TEXT),
        change=_text(change, "change", MAX_TEXT),
        vulnerabilities=_vulnerabilities(
            uow, actor, case, vulnerabilities or previous.vulnerabilities
        ),
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    uow.session.add(row)
    uow.flush()
    return row


def disclosure_due(uow: UnitOfWork, case: Case) -> Any:
    """When the case's disclosure deadline ends (the latest over its findings), if one runs."""
    return uow.session.scalar(
        select(func.max(Deadline.due_at)).where(
            Deadline.case_id == case.id, Deadline.phase == Phase.DISCLOSURE
        )
    )


def _check_publishable(uow: UnitOfWork, case: Case) -> None:
    check_may_publish(
        embargoed=is_embargoed(case),
        firm_consented=case.publication_consent_at is not None,
        disclosure_due=disclosure_due(uow, case),
        now=utcnow(),
    )


def move(
    uow: UnitOfWork, *, actor: Actor, advisory_id: str, target: AdvisoryState, reason: str = ""
) -> Advisory:
    """Send to review, approve, publish or withdraw; publishing checks consent and embargo."""
    adv = get(uow, actor=actor, advisory_id=advisory_id)
    authorize(actor, "advisory.write")
    current = AdvisoryState(adv.state)
    check_advisory_move(current, target)
    case = get_case(uow, actor=actor, case_id=adv.case_id)
    if target in {AdvisoryState.PUBLISHED, AdvisoryState.UPDATED}:
        _check_publishable(uow, case)
    if target == AdvisoryState.WITHDRAWN and not reason.strip():
        raise InvalidInput("reason: say why the advisory is withdrawn")
    if target == AdvisoryState.PUBLISHED:
        adv.published_at = utcnow()
    record_change(
        uow.session,
        actor,
        object_type=ObjectType.ADVISORY,
        object_id=adv.id,
        org_id=case.org_id,
        from_state=current,
        to_state=target,
        reason=reason.strip(),
    )
    adv.state = target
    return adv


def check_may_export(uow: UnitOfWork, *, advisory: Advisory) -> Case:
    """Refuse to let anything about an embargoed case leave the review workspace."""
    case = uow.session.get(Case, advisory.case_id)
    assert case is not None
    if is_embargoed(case):
        raise Conflict(
            f"case {case.reference} is under embargo; "
            "nothing about it may leave the review workspace"
        )
    return case
