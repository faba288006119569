"""Shared fixtures: every database-backed test runs on SQLite and, when it answers, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient

from airlock.bootstrap import Container, build
from airlock.core import secrets
from airlock.settings import Settings
from tests.support import databases

# Password hashes in tests use argon2id's cheapest parameters: the same code and format, a
# thousandth of the cost (every test program creates nine accounts). Production and the
# servers that tests start in a subprocess keep the library's recommended parameters.
secrets._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
secrets._DUMMY = secrets._hasher.hash("timing-equaliser-not-a-password")

REQUIRE_PG = os.environ.get("AIRLOCK_TEST_REQUIRE_POSTGRES") == "1"
PG_OK = databases.postgres_available()
if REQUIRE_PG and not PG_OK:
    raise RuntimeError("AIRLOCK_TEST_REQUIRE_POSTGRES=1 but PostgreSQL does not answer")

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_OK:
        return
    skip = pytest.mark.skip(reason="PostgreSQL does not answer on 127.0.0.1:5432")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = databases.create_pg_database()
    yield url
    databases.drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        return databases.sqlite_copy(sqlite_template, tmp_path)
    url: str = request.getfixturevalue("pg_url")
    databases.empty_pg_database(url)
    return url


def make_settings(db_url: str, data_dir: Path, **extra: object) -> Settings:
    """Settings for a test server: development secrets, local files, in-process jobs."""
    values: dict[str, object] = {
        "dev": True,
        "database_url": db_url,
        "data_dir": data_dir,
        "queue_url": "inprocess://",
        "cookie_secure": False,
        "base_url": "http://testserver",
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path / "data")


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings)
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    from airlock.web.app import create_app

    with TestClient(create_app(container)) as tc:
        yield tc
