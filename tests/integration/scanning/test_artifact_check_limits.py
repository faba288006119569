"""The artifact scanner's bounds come from the deployment's settings (AIRLOCK_SCAN_*)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from airlock.scanning import service
from airlock.scanning.engine import ENGINE_NAME
from airlock.scanning.models import ScanResult
from airlock.settings import Settings
from tests.conftest import make_settings
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.vault import upload

# Two dangerous calls in one pickle: two results under the default limit.
TWO_CALLS = (
    b"\x80\x02cos\nsystem\nX\x01\x00\x00\x00a\x85R0"  # os.system('a'), then POP
    b"csubprocess\ncall\nX\x01\x00\x00\x00b\x85R."  # subprocess.call('b')
)


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return make_settings(db_url, tmp_path / "data", scan_max_results=1)


def test_a_scan_stops_recording_results_at_the_configured_limit(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    upload(client, firm, prog.ids["sub_a"], TWO_CALLS, name="m.pkl")
    container.queue.join()
    with container.uow() as uow:
        rows = service.opened_results(
            uow,
            uow.session.scalars(select(ScanResult).where(ScanResult.scanner_name == ENGINE_NAME)),
        )
    messages = sorted(r.message for r in rows)
    assert len(rows) == 2 and "subprocess.call" not in " ".join(messages), messages
    assert any("os.system" in m for m in messages)
    assert any("too many findings" in m for m in messages)
