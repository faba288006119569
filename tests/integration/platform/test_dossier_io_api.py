"""Dossier downloads on the submission page, the dossier check, and stored dossiers of an
earlier schema version."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from airlock.core.audit import AuditEvent
from airlock.dossiers.interop.common import iter_fields
from airlock.submissions import service as submissions_service
from airlock.submissions.models import Submission
from tests.factories.program import example, make_program, token_for

V1_FIXTURES = Path(__file__).parents[2] / "unit" / "dossiers" / "fixtures" / "v1.0"


def auth(container, actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(container, actor)}"}


def confidential_strings() -> set[str]:
    doc = example("full")
    public = {
        str(e["value"]) for _, e in iter_fields(doc["sections"]) if e["disclosure"] == "public"
    }
    return {
        e["value"]
        for _, e in iter_fields(doc["sections"])
        if e["disclosure"] != "public" and isinstance(e["value"], str) and len(e["value"]) > 12
    } - public


def test_dossier_downloads_follow_need_to_know_and_are_audited(client, container) -> None:
    prog = make_program(container)
    sub = prog.ids["sub_a"]
    url = f"/api/v1/submissions/{sub}/dossier/export"
    secrets = confidential_strings()
    assert secrets
    firm = client.get(
        url,
        params={"format": "eu-mdf", "audience": "agency"},
        headers=auth(container, prog.actors["firm_a_admin"]),
    )
    assert firm.status_code == 200, firm.text
    assert firm.headers["content-type"].startswith("text/markdown")
    assert "attachment" in firm.headers["content-disposition"]
    assert any(s in firm.text for s in secrets)
    public = client.get(
        url,
        params={"format": "eu-mdf", "audience": "public"},
        headers=auth(container, prog.actors["reviewer"]),
    )
    assert public.status_code == 200
    assert not any(s in public.text for s in secrets)
    # A coordinator not assigned to the submission gets only what the public may see.
    coord = client.get(
        url,
        params={"format": "cyclonedx", "audience": "agency"},
        headers=auth(container, prog.actors["coordinator"]),
    )
    assert coord.status_code == 200
    assert json.loads(coord.text)["bomFormat"] == "CycloneDX"
    assert not any(s in coord.text for s in secrets)
    other = client.get(
        url, params={"format": "sb53"}, headers=auth(container, prog.actors["firm_b_admin"])
    )
    assert other.status_code == 404
    with container.uow() as uow:
        rows = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "dossier.exported")
            .order_by(AuditEvent.seq)
        ).all()
    details = [r.detail if isinstance(r.detail, dict) else json.loads(r.detail) for r in rows]
    assert [(d["format"], d["audience"], d["confidential"]) for d in details] == [
        ("eu-mdf", "agency", True),
        ("eu-mdf", "public", True),
        ("cyclonedx", "agency", False),
    ]


def test_bad_format_or_audience_is_a_422_naming_the_choices(client, container) -> None:
    prog = make_program(container)
    url = f"/api/v1/submissions/{prog.ids['sub_a']}/dossier/export"
    headers = auth(container, prog.actors["firm_a_admin"])
    r = client.get(url, params={"format": "eu-mdf-pdf"}, headers=headers)
    assert r.status_code == 422 and "cyclonedx, spdx, eu-mdf, hf-card, sb53" in r.text
    r = client.get(url, params={"format": "spdx", "audience": "press"}, headers=headers)
    assert r.status_code == 422 and "audience" in r.text


def test_a_stored_first_version_dossier_is_read_and_exported_at_the_current_version(
    client, container
) -> None:
    prog = make_program(container)
    old = json.loads((V1_FIXTURES / "full.json").read_text())
    with container.uow() as uow:
        sub = uow.session.get(Submission, prog.ids["sub_a"])
        sub.dossier = old
        sub.dossier_schema_version = "1.0.0"
        uow.commit()
    headers = auth(container, prog.actors["firm_a_admin"])
    got = client.get(f"/api/v1/submissions/{prog.ids['sub_a']}/dossier", headers=headers).json()
    assert got["dossier"]["schema_version"] == "1.1.0"
    assert got["dossier"]["sections"] == old["sections"]
    r = client.get(
        f"/api/v1/submissions/{prog.ids['sub_a']}/dossier/export",
        params={"format": "spdx", "audience": "agency"},
        headers=headers,
    )
    assert r.status_code == 200 and "ai_AIPackage" in r.text


def test_a_first_version_dossier_sent_by_a_client_is_stored_at_the_current_version(
    client, container
) -> None:
    prog = make_program(container)
    old = json.loads((V1_FIXTURES / "minimal.json").read_text())
    r = client.post(
        "/api/v1/submissions",
        headers=auth(container, prog.actors["firm_a_admin"]),
        json={"model_id": prog.ids["model_a"], "title": "old client", "dossier": old},
    )
    assert r.status_code == 201, r.text
    assert r.json()["dossier_schema_version"] == "1.1.0"
    with container.uow() as uow:
        stored = uow.session.get(Submission, r.json()["id"])
        assert stored.dossier["schema_version"] == "1.1.0"
        # Stored sealed; opened it is what the client sent.
        opened = submissions_service.stored_dossier(uow, sub=stored)
        assert opened["sections"] == old["sections"]
        assert "model-review@northwind.example" not in json.dumps(stored.dossier)


def test_dossier_check_reports_errors_and_what_is_missing(client, container) -> None:
    prog = make_program(container)
    headers = {**auth(container, prog.actors["firm_a_member"]), "Content-Type": "application/json"}
    r = client.post(
        "/api/v1/dossiers/validate", content=json.dumps(example("minimal")), headers=headers
    )
    assert r.status_code == 200
    assert r.json()["valid"] is True and r.json()["missing"] == []
    bad = {
        "schema_version": "1.1.0",
        "sections": {
            "C": {"layers": {"value": 0, "disclosure": "public", "provenance": "imported"}}
        },
    }
    r = client.post("/api/v1/dossiers/validate", content=json.dumps(bad), headers=headers)
    body = r.json()
    assert r.status_code == 200 and body["valid"] is False
    assert body["errors"][0]["path"] == "sections.C.layers.value"
    r = client.post("/api/v1/dossiers/validate", content=b"{not json", headers=headers)
    assert r.status_code == 200 and r.json()["errors"][0]["rule"] == "json"


def test_submission_pages_link_the_downloads_and_the_links_work(client, container) -> None:
    prog = make_program(container)
    for role, page in (
        ("firm_a_admin", f"/portal/submissions/{prog.ids['draft_a']}"),
        ("reviewer", f"/review/submissions/{prog.ids['sub_a']}/dossier"),
    ):
        headers = {**auth(container, prog.actors[role]), "Accept": "text/html"}
        html = client.get(page, headers=headers).text
        links = re.findall(r'href="(/api/v1/submissions/[^"]+/dossier/export[^"]+)"', html)
        assert len(links) == 10, role
        for link in links:
            r = client.get(link.replace("&amp;", "&"), headers=headers)
            assert r.status_code == 200, (role, link, r.text[:200])
