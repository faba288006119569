"""After a form post the browser is redirected (post/redirect/get) to a page that confirms
what happened (issue 11, item 2); only the app's own fixed messages can be shown that way."""

from __future__ import annotations

import re

import pytest

from tests.factories.program import PASSWORD, make_program


def _sign_in(client, email: str) -> str:
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get("/account").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_form_post_redirects_to_a_page_that_confirms_it(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    r = client.post(
        "/portal/models", data={"csrf_token": csrf, "name": "Confirmed-1B"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/portal?done=model_registered"
    page = client.get(r.headers["location"]).text
    assert 'id="flash"' in page and "The model is registered." in page
    # a reload of the confirmation page is a GET: nothing is posted again
    assert client.get(r.headers["location"]).text.count("Confirmed-1B") == page.count(
        "Confirmed-1B"
    )

    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.headers["location"] == "/login?done=signed_out"
    assert "You are signed out." in client.get(r.headers["location"]).text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_link_cannot_put_its_own_words_on_a_page(client, container) -> None:
    make_program(container)
    _sign_in(client, "admin@firm-a.test")
    for done in ("<script>alert(1)</script>", "Your account is suspended", "NOTICES"):
        page = client.get("/portal", params={"done": done}).text
        assert 'id="flash"' not in page and done not in page


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_create_form_sent_twice_creates_one_object(client, container) -> None:
    from sqlalchemy import func, select

    from airlock.submissions.models import AIModel, Submission

    prog = make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")

    def count(model) -> int:
        with container.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)

    models = count(AIModel)
    form = {"csrf_token": csrf, "name": "Twice-7B"}
    assert client.post("/portal/models", data=form, follow_redirects=False).status_code == 303
    again = client.post("/portal/models", data=form, follow_redirects=False)
    assert again.status_code == 409 and "already has a model" in again.text
    assert count(AIModel) == models + 1

    subs = count(Submission)
    form = {
        "csrf_token": csrf,
        "model_id": prog.ids["model_a"],
        "title": "Twice-7B rc1",
        "version": "rc1",
    }
    first = client.post("/portal/submissions", data=form, follow_redirects=False)
    second = client.post("/portal/submissions", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert count(Submission) == subs + 1
    other = client.post(
        "/portal/submissions", data={**form, "version": "rc2"}, follow_redirects=False
    )
    assert other.status_code == 303 and count(Submission) == subs + 2  # a new version is new
