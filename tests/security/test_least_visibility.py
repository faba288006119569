"""Attacks on need-to-know: unassigned staff see file names; reads of scan results and of
the manifest leave no trace (issue 10, item 8)."""

from __future__ import annotations

from sqlalchemy import select

from airlock.core.audit import AuditEvent
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.scanning import EVIL_PICKLE
from tests.factories.vault import upload

SECRET_NAME = "secret-project-nightingale.pkl"


def _actions_by(container, user_id: str) -> list[str]:
    with container.uow() as uow:
        stmt = select(AuditEvent.action).where(AuditEvent.actor_user_id == user_id)
        return list(uow.session.scalars(stmt))


def test_unassigned_staff_see_counts_and_verdicts_never_names_sizes_or_hashes(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    art = upload(client, firm, sid, EVIL_PICKLE, name=SECRET_NAME, kind="weights")
    container.queue.join(timeout=60)  # type: ignore[attr-defined]
    assigned = auth(container, prog.actors["reviewer"])
    full = client.get(f"/api/v1/submissions/{sid}/artifacts", headers=assigned).json()
    assert [a["name"] for a in full["artifacts"]] == [SECRET_NAME] and not full["withheld"]
    assert full["verdicts"] == {"block": 1}
    for who in ("other_reviewer", "coordinator", "agency_admin"):
        staff = auth(container, prog.actors[who])
        r = client.get(f"/api/v1/submissions/{sid}/artifacts", headers=staff)
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert body["withheld"] and body["artifacts"] == [] and body["total_bytes"] == 0
        assert body["artifact_count"] == 1 and body["verdicts"] == {"block": 1}
        assert SECRET_NAME not in r.text and art["sha256"] not in r.text
        assert client.get(f"/api/v1/artifacts/{art['id']}", headers=staff).status_code == 403
        assert client.get(f"/api/v1/submissions/{sid}/results", headers=staff).status_code == 403
    page = client.get(
        f"/review/submissions/{sid}/artifacts",
        headers=auth(container, prog.actors["coordinator"]),
    )
    assert page.status_code == 200
    assert SECRET_NAME not in page.text and art["sha256"] not in page.text
    assert "shown only to the staff assigned" in page.text
    page = client.get(f"/review/submissions/{sid}/artifacts", headers=assigned)
    assert SECRET_NAME in page.text


def test_reads_of_the_manifest_and_of_scan_results_are_audited(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    upload(client, firm, sid, EVIL_PICKLE, name="m.pkl", kind="weights")
    container.queue.join(timeout=60)  # type: ignore[attr-defined]
    reviewer = prog.actors["reviewer"]
    headers = auth(container, reviewer)
    assert "artifact.manifest_read" not in _actions_by(container, reviewer.user_id)
    assert client.get(f"/api/v1/submissions/{sid}/artifacts", headers=headers).status_code == 200
    assert client.get(f"/api/v1/submissions/{sid}/results", headers=headers).status_code == 200
    actions = _actions_by(container, reviewer.user_id)
    assert actions.count("artifact.manifest_read") == 1
    assert actions.count("scan.results_read") == 1
    coordinator = prog.actors["coordinator"]
    client.get(f"/api/v1/submissions/{sid}/artifacts", headers=auth(container, coordinator))
    with container.uow() as uow:
        ev = uow.session.scalars(
            select(AuditEvent).where(
                AuditEvent.actor_user_id == coordinator.user_id,
                AuditEvent.action == "artifact.manifest_read",
            )
        ).one()
    assert ev.object_id == sid and '"withheld":true' in ev.detail
