"""Attacks with hostile input: NUL bytes, out-of-range integers, deep, huge and duplicated
JSON, non-boolean booleans. Each is refused with a 4xx naming the field, before any database
statement runs (issue 10, item 7), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from airlock.bootstrap import Container
from airlock.web.app import create_app
from airlock.web.guard import _params, api_routes
from tests.factories.accounts import PASSWORD, auth
from tests.factories.program import Program, make_program


@pytest.fixture
def quiet(container: Container) -> Iterator[TestClient]:
    """A client of an app without job workers: every statement counted is the request's."""
    with TestClient(create_app(container, start_jobs=False)) as tc:
        yield tc


@pytest.fixture
def prog(container: Container) -> Program:
    return make_program(container)


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """Collect the SQL statements run on the container's engine meanwhile."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(container.engine, "before_cursor_execute", count)


def refused(response: Any, path: str, rule: str | None = None, status: int = 422) -> None:
    """The answer is a 4xx whose errors name the field at path."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert any(e["path"] == path for e in body["errors"]), body
    assert path in body["detail"]
    if rule:
        assert any(e["rule"] == rule for e in body["errors"]), body


def test_a_nul_in_the_email_is_refused_before_the_database_on_both_sign_ins(quiet, container):
    with statements(container) as seen:
        r = quiet.post("/api/v1/auth/token", json={"email": "a\x00@x.test", "password": "p"})
        refused(r, "body.email", "text")
        r = quiet.post(
            "/login",
            data={"email": "a\x00@x.test", "password": "p"},
            headers={"Accept": "text/html"},
        )
        assert r.status_code == 422 and "email: contains a NUL character" in r.text
        r = quiet.post("/login", data={"email": "a\x00@x.test", "password": "p"})
        refused(r, "email", "text")
    assert seen == []


def test_nul_and_control_characters_in_query_and_path_are_refused(quiet, container, prog):
    headers = auth(container, prog.actors["firm_a_admin"])
    with statements(container) as seen:
        refused(quiet.get("/api/v1/submissions?q=a%00b", headers=headers), "query.q", "text")
        refused(quiet.get("/api/v1/submissions?q=a%07b", headers=headers), "query.q", "text")
        refused(quiet.get("/api/v1/submissions/ab%00cd", headers=headers), "path", "text")
        long_id = "a" * 5000
        refused(quiet.get(f"/api/v1/submissions/{long_id}", headers=headers), "path")
    assert seen == []


def test_out_of_range_integers_in_the_query_are_refused(quiet, container, prog):
    headers = auth(container, prog.actors["auditor"])
    html = {**headers, "Accept": "text/html"}
    cases = [
        ("99999999999999999999", "int_range"),
        ("-" + "9" * 30, "int_range"),
        ("9223372036854775808", "int_range"),
        ("9" * 5000, "max_length"),
    ]
    with statements(container) as seen:
        for before, rule in cases:
            r = quiet.get(f"/api/v1/audit?before={before}", headers=headers)
            refused(r, "query.before", rule)
            r = quiet.get(f"/audit?before={before}", headers=html)
            assert r.status_code == 422 and "query.before: " in r.text
    assert seen == []
    assert quiet.get("/api/v1/audit?before=9223372036854775807", headers=headers).status_code == 200


def test_an_out_of_range_integer_in_a_path_is_refused(quiet, container, prog):
    headers = auth(container, prog.actors["firm_a_admin"])
    with statements(container) as seen:
        r = quiet.put("/api/v1/uploads/x/chunks/99999999999999999999", headers=headers)
        refused(r, "path.index", "int_range")
    assert seen == []


def test_deep_huge_long_and_duplicated_json_bodies_are_refused(quiet, container, prog):
    headers = {**auth(container, prog.actors["firm_a_admin"]), "Content-Type": "application/json"}
    deep = "[" * 100_000 + "]" * 100_000
    cases = [
        ('{"name": ' + deep + "}", "body", "max_depth"),
        ('{"name": "a", "name": "b"}', "body", "duplicate_key"),
        ('{"name": ' + "9" * 5000 + "}", "body.name", "int_range"),
        ('{"name": 99999999999999999999}', "body.name", "int_range"),
        ('{"name": NaN}', "body.name", "number"),
        ('{"name": 1e999}', "body.name", "number"),
        ('{"name": "\\u0000"}', "body.name", "text"),
        ('{"name": "\\ud800"}', "body.name", "text"),
        ('{"name": "ok", "x": [' + ",".join(["0"] * 200_001) + "]}", "body", "max_values"),
        ('{"name": "ok"', "body", "json"),
    ]
    with statements(container) as seen:
        for raw, path, rule in cases:
            refused(quiet.post("/api/v1/tokens", content=raw, headers=headers), path, rule)
        big = '{"name": "' + "a" * (3 * 1024 * 1024) + '"}'
        r = quiet.post("/api/v1/tokens", content=big, headers=headers)
        assert r.status_code == 413
    assert seen == []


def test_a_json_body_sent_without_a_content_type_is_checked_too(quiet, container, prog):
    headers = auth(container, prog.actors["firm_a_admin"])
    r = quiet.post("/api/v1/tokens", content=b'{"name": "a", "name": "b"}', headers=headers)
    refused(r, "body", "duplicate_key")


def test_deep_or_long_json_in_a_form_field_is_refused(quiet, container, prog):
    quiet.post("/login", data={"email": "admin@firm-a.test", "password": PASSWORD})
    sid = prog.ids["draft_a"]
    deep = "[" * 100_000 + "]" * 100_000
    for raw, rule in ((deep, "max_depth"), ('{"n": ' + "1" * 5000 + "}", "int_range")):
        with statements(container) as seen:
            r = quiet.post(
                f"/portal/submissions/{sid}",
                data={"mode": "json", "raw_json": raw, "csrf_token": "x"},
            )
        refused(r, "raw_json" if rule == "max_depth" else "raw_json.n", rule)
        assert seen == []
    r = quiet.post(
        f"/portal/submissions/{sid}",
        data={"mode": "json", "raw_json": deep, "csrf_token": "x"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 422 and "raw_json: nests deeper than" in r.text


def test_a_form_field_with_nul_is_refused_and_multipart_is_not_accepted(quiet, container):
    r = quiet.post("/login", data={"email": "x@y.test", "password": "a\x00b"})
    refused(r, "password", "text")
    r = quiet.post("/login", files={"email": (None, "a\x00@x.test")})
    refused(r, "body", "content_type", status=415)


def test_confirm_must_be_the_boolean_true_to_withdraw(quiet, container, prog):
    headers = auth(container, prog.actors["firm_a_admin"])
    for confirm in ("yes", "true", 1, "1"):
        r = quiet.post("/api/v1/participation/withdraw", json={"confirm": confirm}, headers=headers)
        refused(r, "confirm")
    me = quiet.get("/api/v1/me", headers=headers)
    assert me.status_code == 200  # nothing was withdrawn


def test_every_boolean_in_a_request_body_is_strict(container):
    from pydantic import BaseModel

    app = create_app(container, start_jobs=False)
    lax: list[str] = []
    checked: list[str] = []

    def walk(model: type[BaseModel], where: str) -> None:
        checked.append(where)
        for name, field in model.model_fields.items():
            if field.annotation is bool and not any(
                getattr(m, "strict", False) for m in field.metadata
            ):
                lax.append(f"{where}.{name}")
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation, f"{where}.{name}")

    routes = list(api_routes(app.routes))
    assert len(routes) > 60
    for path, route in routes:
        for param in _params(route.dependant)[2]:
            ann = param.field_info.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{path} {ann.__name__}")
    assert lax == []
    assert any("WithdrawIn" in name for name in checked)


def test_a_denied_object_answers_the_same_404_as_a_missing_one(quiet, container, prog):
    other = auth(container, prog.actors["firm_b_admin"])
    real, made_up = prog.ids["sub_a"], "0" * 32
    for template in (
        "/api/v1/submissions/{}",
        "/api/v1/submissions/{}/artifacts",
        "/api/v1/submissions/{}/results",
        "/api/v1/submissions/{}/history",
        "/api/v1/submissions/{}/review-status",
        "/api/v1/submissions/{}/dossier",
    ):
        a = quiet.get(template.format(real), headers=other)
        b = quiet.get(template.format(made_up), headers=other)
        assert a.status_code == b.status_code == 404, (template, a.text, b.text)
        assert a.content == b.content == b'{"detail":"not found"}'
    unknown = quiet.get("/api/v1/no-such-thing", headers=other)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "not found"}
    html = {**other, "Accept": "text/html"}
    a = quiet.get(f"/portal/submissions/{real}", headers=html)
    b = quiet.get(f"/portal/submissions/{made_up}", headers=html)
    assert a.status_code == b.status_code == 404 and a.text == b.text


def test_valid_requests_still_pass_the_guard(quiet, container, prog):
    headers = auth(container, prog.actors["firm_a_admin"])
    body = {"name": "tab\tand line\nbreaks are text", "extra": None}
    r = quiet.post(
        "/api/v1/tokens",
        content=json.dumps(body),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "extra" in r.text  # reached the route's own validation
    r = quiet.post("/api/v1/tokens", json={"name": "fine"}, headers=headers)
    assert r.status_code == 201
