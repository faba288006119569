"""A repeated form post creates nothing new (issue 11, item 2): every form that creates an
object carries a one-time key; sending it again (a refresh, a double click) leads to what the
first post created. One test per creating form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from airlock.accounts.models import ApiToken, Invitation
from airlock.cases.models import Case, Extension, Message
from airlock.publishing.advisories_models import Advisory
from airlock.submissions.models import AIModel, Submission
from tests.factories.cases import notified_pickle_finding
from tests.factories.program import PASSWORD, make_program

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _sign_in(client, email: str) -> str:
    client.cookies.clear()
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[:300]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)


def _count(container, model) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _key(html: str, action: str) -> str:
    """The form key of the form posting to `action` on a page."""
    at = html.index(f'action="{action}"')
    form = html[at : html.index("</form>", at)]
    return re.search(r'name="form_key" value="([^"]+)"', form).group(1)


def _twice(client, url: str, data: dict) -> tuple[int, object]:
    first = client.post(url, data=data, follow_redirects=False)
    second = client.post(url, data=data, follow_redirects=False)
    return first.status_code, second


def test_registering_a_model_twice_with_one_form_registers_one(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    key = _key(client.get("/portal").text, "/portal/models")
    before = _count(container, AIModel)
    data = {"csrf_token": csrf, "form_key": key, "name": "Twice-1B", "description": ""}
    status, again = _twice(client, "/portal/models", data)
    assert status == 303
    assert again.status_code == 303 and again.headers["location"] == "/portal?done=already_done"
    assert _count(container, AIModel) == before + 1
    assert "That form was already sent" in client.get(again.headers["location"]).text


def test_creating_a_submission_twice_with_one_form_creates_one(client, container) -> None:
    prog = make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    key = _key(client.get("/portal/submissions/new").text, "/portal/submissions")
    before = _count(container, Submission)
    data = {"csrf_token": csrf, "form_key": key, "model_id": prog.ids["model_a"], "title": "Once"}
    first = client.post("/portal/submissions", data=data, follow_redirects=False)
    # the same form, edited in between (a different title), is still the same form post
    again = client.post(
        "/portal/submissions", data={**data, "title": "Once more"}, follow_redirects=False
    )
    assert first.status_code == again.status_code == 303
    assert again.headers["location"].split("?")[0] == first.headers["location"].split("?")[0]
    assert _count(container, Submission) == before + 1


def test_creating_an_api_token_twice_with_one_form_creates_one(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    key = _key(client.get("/account").text, "/account/tokens")
    before = _count(container, ApiToken)
    status, again = _twice(
        client, "/account/tokens", {"csrf_token": csrf, "form_key": key, "name": "ci"}
    )
    assert status == 200  # the secret is shown once, on the first answer
    assert again.status_code == 303 and again.headers["location"] == "/account?done=already_done"
    assert _count(container, ApiToken) == before + 1


def test_inviting_twice_with_one_form_invites_once(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    key = _key(client.get("/members").text, "/members/invite")
    before = _count(container, Invitation)
    data = {
        "csrf_token": csrf,
        "form_key": key,
        "email": "once@firm-a.test",
        "role": "developer_member",
    }
    status, again = _twice(client, "/members/invite", data)
    assert status == 200  # the one-time link is shown on the first answer
    assert again.status_code == 303 and again.headers["location"] == "/members?done=already_done"
    assert _count(container, Invitation) == before + 1


def _case_page(client, container) -> tuple[str, str, str]:
    prog = make_program(container)
    notified_pickle_finding(client, container, prog)
    with container.uow() as uow:
        case_id = uow.session.scalars(select(Case.id)).one()
    csrf = _sign_in(client, "admin@firm-a.test")
    return csrf, case_id, client.get(f"/cases/{case_id}").text


def test_writing_in_a_thread_twice_with_one_form_sends_one_message(client, container) -> None:
    csrf, case_id, page = _case_page(client, container)
    thread_id = re.findall(rf'action="/cases/{case_id}/threads/([0-9a-f]+)"', page)[-1]
    action = f"/cases/{case_id}/threads/{thread_id}"
    before = _count(container, Message)
    data = {"csrf_token": csrf, "form_key": _key(page, action), "text": "Only once, please."}
    status, again = _twice(client, action, data)
    assert status == 303 and again.status_code == 303
    assert again.headers["location"] == f"/cases/{case_id}?done=already_done"
    assert _count(container, Message) == before + 1


def test_asking_for_more_time_twice_with_one_form_asks_once(client, container) -> None:
    csrf, case_id, page = _case_page(client, container)
    deadline_id = re.search(rf'action="/cases/{case_id}/deadlines/([0-9a-f]+)/extension"', page)[1]
    action = f"/cases/{case_id}/deadlines/{deadline_id}/extension"
    data = {
        "csrf_token": csrf,
        "form_key": _key(page, action),
        "until": "2027-06-01T12:00+01:00",
        "reason": "holiday",
    }
    status, again = _twice(client, action, data)
    assert status == 303 and again.status_code == 303
    assert "already_done" in again.headers["location"]
    assert _count(container, Extension) == 1


def test_drafting_an_advisory_twice_with_one_form_drafts_one(client, container) -> None:
    _, case_id, _ = _case_page(client, container)
    csrf = _sign_in(client, "coordinator@agency.test")
    page = client.get(f"/cases/{case_id}").text
    action = f"/cases/{case_id}/advisories"
    # the draft form is the last one posting there (revisions of earlier drafts come first)
    at = page.rindex(f'action="{action}"')
    key = re.search(r'name="form_key" value="([^"]+)"', page[at : page.index("</form>", at)])[1]
    data = {"csrf_token": csrf, "form_key": key, "title": "Unsafe pickle", "summary": "Once."}
    status, again = _twice(client, action, data)
    assert status == 303 and again.status_code == 303
    assert "already_done" in again.headers["location"]
    assert _count(container, Advisory) == 1


def test_a_key_is_bound_to_its_user_and_form(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    key = _key(client.get("/portal").text, "/portal/models")
    data = {"csrf_token": csrf, "form_key": key, "name": "Bound-1B"}
    assert client.post("/portal/models", data=data, follow_redirects=False).status_code == 303
    csrf_b = _sign_in(client, "admin@firm-b.test")
    # another user's post with a copied key is a new form post, not a replay of theirs
    r = client.post("/portal/models", data={**data, "csrf_token": csrf_b}, follow_redirects=False)
    assert r.headers["location"] == "/portal?done=model_registered"
