"""Corrections on SQLite and PostgreSQL: a new version of a published period whose figures
differ (late data) is built, audited against the version it supersedes and published; the
yearly report after it stays protected; a correction that gives a withheld cell away by
combining old and new figures is refused, naming the cell."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airlock.bootstrap import Container
from airlock.core.db import new_id
from airlock.core.errors import Conflict
from airlock.core.transitions import ObjectType, Transition
from airlock.publishing import public_site, reports
from airlock.publishing.report_models import ReportSnapshot
from airlock.publishing.suppression import audit as lp_audit
from tests.factories.history import script_year, weaken_suppression
from tests.factories.program import make_program


@pytest.fixture
def year(container: Container):
    prog = make_program(container)
    script_year(container, user_id=prog.actors["agency_admin"].user_id)
    return prog


def _build(container: Container, actor, period: str) -> str:
    with container.uow() as uow:
        row = reports.build(uow, actor=actor, period=period)
        uow.commit()
        return row.id


def _publish(container: Container, actor, snapshot_id: str, change: str = "") -> ReportSnapshot:
    with container.uow() as uow:
        row = reports.publish(uow, actor=actor, snapshot_id=snapshot_id, change=change)
        uow.commit()
        return row


def _late_submissions(container: Container, *, count: int) -> None:
    """Submissions received in February 2025, recorded after Q1 was published."""
    with container.uow() as uow:
        for n in range(count):
            uow.session.add(
                Transition(
                    object_type=ObjectType.SUBMISSION,
                    object_id=new_id(),
                    from_state="draft",
                    to_state="submitted",
                    at=datetime(2025, 2, 10 + n, 9, tzinfo=UTC),
                )
            )
        uow.commit()


def _values(row: ReportSnapshot) -> dict[str, int]:
    return {f["key"]: f["value"] for f in row.figures}


def test_a_correction_with_different_figures_is_audited_and_published(container, year, client):
    admin = year.actors["agency_admin"]
    first = _publish(container, admin, _build(container, admin, "2025Q1"))
    _late_submissions(container, count=2)
    draft_id = _build(container, admin, "2025Q1")
    with container.uow() as uow:
        draft = reports.get(uow, actor=admin, snapshot_id=draft_id)
        before, after = _values(first), _values(draft)
        changed = {k for k in before if before[k] != after[k]}
        assert "submissions[2025-02][received]" in changed
        result = reports.audit(uow, actor=admin, snapshot_id=draft_id)
        assert result.intervals and not result.failing
    second = _publish(container, admin, draft_id, change="Two submissions received in February.")
    assert second.version == 2
    # The new version lists what readers see change, from published values only.
    shown_before = {f["key"]: None if f["suppressed"] else f["value"] for f in first.figures}
    for c in second.content["changes"]:
        assert c["before"] == shown_before[c["figure"]] and c["before"] != c["after"]
    with container.uow() as uow:
        out = public_site.report_out(uow, reports.public_get(uow, period="2025Q1"))
        assert out.version == 2 and len(out.changes) == len(second.content["changes"])
    page = client.get("/reports/2025Q1")
    assert page.status_code == 200 and "Two submissions received in February." in page.text
    # Scripted: February's received count (3, withheld) becomes 5 and is published; the
    # quarter's total then has to be withheld, so it is listed as changed too.
    assert second.content["changes"] and 'id="changes"' in page.text
    changes_table = page.text.split('id="changes"', 1)[1].split("</table>", 1)[0]
    assert "[" not in changes_table and "Submissions received" in changes_table  # in words
    assert (
        client.get("/api/v1/public/reports/2025Q1").json()["changes"]
        == out.model_dump(mode="json")["changes"]
    )
    # The yearly report after the correction is audited against both versions of Q1.
    _publish(container, admin, _build(container, admin, "2025"))
    with container.uow() as uow:
        everything = [reports.release_of(s) for s in reports.published(uow)]
        min_cell = uow.services.settings.public_min_cell
    assert [r.label for r in everything] == ["2025Q1 v1", "2025Q1 v2", "2025 v1"]
    intervals = lp_audit(everything[-1], history=everything[:-1], min_cell=min_cell)
    assert intervals and all(i.protected for i in intervals), [
        reports.describe(i) for i in intervals if not i.protected
    ]


def test_a_correction_that_gives_a_withheld_cell_away_is_refused_naming_it(container, year):
    admin = year.actors["agency_admin"]
    _publish(container, admin, _build(container, admin, "2025Q1"))
    _late_submissions(container, count=1)
    draft_id = _build(container, admin, "2025Q1")
    # Publish one of the correction's complementary suppressions: pruning left only needed
    # ones, so some withheld cell of the old or new version becomes exact.
    needed = weaken_suppression(container, actor=admin, snapshot_id=draft_id)
    with container.uow() as uow, pytest.raises(Conflict) as refused:
        reports.publish(uow, actor=admin, snapshot_id=draft_id, change="One late submission.")
    message = str(refused.value)
    assert "refused by the suppression audit" in message and needed[1].key in message
    assert f"of {needed[1].release}" in message
    with container.uow() as uow:
        assert uow.session.get(ReportSnapshot, draft_id).state == "draft"
