"""Secrets out of logged URLs, security headers outside development, private files (issue 10,
item 7): invitation tokens travel in a POST body or a URL fragment, and a real server's
access log is read to check; HSTS and a strict CSP; the SQLite file and data folder are
created for their owner alone."""

from __future__ import annotations

import json
import os
import stat
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airlock.bootstrap import build
from airlock.web.app import create_app
from airlock.web.guard import api_routes
from tests.conftest import make_settings
from tests.e2e.conftest import Server, server, server_env  # noqa: F401 - fixtures
from tests.e2e.pages import ACCOUNTS, PASSWORD

SECRET_WORDS = ("token", "secret", "password", "code", "key")


def _call(srv: Server, method: str, path: str, **kw: Any) -> tuple[int, str]:
    data = kw.get("json")
    form = kw.get("form")
    headers = dict(kw.get("headers", {}))
    body: bytes | None = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        from urllib.parse import urlencode

        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(srv.base + path, data=body, headers=headers, method=method)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_no_secret_reaches_the_access_log_of_a_real_server(server: Server) -> None:  # noqa: F811
    status, text = _call(
        server,
        "POST",
        "/api/v1/auth/token",
        json={"email": ACCOUNTS["developer_admin"], "password": PASSWORD},
    )
    assert status == 201, text
    api_token = json.loads(text)["secret"]
    bearer = {"Authorization": f"Bearer {api_token}"}
    status, text = _call(
        server,
        "POST",
        "/api/v1/invitations",
        json={"email": "log.check@northwind.example", "role": "developer_member"},
        headers=bearer,
    )
    assert status == 201, text
    link = json.loads(text)["accept_url"]
    path, _, invitation = link.removeprefix(server.base).partition("#")
    assert path == "/invitations" and len(invitation) >= 20
    # what a browser does with the link: the fragment stays behind, the page posts it
    assert _call(server, "GET", path)[0] == 200
    status, text = _call(server, "POST", "/invitations/open", form={"token": invitation})
    assert status == 200 and "log.check@northwind.example" in text
    new_password = "a long enough password"
    form = {"token": invitation, "password": new_password, "password2": new_password}
    assert _call(server, "POST", "/invitations/accept", form=form)[0] == 303
    status, _ = _call(
        server,
        "POST",
        "/api/v1/auth/token",
        json={"email": "log.check@northwind.example", "password": new_password},
    )
    assert status == 201
    assert _call(server, "GET", "/api/v1/me", headers=bearer)[0] == 200
    log = server.log.read_text(errors="replace")
    assert '"POST /invitations/accept HTTP/1.1" 303' in log, server.tail()  # access log on
    for secret in (invitation, api_token, PASSWORD, new_password):
        assert secret not in log


# OpenID Connect returns the authorization code in the callback's query (the provider chooses
# the URL). The code is single-use, expires in minutes and cannot be redeemed without the PKCE
# verifier held in the server and the client secret, so its appearance in a log gives nothing.
ALLOWED_IN_QUERY = {("/login/sso/callback", "code")}


def test_no_route_takes_a_secret_in_its_path_or_query(container) -> None:
    app = create_app(container, start_jobs=False)
    found = []
    routes = list(api_routes(app.routes))
    assert len(routes) > 60
    for path, route in routes:
        for param in (*route.dependant.path_params, *route.dependant.query_params):
            name = param.alias.lower()
            if (path, name) in ALLOWED_IN_QUERY:
                continue
            if not name.endswith("_id") and any(word in name for word in SECRET_WORDS):
                found.append(f"{path} {param.alias}")
        if any(word in path.lower() for word in ("{token}", "{secret}")):
            found.append(path)
    assert found == []


def test_the_old_invitation_url_with_the_token_in_the_path_is_gone(client) -> None:
    assert client.get("/invitations/abcdef0123456789").status_code == 404
    page = client.get("/invitations")
    assert page.status_code == 200 and '<script src="/static/invitation.js"' in page.text
    assert client.get("/static/invitation.js").status_code == 200


def _headers_of(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


@pytest.fixture
def production(db_url: str, tmp_path: Path) -> Any:
    settings = make_settings(
        db_url, tmp_path / "data", dev=False, secret_key="s" * 40, base_url="https://x.test"
    )
    container = build(settings)
    try:
        with TestClient(create_app(container, start_jobs=False)) as tc:
            yield tc
    finally:
        container.close()


def test_outside_development_every_answer_carries_hsts_and_a_strict_csp(production) -> None:
    for path, status in (
        ("/login", 200),
        ("/api/v1/health", 200),
        ("/api/v1/docs", 200),
        ("/api/v1/submissions?q=%00", 422),  # refused by the guard: headers all the same
        ("/static/app.css", 200),
        ("/api/v1/nothing-here", 404),
    ):
        r = production.get(path)
        assert r.status_code == status, (path, r.text[:200])
        h = _headers_of(r)
        assert h["strict-transport-security"].startswith("max-age=31536000"), path
        csp = {d.split()[0]: d.split()[1:] for d in h["content-security-policy"].split("; ")}
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["form-action"] == ["'self'"], path
        assert csp["base-uri"] == ["'none'"], path
        assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"], path
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"


def test_a_development_server_sends_no_hsts(client) -> None:
    r = client.get("/login")
    assert "strict-transport-security" not in _headers_of(r)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_the_sqlite_file_and_the_data_folder_are_created_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: files world-readable unless made otherwise
    try:
        data = tmp_path / "fresh" / "data"
        container = build(make_settings("", data))
        try:
            from airlock.core.migrate import upgrade

            upgrade(container.settings.resolved_database_url())
            with container.uow() as uow:
                uow.session.execute(__import__("sqlalchemy").text("SELECT 1"))
        finally:
            container.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = sorted(data.glob("airlock.db*"))
    assert files and files[0].name == "airlock.db"
    for f in files:  # the database and its -wal/-shm companions
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_an_existing_world_readable_sqlite_file_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    container = build(make_settings(f"sqlite:///{db}", tmp_path / "data"))
    container.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
