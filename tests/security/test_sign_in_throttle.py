"""Sign-in throttling: no lockout an attacker can impose, and spraying is slowed.

Delays are set long (tests.security.signin.SLOW) so nothing here depends on timing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from airlock.accounts.models import AuthThrottle
from tests.factories.program import PASSWORD, make_program
from tests.security.signin import from_address, login, serving

OWNER = "admin@firm-a.test"


def test_a_flood_from_one_address_never_stops_the_owner_elsewhere(db_url, tmp_path):
    with serving(db_url, tmp_path) as (container, app):
        make_program(container)
        attacker = from_address(app, "203.0.113.9")
        owner = from_address(app, "198.51.100.7")
        statuses = [
            login(attacker, OWNER, "wrong password, try again").status_code for _ in range(12)
        ]
        free = container.settings.login_free_failures_account
        assert statuses[: free + 1] == [401] * (free + 1)
        assert set(statuses[free + 1 :]) == {429}
        # the attacker is slowed even with the right password, and told how long to wait
        r = login(attacker, OWNER)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        # ... while the owner, from their own address, signs in at once
        r = login(owner, OWNER)
        assert r.status_code == 303, r.text
        assert "airlock_session=" in r.headers["set-cookie"]
        # and the API token endpoint agrees
        r = owner.post("/api/v1/auth/token", json={"email": OWNER, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = attacker.post("/api/v1/auth/token", json={"email": OWNER, "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_spraying_one_password_across_accounts_from_one_address_is_slowed(db_url, tmp_path):
    with serving(db_url, tmp_path, login_free_failures_address=5) as (container, app):
        make_program(container)
        sprayer = from_address(app, "2001:db8:77::1")
        targets = [f"user{i}@firm-a.test" for i in range(5)] + [
            "admin@firm-b.test",
            "member@firm-b.test",
            "reviewer@agency.test",
        ]
        statuses = [login(sprayer, email, "Spring2026!Spring").status_code for email in targets]
        # five free failures across accounts, a sixth that starts the delay, then the whole
        # address waits, whichever account it tries
        assert statuses[:6] == [401] * 6
        assert statuses[6:] == [429, 429]
        # another host in the same /64 shares the wait; the owner on another network does not
        r = login(from_address(app, "2001:db8:77::beef"), "member@firm-a.test", "Spring2026!x")
        assert r.status_code == 429
        assert login(from_address(app, "192.0.2.44"), "reviewer@agency.test").status_code == 303


def test_the_delay_grows_with_each_failure(db_url, tmp_path):
    with serving(db_url, tmp_path, login_delay_seconds=10.0) as (container, app):
        make_program(container)
        attacker = from_address(app, "203.0.113.10")
        free = container.settings.login_free_failures_account
        for _ in range(free + 1):
            assert login(attacker, OWNER, "wrong wrong wrong").status_code == 401
        first = int(login(attacker, OWNER, "wrong").headers["Retry-After"])
        # a refused attempt does not count; make the next failure land by clearing the wait
        with container.uow() as uow:
            for row in uow.session.scalars(select(AuthThrottle)):
                row.blocked_until = None
            uow.commit()
        assert login(attacker, OWNER, "wrong wrong wrong").status_code == 401
        second = int(login(attacker, OWNER, "wrong").headers["Retry-After"])
        assert first <= 10 < second <= 20


def test_a_right_password_does_not_reset_the_address_count(db_url, tmp_path):
    with serving(db_url, tmp_path, login_free_failures_address=3) as (container, app):
        make_program(container)
        sprayer = from_address(app, "203.0.113.11")
        for email in ("member@firm-b.test", "admin@firm-b.test"):
            assert login(sprayer, email, "guess guess guess").status_code == 401
        # the sprayer's own account signs in fine ...
        assert login(sprayer, "member@firm-a.test").status_code == 303
        for email in ("reviewer@agency.test", "auditor@agency.test"):
            assert login(sprayer, email, "guess guess guess").status_code == 401
        # ... but did not wipe the count: the fourth failure started the wait
        assert login(sprayer, "coordinator@agency.test", "guess guess guess").status_code == 429


@pytest.mark.parametrize("path", ["/login", "/api/v1/auth/token"])
def test_the_throttle_table_holds_no_emails_or_addresses(db_url, tmp_path, path):
    with serving(db_url, tmp_path) as (container, app):
        make_program(container)
        c = from_address(app, "203.0.113.12")
        if path == "/login":
            login(c, OWNER, "nope nope nope")
        else:
            c.post(path, json={"email": OWNER, "password": "nope nope nope"})
        with container.uow() as uow:
            rows = list(uow.session.scalars(select(AuthThrottle)))
        assert len(rows) == 2
        for row in rows:
            assert OWNER not in row.key_hash and "203.0.113" not in row.key_hash
