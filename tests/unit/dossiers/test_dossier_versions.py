"""Schema versions: every earlier version's stored dossiers upgrade to the current one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airlock.core.errors import InvalidInput
from airlock.dossiers import versions
from airlock.dossiers.validation import SCHEMA_VERSION, load_schema, validate_dossier
from airlock.web.pages.dossier_post import parse_form

FIXTURES = Path(__file__).parent / "fixtures"
# Copies of the example dossiers as they were shipped with each earlier schema version.
EARLIER = sorted(FIXTURES.glob("v*/*.json"))


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def test_there_are_fixtures_for_every_earlier_version() -> None:
    labels = {load(p)["schema_version"] for p in EARLIER}
    earlier = {versions.label_of(v) for v in versions.VERSIONS if v != versions.CURRENT}
    assert labels == earlier


@pytest.mark.parametrize("path", EARLIER, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_dossier_of_an_earlier_version_upgrades_to_the_current_one(path: Path) -> None:
    stored = load(path)
    before = copy.deepcopy(stored)
    assert validate_dossier(stored) == []  # valid under its own version's schema
    upgraded = versions.upgrade(stored)
    assert upgraded["schema_version"] == SCHEMA_VERSION == versions.CURRENT
    assert validate_dossier(upgraded) == []
    assert upgraded["sections"] == stored["sections"]  # no value, level or provenance lost
    assert stored == before  # the stored copy is left as it was


def test_first_version_dossier_is_refused_by_the_current_schema_until_upgraded() -> None:
    stored = load(FIXTURES / "v1.0" / "minimal.json")
    relabelled = {**stored, "schema_version": SCHEMA_VERSION}
    assert validate_dossier(relabelled) == []
    current = load_schema()
    assert current["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    assert versions.needs_upgrade(stored)
    assert not versions.needs_upgrade(versions.upgrade(stored))


def test_every_version_but_the_current_has_one_step_to_the_next() -> None:
    for older, newer in zip(versions.VERSIONS, versions.VERSIONS[1:], strict=False):
        assert versions.STEPS[older][0] == newer
    assert versions.VERSIONS[-1] == versions.CURRENT
    assert versions.CURRENT not in versions.STEPS
    for version in versions.VERSIONS:
        schema = load_schema(version)
        assert schema["$id"] == f"urn:airlock:schema:dossier:{version}"


def test_unknown_version_is_refused_naming_what_was_given() -> None:
    with pytest.raises(InvalidInput, match=r"schema_version.*'2\.0'.*1\.0\.0, 1\.1\.0") as exc:
        versions.upgrade({"schema_version": "2.0", "sections": {}})
    assert exc.value.errors[0]["path"] == "schema_version"
    with pytest.raises(InvalidInput, match="nothing"):
        versions.upgrade({"sections": {}})


def test_a_dossier_cannot_be_downgraded() -> None:
    with pytest.raises(InvalidInput, match="cannot downgrade"):
        versions.upgrade({"schema_version": "1.1.0", "sections": {}}, to="1.0.0")


def test_the_editor_always_writes_the_current_version() -> None:
    doc = parse_form({"v:A.developer_name": "Northwind", "d:A.developer_name": "public"})
    assert doc["schema_version"] == versions.CURRENT
    assert validate_dossier(doc) == []
