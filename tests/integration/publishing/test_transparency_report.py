"""The transparency report on SQLite and PostgreSQL: figures from a scripted year, small cells
withheld with complementary suppression that survives an LP audit across two quarterly
reports and a yearly one, refusal of a weakened suppression, versions, bad periods."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airlock.bootstrap import Container
from airlock.core.errors import Conflict, Forbidden, InvalidInput
from airlock.publishing import reports
from airlock.publishing.report_models import ReportSnapshot
from airlock.publishing.suppression import audit as lp_audit
from tests.factories.history import script_year, weaken_suppression
from tests.factories.program import make_program


@pytest.fixture
def year(container: Container):
    prog = make_program(container)
    history = script_year(container, user_id=prog.actors["agency_admin"].user_id)
    return prog, history


def _build_publish(container: Container, actor, period: str, change: str = "") -> ReportSnapshot:
    with container.uow() as uow:
        row = reports.build(uow, actor=actor, period=period)
        uow.commit()
        sid = row.id
    with container.uow() as uow:
        row = reports.publish(uow, actor=actor, snapshot_id=sid, change=change)
        uow.commit()
        return row


def test_figures_of_a_quarter_are_counted_from_the_scripted_transitions(container, year):
    prog, _ = year
    with container.uow() as uow:
        row = reports.build(uow, actor=prog.actors["agency_admin"], period="2025Q3")
        figures = {f["key"]: f for f in row.figures}
    # Scripted: 9 firms; one stays enrolled, firm 2 suspended in May, firm 5 withdrew in August.
    at_september = {
        s: figures[f"participation[2025-09][{s}]"]["value"]
        for s in ("enrolled", "active", "suspended", "withdrawn")
    }
    assert at_september == {"enrolled": 1, "active": 6, "suspended": 1, "withdrawn": 1}
    assert figures["participation[2025-09][total]"]["value"] == 9
    # The small cells are withheld, and so is at least one cell that would give them away.
    assert figures["participation[2025-09][withdrawn]"]["suppressed"]
    assert figures["participation[2025-09][suspended]"]["suppressed"]
    table = next(t for t in row.content["tables"] if t["name"] == "participation")
    september = next(r for r in table["rows"] if r["row"] == "2025-09")
    assert september["cells"][2] is None and september["cells"][3] is None
    assert sum(1 for c in september["cells"] if c is None) >= 2
    assert not row.content["empty"]


def test_two_quarters_and_a_year_published_keep_every_withheld_cell_protected(container, year):
    prog, _ = year
    admin = prog.actors["agency_admin"]
    published = [_build_publish(container, admin, p) for p in ("2025Q1", "2025Q2", "2025")]
    assert [p.version for p in published] == [1, 1, 1]
    with container.uow() as uow:
        everything = [reports.release_of(s) for s in reports.published(uow)]
        min_cell = uow.services.settings.public_min_cell
    # The audit of the last release covers the sensitive cells of all three.
    intervals = lp_audit(everything[-1], history=everything[:-1], min_cell=min_cell)
    assert len(intervals) >= 10, "the scripted year must have small cells to protect"
    for i in intervals:
        assert i.protected, reports.describe(i)
        assert i.high - i.low > i.needed_high - i.needed_low - 1e-6, i
    withheld = sum(len(r.suppressed) for r in everything)
    primary = sum(1 for r in everything for f in r.figures if 0 < f.value < min_cell)
    assert withheld > primary, "complementary suppression must withhold more than the small cells"


def test_a_weakened_suppression_fails_the_audit_and_publication_names_the_cell(container, year):
    prog, _ = year
    admin = prog.actors["agency_admin"]
    for p in ("2025Q1", "2025Q2"):
        _build_publish(container, admin, p)
    with container.uow() as uow:
        draft = reports.build(uow, actor=admin, period="2025")
        uow.commit()
        draft_id = draft.id
    # Publish a complementary suppression that is needed: it gives a small cell away.
    key, failing = weaken_suppression(container, actor=admin, snapshot_id=draft_id)
    needed = (key, failing.key)
    with container.uow() as uow:
        result = reports.audit(uow, actor=admin, snapshot_id=draft_id)
        assert result.failing and result.failing[0].key == needed[1]
        with pytest.raises(
            Conflict, match=r"refused by the suppression audit: .*" + _re(needed[1])
        ):
            reports.publish(uow, actor=admin, snapshot_id=draft_id)
    with container.uow() as uow:
        assert uow.session.get(ReportSnapshot, draft_id).state == "draft"


def _re(text: str) -> str:
    import re

    return re.escape(text)


def test_a_published_snapshot_is_immutable_and_a_correction_is_a_new_version(container, year):
    prog, _ = year
    admin = prog.actors["agency_admin"]
    first = _build_publish(container, admin, "2025Q1")
    with container.uow() as uow, pytest.raises(Conflict, match="already published"):
        reports.publish(uow, actor=admin, snapshot_id=first.id)
    with container.uow() as uow:
        draft = reports.build(uow, actor=admin, period="2025Q1")
        uow.commit()
        draft_id = draft.id
    with container.uow() as uow, pytest.raises(InvalidInput, match="say what this correction"):
        reports.publish(uow, actor=admin, snapshot_id=draft_id)
    with container.uow() as uow:
        second = reports.publish(
            uow, actor=admin, snapshot_id=draft_id, change="Recounted one late acknowledgement."
        )
        uow.commit()
        assert second.version == 2
    with container.uow() as uow:
        again = uow.session.get(ReportSnapshot, first.id)
        assert again.version == 1 and again.content_sha256 == reports.content_hash(again.content)
        latest = reports.public_get(uow, period="2025Q1")
        assert latest.version == 2 and latest.content["change"].startswith("Recounted")


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026Q4", "has not ended yet"),
        ("2026", "has not ended yet"),
        ("2031Q1", "has not ended yet"),
        ("2025Q5", "is not a period"),
        ("last quarter", "is not a period"),
        ("", "is not a period"),
        ("1999", "before the program"),
    ],
)
def test_bad_or_future_periods_are_refused_with_a_clear_error(container, period, message):
    prog = make_program(container)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with container.uow() as uow, pytest.raises(InvalidInput, match=message):
        reports.build(uow, actor=prog.actors["agency_admin"], period=period, now=now)


def test_an_empty_period_gives_an_empty_report_that_says_so(container):
    prog = make_program(container)
    admin = prog.actors["agency_admin"]
    row = _build_publish(container, admin, "2024Q2")
    assert row.content["empty"] and row.content["withheld"] == 0


def test_only_agency_admins_build_and_publish(container):
    prog = make_program(container)
    with container.uow() as uow:
        for role in ("coordinator", "reviewer", "firm_a_admin"):
            with pytest.raises(Forbidden):
                reports.build(uow, actor=prog.actors[role], period="2025Q1")
