"""The pure rules of sign-in throttling, token scopes and recovery codes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from airlock.accounts import rules

POLICY = rules.ThrottlePolicy(
    free_failures=3, delay_seconds=1.0, max_delay_seconds=900, forget_seconds=3600
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_free_failures_pass_then_the_delay_doubles_up_to_the_ceiling():
    delays = [rules.delay_after(n, POLICY) for n in range(1, 16)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:8] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(delays) == 900 and delays[-1] == 900
    assert all(a <= b for a, b in itertools.pairwise(delays))
    # a huge count does not overflow
    assert rules.delay_after(10_000, POLICY) == 900


def test_failures_add_up_and_old_ones_are_forgotten():
    assert rules.failures_after(0, None, NOW, POLICY) == 1
    assert rules.failures_after(4, NOW - timedelta(minutes=5), NOW, POLICY) == 5
    assert rules.failures_after(40, NOW - timedelta(hours=2), NOW, POLICY) == 1


def test_retry_after_rounds_up_and_is_zero_when_free():
    assert rules.retry_after(None, NOW) == 0
    assert rules.retry_after(NOW - timedelta(seconds=1), NOW) == 0
    assert rules.retry_after(NOW + timedelta(seconds=1.2), NOW) == 2
    assert rules.retry_after(NOW + timedelta(milliseconds=10), NOW) == 1


def test_keys_separate_the_owner_elsewhere_from_the_attacker():
    attacker = dict(rules.throttle_keys("Owner@Firm.test", "203.0.113.9"))
    owner = dict(rules.throttle_keys("owner@firm.test", "198.51.100.7"))
    assert attacker[rules.ACCOUNT_ADDRESS] != owner[rules.ACCOUNT_ADDRESS]
    assert attacker[rules.ADDRESS] != owner[rules.ADDRESS]
    # the same address spraying two accounts shares the address key
    other = dict(rules.throttle_keys("someone@firm.test", "203.0.113.9"))
    assert other[rules.ADDRESS] == attacker[rules.ADDRESS]


def test_an_ipv6_host_cannot_escape_by_rotating_within_its_64():
    a = rules.address_key("2001:db8:1:2::1")
    b = rules.address_key("2001:db8:1:2:ffff:ffff:ffff:fffe")
    assert a == b == "2001:db8:1:2::/64"
    assert rules.address_key("2001:db8:1:3::1") != a
    assert rules.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert rules.address_key("testclient") == "testclient"
    assert rules.address_key("") == "unknown"


def test_scopes_parse_default_and_refuse_unknown_names():
    assert rules.parse_scopes(None) == rules.ALL_SCOPES
    assert rules.parse_scopes([]) == rules.ALL_SCOPES
    assert rules.parse_scopes("read submit") == {"read", "submit"}
    assert rules.scopes_text(frozenset({"review", "read"})) == "read review"
    with pytest.raises(ValueError, match="admin"):
        rules.parse_scopes(["read", "admin"])


@pytest.mark.parametrize(
    ("method", "agency", "needed"),
    [
        ("GET", False, "read"),
        ("HEAD", True, "read"),
        ("POST", False, "submit"),
        ("PUT", False, "submit"),
        ("DELETE", True, "review"),
        ("POST", True, "review"),
    ],
)
def test_the_scope_a_request_needs(method, agency, needed):
    assert rules.scope_needed(method=method, agency=agency) == needed


def test_recovery_codes_are_random_and_typed_loosely():
    codes = {rules.new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    code = codes.pop()
    assert len(code) == 19 and code.count("-") == 3
    assert rules.normalise_code(f" {code.upper()} ") == code.replace("-", "")
    assert rules.looks_like_totp("123 456") and not rules.looks_like_totp(code)


def test_a_tokens_last_use_is_written_at_first_use_then_once_a_minute() -> None:
    assert rules.token_use_worth_recording(None, NOW)
    assert not rules.token_use_worth_recording(NOW - timedelta(seconds=59), NOW)
    assert rules.token_use_worth_recording(NOW - timedelta(minutes=1), NOW)
