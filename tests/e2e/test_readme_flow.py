"""The README's "Trying the flow by hand", followed literally in headless Chromium.

Each step finds what the README names by its visible words (links, buttons and field labels)
and the firm's submit succeeds on the first press. On the way the dossier editor's pages are
screenshotted at 1280 px and checked with axe-core (no serious or critical violation); the
folder and page heights are printed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server
from tests.e2e.test_accessibility import Audit, shots_dir

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "airlock-demo-2026"
README = (ROOT / "README.md").read_text()
TITLE = "Atlas-70B release candidate 4"


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"AIRLOCK_AGENCY_NAME": "National AI Security Agency"}


def _step(n: int) -> str:
    """The text of the README's step n of "Trying the flow by hand", on one line."""
    part = README.split("## Trying the flow by hand", 1)[1].split("\n## ", 1)[0]
    steps = re.split(r"\n(?=\d+\. )", part.strip())
    return " ".join(steps[n - 1].split())


def _named(name: str) -> re.Pattern[str]:
    """A field's label as the README writes it (a required field's label ends in *)."""
    return re.compile(rf"^{re.escape(name)}( \*)?$")


def _bold(text: str) -> list[str]:
    return re.findall(r"\*\*(.+?)\*\*", text)


def test_the_readme_flow_word_for_word(server: Server, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    step1, step2, step3, step4 = (_step(n) for n in (1, 2, 3, 4))
    # the words this test clicks and fills are the README's own
    assert _bold(step1) == [
        "New submission",
        "Release candidate title",
        "Create draft",
        "Developer name",
        "Contact email",
        "Save and continue",
        "Model name",
        "Versions",
        "Version",
        "Save and submit for review",
    ], step1
    assert "`admin@northwind.example`" in step1
    assert _bold(step2) == ["accept", "assign"] and "`reviewer@agency.example`" in step2
    assert _bold(step3) == ["start the review", "Dossier"]
    assert _bold(step4) == ["Audit trail → Verify the hash chain"]

    shots = shots_dir("readme-flow")
    audit = Audit(shots)
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    failures: list[str] = []
    page.on(
        "response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None
    )

    def sign_in(email: str) -> None:
        context.clear_cookies()
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        expect(page.locator("header.top nav")).to_contain_text(email)

    try:
        # 1. the firm admin drafts and submits, on the first press
        sign_in("admin@northwind.example")
        page.get_by_role("link", name="New submission").first.click()
        page.get_by_label(_named("Model")).select_option(label="Atlas-70B")
        page.get_by_label(_named("Release candidate title")).fill(TITLE)
        page.get_by_role("button", name="Create draft").click()
        expect(page.locator("#section-title")).to_have_text("A. Developer and submission")
        audit.check(page, "developer_admin", "/portal/submissions/id/dossier/A")
        page.get_by_label(_named("Developer name")).fill("Northwind AI")
        page.get_by_label(_named("Contact email")).fill("security@northwind.example")
        page.get_by_role("button", name="Save and continue").click()
        expect(page.locator("#section-title")).to_have_text("B. Model identity")
        audit.check(page, "developer_admin", "/portal/submissions/id/dossier/B")
        page.get_by_label(_named("Model name")).fill("Atlas-70B")
        versions = page.get_by_role("group", name=re.compile(r"^Versions"))
        versions.get_by_label(_named("Version")).fill("4.0.0-rc4")
        page.get_by_role("button", name="Save and submit for review").click()
        expect(page.locator("#flash")).to_contain_text("sent to the agency for review")
        expect(page.locator("#problems")).to_have_count(0)

        # 2. the coordinator accepts and assigns
        sign_in("coordinator@agency.example")
        page.goto("/review")
        page.locator("#queue a", has_text=TITLE).click()
        page.click("#to-accepted")
        page.select_option("#reviewer", label="reviewer@agency.example")
        page.click("#assign")
        expect(page.locator("#assignees")).to_contain_text("reviewer@agency.example")

        # 3. the reviewer starts the review and sees the confidential fields
        sign_in("reviewer@agency.example")
        page.goto("/review")
        page.locator("#queue a", has_text=TITLE).click()
        page.click("#to-in_review")
        page.locator("#submission-tabs").get_by_role("link", name="Dossier", exact=True).click()
        expect(page.locator("#confidential-banner")).to_be_visible()
        expect(page.locator("#dossier")).to_contain_text("security@northwind.example")

        # 4. the auditor verifies the chain
        sign_in("auditor@agency.example")
        page.get_by_role("link", name="Audit trail").first.click()
        page.get_by_role("link", name="Verify the hash chain").click()
        expect(page.locator("#verify-result")).to_contain_text("intact")
    finally:
        context.close()
    print(audit.report())
    assert not failures, failures
    assert not audit.blocking, "\n".join(audit.blocking)


def test_the_dossier_editor_pages_pass_axe_and_are_screenshotted(
    server: Server, browser: Any
) -> None:
    from playwright.sync_api import expect

    shots = shots_dir("dossier-editor")
    audit = Audit(shots)
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill("admin@northwind.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.goto("/portal")
    page.get_by_role("link", name=re.compile("rc3")).first.click()  # the demo's draft
    draft = page.url.split("?")[0].rstrip("/")
    audit.check(page, "developer_admin", "/portal/submissions/id (draft)")
    for key in "ABCDEFGHIJK":
        page.goto(f"{draft}/dossier/{key}")
        audit.check(page, "developer_admin", f"/portal/submissions/id/dossier/{key}")
    page.goto(f"{draft}/dossier")
    audit.check(page, "developer_admin", "/portal/submissions/id/dossier")
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator("#problems")).to_be_visible()
    audit.check(page, "developer_admin", "/portal/submissions/id/dossier (refused submit)")
    page.goto(f"{draft}/dossier/B")
    audit.check(page, "developer_admin", "/portal/submissions/id/dossier/B (after submit)")
    context.close()
    print(audit.report())
    assert not audit.blocking, "\n".join(audit.blocking)
