"""The public site: every page and its JSON, the feed and downloads, and consent: a firm that
did not agree to be named appears nowhere a visitor can reach."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from airlock.accounts.models import Organisation
from airlock.bootstrap import Container
from airlock.cases import deadlines
from airlock.cases import service as cases
from airlock.cases.rules import Phase
from airlock.core.db import utcnow
from airlock.publishing import advisories, reports
from airlock.publishing.advisories_rules import AdvisoryState as A
from airlock.submissions.models import AIModel
from tests.factories.accounts import auth
from tests.factories.cases import open_case_with_findings
from tests.factories.history import script_year
from tests.factories.program import make_program

SECRET = "Zyxwv Secretive Labs"
SECRET_MODEL = "Zyxwvtron"


@pytest.fixture
def site(container: Container, client):
    prog = make_program(container)
    with container.uow() as uow:
        uow.session.get(Organisation, prog.ids["org_a"]).name = SECRET
        uow.session.get(AIModel, prog.ids["model_a"]).name = SECRET_MODEL
        uow.commit()
    history = script_year(container, user_id=prog.actors["agency_admin"].user_id)
    # Firm B agrees to be named; firm A (the planted name) and the scripted firms do not.
    r = client.put(
        "/api/v1/participation/public-name",
        json={"consent": True},
        headers=auth(container, prog.actors["firm_b_admin"]),
    )
    assert r.status_code == 200 and r.json()["public_name_consent"] is True
    admin = prog.actors["agency_admin"]
    for period in ("2025Q3", "2025"):
        with container.uow() as uow:
            sid = reports.build(uow, actor=admin, period=period).id
            uow.commit()
        with container.uow() as uow:
            reports.publish(uow, actor=admin, snapshot_id=sid)
            uow.commit()
    # An advisory about firm A's model, public because the disclosure deadline passed, not
    # because firm A consented.
    ids = open_case_with_findings(container, prog, severities=("critical",))
    coord = prog.actors["coordinator"]
    with container.uow() as uow:
        adv = advisories.draft(
            uow,
            actor=coord,
            case_id=ids.case_id,
            title="Code execution when the weights are loaded",
            summary="A pickle in the weights ran code on load.",
            vulnerabilities={
                ids.findings[0]: {"cwe": "CWE-502", "remediation": "Use safetensors."}
            },
        )
        advisories.move(uow, actor=coord, advisory_id=adv.id, target=A.IN_REVIEW)
        advisories.move(uow, actor=coord, advisory_id=adv.id, target=A.APPROVED)
        case = cases.get_case(uow, actor=coord, case_id=ids.case_id)
        deadlines.start_phase(
            uow,
            case=case,
            finding_id=ids.findings[0],
            severity="critical",
            phase=Phase.DISCLOSURE,
            at=utcnow() - timedelta(days=91),
        )
        advisories.move(uow, actor=coord, advisory_id=adv.id, target=A.PUBLISHED)
        uow.commit()
        tracking_id = adv.tracking_id
    return prog, history, tracking_id


def public_paths(client, tracking_id: str) -> list[str]:
    """Every public page, file and JSON document, found by following the site's own links
    from the home page, plus the JSON twins."""
    seen: set[str] = set()
    queue = ["/", "/api/v1/public/home", "/api/v1/public/reports", "/api/v1/public/advisories"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        if "html" in r.headers["content-type"]:
            for href in re.findall(r'href="(/[^"#]*)"', r.text):
                href = href.replace("&amp;", "&")
                if href.startswith(("/static/", "/login", "/api/v1/docs", "/api/v1/openapi")):
                    continue
                queue.append(href)
    for extra in (
        f"/api/v1/public/advisories/{tracking_id}",
        f"/api/v1/public/advisories/{tracking_id}/csaf",
        f"/api/v1/public/advisories/{tracking_id}/avid",
        "/api/v1/public/reports/2025Q3",
        "/api/v1/public/reports/2025",
        "/api/v1/public/coverage",
    ):
        assert client.get(extra).status_code == 200, extra
        seen.add(extra)
    return sorted(seen)


def test_a_firm_that_did_not_consent_is_named_nowhere_public(client, site):
    _, history, tracking_id = site
    paths = public_paths(client, tracking_id)
    # The crawl reached every kind of public page.
    for expected in (
        "/reports/2025Q3",
        "/reports/2025",
        f"/advisories/{tracking_id}",
        f"/advisories/{tracking_id}/csaf.json",
        f"/advisories/{tracking_id}/avid.json",
        "/coverage",
        "/feed.atom",
        "/reports/2025Q3/v1.csv",
    ):
        assert expected in paths
    hidden = [SECRET, SECRET_MODEL, *history.orgs]
    for path in paths:
        body = client.get(path).content.decode("utf-8", "replace").lower()
        for name in hidden:
            assert name.lower() not in body, f"{name!r} appears on {path}"
    home = client.get("/").text
    assert "Firm B" in home  # the firm that agreed is named
    csaf = client.get(f"/advisories/{tracking_id}/csaf.json").json()
    assert csaf["product_tree"]["branches"][0]["name"] == "A participating developer"


def test_public_report_page_has_svg_charts_with_tables_and_withheld_tags(client, site):
    page = client.get("/reports/2025Q3").text
    assert page.count("<svg") >= 3 and 'role="img"' in page
    assert 'id="table-participation"' in page and "withheld" in page
    assert "<script" not in page.split("<main", 1)[1]  # the report itself needs no script
    data = client.get("/api/v1/public/reports/2025Q3").json()
    part = next(t for t in data["tables"] if t["name"] == "participation")
    september = next(r for r in part["rows"] if r["row"] == "2025-09")
    assert september["cells"][3] is None  # one withdrawal: withheld
    assert data["version"] == 1 and data["csv_url"].endswith("v1.csv")


def test_csv_says_withheld_where_the_page_does(client, site):
    text = client.get("/reports/2025Q3/v1.csv").text
    rows = list(csv.reader(io.StringIO(text)))
    withdrawn = [r for r in rows if len(r) == 4 and r[1] == "2025-09" and r[2] == "Withdrawn"]
    assert withdrawn and withdrawn[0][3] == "withheld"


def test_pdf_download_carries_the_charts(client, site):
    pytest.importorskip("fpdf")
    r = client.get("/reports/2025/v1.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert len(r.content) > 3000


def test_feed_lists_reports_and_advisories(client, site):
    _, _, tracking_id = site
    r = client.get("/feed.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(r.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert any("2025Q3" in t for t in titles) and any(tracking_id in t for t in titles)


def test_public_json_is_described_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in (
        "/api/v1/public/home",
        "/api/v1/public/reports",
        "/api/v1/public/reports/{period}",
        "/api/v1/public/advisories",
        "/api/v1/public/advisories/{tracking_id}",
        "/api/v1/public/coverage",
    ):
        assert p in paths, p


def test_bad_periods_and_unknown_reports_are_4xx(client, container):
    make_program(container)
    assert client.get("/reports/2025Q3").status_code == 404
    assert client.get("/reports/nonsense").status_code == 404
    assert client.get("/reports/2025Q3/v1.exe").status_code == 404
    assert client.get("/api/v1/public/reports/2025Q9").status_code == 422
    assert client.get("/advisories/NOPE-1").status_code == 404


def test_consent_is_audited_and_off_by_default(client, container):
    prog = make_program(container)
    headers = auth(container, prog.actors["firm_a_admin"])
    assert (
        client.get("/api/v1/participation", headers=headers).json()["public_name_consent"] is False
    )
    r = client.put("/api/v1/participation/public-name", json={"consent": True}, headers=headers)
    assert r.status_code == 200
    member = auth(container, prog.actors["firm_a_member"])
    r = client.put("/api/v1/participation/public-name", json={"consent": False}, headers=member)
    assert r.status_code == 403
    from sqlalchemy import select

    from airlock.core.audit import AuditEvent

    with container.uow() as uow:
        actions = list(
            uow.session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.action == "participation.public_name_consent"
                )
            )
        )
    assert actions == ["participation.public_name_consent"]
