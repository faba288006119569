"""A scripted year of the program, written as transition rows with chosen times, so reports of
past periods have something to count: firms joining, suspended and withdrawing, submissions
received and reviewed, findings confirmed, acknowledged and fixed. Several of its counts are
small (one withdrawal, two suspensions, a few critical findings), which the report withholds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from airlock.bootstrap import Container
from airlock.core.access import Actor
from airlock.core.roles import OrgKind
from airlock.core.transitions import ObjectType, Transition
from airlock.enrollment import service as enrollment
from airlock.enrollment.models import Participation
from airlock.findings.models import Finding, FindingDecision
from airlock.publishing import reports
from airlock.publishing.report_models import ReportSnapshot
from airlock.publishing.suppression import audit as lp_audit
from airlock.submissions.models import AIModel, Submission

CATEGORIES = ["LLM01:2025", "LLM03:2025", "LLM05:2025", ""]
SEVERITIES = ["critical", "high", "high", "medium", "medium", "medium", "low", "low", "info"]


@dataclass
class History:
    """What was scripted: the firms' org ids and names."""

    orgs: dict[str, str] = field(default_factory=dict)


def _at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _dossier(release: datetime) -> dict[str, object]:
    return {
        "sections": {
            "B": {"versions": [{"planned_release_date": {"value": release.date().isoformat()}}]}
        }
    }


def script_year(
    container: Container, *, user_id: str, year: int = 2025, firms: int = 9, seed: int = 7
) -> History:
    """Write the year's rows; user_id is the agency user recorded as creator."""
    rnd = random.Random(seed)
    out = History()
    with container.uow() as uow:
        s = uow.session

        def move(kind: ObjectType, oid: str, frm: str | None, to: str, at: datetime) -> None:
            s.add(Transition(object_type=kind, object_id=oid, from_state=frm, to_state=to, at=at))

        for n in range(firms):
            name = f"Scripted Firm {n + 1:02d}"
            org = enrollment.create_organisation(uow, name=name, kind=OrgKind.DEVELOPER)
            out.orgs[name] = org.id
            p = s.query(Participation).filter_by(org_id=org.id).one()
            p.state = "active"
            joined = _at(year, 1 + n % 3, 5 + n)
            move(ObjectType.PARTICIPATION, p.id, None, "invited", joined - timedelta(days=3))
            move(ObjectType.PARTICIPATION, p.id, "invited", "enrolled", joined)
            if n != 8:  # one firm stays enrolled and never becomes active
                move(
                    ObjectType.PARTICIPATION, p.id, "enrolled", "active", joined + timedelta(days=9)
                )
            if n in (1, 2):  # two suspensions in May, one lifted in July
                move(ObjectType.PARTICIPATION, p.id, "active", "suspended", _at(year, 5, 10 + n))
            if n == 2:
                move(ObjectType.PARTICIPATION, p.id, "suspended", "active", _at(year, 7, 3))
            if n == 5:  # a single withdrawal in August
                move(ObjectType.PARTICIPATION, p.id, "active", "withdrawn", _at(year, 8, 20))
            model = AIModel(org_id=org.id, name=f"Scripted model {n + 1}")
            s.add(model)
            s.flush()
            for k in range(3):
                received = _at(year, 2 + (n + 4 * k) % 10, 1 + (3 * n + k) % 25)
                release = received + timedelta(days=rnd.choice([20, 45, 90, 150]))
                sub = Submission(
                    org_id=org.id,
                    model_id=model.id,
                    title=f"RC {k}",
                    version="",
                    state="review_complete",
                    dossier=_dossier(release),
                    created_by=user_id,
                    submitted_at=received,
                )
                s.add(sub)
                s.flush()
                move(ObjectType.SUBMISSION, sub.id, "draft", "submitted", received)
                reviewed = received + timedelta(days=rnd.choice([10, 30, 60]))
                move(ObjectType.SUBMISSION, sub.id, "in_review", "review_complete", reviewed)
                for f in range(rnd.randint(1, 4)):
                    _finding(s, rnd, move, sub, user_id, received, f)
        uow.commit()
    return out


def _finding(s, rnd, move, sub: Submission, user_id: str, received: datetime, f: int) -> None:  # type: ignore[no-untyped-def]
    finding = Finding(
        submission_id=sub.id,
        org_id=sub.org_id,
        fingerprint=f"{sub.id}-{f}",
        check_name="scripted",
        rule_id="r1",
        title="Scripted finding",
        reported_severity="high",
        reported_verdict="block",
        state="fix_verified",
        created_by=user_id,
    )
    s.add(finding)
    s.flush()
    confirmed = received + timedelta(days=rnd.randint(1, 8), hours=rnd.randint(0, 20))
    category = rnd.choice(CATEGORIES)
    s.add(
        FindingDecision(
            finding_id=finding.id,
            kind="confirm",
            severity=rnd.choice(SEVERITIES),
            owasp_llm=[category] if category else [],
            check_name="scripted",
            rule_id="r1",
            actor_user_id=user_id,
            at=confirmed,
        )
    )
    move(ObjectType.FINDING, finding.id, "draft", "confirmed", confirmed)
    notified = confirmed + timedelta(hours=rnd.randint(2, 30))
    move(ObjectType.FINDING, finding.id, "confirmed", "notified", notified)
    acknowledged = notified + timedelta(hours=rnd.randint(1, 96))
    move(ObjectType.FINDING, finding.id, "notified", "acknowledged", acknowledged)
    if rnd.random() < 0.75:
        fixed = acknowledged + timedelta(days=rnd.randint(2, 40))
        move(ObjectType.FINDING, finding.id, "fix_in_progress", "fix_submitted", fixed)
        move(
            ObjectType.FINDING,
            finding.id,
            "fix_submitted",
            "fix_verified",
            fixed + timedelta(days=2),
        )


def weaken_suppression(container: Container, *, actor: Actor, snapshot_id: str) -> tuple[str, Any]:
    """Publish one complementary suppression of a draft that the audit needs (a weakened
    suppression); the figure's key and the first interval that then fails."""
    with container.uow() as uow:
        draft = reports.get(uow, actor=actor, snapshot_id=snapshot_id)
        history = [reports.release_of(s) for s in reports.published(uow)]
        release = reports.release_of(draft)
        min_cell = draft.min_cell
    complements = sorted(
        f.key for f in release.figures if f.key in release.suppressed and not 0 < f.value < min_cell
    )
    needed = None
    for key in complements:
        release.suppressed.discard(key)
        failing = [
            i for i in lp_audit(release, history=history, min_cell=min_cell) if not i.protected
        ]
        release.suppressed.add(key)
        if failing:
            needed = (key, failing[0])
            break
    assert needed is not None, "no complementary suppression was needed"
    with container.uow() as uow:
        row = uow.session.get(ReportSnapshot, snapshot_id)
        assert row is not None
        row.figures = [
            {**f, "suppressed": False} if f["key"] == needed[0] else f for f in row.figures
        ]
        uow.commit()
    return needed
