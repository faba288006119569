"""The agency's report pages (build, preview with the audit, publish, correction) and the
firm's consent form, through the browser forms; and the `airlock report` commands."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from airlock.bootstrap import Container
from airlock.cli.main import app
from airlock.publishing.report_models import ReportSnapshot
from airlock.settings import Settings, get_settings
from tests.factories.history import script_year
from tests.factories.program import PASSWORD, make_program


def login(client: TestClient, email: str) -> None:
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_an_admin_builds_previews_and_publishes_then_corrects(client, container):
    prog = make_program(container)
    script_year(container, user_id=prog.actors["agency_admin"].user_id)
    login(client, "agency_admin@agency.test")
    page = client.get("/review/reports")
    assert page.status_code == 200 and 'id="build-form"' in page.text
    bad = client.post(
        "/review/reports", data={"csrf_token": csrf_of(page.text), "period": "2026Q4"}
    )
    assert bad.status_code == 422 and "has not ended yet" in bad.text
    r = client.post(
        "/review/reports",
        data={"csrf_token": csrf_of(page.text), "period": "2025Q3"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=report_built" in r.headers["location"]
    preview = client.get(r.headers["location"])
    assert "The audit passes" in preview.text and "Draft (not public)" in preview.text
    assert client.get("/reports/2025Q3").status_code == 404  # a draft is not public
    sid = r.headers["location"].split("/")[-1].split("?")[0]
    r = client.post(
        f"/review/reports/{sid}/publish",
        data={"csrf_token": csrf_of(preview.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/reports/2025Q3")
    public = client.get(r.headers["location"])
    assert public.status_code == 200 and "report is published" in public.text
    # A correction: a second build must say what changed.
    r = client.post(
        "/review/reports",
        data={"csrf_token": csrf_of(page.text), "period": "2025Q3"},
        follow_redirects=False,
    )
    second = r.headers["location"].split("/")[-1].split("?")[0]
    preview = client.get(f"/review/reports/{second}")
    assert 'name="change"' in preview.text
    refused = client.post(
        f"/review/reports/{second}/publish", data={"csrf_token": csrf_of(preview.text)}
    )
    assert refused.status_code == 422 and "say what this correction changes" in refused.text
    client.post(
        f"/review/reports/{second}/publish",
        data={"csrf_token": csrf_of(preview.text), "change": "Recounted September."},
    )
    latest = client.get("/reports/2025Q3")
    assert "Recounted September." in latest.text and "version 2" in latest.text.lower()
    assert client.get("/reports/2025Q3?version=1").status_code == 200


def test_a_coordinator_previews_but_cannot_build(client, container):
    make_program(container)
    login(client, "coordinator@agency.test")
    page = client.get("/review/reports")
    assert page.status_code == 200 and 'id="build-form"' not in page.text
    r = client.post("/review/reports", data={"csrf_token": csrf_of(page.text), "period": "2025Q1"})
    assert r.status_code == 403


def test_a_firm_admin_chooses_to_be_named_from_the_portal(client, container):
    make_program(container)
    login(client, "admin@firm-b.test")
    page = client.get("/portal")
    assert "not named" in page.text
    r = client.post(
        "/portal/public-name",
        data={"csrf_token": csrf_of(page.text), "consent": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=public_name_saved" in r.headers["location"]
    assert "Firm B" in TestClient(client.app).get("/").text
    other = TestClient(client.app)
    login(other, "member@firm-b.test")
    page = other.get("/portal")
    r = other.post("/portal/public-name", data={"csrf_token": csrf_of(page.text), "consent": "no"})
    assert r.status_code == 403


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AIRLOCK_DEV", "1")
    monkeypatch.setenv("AIRLOCK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRLOCK_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_report_build_audit_publish_commands(container: Container, cli_env: None) -> None:
    prog = make_program(container)
    script_year(container, user_id=prog.actors["agency_admin"].user_id)
    runner = CliRunner()
    admin = ["--as", "agency_admin@agency.test"]
    r = runner.invoke(app, ["report", "build", "--period", "2026Q4", *admin])
    assert r.exit_code == 1 and "has not ended yet" in r.output
    r = runner.invoke(app, ["report", "build", "--period", "2025Q2", *admin])
    assert r.exit_code == 0, r.output
    sid = re.search(r"built draft ([0-9a-f]+) for 2025Q2", r.output).group(1)  # type: ignore[union-attr]
    r = runner.invoke(app, ["report", "audit", sid, *admin])
    assert r.exit_code == 0 and "audit passes" in r.output and "ok   participation" in r.output
    # Weaken the draft: publish every figure of it; the audit and the publication name a cell.
    with container.uow() as uow:
        row = uow.session.get(ReportSnapshot, sid)
        row.figures = [{**f, "suppressed": False} for f in row.figures]
        uow.commit()
    r = runner.invoke(app, ["report", "audit", sid, *admin])
    assert r.exit_code == 1 and "audit fails: " in r.output
    r = runner.invoke(app, ["report", "publish", sid, *admin])
    assert r.exit_code == 1 and "refused by the suppression audit" in r.output
    # the figure, and the version it belongs to
    assert re.search(r"\w+\[[^\]]+\]\[[^\]]+\] of 2025Q2 draft \(true value \d\)", r.output), (
        r.output
    )
    r = runner.invoke(app, ["report", "build", "--period", "2025Q2", *admin])
    sid = re.search(r"built draft ([0-9a-f]+)", r.output).group(1)  # type: ignore[union-attr]
    r = runner.invoke(app, ["report", "publish", sid, *admin])
    assert r.exit_code == 0 and "published 2025Q2 version 1" in r.output
    r = runner.invoke(app, ["report", "publish", sid, "--as", "coordinator@agency.test"])
    assert r.exit_code == 1
