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
