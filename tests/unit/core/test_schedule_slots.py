"""Periodic slots: every moment falls in exactly one slot, whose key two schedulers agree on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airlock.core import schedule
from airlock.settings import Settings


@pytest.mark.parametrize("seconds", [1, 7, 60, 3600, 86400])
def test_moments_in_one_interval_share_a_slot_and_the_next_interval_does_not(seconds):
    every = timedelta(seconds=seconds)
    start = schedule.slot_start(datetime(2026, 12, 1, 14, 0, 3, 250_000, tzinfo=UTC), every)
    assert (start - schedule.EPOCH) % every == timedelta(0)
    inside = [start, start + every / 2, start + every - timedelta(microseconds=1)]
    assert {schedule.slot_start(t, every) for t in inside} == {start}
    assert schedule.slot_start(start + every, every) == start + every
    keys = {schedule.slot_key("task", schedule.slot_start(t, every)) for t in inside}
    assert len(keys) == 1 and keys.pop().startswith("task@")


def test_a_slot_key_does_not_depend_on_the_time_zone_it_is_given_in():
    from zoneinfo import ZoneInfo

    t = datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert schedule.slot_key("t", t) == schedule.slot_key("t", t.astimezone(UTC))


def test_interval_from_settings_and_a_floor_of_one_second():
    sweep = schedule.Periodic(schedule.SWEEP_LOST, schedule._sweep_interval)
    assert sweep.interval(Settings(job_lease_seconds=3)) == timedelta(seconds=1.5)
    assert sweep.interval(Settings(job_lease_seconds=3600)) == timedelta(seconds=60)
    tiny = schedule.Periodic("t", timedelta(milliseconds=10))
    assert tiny.interval(Settings()) == timedelta(seconds=1)
