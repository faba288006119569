"""Under the strict Content-Security-Policy (frame-ancestors, form-action, base-uri), in
headless Chromium: the Swagger UI renders its operations, htmx loads on a signed-in page, and
an invitation link (its code in the fragment) is opened, posted and accepted by the page's
own script, with no policy violation (issue 10, item 7). Screenshots go to
$AIRLOCK_SCREENSHOTS or var/screenshots/ with the names invitation-*.png."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server
from tests.e2e.pages import ACCOUNTS, PASSWORD
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, BLOCKING, _invitation_link

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

WATCH = """() => { window.__violations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def _violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__violations || []"))


def _axe(page: Any) -> list[str]:
    page.evaluate(AXE.read_text())
    found = page.evaluate("(opts) => axe.run(document, opts)", AXE_OPTIONS)["violations"]
    return [f"{v['id']} {v['impact']}" for v in found if v["impact"] in BLOCKING]


def test_docs_htmx_and_invitations_work_under_the_strict_policy(
    server: Server, browser: Any
) -> None:
    shots = Path(os.environ.get("AIRLOCK_SCREENSHOTS") or ROOT / "var" / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.add_init_script(f"({WATCH})()")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)

    response = page.goto("/api/v1/docs")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "base-uri 'none'" in csp
    try:
        page.wait_for_selector("#swagger-ui .info", timeout=60_000)
        page.wait_for_selector("#swagger-ui .opblock", timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"{_violations(page)} {console} {server.tail()}") from exc
    assert _violations(page) == []

    page.goto(_invitation_link(server))
    page.wait_for_selector("#inv-password", timeout=15_000)
    assert "#" not in page.url  # the code left the address bar
    assert "new.member@northwind.example" in page.content()
    page.screenshot(path=str(shots / "invitation-form.png"), full_page=True)
    assert _axe(page) == []
    page.fill("#inv-password", "a long enough password")
    page.fill("#inv-password2", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url("**/login?done=account_created")
    assert _violations(page) == []

    page.goto("/invitations")
    page.screenshot(path=str(shots / "invitation-open.png"), full_page=True)
    assert _axe(page) == []

    page.goto("/login")
    page.fill("input[name=email]", ACCOUNTS["developer_admin"])
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.htmx") == "object"
    assert _violations(page) == []
    policy_errors = [c for c in console if "Content Security Policy" in c]
    assert policy_errors == [], json.dumps(policy_errors)
    context.close()
