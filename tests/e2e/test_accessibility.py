"""Every page, for every role, in headless Chromium: axe-core finds no serious or critical
WCAG 2.1 A/AA violation, and with AIRLOCK_SCREENSHOTS set a full-page screenshot of each page
is kept to look at.

`airlock serve` runs with the demo program; each demo account signs in and the test crawls
every page reachable from its landing page (a few of each kind, so submissions in several
states are seen), plus the anonymous pages, a page with a form error and an invitation. On
each page the vendored axe-core (tests/e2e/vendor, from npm `axe-core`, see
scripts/build-assets) is evaluated and run with the WCAG 2.0/2.1 A and AA rules. The test prints
each page's name and height. Screenshots (1280 pixels wide, a second or more each for the
long pages) are taken only when AIRLOCK_SCREENSHOTS names a folder (`1` means var/screenshots/),
so the everyday suite pays for axe alone.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections import Counter, deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ROOT, Server
from tests.e2e.pages import ACCOUNTS, PASSWORD, next_pages, pattern

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTH = 1280
MAX_PER_KIND = 3
BLOCKING = ("serious", "critical")
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"AIRLOCK_AGENCY_NAME": "National AI Security Agency"}


def shots_dir(name: str = "") -> Path | None:
    """Where to keep screenshots, when AIRLOCK_SCREENSHOTS asks for them (emptied first)."""
    wanted = os.environ.get("AIRLOCK_SCREENSHOTS", "")
    if not wanted:
        return None
    folder = (ROOT / "var" / "screenshots" if wanted == "1" else Path(wanted)) / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def _slug(who: str, path: str) -> str:
    text = pattern(path).replace("{id}", "id")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "home"
    return f"{who}--{text}"[:120]


class Audit:
    """Runs axe on pages, keeps screenshots and what was found."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.rows: list[tuple[str, str, str, int, Counter[str]]] = []
        self.blocking: list[str] = []
        self.broken: list[str] = []
        self.names: Counter[str] = Counter()
        self.axe = AXE.read_text()

    def check(self, page: Any, who: str, label: str | None = None) -> None:
        path = urlsplit(page.url).path + (f"?{urlsplit(page.url).query}" if "?" in page.url else "")
        if page.locator("#swagger-ui").count():
            page.wait_for_selector("#swagger-ui .info", timeout=15_000)
            page.wait_for_selector("#swagger-ui .opblock", timeout=15_000)
        page.wait_for_load_state("networkidle")
        # evaluated over the DevTools protocol, so the page's CSP does not apply to axe itself
        page.evaluate(self.axe)
        violations = page.evaluate("(opts) => axe.run(document, opts)", AXE_OPTIONS)["violations"]
        impacts: Counter[str] = Counter()
        for v in violations:
            impacts[v["impact"]] += len(v["nodes"])
            if v["impact"] in BLOCKING:
                targets = "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
                self.blocking.append(
                    f"{who} {path}: [{v['impact']}] {v['id']}: {v['help']} @ {targets}"
                )
        name = _slug(who, label or path)
        self.names[name] += 1
        if self.names[name] > 1:
            name = f"{name}-{self.names[name]}"
        file = Path(f"{name}.png")
        if self.folder is not None:
            file = self.folder / file
            page.screenshot(path=str(file), full_page=True)
        height = int(page.evaluate("document.documentElement.scrollHeight"))
        self.rows.append((who, path, file.name, height, impacts))

    def report(self) -> str:
        where = f"screenshots ({WIDTH} px wide) in {self.folder}" if self.folder else "pages"
        lines = [f"{where}:"]
        for who, path, file, height, impacts in self.rows:
            found = ", ".join(f"{k} {n}" for k, n in sorted(impacts.items())) or "no violations"
            lines.append(f"  {who:18} {path:60} {file:60} {height:6} px  axe: {found}")
        return "\n".join(lines)


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _here(page: Any) -> str:
    url = urlsplit(page.url)
    return url.path + (f"?{url.query}" if url.query else "")


def _crawl(
    page: Any, audit: Audit, who: str, base: str, starts: list[str], seen: list[str]
) -> list[str]:
    kinds: Counter[str] = Counter()
    queue, visited = deque(starts), set(seen)
    while queue:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        kind = pattern(urlsplit(path).path)
        if kinds[kind] >= MAX_PER_KIND:
            continue
        response = page.goto(path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 400:  # a page offered a link its reader may not follow
            audit.broken.append(f"{who} {path}: {response.status}")
        if _here(page) in seen:  # a redirect to a page already looked at
            continue
        visited.add(_here(page))
        kinds[pattern(urlsplit(page.url).path)] += 1
        audit.check(page, who)
        seen.append(_here(page))
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        for nxt in next_pages(base, page.url, links):
            if nxt not in visited:
                queue.append(nxt)
    return seen


def _invitation_link(server: Server) -> str:
    def call(path: str, body: dict[str, str], token: str = "") -> dict[str, Any]:
        req = urllib.request.Request(
            server.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            out: dict[str, Any] = json.loads(resp.read())
            return out

    token = call("/api/v1/auth/token", {"email": ACCOUNTS["developer_admin"], "password": PASSWORD})
    invite = call(
        "/api/v1/invitations",
        {"email": "new.member@northwind.example", "role": "developer_member"},
        token["secret"],
    )
    return str(invite["accept_url"])


def test_every_page_for_every_role_has_no_serious_accessibility_violation(
    server: Server, browser: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = Audit(shots_dir())
    context = browser.new_context(base_url=server.base, viewport={"width": WIDTH, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on(
        "console",
        lambda m: (
            errors.append(f"{page.url}: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    visited: dict[str, list[str]] = {}
    try:
        visited["anonymous"] = _crawl(
            page, audit, "anonymous", server.base, ["/", "/api/v1/docs"], []
        )
        page.goto("/login")
        page.fill("input[name=email]", ACCOUNTS["developer_admin"])
        page.fill("input[name=password]", "not the password")
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_selector("#login-error")
        audit.check(page, "anonymous", "/login-error")
        page.goto(_invitation_link(server))
        # the code in the link's fragment is posted by the page's script: the form follows
        page.wait_for_selector("#inv-password")
        audit.check(page, "anonymous", "/invitation")
        for role, email in ACCOUNTS.items():
            context.clear_cookies()
            _sign_in(page, email)
            visited[role] = _crawl(page, audit, role, server.base, ["/"], [])
            if role == "developer_admin":
                page.goto("/portal/submissions/00000000000000000000000000000000")
                audit.check(page, role, "/not-found")
    finally:
        context.close()
        with capsys.disabled():
            print("\n" + audit.report())
    assert "/portal" in visited["developer_admin"]
    assert any("/review/submissions/" in p for p in visited["coordinator"])
    assert "/audit" in visited["auditor"]
    assert len(audit.rows) >= 25, audit.report()
    assert errors == [], "\n".join(errors)
    assert audit.broken == [], "\n".join(audit.broken)
    assert not audit.blocking, "\n".join(audit.blocking)
