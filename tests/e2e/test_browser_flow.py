"""The whole flow of issue 2 point 11 in a real headless Chromium against a real server.

`airlock serve` runs as a subprocess on a free loopback port with a fresh, migrated SQLite
database seeded with the demo program. Playwright drives Debian's /usr/bin/chromium (never a
downloaded browser): the firm admin drafts and submits a submission from the dossier form
(after seeing a validation error at its field), the coordinator accepts it and assigns a
reviewer, and the reviewer starts the review and reads the confidential dossier.
Screenshots of each step are left in the test's tmp folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

PASSWORD = "airlock-demo-2026"
FIRM_ADMIN = "admin@northwind.example"
COORDINATOR = "coordinator@agency.example"
REVIEWER = "reviewer@agency.example"
TITLE = "Atlas-70B browser-test candidate"
SECRET_EMAIL = "security-contact@northwind.example"  # disclosure "reviewer": confidential


def test_firm_submits_coordinator_assigns_reviewer_reads_dossier(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    shots = tmp_path / "screenshots"
    shots.mkdir()
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    def sign_in(email: str) -> None:
        page.goto("/login")
        if not (shots / "00-login.png").exists():
            shot("00-login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        expect(page.locator("header.top nav")).to_contain_text(email)

    def sign_out() -> None:
        page.click("header.top button:has-text('Sign out')")
        expect(page.locator("header.top nav")).to_contain_text("Sign in")

    try:
        # --- the firm admin drafts a submission and submits it --------------------------
        sign_in(FIRM_ADMIN)
        page.goto("/portal")
        page.click("#new-submission")
        page.select_option("select[name=model_id]", label="Atlas-70B")
        page.fill("input[name=title]", TITLE)
        page.fill("input[name=version]", "rc-browser")
        for box in page.locator("input[name=carries]").all():
            # only the always-required sections A and B: nothing else is ticked by default
            expect(box).not_to_be_checked()
        shot("01-new-submission")
        page.click("#create-submission")
        # the dossier editor opens at section A
        expect(page.locator("#submission-state")).to_have_attribute("data-state", "draft")
        assert "/portal/submissions/" in page.url and "/dossier/A" in page.url

        form = page.locator("#dossier-form")
        form.locator("[name='v:A.developer_name']").fill("Northwind AI")
        form.locator("[name='d:A.developer_name']").select_option("public")
        form.locator("[name='v:A.contact_email']").fill("not-an-email")
        page.click("#save")

        # the invalid email is kept as typed and its error is shown at its field
        email_field = page.locator("#f-A-contact_email")
        expect(email_field).to_have_class(re.compile("usa-form-group--error"))
        expect(email_field.locator(".usa-error-message")).to_be_visible()
        expect(email_field.locator(".usa-error-message")).to_contain_text("email address")
        expect(form.locator("[name='v:A.contact_email']")).to_have_value("not-an-email")
        expect(form.locator("[name='v:A.developer_name']")).to_have_value("Northwind AI")
        shot("02-validation-error")

        form.locator("[name='v:A.contact_email']").fill(SECRET_EMAIL)
        form.locator("[name='d:A.contact_email']").select_option("reviewer")
        page.click("#next")
        form = page.locator("#dossier-form")
        form.locator("[name='v:B.model_name']").fill("Atlas-70B")
        form.locator("[name='d:B.model_name']").select_option("public")
        form.locator("[name='v:B.versions.0.version']").fill("2.0.0-rc1")
        form.locator("[name='d:B.versions.0.version']").select_option("public")
        page.click("#submit")
        expect(page.locator("#submission-state")).to_have_attribute("data-state", "submitted")
        expect(page.locator("#dossier-form")).to_have_count(0)  # no longer editable
        shot("03-submitted")
        page.goto("/portal")
        row = page.locator("#submissions tr", has_text=TITLE)
        expect(row.locator(".badge")).to_have_text("Submitted")
        shot("03b-dashboard")
        sign_out()
        page.goto("/portal")  # the session is gone: the portal asks to sign in again
        expect(page.locator("input[name=password]")).to_be_visible()

        # --- the coordinator accepts it and assigns a reviewer ---------------------------
        sign_in(COORDINATOR)
        page.goto("/review")
        shot("04a-queue")
        page.locator("#queue a", has_text=TITLE).click()
        expect(page.locator("#submission-state")).to_have_attribute("data-state", "submitted")
        # not assigned: the confidential value is redacted
        page.click("#tab-dossier")
        expect(page.locator("#confidential-banner")).to_have_count(0)
        expect(page.locator("#dossier")).not_to_contain_text(SECRET_EMAIL)
        expect(page.locator("#dossier")).to_contain_text("Northwind AI")  # public field
        page.click("#tab-overview")
        page.click("#to-accepted")
        expect(page.locator("#submission-state")).to_have_attribute("data-state", "accepted")
        page.select_option("#reviewer", label=REVIEWER)
        page.click("#assign")
        expect(page.locator("#assignees")).to_contain_text(REVIEWER)
        expect(page.locator("#flash")).to_contain_text("The reviewer is assigned.")
        shot("04-coordinator")
        review_url = page.url.split("?")[0]  # without the ?done= confirmation
        sign_out()

        # --- the assigned reviewer starts the review and reads the confidential dossier --
        sign_in(REVIEWER)
        page.goto("/review")
        page.locator("#queue a", has_text=TITLE).click()
        assert page.url == review_url
        page.click("#to-in_review")
        expect(page.locator("#submission-state")).to_have_attribute("data-state", "in_review")
        page.click("#tab-dossier")
        expect(page.locator("#confidential-banner")).to_be_visible()
        expect(page.locator("#dossier")).to_contain_text(SECRET_EMAIL)
        shot("05-reviewer")
    except Exception as exc:
        with contextlib.suppress(Exception):
            shot("failure")
        raise AssertionError(
            f"browser flow failed at {page.url}: {exc}\nscreenshots in {shots}\n"
            f"server log:\n{server.tail()}"
        ) from exc
    finally:
        context.close()
    assert problems == [], problems
    keep = os.environ.get("AIRLOCK_E2E_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
