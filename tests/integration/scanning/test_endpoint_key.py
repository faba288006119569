"""The evaluation endpoint's API key (issue 13 item 2): registered by a firm whose scopes
include eval_endpoint, stored sealed under the firm's key, sent by the probes as a bearer
token, and never returned, logged or stored in the clear."""

from __future__ import annotations

import logging

from airlock.core.db import Base
from airlock.probes import credentials
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.integration.scanning.test_probe_runs_page import (
    assigned_submission,
    login,
    refuse_harm_leak_the_rest,
    start,
)
from tests.support.openai_loopback import LoopbackChatServer

KEY = "sk-test-Zf8QmPq2RstUvWxY0123456789"


def _everything(container) -> str:
    """Every row of every table, as text."""
    with container.uow() as uow:
        return "\n".join(
            str(row)
            for table in Base.metadata.sorted_tables
            for row in uow.session.execute(table.select())
        )


def test_the_firm_registers_a_key_the_probes_send_and_nothing_keeps_in_the_clear(
    client, container, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    prog = make_program(container)
    container.queue.start()
    container.queue.join()
    with LoopbackChatServer(refuse_harm_leak_the_rest) as server:
        sid = assigned_submission(container, prog, server.base_url)
        container.queue.join()
        firm = auth(container, prog.actors["firm_a_admin"])
        url = f"/api/v1/submissions/{sid}/endpoint-key"
        assert client.get(url, headers=firm).json()["set"] is False
        r = client.put(url, headers=firm, json={"api_key": KEY})
        assert r.status_code == 200 and r.json()["set"] is True and KEY not in r.text
        assert KEY not in client.get(url, headers=firm).text
        # Other firms and agency staff cannot set or read it.
        other = auth(container, prog.actors["firm_b_admin"])
        assert client.put(url, headers=other, json={"api_key": "x"}).status_code == 404
        staff = auth(container, prog.actors["reviewer"])
        assert client.put(url, headers=staff, json={"api_key": "x"}).status_code == 403
        bad = client.put(url, headers=firm, json={"api_key": "two\nlines"})
        assert bad.status_code == 422

        login(client, "reviewer@agency.test")
        assert start(client, sid, ["leakage"], "20").status_code == 303
        container.queue.join()
    assert server.stats.requests > 0
    assert set(server.stats.auth_headers) == {f"Bearer {KEY}"}
    assert KEY not in _everything(container)
    assert KEY not in caplog.text
    with container.uow() as uow:
        assert credentials.open_key(uow, submission_id=sid) == KEY


def test_a_firm_without_the_eval_endpoint_scope_cannot_register_a_key(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    scopes = ["architecture", "weights", "training_data_docs", "safeguards"]
    r = client.put("/api/v1/participation/scopes", headers=firm, json={"scopes": scopes})
    assert r.status_code == 200, r.text
    r = client.put(
        f"/api/v1/submissions/{prog.ids['sub_a']}/endpoint-key", headers=firm, json={"api_key": KEY}
    )
    assert r.status_code == 403 and "eval_endpoint" in r.text
