"""Helpers of the sign-in security tests: an app with slow-to-expire delays (so no assertion
depends on timing) reached from chosen client addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from airlock.bootstrap import Container, build
from tests.conftest import make_settings
from tests.factories.program import PASSWORD

# Delays long enough that none runs out while a test runs.
SLOW = {"login_delay_seconds": 600.0}


@contextmanager
def serving(db_url: str, tmp_path: Path, **extra: Any) -> Iterator[tuple[Container, FastAPI]]:
    """A container and its app (no job workers), with the given settings."""
    from airlock.web.app import create_app

    container = build(make_settings(db_url, tmp_path / "data", **{**SLOW, **extra}))
    try:
        yield container, create_app(container, start_jobs=False)
    finally:
        container.close()


def from_address(app: FastAPI, address: str) -> TestClient:
    """A browser at a client address."""
    return TestClient(app, client=(address, 40000), follow_redirects=False)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Post the sign-in form."""
    return client.post("/login", data={"email": email, "password": password, "next": "/"})


def csrf_of(html: str) -> str:
    """The CSRF token of a page's forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def secret_on(page_html: str) -> str:
    """The TOTP key the enrolment page shows as text."""
    found = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page_html)
    assert found, "no TOTP key on the page"
    return found.group(1)


def fresh_code(container: Container, user_id: str, secret: str) -> str:
    """A code the server will accept now: the earliest step in its window not yet used."""
    import time

    import pyotp

    from airlock.accounts.models import MfaFactor

    with container.uow() as uow:
        factor = uow.session.get(MfaFactor, user_id)
        last = factor.last_step if factor is not None else 0
    now = time.time()
    current = int(now // 30)
    step = max(last + 1, current - 1)
    if step < current and 30 - now % 30 < 10:
        # The previous step leaves the server's window at the next boundary; on a loaded
        # machine the request may arrive after it, so wait for the boundary and start anew.
        time.sleep(30 - now % 30 + 0.1)
        current = int(time.time() // 30)
        step = max(last + 1, current - 1)
    assert step <= current + 1, "every step in the window is used; the test signs in too often"
    return str(pyotp.TOTP(secret).at(step * 30))
