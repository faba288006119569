"""Single sign-on through a real OpenID Connect provider on loopback, and setting up and
using the TOTP second factor, driven in headless Chromium against `airlock serve`; axe-core
checks the new pages and screenshots are kept ($AIRLOCK_SCREENSHOTS or var/screenshots/sign-in).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.e2e.conftest import ROOT, Server
from tests.e2e.pages import ACCOUNTS, PASSWORD
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as p:
        yield p


@pytest.fixture
def server_env(provider: OidcProvider) -> dict[str, str]:
    return {
        "AIRLOCK_OIDC_ISSUER": provider.issuer,
        "AIRLOCK_OIDC_CLIENT_ID": CLIENT_ID,
        "AIRLOCK_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "AIRLOCK_OIDC_EMAIL_DOMAINS": ACCOUNTS["coordinator"].rpartition("@")[2],
    }


def _shots() -> Path:
    base = os.environ.get("AIRLOCK_SCREENSHOTS")
    folder = (Path(base) if base else ROOT / "var" / "screenshots") / "sign-in"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check(page: Any, name: str) -> None:
    """Screenshot the page and fail on a serious or critical axe violation."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(_shots() / f"{name}.png"), full_page=True)
    page.evaluate(AXE.read_text())
    found = page.evaluate("(opts) => axe.run(document, opts)", AXE_OPTIONS)["violations"]
    blocking = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]
    assert not blocking, f"{name}: {blocking}"


def test_agency_staff_sign_in_through_the_identity_provider(
    server: Server, browser: Any, provider: OidcProvider
) -> None:
    provider.redirect_uris.append(f"{server.base}/login/sso/callback")
    coordinator = ACCOUNTS["coordinator"]
    page = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    tab = page.new_page()
    tab.goto("/login?next=/account")
    _check(tab, "login-with-sso")
    tab.click("#sso-button")
    tab.wait_for_url(f"{provider.issuer}/authorize*")
    tab.fill("#idp-email", coordinator)
    tab.click("#idp-continue")
    tab.wait_for_url(f"{server.base}/account")
    assert coordinator in tab.inner_text("main")
    assert provider.token_requests and provider.token_requests[-1]["code_verifier"]
    # a firm's address at the provider gets no session
    other = browser.new_context(base_url=server.base).new_page()
    other.goto("/login")
    other.click("#sso-button")
    other.fill("#idp-email", ACCOUNTS["developer_admin"])
    other.click("#idp-continue")
    other.wait_for_url(f"{server.base}/login/sso/callback*")
    assert "not in a domain allowed" in other.inner_text("main")
    page.close()


def test_setting_up_and_using_the_authenticator_app(server: Server, browser: Any) -> None:
    email = ACCOUNTS["developer_admin"]
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto("/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form[action='/login'] button[type=submit]")
    tab.wait_for_url(lambda url: "/login" not in url)
    tab.goto("/account")
    tab.click("a[href='/account/mfa']")
    _check(tab, "mfa-start")
    tab.click("#mfa-start")
    tab.wait_for_selector("#mfa-secret")
    assert tab.locator("#mfa-qr svg").count() == 1
    _check(tab, "mfa-scan")
    totp = pyotp.TOTP(tab.inner_text("#mfa-secret").strip())
    tab.fill("#mfa-code", totp.now())
    tab.click("form[action='/account/mfa/confirm'] button[type=submit]")
    tab.wait_for_selector("#recovery-codes")
    assert tab.locator("#recovery-codes li").count() == 10
    _check(tab, "mfa-recovery-codes")

    tab.click("form.nav-signout button[type=submit]")
    tab.wait_for_url(lambda url: "/login" in url)
    tab.goto("/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form[action='/login'] button[type=submit]")
    try:
        tab.wait_for_url(lambda url: "/login/code" in url)
    except Exception:
        raise AssertionError(f"{tab.url}: {tab.inner_text('main')[:500]}") from None
    _check(tab, "login-code")
    # the next step's code: the one used to confirm cannot be replayed
    tab.fill("#login-code", totp.at(time.time() + 30))
    tab.click("form[action='/login/code'] button[type=submit]")
    tab.wait_for_url(lambda url: "/login" not in url)
    tab.goto("/account/mfa")
    assert "10" in tab.inner_text("#mfa-status")
    context.close()
