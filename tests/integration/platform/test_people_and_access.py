"""People and access from the pages (issue 11, item 6): invitations default to the least
powerful role, are listed, renewed and revoked, and a re-sent form creates nothing; an admin
changes a member's role or deactivates them (audited), never their own; everyone changes
their password."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from airlock.accounts.models import ApiToken, Invitation
from airlock.core.audit import AuditEvent
from tests.factories.program import PASSWORD, make_program, token_for

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
NEW_PASSWORD = "a brand new passphrase"


def _sign_in(client, email: str, password: str = PASSWORD) -> str:
    r = client.post(
        "/login", data={"email": email, "password": password, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[:300]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)


def _count(container, model) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _actions(container) -> list[str]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(AuditEvent.action)))


def test_invitations_default_to_the_least_powerful_role_and_a_resent_form_adds_none(
    client, container
) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    page = client.get("/members").text
    selected = re.search(r'<option value="([a-z_]+)" selected>', page).group(1)
    assert selected == "developer_member"
    form = {"csrf_token": csrf, "email": "new@firm-a.test", "role": "developer_member"}
    assert client.post("/members/invite", data=form).status_code == 200
    before = _count(container, Invitation)
    again = client.post("/members/invite", data=form)  # the browser re-sends the form
    assert again.status_code == 409 and "already invited" in again.text
    assert _count(container, Invitation) == before
    assert "new@firm-a.test" in client.get("/members").text  # listed as pending


def test_a_pending_invitation_is_renewed_with_a_new_link_or_revoked(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    r = client.post(
        "/members/invite",
        data={"csrf_token": csrf, "email": "late@firm-a.test", "role": "developer_member"},
    )
    old = re.search(r'id="invite-link">([^<]+)<', r.text).group(1).rsplit("#", 1)[1]
    inv_id = re.search(r"/members/invitations/([0-9a-f]+)/renew", client.get("/members").text)[1]
    r = client.post(f"/members/invitations/{inv_id}/renew", data={"csrf_token": csrf})
    new = re.search(r'id="invite-link">([^<]+)<', r.text).group(1).rsplit("#", 1)[1]
    assert new != old
    assert (
        client.post(
            "/invitations/open", data={"token": old}, headers={"Accept": "text/html"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/invitations/open", data={"token": new}, headers={"Accept": "text/html"}
        ).status_code
        == 200
    )
    r = client.post(
        f"/members/invitations/{inv_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.headers["location"] == "/members?done=invitation_revoked"
    assert (
        client.post(
            "/invitations/open", data={"token": new}, headers={"Accept": "text/html"}
        ).status_code
        == 404
    )
    assert {"invitation.renewed", "invitation.revoked"} <= set(_actions(container))


def test_an_admin_changes_a_role_and_deactivates_a_member_but_not_themselves(
    client, container
) -> None:
    prog = make_program(container)
    member = prog.actors["firm_a_member"]
    admin = prog.actors["firm_a_admin"]
    member_token = token_for(container, member)
    csrf = _sign_in(client, "admin@firm-a.test")
    r = client.post(
        f"/members/{admin.user_id}/role", data={"csrf_token": csrf, "role": "developer_member"}
    )
    assert r.status_code == 403 and "your own role" in r.text
    r = client.post(
        f"/members/{member.user_id}/role",
        data={"csrf_token": csrf, "role": "developer_admin"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/members?done=role_changed"
    r = client.post(f"/members/{member.user_id}/role", data={"csrf_token": csrf, "role": "auditor"})
    assert r.status_code == 422  # not a role of a firm
    r = client.post(
        f"/members/{member.user_id}/deactivate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.headers["location"] == "/members?done=member_deactivated"
    assert "Deactivated" in client.get("/members").text
    h = {"Authorization": f"Bearer {member_token}"}
    assert client.get("/api/v1/me", headers=h).status_code == 401  # their tokens stop at once
    bad = client.post(
        "/login",
        data={"email": "member@firm-a.test", "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert bad.status_code == 401
    assert {"member.role_changed", "member.deactivated"} <= set(_actions(container))
    # the other firm's admin cannot touch firm A's members
    client.cookies.clear()
    csrf_b = _sign_in(client, "admin@firm-b.test")
    r = client.post(f"/members/{admin.user_id}/deactivate", data={"csrf_token": csrf_b})
    assert r.status_code == 404


def test_a_user_changes_their_password_and_other_sessions_end(client, container) -> None:
    from fastapi.testclient import TestClient

    make_program(container)
    other = TestClient(client.app)
    _sign_in(other, "member@firm-a.test")
    csrf = _sign_in(client, "member@firm-a.test")
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "not it at all",
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422 and "current password" in wrong.text
    short = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "short",
            "new_password2": "short",
        },
    )
    assert short.status_code == 422 and "12 characters" in short.text
    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/account?done=password_changed"
    assert client.get("/account").status_code == 200  # this session goes on
    assert other.get("/api/v1/me").status_code == 401  # the other one ended
    client.cookies.clear()
    assert (
        client.post(
            "/login",
            data={"email": "member@firm-a.test", "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        ).status_code
        == 401
    )
    _sign_in(client, "member@firm-a.test", NEW_PASSWORD)
    assert "auth.password_changed" in _actions(container)


def test_a_resent_token_form_does_not_mint_a_second_unseen_token(client, container) -> None:
    make_program(container)
    csrf = _sign_in(client, "member@firm-a.test")
    form = {"csrf_token": csrf, "name": "CI upload"}
    first = client.post("/account/tokens", data=form)
    assert first.status_code == 200 and 'id="new-token"' in first.text
    before = _count(container, ApiToken)
    again = client.post("/account/tokens", data=form)
    assert again.status_code == 409 and 'id="new-token"' not in again.text
    assert "already have an active token" in again.text
    assert _count(container, ApiToken) == before
