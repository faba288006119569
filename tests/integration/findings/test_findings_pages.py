"""The findings pages: the reviewer triages from the queue and the finding page, the firm
responds from its inbox, sign-off from the submission page, the metrics dashboard; every form
posts, redirects and says what was done, and a refused form says why."""

from __future__ import annotations

import re

from tests.factories import vault as vault_factory
from tests.factories.accounts import PASSWORD, auth
from tests.factories.findings import findings_of, move_submission
from tests.factories.program import make_program
from tests.factories.scanning import EVIL_PICKLE, torch_style_checkpoint


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email):
    client.cookies.clear()
    r = client.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_reviewer_triages_from_the_pages_and_the_firm_responds_from_its_inbox(client, container):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    firm = auth(container, prog.actors["firm_a_admin"])
    vault_factory.upload(client, firm, sid, torch_style_checkpoint(EVIL_PICKLE), name="m.pt")
    container.queue.join()
    rev_api = auth(container, prog.actors["reviewer"])
    move_submission(client, rev_api, sid, "in_review")
    ids = [f["id"] for f in findings_of(client, rev_api, sid)]
    fid, rest = ids[0], ids[1:]

    login(client, "reviewer@agency.test")
    queue = client.get("/review/findings")
    assert queue.status_code == 200 and fid in queue.text and "Awaiting triage" in queue.text
    assert fid not in client.get("/review/findings?check=nothing-like-this").text
    if rest:
        r = client.post(
            "/review/findings/false-positive",
            data={"csrf_token": csrf_of(queue.text), "finding_id": rest, "reason": "same payload"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/review/findings?done=bulk"
        assert "marked as false positives" in client.get(r.headers["location"]).text

    page = client.get(f"/review/findings/{fid}").text
    assert "Confirm" in page and "m.pt!archive/data.pkl" in page  # evidence for the assignee
    r = client.post(
        f"/review/findings/{fid}/triage",
        data={
            "csrf_token": csrf_of(page),
            "action": "confirm",
            "severity": "critical",
            "cvss_vector": "CVSS:4.0/AV:Q",
        },
    )
    assert r.status_code == 422 and "cvss_vector" in r.text  # says why, on the same page
    r = client.post(
        f"/review/findings/{fid}/triage",
        data={
            "csrf_token": csrf_of(page),
            "action": "confirm",
            "severity": "critical",
            "cwe": "CWE-502",
            "owasp_llm": "LLM03:2025",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "The finding was confirmed." in page and "Send to the firm" in page
    r = client.post(
        f"/review/findings/{fid}/move",
        data={"csrf_token": csrf_of(page), "target": "notified", "reason": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303

    login(client, "admin@firm-a.test")
    inbox = client.get("/portal/findings").text
    assert fid in inbox and "Sent to the firm" in inbox
    page = client.get(f"/portal/findings/{fid}").text
    assert "Acknowledge" in page and "Dispute" in page
    r = client.post(
        f"/portal/findings/{fid}/move",
        data={"csrf_token": csrf_of(page), "target": "disputed", "reason": " "},
    )
    assert r.status_code == 422 and "reason: required" in r.text
    r = client.post(
        f"/portal/findings/{fid}/move",
        data={"csrf_token": csrf_of(page), "target": "acknowledged", "reason": "on it"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Acknowledged by the firm" in page and "Start the fix" in page
    r = client.post(
        f"/portal/findings/{fid}/move",
        data={"csrf_token": csrf_of(page), "target": "fix_in_progress", "reason": ""},
        follow_redirects=False,
    )
    page = client.get(r.headers["location"]).text
    link = re.search(r'href="([^"]+)" id="new-fixed-version"', page).group(1)
    form = client.get(link.replace("&amp;", "&")).text
    assert 'id="fixes-note"' in form and "RC of a" in form
    r = client.post(
        "/portal/submissions",
        data={
            "csrf_token": csrf_of(form),
            "model_id": prog.ids["model_a"],
            "title": "RC of a, fixed",
            "carries": ["weights"],
            "fixes_submission_id": sid,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    # the new submission opens in its dossier editor: /portal/submissions/{id}/dossier/A
    new_id = r.headers["location"].split("/portal/submissions/", 1)[1].split("/", 1)[0]
    got = client.get(f"/api/v1/submissions/{new_id}", headers=firm).json()
    assert got["fixes_submission_id"] == sid


def test_staff_see_verdict_counts_in_the_queue_and_sign_off_from_the_submission_page(
    client, container
):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    firm = auth(container, prog.actors["firm_a_admin"])
    vault_factory.upload(client, firm, sid, torch_style_checkpoint(EVIL_PICKLE), name="m.pt")
    container.queue.join()
    login(client, "coordinator@agency.test")  # not assigned: counts, never evidence
    queue = client.get("/review").text
    assert "blocking" in queue and "awaiting triage" in queue
    page = client.get(f"/review/submissions/{sid}").text
    assert 'id="verdict-counts"' in page and "not triaged" in page
    assert "os.system" not in page

    move_submission(client, auth(container, prog.actors["reviewer"]), sid, "in_review")
    page = client.get(f"/review/submissions/{sid}").text
    r = client.post(
        f"/review/submissions/{sid}/signoff",
        data={"csrf_token": csrf_of(page), "decision": "request_changes", "comment": ""},
    )
    assert r.status_code == 422 and "comment: required" in r.text
    r = client.post(
        f"/review/submissions/{sid}/signoff",
        data={"csrf_token": csrf_of(page), "decision": "approve", "comment": "ok"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Approved" in page and "sign-off still needed from: reviewer" in page


def test_the_metrics_dashboard_has_an_accessible_chart_and_a_table(client, container):
    make_program(container)
    login(client, "agency_admin@agency.test")
    page = client.get("/review/metrics")
    assert page.status_code == 200
    assert '<title id="metrics-title">' in page.text and '<desc id="metrics-desc">' in page.text
    assert 'id="metrics-table"' in page.text and 'id="fp-rates"' in page.text
    login(client, "reviewer@agency.test")
    assert client.get("/review/metrics").status_code == 403
