"""Fixtures for scanning tests: a container whose jobs can read its own vault."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airlock.bootstrap import Container, build
from airlock.settings import Settings
from airlock.vault.reading import register_container


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings)
    register_container(c)  # jobs find this test's blob store and master key
    yield c
    c.close()
