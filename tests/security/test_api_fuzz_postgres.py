"""Schemathesis over every API operation on PostgreSQL, as a firm user and as a coordinator,
with NUL and other control characters planted in generated strings: no answer is a 5xx
(issue 10, item 9). PostgreSQL is the strict one: it refuses NUL in text and integers
wider than its columns, where SQLite stores anything.

A few examples per operation keep it quick; AIRLOCK_LONG_TESTS=1 runs many more. The app
and its database are built when the module is collected, because schemathesis makes one
test per operation from the schema it is given.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from airlock.bootstrap import build
from airlock.web.app import create_app
from tests.conftest import make_settings
from tests.factories.program import make_program, token_for
from tests.support import databases

if not databases.postgres_available():
    pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432", allow_module_level=True)

pytestmark = pytest.mark.postgres

LONG = os.environ.get("AIRLOCK_LONG_TESTS") == "1"
EXAMPLES = 200 if LONG else 5
# Text a URL can carry (NUL, bell, escape, DEL, a line break) and, in JSON, an unpaired surrogate.
URL_CONTROLS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\n"]
BODY_CONTROLS = [*URL_CONTROLS, "\ud800"]

_url = databases.create_pg_database()
_tmp = Path(tempfile.mkdtemp(prefix="airlock-fuzz-pg-"))
_container = build(make_settings(_url, _tmp / "data"))
_app = create_app(_container, start_jobs=False)
_program = make_program(_container)
ACTORS = {
    who: {"Authorization": f"Bearer {token_for(_container, _program.actors[who])}"}
    for who in ("firm_a_admin", "coordinator")
}
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app)


@pytest.fixture(scope="module", autouse=True)
def _drop_database() -> Iterator[None]:
    yield
    _container.close()
    databases.drop_pg_database(_url)


@st.composite
def _poisoned(draw: Any, value: Any, controls: list[str], keys: bool = True) -> Any:
    """value with a control character planted in some of its strings (keys too if asked)."""
    if isinstance(value, str):
        if not draw(st.booleans()):
            return value
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(st.sampled_from(controls)) + value[at:]
    if isinstance(value, dict):
        return {
            draw(_poisoned(k, controls)) if keys and isinstance(k, str) else k: draw(
                _poisoned(v, controls)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [draw(_poisoned(v, controls)) for v in value]
    return value


@schema.hook
def flatmap_body(_ctx: Any, body: Any) -> Any:
    return _poisoned(body, BODY_CONTROLS)


@schema.hook
def flatmap_query(_ctx: Any, query: Any) -> Any:
    return _poisoned(query, URL_CONTROLS, keys=False)


@schema.hook
def flatmap_path_parameters(_ctx: Any, path_parameters: Any) -> Any:
    return _poisoned(path_parameters, URL_CONTROLS, keys=False)  # the names fill the path


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error_on_postgres(case: Any) -> None:
    for who, headers in ACTORS.items():
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            who,
            case.method,
            case.formatted_path,
            case.query,
            repr(case.body)[:300],
            response.text[:300],
        )
