"""Sign-in throttling in the database, so every process and both databases share it.

Before a password (or a second-factor code) is checked, `check` refuses with 429 and a
Retry-After while either key of the attempt, (account, address) or the address alone, is
delayed; `record_failure` counts a failure under both and sets the next delay
(rules.delay_after); `record_success` clears the (account, address) key only, so an
attacker cannot reset an address's count by signing in to an account of their own.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from airlock.accounts import rules
from airlock.accounts.models import AuthThrottle
from airlock.core.db import utcnow
from airlock.core.errors import TooManyRequests
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings


def policies(settings: Settings) -> dict[str, rules.ThrottlePolicy]:
    """The throttle policy of each kind of key, from the settings."""
    return {
        rules.ACCOUNT_ADDRESS: rules.ThrottlePolicy(
            free_failures=settings.login_free_failures_account,
            delay_seconds=settings.login_delay_seconds,
            max_delay_seconds=settings.login_max_delay_account_seconds,
            forget_seconds=settings.login_forget_seconds,
        ),
        rules.ADDRESS: rules.ThrottlePolicy(
            free_failures=settings.login_free_failures_address,
            delay_seconds=settings.login_delay_seconds,
            max_delay_seconds=settings.login_max_delay_address_seconds,
            forget_seconds=settings.login_forget_seconds,
        ),
    }


def _hash(kind: str, key: str) -> str:
    # Emails and addresses are stored only as hashes: the table is no list of who tried.
    return hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()


def check(uow: UnitOfWork, *, email: str, address: str) -> None:
    """Refuse (429 with the seconds to wait) while the attempt's keys are delayed."""
    now = utcnow()
    hashes = [_hash(kind, key) for kind, key in rules.throttle_keys(email, address)]
    rows = uow.session.scalars(select(AuthThrottle).where(AuthThrottle.key_hash.in_(hashes)))
    wait = max((rules.retry_after(r.blocked_until, now) for r in rows), default=0)
    if wait:
        raise TooManyRequests(
            f"too many failed sign-ins from your address; try again in {wait} seconds",
            retry_after=wait,
        )


def _ensure_row(uow: UnitOfWork, key_hash: str, kind: str) -> None:
    values = {"key_hash": key_hash, "kind": kind, "failures": 0}
    dialect = uow.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(AuthThrottle).values(**values).on_conflict_do_nothing()
        uow.session.execute(stmt)
    else:
        uow.session.execute(sqlite_insert(AuthThrottle).values(**values).on_conflict_do_nothing())


def record_failure(uow: UnitOfWork, *, email: str, address: str) -> int:
    """Count a failed attempt under both keys; the longest delay now set, in seconds."""
    now = utcnow()
    pols = policies(uow.services.settings)
    longest = 0
    for kind, key in rules.throttle_keys(email, address):
        key_hash = _hash(kind, key)
        _ensure_row(uow, key_hash, kind)
        # Locked for the read-modify-write so concurrent failures in other processes count.
        row = uow.session.scalars(
            select(AuthThrottle).where(AuthThrottle.key_hash == key_hash).with_for_update()
        ).one()
        uow.session.refresh(row)
        policy = pols[kind]
        row.failures = rules.failures_after(row.failures, row.last_failure_at, now, policy)
        row.last_failure_at = now
        delay = rules.delay_after(row.failures, policy)
        if delay:
            row.blocked_until = now + timedelta(seconds=delay)
            longest = max(longest, rules.retry_after(row.blocked_until, now))
    uow.flush()
    return longest


def record_success(uow: UnitOfWork, *, email: str, address: str) -> None:
    """Forget the failures of this account from this address (the address count stays)."""
    kind, key = rules.throttle_keys(email, address)[0]
    row = uow.session.get(AuthThrottle, _hash(kind, key))
    if row is not None:
        uow.session.delete(row)
