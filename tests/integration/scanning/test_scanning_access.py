"""Who may do what with checks and scan results: every role against every scanning route."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from airlock.bootstrap import build
from airlock.core.audit import AuditEvent
from airlock.scanning.engine import ENGINE_NAME, ENGINE_VERSION
from airlock.vault.reading import system_vault
from tests.factories.program import make_program, token_for

ROLES = (
    "agency_admin",
    "coordinator",
    "reviewer",
    "other_reviewer",
    "auditor",
    "firm_a_admin",
    "firm_a_member",
    "firm_b_admin",
)
# Expected status per role; "anonymous" sends no credentials.
SCANNERS = {**dict.fromkeys(ROLES, 403), "agency_admin": 200, "anonymous": 401}
RESULTS_OF_SUB_A = {
    **dict.fromkeys(ROLES, 403),
    "firm_a_admin": 200,
    "firm_a_member": 200,
    "reviewer": 200,  # assigned to sub_a
    "firm_b_admin": 404,  # another firm's submission does not exist for it
    "anonymous": 401,
}


def test_every_role_against_every_scanning_route(client, container):
    prog = make_program(container)
    headers = {
        role: {"Authorization": f"Bearer {token_for(container, prog.actors[role])}"}
        for role in ROLES
    }
    headers["anonymous"] = {}
    sid = prog.ids["sub_a"]
    routes = [
        ("GET", "/api/v1/scanners", None, SCANNERS),
        ("PUT", f"/api/v1/scanners/{ENGINE_NAME}", {"state": "enabled"}, SCANNERS),
        ("GET", f"/api/v1/submissions/{sid}/results", None, RESULTS_OF_SUB_A),
    ]
    got: dict[tuple[str, str, str], int] = {}
    want: dict[tuple[str, str, str], int] = {}
    for method, url, body, expected in routes:
        for role, status in expected.items():
            r = client.request(method, url, headers=headers[role], json=body)
            got[(method, url, role)] = r.status_code
            want[(method, url, role)] = status
    assert got == want


def test_agency_admin_sets_a_scanner_state_and_it_is_audited(client, container):
    prog = make_program(container)
    admin = {"Authorization": f"Bearer {token_for(container, prog.actors['agency_admin'])}"}
    rows = {r["name"]: r for r in client.get("/api/v1/scanners", headers=admin).json()["scanners"]}
    row = rows[ENGINE_NAME]
    assert rows["dossier-compute"]["state"] == "enabled"
    assert rows["behavioural-probes"]["state"] == "disabled"
    assert (row["name"], row["version"], row["state"]) == (ENGINE_NAME, ENGINE_VERSION, "enabled")
    r = client.put(f"/api/v1/scanners/{ENGINE_NAME}", headers=admin, json={"state": "evaluation"})
    assert r.status_code == 200 and r.json()["state"] == "evaluation"
    assert r.json()["updated_by"].startswith("agency_admin@agency.test")
    rows = {r["name"]: r for r in client.get("/api/v1/scanners", headers=admin).json()["scanners"]}
    assert rows[ENGINE_NAME]["state"] == "evaluation"
    with container.uow() as uow:
        events = list(
            uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "scanner.state_changed")
            )
        )
    assert len(events) == 1 and events[0].object_id == ENGINE_NAME

    r = client.put(f"/api/v1/scanners/{ENGINE_NAME}", headers=admin, json={"state": "on"})
    assert r.status_code == 422 and "enabled, evaluation, disabled" in r.text
    r = client.put("/api/v1/scanners/no-such-scanner", headers=admin, json={"state": "enabled"})
    assert r.status_code == 404


def test_a_job_reads_the_vault_of_the_container_it_runs_in(settings, tmp_path):
    from airlock.core.uow import UnitOfWork

    c = build(settings)
    try:
        with c.uow() as uow:
            vault = system_vault(uow)
        assert vault.store is c.blob_store
        assert vault.scratch == settings.data_dir / "tmp"
        with (
            UnitOfWork(c.session_factory) as bare,
            pytest.raises(RuntimeError, match="without services"),
        ):
            system_vault(bare)
    finally:
        c.close()
