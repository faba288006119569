"""API tokens: they expire (a default from settings), carry scopes that the API enforces,
and record when they were last used."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from airlock.accounts import service as accounts
from airlock.accounts.models import ApiToken
from airlock.core.db import utcnow
from tests.factories.program import PASSWORD, make_program
from tests.security.signin import csrf_of, from_address, login, serving


def _token(container, actor, *, scopes=None, days=None):
    with container.uow() as uow:
        kwargs = {"scopes": frozenset(scopes)} if scopes else {}
        new = accounts.create_api_token(uow, actor=actor, name="t", days=days, **kwargs)
        uow.commit()
    return new.secret, new.token.id


def _bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_tokens_expire_by_default_and_an_expired_one_is_refused_naming_expiry(db_url, tmp_path):
    with serving(db_url, tmp_path, api_token_days=30) as (container, app):
        prog = make_program(container)
        client = from_address(app, "192.0.2.1")
        secret, token_id = _token(container, prog.actors["firm_a_admin"])
        with container.uow() as uow:
            tok = uow.session.get(ApiToken, token_id)
            left = tok.expires_at - utcnow()
        assert timedelta(days=29) < left <= timedelta(days=30)
        assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 200
        with container.uow() as uow:
            uow.session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id)
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
            uow.commit()
        r = client.get("/api/v1/me", headers=_bearer(secret))
        assert r.status_code == 401
        assert "expired" in r.json()["detail"]
        # the token endpoint's default follows the setting too, and a caller may ask for fewer
        r = client.post(
            "/api/v1/auth/token",
            json={"email": "admin@firm-a.test", "password": PASSWORD, "days": 2},
        )
        assert r.status_code == 201, r.text
        assert r.json()["scopes"] == ["read", "submit", "review"]
        r = client.post("/api/v1/tokens", headers=_bearer(r.json()["secret"]), json={"name": "x"})
        assert r.status_code == 201 and r.json()["expires_at"]
        r = client.post(
            "/api/v1/tokens",
            headers=_bearer(secret),
            json={"name": "forever", "days": 9999},
        )
        assert r.status_code == 401  # the expired token still cannot do anything


def test_scopes_limit_what_a_token_may_do(db_url, tmp_path):
    with serving(db_url, tmp_path) as (container, app):
        prog = make_program(container)
        client = from_address(app, "192.0.2.2")
        firm = prog.actors["firm_a_admin"]
        read_only, _ = _token(container, firm, scopes={"read"})
        submit, _ = _token(container, firm, scopes={"read", "submit"})
        review_only, _ = _token(container, firm, scopes={"review"})

        assert client.get("/api/v1/models", headers=_bearer(read_only)).status_code == 200
        r = client.post("/api/v1/models", headers=_bearer(read_only), json={"name": "m-ro"})
        assert r.status_code == 403 and "'submit' scope" in r.json()["detail"]
        r = client.post("/api/v1/models", headers=_bearer(submit), json={"name": "m-sub"})
        assert r.status_code == 201, r.text
        # a firm's "review" scope grants no firm changes, nor reads
        r = client.post("/api/v1/models", headers=_bearer(review_only), json={"name": "m-rev"})
        assert r.status_code == 403
        assert client.get("/api/v1/models", headers=_bearer(review_only)).status_code == 403

        coordinator = prog.actors["coordinator"]
        agency_read, _ = _token(container, coordinator, scopes={"read"})
        agency_review, _ = _token(container, coordinator, scopes={"read", "review"})
        path = f"/api/v1/firms/{prog.ids['org_b']}/participation"
        body = {"state": "active", "reason": "scope test"}
        assert client.post(path, headers=_bearer(agency_read), json=body).status_code == 403
        r = client.post(path, headers=_bearer(agency_review), json=body)
        assert r.status_code == 200, r.text

        # a limited token cannot mint a broader one (nor any), or invite people
        r = client.post("/api/v1/tokens", headers=_bearer(submit), json={"name": "wider"})
        assert r.status_code == 403
        r = client.post(
            "/api/v1/invitations",
            headers=_bearer(submit),
            json={"email": "x@firm-a.test", "role": "developer_member"},
        )
        assert r.status_code == 403
        # pages refuse it as well: a bearer token is checked wherever it is sent
        r = client.post("/portal/models", headers=_bearer(read_only), data={"name": "p"})
        assert r.status_code == 403
        # a token with every scope mints a limited one that reports its scopes
        full, _ = _token(container, firm)
        r = client.post(
            "/api/v1/tokens",
            headers=_bearer(full),
            json={"name": "ci", "scopes": ["read"], "days": 7},
        )
        assert r.status_code == 201 and r.json()["scopes"] == ["read"]
        r = client.post(
            "/api/v1/tokens", headers=_bearer(full), json={"name": "bad", "scopes": ["admin"]}
        )
        assert r.status_code == 422


def test_last_use_is_recorded_and_shown_on_the_account_page(db_url, tmp_path):
    with serving(db_url, tmp_path) as (container, app):
        prog = make_program(container)
        client = from_address(app, "192.0.2.3")
        secret, token_id = _token(container, prog.actors["firm_a_admin"], scopes={"read"})
        assert login(client, "admin@firm-a.test").status_code == 303
        page = client.get("/account").text
        assert "never" in page and "Read" in page
        client.get("/api/v1/me", headers=_bearer(secret))
        # a refused write still counts as a use of the token
        client.post("/api/v1/models", headers=_bearer(secret), json={"name": "n"})
        with container.uow() as uow:
            used = uow.session.get(ApiToken, token_id).last_used_at
        assert used is not None and utcnow() - used < timedelta(minutes=5)
        page = client.get("/account").text
        assert 'class="token-last-used">never' not in page
        # the page form makes a limited, expiring token
        r = client.post(
            "/account/tokens",
            data={
                "name": "page token",
                "days": "5",
                "scopes": ["read"],
                "csrf_token": csrf_of(page),
            },
        )
        assert r.status_code == 200 and 'id="new-token"' in r.text
        with container.uow() as uow:
            tok = uow.session.query(ApiToken).filter_by(name="page token").one()
        assert tok.scopes == "read"
        assert timedelta(days=4) < tok.expires_at - utcnow() <= timedelta(days=5)
