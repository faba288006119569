"""Sign-in, sessions, CSRF, tokens, invitations, throttling, and bad input of every kind."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from airlock.accounts.models import Invitation, WebSession
from airlock.core.audit import AuditEvent
from airlock.core.db import utcnow
from airlock.settings import Settings, SettingsError
from tests.factories.program import PASSWORD, make_program, token_for


def login(client, email, password=PASSWORD):
    return client.post(
        "/login", data={"email": email, "password": password, "next": "/"}, follow_redirects=False
    )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_sign_in_sets_a_secure_http_only_session_and_is_audited(client, container):
    make_program(container)
    r = login(client, "admin@firm-a.test")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/portal").status_code == 200
    with container.uow() as uow:
        actions = uow.session.query(AuditEvent.action).all()
    assert ("auth.signed_in",) in actions


def test_wrong_passwords_are_throttled(client, container, monkeypatch):
    make_program(container)
    # a long delay, so the assertions below do not race the clock (tests/security has more)
    monkeypatch.setattr(container.settings, "login_delay_seconds", 600.0)
    for _ in range(container.settings.login_free_failures_account + 1):
        assert login(client, "admin@firm-a.test", "wrong password!!").status_code == 401
    r = login(client, "admin@firm-a.test")
    assert r.status_code == 429 and "too many failed sign-ins" in r.text
    assert int(r.headers["Retry-After"]) > 0
    r = client.post("/api/v1/auth/token", json={"email": "admin@firm-a.test", "password": PASSWORD})
    assert r.status_code == 429


def test_posts_without_the_csrf_token_are_refused_and_write_nothing(client, container):
    prog = make_program(container)
    login(client, "admin@firm-a.test")
    page = client.get("/portal").text
    r = client.post("/portal/models", data={"name": "sneaky"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(
        "/portal/models", data={"name": "sneaky", "csrf_token": "forged"}, follow_redirects=False
    )
    assert r.status_code == 403
    r = client.post("/api/v1/models", json={"name": "sneaky"})  # cookie only, no header
    assert r.status_code == 403
    assert "sneaky" not in client.get("/portal").text
    r = client.post(
        "/portal/models",
        data={"name": "legit", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "legit" in client.get("/portal").text
    assert prog.ids["model_a"] in {m["id"] for m in client.get("/api/v1/models").json()}


def test_expired_and_forged_sessions_are_not_accepted(client, container):
    make_program(container)
    login(client, "admin@firm-a.test")
    assert client.get("/api/v1/me").status_code == 200
    with container.uow() as uow:
        uow.session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(1)))
        uow.commit()
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    client.cookies.set("airlock_session", "forged-value")
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/portal", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(client, container):
    prog = make_program(container)
    secret = token_for(container, prog.actors["firm_a_member"])
    h = {"Authorization": f"Bearer {secret}"}
    tokens = client.get("/api/v1/tokens", headers=h).json()
    assert tokens and all("secret" not in t for t in tokens)
    with container.uow() as uow:
        from airlock.accounts.models import ApiToken

        stored = [t.token_hash for t in uow.session.query(ApiToken).all()]
    assert secret not in stored
    assert client.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=h).status_code == 200
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer alk_nope"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_an_invitation_sets_the_password_once_and_expires(client, container):
    prog = make_program(container)
    admin = {"Authorization": f"Bearer {token_for(container, prog.actors['firm_a_admin'])}"}
    r = client.post(
        "/api/v1/invitations",
        headers=admin,
        json={"email": "newbie@firm-a.test", "role": "developer_member"},
    )
    assert r.status_code == 201
    token = r.json()["accept_url"].rsplit("#", 1)[1]
    r = client.post(
        "/api/v1/invitations",
        headers=admin,
        json={"email": "boss@firm-a.test", "role": "agency_admin"},
    )
    assert r.status_code == 422
    r = client.post("/api/v1/invitations/accept", json={"token": token, "password": "short"})
    assert r.status_code == 422 and "12 characters" in r.text
    r = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": "a long enough password"}
    )
    assert r.status_code == 201 and r.json()["role"] == "developer_member"
    assert r.json()["org_id"] == prog.ids["org_a"]
    r = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": "a long enough password"}
    )
    assert r.status_code == 404
    r = client.post(
        "/api/v1/invitations",
        headers=admin,
        json={"email": "late@firm-a.test", "role": "developer_member"},
    )
    late = r.json()["accept_url"].rsplit("#", 1)[1]
    with container.uow() as uow:
        uow.session.execute(
            update(Invitation)
            .where(Invitation.email == "late@firm-a.test")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        uow.commit()
    r = client.post("/invitations/open", data={"token": late}, headers={"Accept": "text/html"})
    assert r.status_code == 404 and "expired" in r.text
    r = client.post(
        "/api/v1/auth/token",
        json={"email": "newbie@firm-a.test", "password": "a long enough password"},
    )
    assert r.status_code == 201


def test_bad_input_gets_a_4xx_that_names_the_problem(client, container):
    prog = make_program(container)
    h = {"Authorization": f"Bearer {token_for(container, prog.actors['firm_a_admin'])}"}
    r = client.post(
        "/api/v1/models", headers={**h, "Content-Type": "application/json"}, content=b'{"name": '
    )
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.post("/api/v1/models", headers=h, json={"name": "ok", "colour": "red"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "colour"
    r = client.post("/api/v1/models", headers=h, json={"name": 12})
    assert r.status_code == 422 and "name" in r.json()["detail"]
    big = b'{"name": "' + b"x" * (container.settings.max_body_bytes + 10) + b'"}'
    r = client.post(
        "/api/v1/models", headers={**h, "Content-Type": "application/json"}, content=big
    )
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]
    r = client.post(
        f"/api/v1/submissions/{prog.ids['sub_a']}/transitions", headers=h, json={"to": "flying"}
    )
    assert r.status_code == 422 and "to" in r.json()["detail"]
    r = client.post(
        f"/api/v1/submissions/{prog.ids['draft_a']}/transitions", headers=h, json={"to": "closed"}
    )
    assert r.status_code == 403
    r = client.get("/api/v1/queue?per_page=1000", headers=h)
    assert r.status_code == 422
    r = client.get("/api/v1/submissions/" + "z" * 300, headers=h)
    assert r.status_code == 404
    names = [m["name"] for m in client.get("/api/v1/models", headers=h).json()]
    assert names == ["Model a"]


def test_the_server_refuses_to_start_without_a_real_secret(tmp_path):
    from airlock.bootstrap import build
    from airlock.web.app import create_app

    s = Settings(dev=False, data_dir=tmp_path, secret_key="")
    with pytest.raises(SettingsError, match="AIRLOCK_SECRET_KEY"):
        create_app(build(s))
    s = Settings(dev=False, data_dir=tmp_path, secret_key="dev-insecure-secret-change-me")
    with pytest.raises(SettingsError):
        s.effective_secret_key()
    assert Settings(dev=False, secret_key="k" * 40).effective_secret_key() == "k" * 40


def test_an_admin_invites_from_the_members_page_and_a_member_cannot(client, container):
    make_program(container)
    login(client, "member@firm-a.test")
    page = client.get("/members").text
    assert "Invite someone" not in page
    r = client.post(
        "/members/invite",
        data={"csrf_token": csrf_of(page), "email": "x@y.test", "role": "developer_member"},
    )
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "admin@firm-a.test")
    page = client.get("/members").text
    r = client.post(
        "/members/invite",
        data={"csrf_token": csrf_of(page), "email": "new@firm-a.test", "role": "developer_member"},
    )
    assert r.status_code == 200
    link = re.search(r'id="invite-link">([^<]+)<', r.text).group(1)
    token = link.rsplit("#", 1)[1]
    client.cookies.clear()
    r = client.post(
        "/invitations/accept",
        data={"token": token, "password": "twelve chars ok", "password2": "twelve chars ok"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/login?done=account_created"
    assert login(client, "new@firm-a.test", "twelve chars ok").status_code == 303


def test_a_coordinator_suspends_a_firm_from_the_firms_page_and_a_reviewer_cannot(client, container):
    prog = make_program(container)
    org = prog.ids["org_b"]
    login(client, "reviewer@agency.test")
    page = client.get("/review/firms").text
    assert "suspend" not in page
    r = client.post(
        f"/review/firms/{org}/state", data={"csrf_token": csrf_of(page), "state": "active"}
    )
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "coordinator@agency.test")
    page = client.get("/review/firms").text
    r = client.post(
        f"/review/firms/{org}/state", data={"csrf_token": csrf_of(page), "state": "suspended"}
    )
    assert r.status_code == 422  # enrolled firms are activated first
    r = client.post(
        f"/review/firms/{org}/state",
        data={"csrf_token": csrf_of(page), "state": "active"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/review/firms/{org}/state", data={"csrf_token": csrf_of(page), "state": "suspended"}
    )
    assert r.status_code == 422 and "needs a reason" in r.text
    r = client.post(
        f"/review/firms/{org}/state",
        data={"csrf_token": csrf_of(page), "state": "suspended", "reason": "agreement breach"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    firm = {"Authorization": f"Bearer {token_for(container, prog.actors['firm_b_admin'])}"}
    r = client.post(
        "/api/v1/submissions",
        headers=firm,
        json={"model_id": prog.ids["model_b"], "title": "while suspended"},
    )
    assert r.status_code == 403 and "suspended" in r.json()["detail"]
