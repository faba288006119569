"""No page loads anything from another host (issue 11, item 1).

Agencies run Airlock on isolated networks, so every stylesheet, script, font, icon and link
target a page needs is served by the app itself. For every demo role (and anonymous visitors)
the test crawls every page reachable from the landing page, and checks each `src`, `href`,
`action`, `srcset` and inline style of the HTML, then each stylesheet's `url()` and `@import`,
and the Content-Security-Policy header. Every asset referred to must answer 200.
"""

from __future__ import annotations

from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from airlock import demo
from tests.e2e.pages import ACCOUNTS, PASSWORD, Refs, css_refs, foreign, next_pages, pattern

BASE = "http://testserver"
MAX_PER_KIND = 4  # pages of one kind (same path pattern) visited per role


def _crawl(client: TestClient, start: str) -> tuple[list[str], list[str], set[str]]:
    """Visit pages breadth-first; return (pages seen, problems, assets referred to)."""
    seen: list[str] = []
    problems: list[str] = []
    assets: set[str] = set()
    kinds: Counter[str] = Counter()
    queue = deque([start])
    visited: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        kind = pattern(urlsplit(path).path)
        if kinds[kind] >= MAX_PER_KIND:
            continue
        kinds[kind] += 1
        r = client.get(path, headers={"Accept": "text/html"})
        if r.status_code >= 500:
            problems.append(f"{path}: answered {r.status_code}")
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        url = str(r.url)
        seen.append(urlsplit(url).path)
        csp = r.headers.get("content-security-policy", "")
        if not csp or "http" in csp or "*" in csp:
            problems.append(f"{path}: the Content-Security-Policy is not same-origin: {csp!r}")
        parser = Refs()
        parser.feed(r.text)
        for tag, attr, ref in parser.refs:
            if foreign(ref, url):
                problems.append(f"{path}: <{tag} {attr}={ref!r}> points at another host")
            elif attr in ("src", "srcset") or (tag == "link" and attr == "href"):
                assets.add(urlsplit(urljoin(url, ref)).path)
        for style in parser.styles:
            for ref in css_refs(style):
                if foreign(ref, url):
                    problems.append(f"{path}: an inline style loads {ref!r} from another host")
        for nxt in next_pages(BASE, url, parser.links):
            if nxt not in visited:
                queue.append(nxt)
    return seen, problems, assets


def _check_assets(client: TestClient, assets: set[str]) -> list[str]:
    problems = []
    pending = deque(sorted(assets))
    done: set[str] = set()
    while pending:
        path = pending.popleft()
        if path in done:
            continue
        done.add(path)
        r = client.get(path)
        if r.status_code != 200:
            problems.append(f"{path}: answered {r.status_code}")
            continue
        if path.endswith(".css"):
            for ref in css_refs(r.text):
                if foreign(ref, BASE + path):
                    problems.append(f"{path}: loads {ref!r} from another host")
                elif not ref.startswith("data:"):
                    pending.append(urlsplit(urljoin(BASE + path, ref)).path)
    return problems


def test_the_crawler_recognises_references_to_other_hosts() -> None:
    page = f"{BASE}/portal"
    assert foreign("https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui.css", page)
    assert foreign("//fonts.googleapis.com/css", page)
    assert foreign("http://testserver:8080/x.js", page)
    assert not foreign("/static/app.css", page)
    assert not foreign("../fonts/a.woff2", page)
    assert not foreign("data:image/svg+xml;base64,AAAA", page)
    assert css_refs("a{background:url('https://x.test/a.png')}@import \"//y.test/b.css\";") == [
        "https://x.test/a.png",
        "//y.test/b.css",
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_page_for_any_role_refers_to_another_host(client: TestClient, container) -> None:
    assert demo.seed(container)
    everything: set[str] = set()
    problems: list[str] = []
    visited: dict[str, list[str]] = {}
    seen, found, assets = _crawl(client, "/")
    seen2, found2, assets2 = _crawl(client, "/api/v1/docs")
    visited["anonymous"] = seen + seen2
    problems += found + found2
    everything |= assets | assets2
    for role, email in ACCOUNTS.items():
        client.cookies.clear()
        r = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, f"{email} could not sign in: {r.text[:200]}"
        seen, found, assets = _crawl(client, "/")
        visited[role] = seen
        problems += [f"{role}: {p}" for p in found]
        everything |= assets
    problems += _check_assets(client, everything)
    assert not problems, "\n".join(problems)
    # the crawl really went through the app: every role reached its workspace and the docs
    for role, pages in visited.items():
        assert "/api/v1/docs" in pages, f"{role} has no link to the API docs: {pages}"
    assert "/portal" in visited["developer_admin"]
    assert any(p.startswith("/portal/submissions/") for p in visited["developer_admin"])
    assert any(p.startswith("/review/submissions/") for p in visited["coordinator"])
    assert "/audit" in visited["auditor"]
    assert "/static/vendor/uswds/css/uswds.min.css" in everything
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in everything
