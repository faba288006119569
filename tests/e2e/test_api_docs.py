"""Interactive API docs that work offline (issue 11, item 8): Swagger UI from the app's own
files under a same-origin CSP, and an OpenAPI document that declares how to authenticate."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_docs_page_loads_swagger_ui_from_the_app_itself(client) -> None:
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/api-docs.js",
    ):
        assert f'"{asset}"' in r.text
        assert client.get(asset).status_code == 200
    assert "cdn" not in r.text.lower() and "unpkg" not in r.text.lower()
    assert 'data-openapi-url="/api/v1/openapi.json"' in r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_openapi_document_declares_the_bearer_and_cookie_schemes(client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["sessionCookie"]["name"] == "airlock_session"
    both = [{"bearerToken": []}, {"sessionCookie": []}]
    assert doc["paths"]["/api/v1/me"]["get"]["security"] == both
    assert doc["paths"]["/api/v1/submissions"]["post"]["security"] == both
    assert "security" not in doc["paths"]["/api/v1/health"]["get"]  # open to anyone
    assert "security" not in doc["paths"]["/api/v1/auth/token"]["post"]
    secured = [
        (path, method)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if op.get("security") == both
    ]
    assert len(secured) > 20
