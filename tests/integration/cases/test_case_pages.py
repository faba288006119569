"""The case pages with a signed-in browser session: the firm acknowledges, replies in the
finding's thread and asks for more time; the coordinator answers; each change redirects to
the page with a confirmation; the header shows the unread count; bad input names the problem."""

from __future__ import annotations

import re

from sqlalchemy import select

from airlock.cases.models import Case, Extension, Message
from tests.factories.cases import notified_pickle_finding
from tests.factories.program import PASSWORD, make_program


def sign_in(client, email: str) -> str:
    client.cookies.clear()
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    page = client.get("/cases")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_firm_answers_on_the_case_page_and_the_coordinator_decides(client, container):
    prog = make_program(container)
    fid = notified_pickle_finding(client, container, prog)
    with container.uow() as uow:
        case = uow.session.scalars(select(Case)).one()
        case_id, reference = case.id, case.reference

    csrf = sign_in(client, "admin@firm-a.test")
    home = client.get("/cases")
    assert reference in home.text
    assert re.search(r'id="unread"[^>]*>1<', home.text), "the header shows one unread notification"
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "Acknowledge" in page.text and "Dispute" in page.text

    r = client.post(
        f"/cases/{case_id}/findings/{fid}/move",
        data={"csrf_token": csrf, "to": "disputed", "reason": ""},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "reason" in r.text  # a dispute needs a reason
    r = client.post(
        f"/cases/{case_id}/findings/{fid}/move",
        data={"csrf_token": csrf, "to": "acknowledged"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}?done=moved"
    page = client.get(r.headers["location"])
    assert "The finding was updated." in page.text and "acknowledged" in page.text

    thread_id = re.findall(rf'action="/cases/{case_id}/threads/([0-9a-f]+)"', page.text)[1]
    r = client.post(
        f"/cases/{case_id}/threads/{thread_id}",
        data={"csrf_token": csrf, "text": "Replacing the pickle now."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Your message was sent." in page.text and "Replacing the pickle now." in page.text

    deadline_id = re.search(
        rf'action="/cases/{case_id}/deadlines/([0-9a-f]+)/extension"', page.text
    ).group(1)
    r = client.post(
        f"/cases/{case_id}/deadlines/{deadline_id}/extension",
        data={"csrf_token": csrf, "until": "next week", "reason": "holiday"},
    )
    assert r.status_code == 422 and "until: give a date and hour" in r.text
    r = client.post(
        f"/cases/{case_id}/deadlines/{deadline_id}/extension",
        data={"csrf_token": csrf, "until": "2027-06-01T12:00+01:00", "reason": "holiday"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text

    csrf = sign_in(client, "coordinator@agency.test")
    page = client.get(f"/cases/{case_id}")
    assert "Replacing the pickle now." in page.text and "Grant" in page.text
    with container.uow() as uow:
        ext = uow.session.scalars(select(Extension)).one()
    r = client.post(
        f"/cases/{case_id}/extensions/{ext.id}",
        data={"csrf_token": csrf, "decision": "refuse", "reason": "too long"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with container.uow() as uow:
        assert uow.session.get(Extension, ext.id).state == "refused"
        assert len(uow.session.scalars(select(Message)).all()) == 1


def test_the_time_zone_choice_shows_deadlines_in_it_and_an_unknown_zone_is_refused(
    client, container
):
    prog = make_program(container)
    notified_pickle_finding(client, container, prog)
    with container.uow() as uow:
        case_id = uow.session.scalars(select(Case.id)).one()
    csrf = sign_in(client, "admin@firm-a.test")
    r = client.post(
        "/time-zone",
        data={"csrf_token": csrf, "zone": "Asia/Tokyo", "back": f"/cases/{case_id}"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Times are now shown in your time zone." in page.text and "JST (UTC+0900)" in page.text
    r = client.post("/time-zone", data={"csrf_token": csrf, "zone": "Mars/Olympus"})
    assert r.status_code == 422 and "Mars/Olympus" in r.text


def test_a_firm_member_who_does_not_take_part_sees_no_conversation(client, container):
    prog = make_program(container)
    notified_pickle_finding(client, container, prog)
    with container.uow() as uow:
        case_id = uow.session.scalars(select(Case.id)).one()
    sign_in(client, "member@firm-a.test")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "ask its coordinator to add you" in page.text
    sign_in(client, "admin@firm-b.test")
    assert client.get(f"/cases/{case_id}").status_code == 404


def test_the_coordinator_runs_the_embargo_and_the_advisory_from_the_page(client, container):
    prog = make_program(container)
    notified_pickle_finding(client, container, prog)
    with container.uow() as uow:
        case_id = uow.session.scalars(select(Case.id)).one()
    csrf = sign_in(client, "coordinator@agency.test")
    r = client.post(f"/cases/{case_id}/embargo", data={"csrf_token": csrf, "to": "active"})
    assert r.status_code == 409 and "from none to active" in r.text
    r = client.post(
        f"/cases/{case_id}/embargo",
        data={"csrf_token": csrf, "to": "proposed", "ends_at": "2027-01-10T09:00+00:00"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.post(f"/cases/{case_id}/embargo", data={"csrf_token": csrf, "to": "active"})
    r = client.post(
        f"/cases/{case_id}/advisories",
        data={"csrf_token": csrf, "title": "Code on load", "summary": "Pickle ran code."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "The advisory was saved." in page.text and "AIRLOCK-ADV-" in page.text
    advisory_id = re.search(rf"/cases/{case_id}/advisories/([0-9a-f]+)/move", page.text).group(1)
    for target in ("in_review", "approved"):
        r = client.post(
            f"/cases/{case_id}/advisories/{advisory_id}/move",
            data={"csrf_token": csrf, "to": target},
            follow_redirects=False,
        )
        assert r.status_code == 303
    r = client.post(
        f"/cases/{case_id}/advisories/{advisory_id}/move",
        data={"csrf_token": csrf, "to": "published"},
    )
    assert r.status_code == 409 and "active embargo" in r.text
    r = client.post(
        f"/cases/{case_id}/public",
        data={"csrf_token": csrf, "event": "public", "note": "blog post"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'id="embargo-state">exited<' in client.get(f"/cases/{case_id}").text

    csrf = sign_in(client, "admin@firm-a.test")
    r = client.post(f"/cases/{case_id}/consent", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    csrf = sign_in(client, "coordinator@agency.test")
    r = client.post(
        f"/cases/{case_id}/advisories/{advisory_id}/move",
        data={"csrf_token": csrf, "to": "published"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/cases/{case_id}")
    assert "published" in page.text and "Advisory AIRLOCK-ADV-" in page.text  # in the timeline
    r = client.post("/notifications/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and 'id="unread"' not in client.get("/notifications").text
