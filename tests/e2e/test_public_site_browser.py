"""The public site in headless Chromium with JavaScript off: home, reports with their SVG
charts, advisories, coverage, and the agency's report preview; axe-core finds no serious or
critical violation, and full-page screenshots are kept to look at (file names and heights
are printed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server
from tests.e2e.pages import ACCOUNTS, PASSWORD
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, BLOCKING, WIDTH

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"AIRLOCK_AGENCY_NAME": "National AI Security Agency"}


def _seed_history(data: Path, base: str) -> str:
    """A scripted 2025 and two published reports in the served database; the id of a draft."""
    from airlock.bootstrap import build
    from airlock.publishing import reports
    from airlock.settings import Settings
    from tests.factories.history import script_year

    settings = Settings(dev=True, data_dir=data, base_url=base, cookie_secure=False)
    container = build(settings)
    try:
        with container.uow() as uow:
            from sqlalchemy import select

            from airlock.accounts import service as accounts
            from airlock.accounts.models import User

            admin_id = uow.session.scalars(
                select(User.id).where(User.email == ACCOUNTS["agency_admin"])
            ).first()
            assert admin_id is not None
            admin = accounts.actor_for(uow, user_id=admin_id)
        script_year(container, user_id=admin.user_id, firms=24)
        print("scripted", flush=True)
        for period in ("2025Q3", "2025"):
            with container.uow() as uow:
                sid = reports.build(uow, actor=admin, period=period).id
                uow.commit()
            with container.uow() as uow:
                reports.publish(uow, actor=admin, snapshot_id=sid)
                uow.commit()
            print("published", period, flush=True)
        with container.uow() as uow:
            draft = reports.build(uow, actor=admin, period="2025Q2").id
            uow.commit()
        return draft
    finally:
        container.close()


def _shoot(page: Any, folder: Path, name: str, rows: list[str], blocking: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate(AXE.read_text())
    violations = page.evaluate("(opts) => axe.run(document, opts)", AXE_OPTIONS)["violations"]
    for v in violations:
        if v["impact"] in BLOCKING:
            blocking.append(f"{name}: [{v['impact']}] {v['id']}: {v['help']}")
    file = folder / f"{name}.png"
    page.screenshot(path=str(file), full_page=True)
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    found = ", ".join(f"{v['impact']} {v['id']}" for v in violations) or "no violations"
    rows.append(f"  {file.name:40} {height:6} px  axe: {found}")


def test_public_pages_render_with_charts_and_pass_axe(server: Server, browser: Any, tmp_path):
    draft = _seed_history(tmp_path / "data", server.base)
    folder = Path(os.environ.get("AIRLOCK_SCREENSHOTS") or ROOT / "var" / "screenshots-public")
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[str] = []
    blocking: list[str] = []
    paths = (
        ("/", "public-home"),
        ("/reports", "public-reports"),
        ("/reports/2025Q3", "public-report-2025Q3"),
        ("/reports/2025", "public-report-2025"),
        ("/advisories", "public-advisories"),
        ("/coverage", "public-coverage"),
    )
    # JavaScript off: everything public must still be there, charts included.
    context = browser.new_context(
        base_url=server.base, viewport={"width": WIDTH, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    for path, _ in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        if path.startswith("/reports/"):
            assert page.locator("figure.report-chart svg").count() == 3
            assert page.locator("#table-participation").count() == 1
    context.close()
    # axe-core runs as a script, so the audit and screenshots use a context with it on.
    context = browser.new_context(base_url=server.base, viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    for path, name in paths:
        page.goto(path)
        _shoot(page, folder, name, rows, blocking)
    context.close()
    # The agency's preview of a draft, signed in (JavaScript on, as staff use it).
    context = browser.new_context(base_url=server.base, viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", ACCOUNTS["agency_admin"])
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/review/reports")
    _shoot(page, folder, "agency-reports", rows, blocking)
    page.goto(f"/review/reports/{draft}")
    assert page.locator("#audit-result").count() == 1
    _shoot(page, folder, "agency-report-preview", rows, blocking)
    context.close()
    print(f"\nscreenshots ({WIDTH} px wide) in {folder}:\n" + "\n".join(rows))
    assert not blocking, "\n".join(blocking)
