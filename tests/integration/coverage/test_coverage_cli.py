"""`airlock coverage import` and `airlock coverage report` against a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from airlock.bootstrap import Container
from airlock.cli.main import app
from airlock.coverage.models import KnownModel
from airlock.settings import Settings, get_settings

EPOCH = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "epoch"
    / ("notable_ai_models_2025-02-24.csv")
)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AIRLOCK_DEV", "1")
    monkeypatch.setenv("AIRLOCK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRLOCK_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _count(container: Container) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(KnownModel)) or 0)


def test_a_dry_run_reports_counts_and_stores_nothing(container: Container, cli_env: None) -> None:
    result = CliRunner().invoke(app, ["coverage", "import", str(EPOCH), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "893 models" in result.output and "dry run" in result.output
    assert "10^25 FLOP" in result.output
    assert _count(container) == 0


def test_import_then_reimport_updates_and_the_report_credits_the_source(
    container: Container, cli_env: None
) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["coverage", "import", str(EPOCH)])
    assert first.exit_code == 0, first.output
    assert "893 models added, 0 updated" in first.output
    again = runner.invoke(app, ["coverage", "import", str(EPOCH)])
    assert "0 models added, 893 updated" in again.output
    assert _count(container) == 893
    report = runner.invoke(app, ["coverage", "report"])
    assert report.exit_code == 0 and "Epoch AI" in report.output


def test_a_file_that_is_not_a_registry_is_refused_and_nothing_is_stored(
    container: Container, cli_env: None, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Title,Compute\nA,1\n")
    result = CliRunner().invoke(app, ["coverage", "import", str(bad)])
    assert result.exit_code == 2 and "no column for name" in " ".join(result.output.split())
    assert _count(container) == 0
