"""The audit trail page (issue 11, item 7): objects by name and link, filters kept in the URL,
system actions named, verdicts on scan rows, and CSV / JSON Lines exports of the same view."""

from __future__ import annotations

import csv
import io
import json

import pytest

from airlock.core import audit
from tests.factories.program import PASSWORD, make_program

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _sign_in(client, email: str) -> None:
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303


def _scan_row(container, prog) -> None:
    with container.uow() as uow:
        audit.append(
            uow.session,
            action="artifact.scanned",
            actor_label="system (airlock-scan)",
            object_type="artifact",
            object_id="0" * 32,
            org_id=prog.ids["org_a"],
            detail={"submission_id": prog.ids["sub_a"], "verdict": "block", "findings": 2},
        )
        uow.commit()


def test_the_audit_page_names_objects_links_them_and_names_system_actions(
    client, container
) -> None:
    prog = make_program(container)
    _scan_row(container, prog)
    _sign_in(client, "auditor@agency.test")
    # the page shows the newest 30 rows (the jobs keep writing): filter to the rows asserted
    page = client.get(f"/audit?object_id={'0' * 32}").text
    assert "System (airlock-scan)" in page  # rows with no user are the system's, named
    assert "Blocked" in page and "tone-bad" in page  # the scan row's verdict
    subs = client.get(f"/audit?object_id={prog.ids['sub_a']}").text
    link = f'href="/review/submissions/{prog.ids["sub_a"]}"'
    assert link not in page and link not in subs  # an auditor may not open submissions
    assert "Submission RC of a" in subs  # named, not linked
    assert "Submission: accepted" in subs  # a transition named after the state it reached
    assert "(Coordinator)" in subs and "(coordinator)" not in subs
    orgs = client.get(f"/audit?object_id={prog.ids['org_a']}").text
    assert "Organisation Firm A" in orgs  # by name, not by id
    client.cookies.clear()
    _sign_in(client, "agency_admin@agency.test")
    assert link in client.get(f"/audit?object_id={prog.ids['sub_a']}").text  # admins follow it


def test_filters_narrow_the_page_and_the_exports_to_the_same_rows(client, container) -> None:
    prog = make_program(container)
    _scan_row(container, prog)
    _sign_in(client, "agency_admin@agency.test")
    page = client.get("/audit", params={"action": "submission.accepted"}).text
    assert page.count("Submission: accepted") >= 1 and "Organisation Firm A" not in page
    page = client.get("/audit", params={"actor": "system"}).text
    assert "coordinator@agency.test (Coordinator)" not in page and "System (automatic)" in page

    params = {"action": "submission.accepted"}
    r = client.get("/audit/export", params={**params, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and {row["action"] for row in rows} == {"submission.accepted"}
    assert rows[0]["object_id"] == prog.ids["sub_a"] and rows[0]["object"].startswith("Submission")

    r = client.get("/audit/export", params={"format": "jsonl", "object_type": "artifact"})
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert len(lines) == 1 and lines[0]["verdict"] == "block"
    assert lines[0]["detail"]["findings"] == 2

    every = client.get("/audit/export", params={"format": "jsonl"}).text.splitlines()
    assert len(every) > len(rows) + 1  # unfiltered holds more than the filtered views


def test_a_spreadsheet_never_reads_an_exported_cell_as_a_formula(client, container) -> None:
    make_program(container)
    bad = client.post(
        "/login",
        data={"email": '=HYPERLINK("http://x.test")', "password": "x", "next": "/"},
        follow_redirects=False,
    )
    assert bad.status_code in (401, 422)
    _sign_in(client, "auditor@agency.test")
    rows = list(csv.reader(io.StringIO(client.get("/audit/export").text)))
    cells = [c for row in rows for c in row]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


def test_bad_filters_are_refused_with_a_message_and_only_auditors_and_admins_read(
    client, container
) -> None:
    make_program(container)
    _sign_in(client, "auditor@agency.test")
    r = client.get("/audit", params={"since": "last tuesday"}, headers={"Accept": "text/html"})
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text
    r = client.get("/audit/export", params={"format": "xlsx"})
    assert r.status_code == 422
    client.cookies.clear()
    _sign_in(client, "reviewer@agency.test")
    assert client.get("/audit", headers={"Accept": "text/html"}).status_code == 403
    assert client.get("/audit/export").status_code == 403
