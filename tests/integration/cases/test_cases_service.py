"""Cases: participants with recorded times, threads per finding, messages sealed and visible to
participants only with every reading audited, the firm seeing only notified findings, the
embargo leaving by itself when the issue is public."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from airlock.cases import service as cases
from airlock.cases.models import Message
from airlock.cases.rules import EmbargoState, PublicEvent
from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.core.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from airlock.core.transitions import ObjectType, history
from tests.factories.cases import open_case_with_findings
from tests.factories.program import make_program


@pytest.fixture
def world(container):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog, severities=("critical", "high"))
    with container.uow() as uow:
        # the second finding is not notified: the firm must not see it
        from airlock.cases.models import CaseFinding

        row = uow.session.scalars(
            select(CaseFinding).where(CaseFinding.finding_id == ids.findings[1])
        ).one()
        row.notified_at = None
        uow.commit()
    return prog, ids


def test_the_firm_sees_only_notified_findings_and_their_threads(container, world):
    prog, ids = world
    firm = prog.actors["firm_a_admin"]
    with container.uow() as uow:
        case = cases.get_case(uow, actor=firm, case_id=ids.case_id)
        assert [f.finding_id for f in cases.case_findings(uow, actor=firm, case=case)] == [
            ids.findings[0]
        ]
        shown = cases.threads(uow, actor=firm, case=case)
        assert [t.finding_id for t in shown] == [None, ids.findings[0]]
        coord = prog.actors["coordinator"]
        staff_threads = cases.threads(uow, actor=coord, case=case)
        assert len(staff_threads) == 3


def test_another_firm_and_unassigned_staff_do_not_learn_the_case_exists(container, world):
    prog, ids = world
    for who in ("firm_b_admin", "other_reviewer"):
        with container.uow() as uow, pytest.raises(NotFound):
            cases.get_case(uow, actor=prog.actors[who], case_id=ids.case_id)
    with container.uow() as uow, pytest.raises(Forbidden):
        cases.get_case(uow, actor=prog.actors["auditor"], case_id=ids.case_id)


def test_messages_are_stored_sealed_and_each_reading_is_audited(container, world):
    prog, ids = world
    firm, coord = prog.actors["firm_a_admin"], prog.actors["coordinator"]
    with container.uow() as uow:
        case = cases.get_case(uow, actor=coord, case_id=ids.case_id)
        general = cases.threads(uow, actor=coord, case=case)[0]
        cases.post_message(uow, actor=coord, thread_id=general.id, text="Secret plan: rotate keys")
        uow.commit()
    with container.uow() as uow:
        stored = uow.session.scalars(select(Message)).one()
        assert b"Secret plan" not in stored.sealed
        shown = cases.read_thread(uow, actor=firm, thread_id=general.id)
        uow.commit()
    assert [m.text for m in shown] == ["Secret plan: rotate keys"]
    with container.uow() as uow:
        reads = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.messages_read")
        ).all()
        assert [r.actor_user_id for r in reads] == [firm.user_id]
        assert "Secret" not in reads[0].detail


def test_someone_who_is_not_a_participant_cannot_write_or_read_and_nothing_is_written(
    container, world
):
    prog, ids = world
    firm_member, coord = prog.actors["firm_a_member"], prog.actors["coordinator"]
    with container.uow() as uow:
        case = cases.get_case(uow, actor=coord, case_id=ids.case_id)
        general = cases.threads(uow, actor=coord, case=case)[0]
    with container.uow() as uow, pytest.raises(Forbidden, match="do not take part in case AIR-"):
        cases.post_message(uow, actor=firm_member, thread_id=general.id, text="hello")
    with container.uow() as uow, pytest.raises(Forbidden):
        cases.read_thread(uow, actor=firm_member, thread_id=general.id)
    with container.uow() as uow, pytest.raises(NotFound):
        cases.post_message(uow, actor=prog.actors["firm_b_admin"], thread_id=general.id, text="x")
    with container.uow() as uow:
        assert uow.session.scalars(select(Message)).all() == []


def test_a_participation_starts_and_ends_at_recorded_times(container, world):
    prog, ids = world
    coord, member = prog.actors["coordinator"], prog.actors["firm_a_member"]
    with container.uow() as uow:
        cases.add_participant(
            uow, actor=coord, case_id=ids.case_id, user_id=member.user_id, role="firm_contact"
        )
        uow.commit()
    with container.uow() as uow:
        general = cases.threads(
            uow, actor=member, case=cases.get_case(uow, actor=member, case_id=ids.case_id)
        )[0]
        cases.post_message(uow, actor=member, thread_id=general.id, text="on it")
        cases.end_participation(uow, actor=coord, case_id=ids.case_id, user_id=member.user_id)
        uow.commit()
    with container.uow() as uow:
        rows = [
            p
            for p in cases.all_participants(uow, case_id=ids.case_id)
            if p.user_id == member.user_id
        ]
        assert len(rows) == 1 and rows[0].ended_at is not None
        assert rows[0].started_at <= rows[0].ended_at
        with pytest.raises(Forbidden):
            cases.read_thread(uow, actor=member, thread_id=general.id)


@pytest.mark.parametrize(
    ("user", "role", "fragment"),
    [
        ("firm_b_admin", "firm_contact", "only the case's firm and agency staff"),
        ("reviewer", "firm_contact", "the firm's people take part as firm_contact"),
        ("firm_a_member", "observer", "the firm's people take part as firm_contact"),
        ("firm_a_member", "boss", "role: use one of"),
        ("firm_a_admin", "firm_contact", "already takes part"),
    ],
)
def test_bad_participants_are_refused_with_the_rule(container, world, user, role, fragment):
    prog, ids = world
    with container.uow() as uow, pytest.raises(InvalidInput, match=fragment):
        cases.add_participant(
            uow,
            actor=prog.actors["coordinator"],
            case_id=ids.case_id,
            user_id=prog.actors[user].user_id,
            role=role,
        )


def test_an_active_embargo_exits_by_itself_when_the_issue_is_public(container, world):
    prog, ids = world
    coord = prog.actors["coordinator"]
    with container.uow() as uow:
        cases.move_embargo(
            uow,
            actor=coord,
            case_id=ids.case_id,
            target=EmbargoState.PROPOSED,
            ends_at=utcnow() + timedelta(days=30),
        )
        cases.move_embargo(uow, actor=coord, case_id=ids.case_id, target=EmbargoState.ACTIVE)
        uow.commit()
    with container.uow() as uow:
        case = cases.record_public_event(
            uow,
            actor=coord,
            case_id=ids.case_id,
            event=PublicEvent.EXPLOITED,
            note="seen in the wild",
        )
        assert case.embargo_state == EmbargoState.EXITED
        uow.commit()
    with container.uow() as uow:
        moves = [
            (t.from_state, t.to_state)
            for t in history(uow.session, object_type=ObjectType.EMBARGO, object_id=ids.case_id)
        ]
        assert moves == [("none", "proposed"), ("proposed", "active"), ("active", "exited")]


def test_an_illegal_embargo_move_and_a_bad_end_time_write_nothing(container, world):
    prog, ids = world
    coord = prog.actors["coordinator"]
    with container.uow() as uow, pytest.raises(InvalidTransition, match="from none to active"):
        cases.move_embargo(uow, actor=coord, case_id=ids.case_id, target=EmbargoState.ACTIVE)
    with (
        container.uow() as uow,
        pytest.raises(InvalidInput, match="ends_at: must be in the future"),
    ):
        cases.move_embargo(
            uow,
            actor=coord,
            case_id=ids.case_id,
            target=EmbargoState.PROPOSED,
            ends_at=utcnow() - timedelta(days=1),
        )
    with container.uow() as uow:
        assert cases.get_case(uow, actor=coord, case_id=ids.case_id).embargo_state == "none"
        assert history(uow.session, object_type=ObjectType.EMBARGO, object_id=ids.case_id) == []
