"""Single sign-on for agency staff against a real OpenID Connect provider on loopback:
the code flow with PKCE, state and nonce, ID tokens checked against the provider's JWKS,
and only existing agency accounts let in."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from airlock.accounts.models import WebSession
from tests.factories.program import make_program
from tests.security.signin import from_address, serving
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Lies, OidcProvider

CALLBACK = "http://testserver/login/sso/callback"


@pytest.fixture
def provider():
    with OidcProvider(redirect_uris=[CALLBACK]) as p:
        yield p


def _oidc(provider, **extra):
    return {
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_email_domains": "agency.test",
        **extra,
    }


def _at_provider(start_location: str, email: str) -> str:
    """What the browser does at the provider: open the page, type the email, continue; the
    URL it is sent back to."""
    page = httpx.get(start_location)
    assert page.status_code == 200, page.text
    fields = {
        unescape(k): unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
    }
    base = f"{urlsplit(start_location).scheme}://{urlsplit(start_location).netloc}"
    back = httpx.post(f"{base}/authorize/approve", data={**fields, "email": email})
    assert back.status_code == 302
    return back.headers["location"]


def _sign_in(client, email, *, next_path="/account"):
    start = client.post("/login/sso", data={"next": next_path})
    assert start.status_code == 303, start.text
    back = _at_provider(start.headers["location"], email)
    assert back.startswith(CALLBACK)
    return client.get(back.removeprefix("http://testserver")), back


def test_agency_staff_sign_in_with_pkce_state_and_nonce(db_url, tmp_path, provider):
    with serving(db_url, tmp_path, **_oidc(provider)) as (container, app):
        make_program(container)
        client = from_address(app, "192.0.2.30")
        assert "Sign in with your agency account" in client.get("/login").text
        r, _ = _sign_in(client, "coordinator@agency.test")
        assert r.status_code == 303 and r.headers["location"] == "/account"
        assert "coordinator@agency.test" in client.get("/account").text
        asked = provider.authorize_requests[-1]
        assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
        assert len(provider.token_requests[-1]["code_verifier"]) >= 43
        with container.uow() as uow:
            assert list(uow.session.scalars(select(WebSession.auth_method))) == ["sso"]


def test_a_callback_is_bound_to_its_browser_and_works_once(db_url, tmp_path, provider):
    with serving(db_url, tmp_path, **_oidc(provider)) as (container, app):
        make_program(container)
        victim = from_address(app, "192.0.2.31")
        attacker = from_address(app, "192.0.2.32")
        start = attacker.post("/login/sso", data={"next": "/"})
        back = _at_provider(start.headers["location"], "coordinator@agency.test")
        # login CSRF: the attacker's callback URL pushed onto another browser is refused
        r = victim.get(back.removeprefix("http://testserver"))
        assert r.status_code == 401 and "did not start in this browser" in r.text
        assert "airlock_session=" not in r.headers.get("set-cookie", "")
        # in the browser that started it, it completes, once
        r = attacker.get(back.removeprefix("http://testserver"))
        assert r.status_code == 303
        r = attacker.get(back.removeprefix("http://testserver"))
        assert r.status_code == 401
        # and a fresh sign-in's callback cannot be replayed either
        r, back = _sign_in(attacker, "coordinator@agency.test")
        assert r.status_code == 303
        attacker.cookies.set("airlock_sso", parse_qs(urlsplit(back).query)["state"][0])
        r = attacker.get(back.removeprefix("http://testserver"))
        assert r.status_code == 401 and "already used" in r.text


@pytest.mark.parametrize(
    ("lies", "why"),
    [
        (Lies(audience="another-client"), "not valid"),
        (Lies(nonce="replayed-nonce"), "not valid"),
        (Lies(issuer="http://evil.example"), "not valid"),
        (Lies(foreign_key=True), "not valid"),
        (Lies(expired=True), "not valid"),
        (Lies(email_verified=False), "verified email"),
    ],
)
def test_an_id_token_that_fails_any_check_is_refused(db_url, tmp_path, provider, lies, why):
    with serving(db_url, tmp_path, **_oidc(provider)) as (container, app):
        make_program(container)
        provider.lies = lies
        client = from_address(app, "192.0.2.33")
        r, _ = _sign_in(client, "coordinator@agency.test")
        assert r.status_code in (401, 403), r.text
        assert why in r.text
        assert "airlock_session=" not in r.headers.get("set-cookie", "")
        with container.uow() as uow:
            assert not list(uow.session.scalars(select(WebSession)))


def test_only_existing_agency_accounts_in_allowed_domains_get_in(db_url, tmp_path, provider):
    with serving(db_url, tmp_path, **_oidc(provider, oidc_email_domains="")) as (container, app):
        make_program(container)
        client = from_address(app, "192.0.2.34")
        r, _ = _sign_in(client, "admin@firm-a.test")  # a firm user: never by single sign-on
        assert r.status_code == 403 and "no active agency account" in r.text
        r, _ = _sign_in(client, "nobody@agency.test")  # no account is made on the fly
        assert r.status_code == 403
    with serving(db_url, tmp_path, **_oidc(provider, oidc_email_domains="example.org")) as (
        container,
        app,
    ):
        client = from_address(app, "192.0.2.35")
        r, _ = _sign_in(client, "coordinator@agency.test")
        assert r.status_code == 403 and "not in a domain allowed" in r.text
        with container.uow() as uow:
            assert not list(uow.session.scalars(select(WebSession)))


def test_without_configuration_there_is_no_button_and_no_flow(db_url, tmp_path):
    with serving(db_url, tmp_path) as (_container, app):
        client = from_address(app, "192.0.2.36")
        assert "sso-button" not in client.get("/login").text
        r = client.post("/login/sso", data={"next": "/"})
        assert r.status_code == 422 and "not configured" in r.text
        r = client.get("/login/sso/callback?state=abc&code=def")
        assert r.status_code == 401
