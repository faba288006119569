"""The client against the server's OpenAPI document: a route, body or answer the client
relies on that the server changes makes this fail."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel

from airlock.client._client import QUERY_PARAMS, REQUEST_FIELDS, RESPONSES, ROUTES


@pytest.fixture
def openapi(client) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return doc


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    if "anyOf" in schema:  # Optional[...] bodies
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return resolve(doc, schema)
    return schema


def operation(doc: dict[str, Any], op: str) -> dict[str, Any] | None:
    method, template = ROUTES[op]
    found: dict[str, Any] | None = doc["paths"].get("/api/v1" + template, {}).get(method.lower())
    return found


def test_every_client_route_is_an_operation_of_the_server(openapi) -> None:
    missing = [op for op in ROUTES if operation(openapi, op) is None]
    assert missing == []


def test_the_client_covers_the_firm_and_reviewer_work_on_findings_and_threads() -> None:
    # Issue 15: findings, threads, the queue and results are typed methods of the client.
    from airlock.client import AirlockClient

    for method in (
        "findings",
        "finding",
        "acknowledge",
        "dispute",
        "confirm_finding",
        "mark_false_positive",
        "notify",
        "cases",
        "case",
        "thread",
        "reply",
        "queue",
        "scan_results",
    ):
        assert callable(getattr(AirlockClient, method)), method


def test_every_query_parameter_the_client_sends_is_one_the_server_reads(openapi) -> None:
    for op, names in QUERY_PARAMS.items():
        found = operation(openapi, op)
        assert found is not None, op
        read = {p["name"] for p in found.get("parameters", []) if p["in"] == "query"}
        assert names <= read, f"{op}: the server no longer reads {names - read}"


def test_every_field_the_client_sends_is_one_the_server_accepts(openapi) -> None:
    for op, fields in REQUEST_FIELDS.items():
        found = operation(openapi, op)
        assert found is not None, op
        content = found["requestBody"]["content"]["application/json"]["schema"]
        accepted = set(resolve(openapi, content)["properties"])
        assert fields <= accepted, f"{op}: the server no longer accepts {fields - accepted}"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The client model inside a field's type (Model, list[Model], Model | None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def assert_sends(doc: dict[str, Any], schema: dict[str, Any], model: type[BaseModel], at: str):
    """Every field the model requires is required by the schema, nested models too."""
    if schema.get("type") == "array":
        schema = resolve(doc, schema["items"])
    sent = set(schema.get("required", []))
    needed = {n for n, f in model.model_fields.items() if f.is_required()}
    assert needed <= sent, f"{at}: the server may leave out {needed - sent}"
    assert needed <= set(schema["properties"]), at
    for name, info in model.model_fields.items():
        inner = _nested_model(info.annotation)
        if inner is not None and name in schema["properties"]:
            sub = resolve(doc, schema["properties"][name])
            assert_sends(doc, sub, inner, f"{at}.{name}")


def test_every_field_the_client_requires_is_one_the_server_always_sends(openapi) -> None:
    for op, model in RESPONSES.items():
        found = operation(openapi, op) or pytest.fail(f"{op} has no route")
        answers = found["responses"]
        status = next(s for s in ("200", "201") if s in answers)
        schema = resolve(openapi, answers[status]["content"]["application/json"]["schema"])
        assert_sends(openapi, schema, model, op)


def test_a_renamed_route_would_fail_the_contract(openapi) -> None:
    # The check above is not vacuous: drop one path and it reports it.
    openapi["paths"].pop("/api/v1/submissions/{submission_id}/transitions")
    assert operation(openapi, "transition") is None
    openapi["paths"].pop("/api/v1/threads/{thread_id}/messages")
    assert operation(openapi, "reply") is None


def test_a_field_the_server_stops_sending_would_fail_the_contract(openapi) -> None:
    # A nested field of a finding that the server no longer sends is reported.
    from airlock.client.models import Findings

    name = openapi["paths"]["/api/v1/findings"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"].rsplit("/", 1)[-1]
    finding = resolve(openapi, openapi["components"]["schemas"][name]["properties"]["findings"])
    finding = resolve(openapi, finding["items"])
    finding["required"].remove("state")
    with pytest.raises(AssertionError, match="state"):
        assert_sends(openapi, openapi["components"]["schemas"][name], Findings, "findings")
