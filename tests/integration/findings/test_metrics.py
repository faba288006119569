"""Dashboard metrics equal the figures worked out by hand from a scripted history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airlock.core.db import new_id
from airlock.core.transitions import ObjectType, Transition
from airlock.findings import metrics
from airlock.findings.models import Finding, FindingDecision
from tests.factories.accounts import auth
from tests.factories.program import make_program

T0 = datetime(2026, 6, 1, tzinfo=UTC)
WALK = ["draft", "confirmed", "notified", "acknowledged", "fix_in_progress", "fix_submitted"]


def h(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def _finding(session, sid, org, rule, steps, severity=None):
    """A finding of check "c" whose transitions are steps [(to_state, at)], in order."""
    f = Finding(
        id=new_id(),
        submission_id=sid,
        org_id=org,
        fingerprint=new_id(),
        check_name="c",
        rule_id=rule,
        title=rule,
        reported_severity="high",
        reported_verdict="block",
        state=steps[-1][0],
        created_at=steps[0][1],
    )
    session.add(f)
    session.flush()
    previous = None
    for to, at in steps:
        session.add(
            Transition(
                object_type=ObjectType.FINDING,
                object_id=f.id,
                from_state=previous,
                to_state=to,
                at=at,
            )
        )
        if to == "confirmed":
            session.add(
                FindingDecision(
                    finding_id=f.id,
                    kind="confirm",
                    severity=severity,
                    check_name="c",
                    rule_id=rule,
                    at=at,
                )
            )
        previous = to
    return f


def _script(container, prog):
    a, b = prog.ids["sub_a"], prog.ids["sub_b"]
    oa, ob = prog.ids["org_a"], prog.ids["org_b"]
    with container.uow() as uow:
        s = uow.session
        # F1: critical, acknowledged after 3 h, a first fix that failed, the second verified.
        _finding(
            s,
            a,
            oa,
            "R1",
            [
                ("draft", h(0)),
                ("confirmed", h(1)),
                ("notified", h(2)),
                ("acknowledged", h(5)),
                ("fix_in_progress", h(6)),
                ("fix_submitted", h(10)),
                ("fix_in_progress", h(11)),
                ("fix_submitted", h(20)),
                ("fix_verified", h(26)),
                ("closed", h(27)),
            ],
            "critical",
        )
        # F2: critical, acknowledged after a day, never fixed.
        _finding(
            s,
            a,
            oa,
            "R1",
            [("draft", h(0)), ("confirmed", h(0)), ("notified", h(0)), ("acknowledged", h(24))],
            "critical",
        )
        # F3, F4: false positives; F5: a duplicate.
        _finding(s, a, oa, "R1", [("draft", h(0)), ("false_positive", h(1))])
        _finding(s, a, oa, "R2", [("draft", h(0)), ("false_positive", h(1))])
        _finding(s, a, oa, "R2", [("draft", h(0)), ("duplicate", h(1))])
        # F6: high, fixed in 2 h, verified 2 h later.
        _finding(
            s,
            a,
            oa,
            "R3",
            [
                ("draft", h(0)),
                ("confirmed", h(0)),
                ("notified", h(0)),
                ("acknowledged", h(1)),
                ("fix_in_progress", h(1)),
                ("fix_submitted", h(2)),
                ("fix_verified", h(4)),
            ],
            "high",
        )
        # F7: critical in firm B, verified after the declared release date (2027-01-15).
        r = datetime(2027, 1, 1, tzinfo=UTC)
        _finding(
            s,
            b,
            ob,
            "R1",
            [
                ("draft", r),
                ("confirmed", r),
                ("notified", r),
                ("acknowledged", r + timedelta(days=1)),
                ("fix_in_progress", r + timedelta(days=1)),
                ("fix_submitted", r + timedelta(days=30)),
                ("fix_verified", r + timedelta(days=31)),
            ],
            "critical",
        )
        uow.commit()


def test_dashboard_metrics_equal_the_hand_computed_figures(client, container):
    prog = make_program(container)
    _script(container, prog)
    with container.uow() as uow:
        m = metrics.compute(uow)
    # By hand: acknowledge 3, 24, 1, 24 h; fix 18, 2, 720 h; verify 6, 2, 24 h.
    assert (m.to_acknowledge.count, m.to_acknowledge.mean_hours) == (4, 13.0)
    assert m.to_acknowledge.median_hours == 13.5
    assert m.to_fix.count == 3 and m.to_fix.median_hours == 18.0
    assert m.to_fix.mean_hours == pytest.approx(740 / 3)
    assert (m.to_verify.count, m.to_verify.median_hours) == (3, 6.0)
    assert m.to_verify.mean_hours == pytest.approx(32 / 3)
    # Critical with a release date: F1, F2, F7; only F1 was verified before 2027-01-15.
    assert (m.critical_confirmed_with_release_date, m.critical_fixed_before_release) == (3, 1)
    assert m.critical_fixed_before_release_share == pytest.approx(1 / 3)
    rates = {
        (r.check_name, r.rule_id): (r.triaged, r.false_positives) for r in m.false_positive_rates
    }
    assert rates == {("c", "R1"): (4, 1), ("c", "R2"): (2, 1), ("c", "R3"): (1, 0)}
    assert m.deadline_overruns is None  # no deadline stage reports yet: unknown, not zero

    def two(uow):
        return 2

    metrics.add_overrun_source(two)
    try:
        with container.uow() as uow:
            assert metrics.compute(uow).deadline_overruns == 2
    finally:
        metrics.remove_overrun_source(two)

    admin = auth(container, prog.actors["agency_admin"])
    out = client.get("/api/v1/metrics/findings", headers=admin)
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["to_acknowledge"]["median_hours"] == 13.5
    assert body["critical_fixed_before_release_share"] == pytest.approx(1 / 3)
    firm = auth(container, prog.actors["firm_a_admin"])
    assert client.get("/api/v1/metrics/findings", headers=firm).status_code == 403
