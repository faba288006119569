"""Finding every page of the app: a crawler over same-origin links, and the demo accounts.

Shared by the same-origin test (over HTTP) and the accessibility test (in Chromium).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from airlock.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

PASSWORD = DEMO_PASSWORD
# One account per role, from the demo program.
ACCOUNTS: dict[str, str] = {}
for _email, _role in DEMO_ACCOUNTS:
    ACCOUNTS.setdefault(str(_role), _email)
# the second firm (enrolled, not yet active, with a returned submission) looks different
ACCOUNTS["developer_admin_helios"] = "admin@helios.example"

# Paths that are not pages to look at: files, downloads, the API (but its docs page), actions.
_NOT_PAGES = re.compile(r"^/(static/|api/v1/(?!docs$)|logout|audit/export)")
_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9a-f]{32}")


def pattern(path: str) -> str:
    """A path with its ids replaced, so pages of one kind are recognised."""
    return _ID.sub("{id}", path)


class Refs(HTMLParser):
    """Every URL a page refers to (src, href, action, srcset, style url()), and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("src", "href", "action", "poster", "data", "formaction", "xlink:href"):
                self.refs.append((tag, name, value))
            elif name == "srcset":
                for part in value.split(","):
                    if part.strip():
                        self.refs.append((tag, name, part.strip().split()[0]))
            elif name == "style":
                self.styles.append(value)
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)|@import\s+(['\"])([^'\"]+)\3")


def css_refs(css: str) -> list[str]:
    """The URLs a stylesheet loads (url() and @import)."""
    return [m.group(2) or m.group(4) for m in CSS_URL.finditer(css)]


def foreign(ref: str, base: str) -> bool:
    """Whether a reference, resolved against the page, points at another host."""
    ref = ref.strip()
    if ref.startswith(("data:", "#", "mailto:", "javascript:void")) or not ref:
        return False
    target = urlsplit(urljoin(base, ref))
    origin = urlsplit(base)
    return (target.scheme, target.netloc) != (origin.scheme, origin.netloc)


def next_pages(base: str, page_url: str, links: list[str]) -> list[str]:
    """The same-origin page paths among a page's links (query strings kept)."""
    out = []
    for href in links:
        if foreign(href, base) or href.startswith("#"):
            continue
        target = urlsplit(urljoin(page_url, href))
        path = target.path + (f"?{target.query}" if target.query else "")
        if not _NOT_PAGES.match(target.path) or target.path == "/api/v1/docs":
            out.append(path)
    return out
