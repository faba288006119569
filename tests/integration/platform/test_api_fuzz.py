"""Generated requests against every API operation never get a 5xx (schemathesis).

The app is built when the module is collected, because schemathesis makes one test per
operation from the schema it is given.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from airlock.bootstrap import build
from airlock.web.app import create_app
from tests.conftest import make_settings
from tests.factories.program import make_program, token_for
from tests.support import databases

_tmp = Path(tempfile.mkdtemp(prefix="airlock-fuzz-"))
_container = build(
    make_settings(databases.sqlite_copy(databases.sqlite_template(_tmp), _tmp), _tmp / "data")
)
_app = create_app(_container, start_jobs=False)
_program = make_program(_container)
TOKEN = token_for(_container, _program.actors["firm_a_admin"])
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
