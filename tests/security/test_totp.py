"""The TOTP second factor: enrolment, the code step after the password, recovery codes,
the agency requirement, and that the secret and codes are not readable from the database."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from airlock.accounts.models import MfaFactor, RecoveryCode, WebSession
from tests.factories.program import PASSWORD, make_program
from tests.security.signin import csrf_of, fresh_code, from_address, login, secret_on, serving


def _enrol(client, container, user_id):
    """Set up TOTP through the pages; the key and the recovery codes."""
    page = client.get("/account/mfa").text
    assert 'id="mfa-start"' in page
    r = client.post("/account/mfa/start", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"] == "/account/mfa"
    page = client.get("/account/mfa").text
    secret = secret_on(page)
    assert "<svg" in page  # the QR code, drawn on the server
    bad = client.post("/account/mfa/confirm", data={"code": "000000", "csrf_token": csrf_of(page)})
    assert bad.status_code == 422 and "not the one your app shows" in bad.text
    r = client.post(
        "/account/mfa/confirm",
        data={"code": fresh_code(container, user_id, secret), "csrf_token": csrf_of(page)},
    )
    assert r.status_code == 200, r.text
    codes = re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", r.text)
    assert len(codes) == 10
    return secret, codes


def _sign_out(client):
    page = client.get("/account").text
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    client.cookies.clear()


def test_enrolment_then_sign_in_asks_for_the_code(db_url, tmp_path):
    with serving(db_url, tmp_path) as (container, app):
        prog = make_program(container)
        user = prog.actors["firm_a_admin"]
        client = from_address(app, "192.0.2.10")
        assert login(client, user.email).status_code == 303
        secret, codes = _enrol(client, container, user.user_id)
        assert "10</strong> unused recovery codes" in client.get("/account/mfa").text

        # stored sealed and hashed: neither the key nor a code is in the database
        with container.uow() as uow:
            factor = uow.session.get(MfaFactor, user.user_id)
            hashes = list(uow.session.scalars(select(RecoveryCode.code_hash)))
        assert factor.secret_sealed.startswith("alk1:") and secret not in factor.secret_sealed
        assert not {c.replace("-", "") for c in codes} & set(hashes)

        _sign_out(client)
        r = login(client, user.email)
        assert r.status_code == 303 and r.headers["location"].startswith("/login/code")
        assert "airlock_session=" not in r.headers.get("set-cookie", "")
        assert client.get("/account").status_code == 401  # not signed in yet
        assert client.get("/login/code").status_code == 200
        r = client.post("/login/code", data={"code": "123456", "next": "/"})
        assert r.status_code == 401
        code = fresh_code(container, user.user_id, secret)
        r = client.post("/login/code", data={"code": code, "next": "/account"})
        assert r.status_code == 303 and r.headers["location"] == "/account"
        assert client.get("/account").status_code == 200
        with container.uow() as uow:
            methods = list(uow.session.scalars(select(WebSession.auth_method)))
        assert methods and set(methods) == {"password"}

        # the same code cannot be replayed for another sign-in
        _sign_out(client)
        login(client, user.email)
        assert client.post("/login/code", data={"code": code}).status_code == 401


def test_a_recovery_code_works_once(db_url, tmp_path):
    with serving(db_url, tmp_path) as (container, app):
        prog = make_program(container)
        user = prog.actors["firm_a_member"]
        client = from_address(app, "192.0.2.11")
        login(client, user.email)
        _, codes = _enrol(client, container, user.user_id)
        _sign_out(client)
        login(client, user.email)
        r = client.post("/login/code", data={"code": codes[3].upper(), "next": "/"})
        assert r.status_code == 303
        _sign_out(client)
        login(client, user.email)
        assert client.post("/login/code", data={"code": codes[3]}).status_code == 401
        assert client.post("/login/code", data={"code": codes[4]}).status_code == 303
        assert "8</strong> unused recovery codes" in client.get("/account/mfa").text


def test_the_api_token_endpoint_needs_the_code_too(db_url, tmp_path):
    with serving(db_url, tmp_path) as (container, app):
        prog = make_program(container)
        user = prog.actors["firm_a_admin"]
        client = from_address(app, "192.0.2.12")
        login(client, user.email)
        secret, _ = _enrol(client, container, user.user_id)
        body = {"email": user.email, "password": PASSWORD}
        r = client.post("/api/v1/auth/token", json=body)
        assert r.status_code == 401 and "code" in r.json()["detail"]
        r = client.post("/api/v1/auth/token", json={**body, "code": "999999"})
        assert r.status_code == 401
        code = fresh_code(container, user.user_id, secret)
        assert client.post("/api/v1/auth/token", json={**body, "code": code}).status_code == 201


def test_guessing_codes_is_throttled_and_a_challenge_dies_after_five_tries(db_url, tmp_path):
    with serving(db_url, tmp_path, login_free_failures_account=20) as (container, app):
        prog = make_program(container)
        user = prog.actors["firm_b_admin"]
        client = from_address(app, "192.0.2.13")
        login(client, user.email)
        secret, _ = _enrol(client, container, user.user_id)
        _sign_out(client)
        login(client, user.email)
        for guess in ("111111", "222222", "333333", "444444", "555555"):
            assert client.post("/login/code", data={"code": guess}).status_code == 401
        # even the right code is refused now: the challenge is spent, sign in again
        code = fresh_code(container, user.user_id, secret)
        r = client.post("/login/code", data={"code": code})
        assert r.status_code == 401 and "sign in again" in r.text
    with serving(db_url, tmp_path, login_free_failures_account=2) as (container, app):
        client = from_address(app, "192.0.2.13")
        assert login(client, user.email).status_code == 303
        statuses = [
            client.post("/login/code", data={"code": g}).status_code
            for g in ("111111", "222222", "333333", "444444")
        ]
        assert statuses[:3] == [401, 401, 401] and statuses[3] == 429


def test_agency_roles_are_sent_to_enrolment_when_required(db_url, tmp_path):
    with serving(db_url, tmp_path, mfa_required_for_agency=True) as (container, app):
        prog = make_program(container)
        coordinator = prog.actors["coordinator"]
        client = from_address(app, "192.0.2.14")
        assert login(client, coordinator.email).status_code == 303
        r = client.get("/", headers={"accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"] == "/account/mfa"
        r = client.get("/api/v1/me")
        assert r.status_code == 403 and "second factor" in r.json()["detail"]
        r = client.post(
            "/api/v1/auth/token", json={"email": coordinator.email, "password": PASSWORD}
        )
        assert r.status_code == 403
        page = client.get("/account/mfa").text
        assert "Agency accounts must use a second factor" in page
        _enrol(client, container, coordinator.user_id)
        assert client.get("/api/v1/me").status_code == 200
        # a firm account is not forced
        firm = from_address(app, "192.0.2.15")
        login(firm, "admin@firm-a.test")
        assert firm.get("/api/v1/me").status_code == 200


def test_the_requirement_is_on_by_default_outside_development():
    from airlock.settings import Settings

    assert Settings(dev=False).mfa_required() is True
    assert Settings(dev=True).mfa_required() is False
    assert Settings(dev=True, mfa_required_for_agency=True).mfa_required() is True
    assert pyotp.TOTP(pyotp.random_base32()).now().isdigit()
