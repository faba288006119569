"""The firm's side of a coordinated finding in headless Chromium against a real server:
the firm admin finds the case its notification points to, acknowledges the finding, replies
in the finding's thread and, once its fixed version is uploaded, marks the fix submitted.

The agency's side (a booby-trapped checkpoint uploaded, the critical finding confirmed and
notified) and the fixed version's upload are done through the API of the same server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.factories import vault as vault_factory
from tests.factories.scanning import BENIGN_PICKLE, EVIL_PICKLE, torch_style_checkpoint

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PASSWORD = "airlock-demo-2026"
FIRM_ADMIN = "admin@northwind.example"
REVIEWER = "reviewer@agency.example"
REPLY = "We are replacing the pickle with safetensors."


def _token(api: httpx.Client, email: str) -> dict[str, str]:
    r = api.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['secret']}"}


def _wait(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _notify_a_critical_finding(api: httpx.Client) -> tuple[str, str, dict[str, str]]:
    firm, rev = _token(api, FIRM_ADMIN), _token(api, REVIEWER)
    subs = api.get("/api/v1/submissions", headers=firm).json()
    sub = next(s for s in subs if s["title"] == "Atlas-70B release candidate 1")
    vault_factory.upload(api, firm, sub["id"], torch_style_checkpoint(EVIL_PICKLE), name="model.pt")

    def blocking() -> list[dict[str, Any]]:
        r = api.get(f"/api/v1/findings?submission_id={sub['id']}", headers=rev)
        return [f for f in r.json()["findings"] if f["reported_verdict"] == "block"]

    drafts = _wait(blocking, "the scan's findings")
    fid = next(f["id"] for f in drafts if f["reported_severity"] == "critical")
    r = api.post(f"/api/v1/findings/{fid}/confirm", headers=rev, json={"severity": "critical"})
    assert r.status_code == 200, r.text
    others = [f["id"] for f in drafts if f["id"] != fid]
    if others:
        api.post(
            "/api/v1/findings/false-positive",
            headers=rev,
            json={"finding_ids": others, "reason": "same payload"},
        )
    r = api.post(f"/api/v1/findings/{fid}/transitions", headers=rev, json={"target": "notified"})
    assert r.status_code == 200, r.text
    _wait(lambda: api.get("/api/v1/cases", headers=firm).json()["cases"], "the case")
    return sub["id"], fid, firm


def test_the_firm_acknowledges_replies_and_submits_its_fix_in_the_browser(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    api = httpx.Client(base_url=server.base, timeout=30)
    sid, _, firm = _notify_a_critical_finding(api)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None
    )
    try:
        page.goto("/login")
        page.fill("input[name=email]", FIRM_ADMIN)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        expect(page.locator("#unread")).to_have_text("1")  # the notification of the finding
        page.click("#notifications-link")
        page.click("#notifications a:has-text('needs your attention')")
        expect(page.locator("h1")).to_contain_text("Case AIR-")
        page.screenshot(path=str(shots / "01-case.png"), full_page=True)

        page.click("#findings button[value=acknowledged]")
        expect(page.locator("#done")).to_have_text("The finding was updated.")
        expect(page.locator("#finding-1 .state")).to_have_text("acknowledged")

        page.fill("#reply-1", REPLY)
        page.click("#send-1")
        expect(page.locator("#done")).to_have_text("Your message was sent.")
        expect(page.locator("#thread-1 .messages")).to_contain_text(REPLY)

        page.click("#findings button[value=fix_in_progress]")
        expect(page.locator("#finding-1 .state")).to_have_text("fix in progress")

        # The fixed version, uploaded through the API and rescanned.
        r = api.post(
            "/api/v1/submissions",
            headers=firm,
            json={
                "model_id": api.get(f"/api/v1/submissions/{sid}", headers=firm).json()["model_id"],
                "title": "Atlas-70B rc1, fixed",
                "fixes_submission_id": sid,
            },
        )
        assert r.status_code == 201, r.text
        vault_factory.upload(
            api, firm, r.json()["id"], torch_style_checkpoint(BENIGN_PICKLE), name="model.pt"
        )
        _wait(
            lambda: (
                api.get(f"/api/v1/submissions/{sid}/fix-diff", headers=firm).json().get("scanned")
            ),
            "the rescan of the fix",
        )

        page.reload()
        page.click("#findings button[value=fix_submitted]")
        expect(page.locator("#done")).to_have_text("The finding was updated.")
        expect(page.locator("#finding-1 .state")).to_have_text("fix submitted")
        expect(page.locator("#timeline")).to_contain_text("fix_in_progress → fix_submitted")
        page.screenshot(path=str(shots / "02-fix-submitted.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
        api.close()
