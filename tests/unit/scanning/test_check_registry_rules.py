"""The check registry's own rules, the artifact check's settings, and the scan tables' shape:
no database needed."""

from __future__ import annotations

import dataclasses

import pytest

from airlock.scanning import registry
from airlock.scanning.artifact_check import ARTIFACT_SAFETY, limits_from
from airlock.scanning.models import ScanResult, ScanRun
from airlock.scanning.registry import SubjectKind
from airlock.settings import Settings


def test_limits_are_read_from_the_settings():
    s = Settings(
        scan_time_seconds=7.5,
        scan_max_depth=3,
        scan_max_members=11,
        scan_max_expanded_bytes=1234,
        scan_max_member_bytes=99,
        scan_max_ratio=5,
        scan_max_results=4,
        max_artifact_bytes=4096,
    )
    limits = limits_from(s)
    assert (limits.time_seconds, limits.max_depth, limits.max_members) == (7.5, 3, 11)
    assert (limits.max_expanded_bytes, limits.max_member_bytes, limits.max_ratio) == (1234, 99, 5)
    assert (limits.max_findings, limits.max_file_bytes) == (4, 4096)


def test_scan_results_and_runs_are_never_cascade_deleted():
    for table in (ScanResult.__table__, ScanRun.__table__):
        for fk in table.foreign_keys:
            assert fk.ondelete is None, (table.name, fk.target_fullname)


@pytest.mark.parametrize("kind", list(SubjectKind))
def test_each_subject_kind_names_its_id_in_event_payloads(kind):
    assert kind.payload_key == f"{kind.value}_id"


def test_a_name_is_registered_once_and_a_different_check_cannot_take_it():
    name = "test-registry-rules"
    # An event nobody publishes: were the scanning jobs loaded, the check would be subscribed.
    check = dataclasses.replace(ARTIFACT_SAFETY, name=name, trigger="test.never_published")
    try:
        assert registry.register(check) is check
        assert registry.register(check) is check  # the same value again: nothing changes
        assert registry.get(name) is check and registry.versions()[name] == check.version
        with pytest.raises(ValueError, match="already registered"):
            registry.register(dataclasses.replace(check, version="9.9.9"))
    finally:
        registry.unregister(name)
    assert registry.get(name) is None


@pytest.mark.parametrize(("name", "version"), [("", "1"), ("x" * 81, "1"), ("ok", "")])
def test_a_check_needs_a_short_name_and_a_version(name, version):
    with pytest.raises(ValueError, match="name of 1-80"):
        registry.register(dataclasses.replace(ARTIFACT_SAFETY, name=name, version=version))
