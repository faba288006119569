"""`airlock findings list` prints findings with their filters, and refuses a bad filter."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from airlock.cli.main import app
from airlock.scanning.engine import ENGINE_NAME
from airlock.settings import get_settings
from airlock.vault import keys as vault_keys
from tests.factories import vault as vault_factory
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.scanning import EVIL_PICKLE, torch_style_checkpoint


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("AIRLOCK_DEV", "1")
    monkeypatch.setenv("AIRLOCK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRLOCK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AIRLOCK_STORAGE_URL", settings.storage_url)
    get_settings.cache_clear()
    vault_keys._CACHE.clear()
    yield
    get_settings.cache_clear()
    vault_keys._CACHE.clear()


def test_findings_list_prints_the_findings_and_filters_them(client, container, cli_env):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    vault_factory.upload(
        client, firm, prog.ids["sub_a"], torch_style_checkpoint(EVIL_PICKLE), name="m.pt"
    )
    container.queue.join()
    # Submitting also ran the dossier checks; this test drives the artifact scanner's.
    result = CliRunner().invoke(
        app, ["findings", "list", "--json", "--state", "draft", "--check", ENGINE_NAME]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["findings"]
    assert rows and {r["submission_id"] for r in rows} == {prog.ids["sub_a"]}
    assert {r["state"] for r in rows} == {"draft"}
    rule = rows[0]["rule"]
    result = CliRunner().invoke(app, ["findings", "list", "--json", "--rule", rule])
    assert {r["rule"] for r in json.loads(result.output)["findings"]} == {rule}
    result = CliRunner().invoke(app, ["findings", "list", "--rule", "no-such-rule"])
    assert result.exit_code == 0 and "0 findings" in result.output
    result = CliRunner().invoke(app, ["findings", "list"])
    n = len(json.loads(CliRunner().invoke(app, ["findings", "list", "--json"]).output)["findings"])
    assert result.exit_code == 0 and f"{n} finding" in result.output
    result = CliRunner().invoke(app, ["findings", "list", "--json", "--state", "confirmed"])
    assert json.loads(result.output)["findings"] == []
    result = CliRunner().invoke(app, ["findings", "list", "--state", "lost"])
    assert result.exit_code == 1 and "state: must be one of" in result.output
