"""Jinja2 rendering with the context every page needs (actor, CSRF token, time zone)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from airlock.core import idempotency
from airlock.web import labels

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _size(n: int) -> str:
    """A byte count for people: 5.2 MB, 812 KB, 17 B (decimal units, as file managers show)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _flop_html(label: str) -> Markup:
    """ "10^25 FLOP" with the power set as a superscript."""
    base, _, rest = str(escape(label)).partition("^")
    if not rest:
        return Markup(base)  # noqa: S704 - escaped above
    power, _, unit = rest.partition(" ")
    return Markup(f"{base}<sup>{power}</sup> {unit}")  # noqa: S704 - parts escaped above


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["flop_html"] = _flop_html
TEMPLATES.env.filters["filesize"] = _size
labels.install(TEMPLATES.env)


def _site(request: Request) -> dict[str, Any]:
    # What the layout (base.html) needs on every page: the agency's name for the banner and
    # footer, and the confirmation a post/redirect/get asked for with ?done=<key>.
    container = getattr(request.app.state, "container", None)
    agency = getattr(getattr(container, "settings", None), "agency_name", "") or ""
    done = request.query_params.get("done", "")
    org_name = getattr(request.state, "org_name", "")  # set with the actor (web.deps)
    return {"agency_name": agency, "org_name": org_name, "flash": labels.NOTICES.get(done, "")}


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the actor and the CSRF token come from the request state."""
    ctx = {
        "request": request,
        "actor": getattr(request.state, "actor", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **_site(request),
        "unread": getattr(request.state, "unread", 0),
        "form_key": idempotency.new_key,  # `{{ form_key() }}`: one key per creating form
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    """An error page that names the problem."""
    return page(request, "error.html", status_code=status_code, status=status_code, message=message)


def redirect(url: str, *, done: str = "") -> RedirectResponse:
    """A 303 redirect after a successful form post; `done` names the confirmation to show."""
    if done:
        if done not in labels.NOTICES:
            raise ValueError(f"unknown confirmation {done!r}")
        url = f"{url}{'&' if '?' in url else '?'}done={done}"
    return RedirectResponse(url, status_code=303)


async def form_data(request: Request, *, max_fields: int = 500) -> dict[str, str]:
    """The posted form as plain strings (files are refused here)."""
    form = await request.form(max_fields=max_fields, max_files=0)
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


async def form_lists(request: Request) -> dict[str, list[str]]:
    """The posted form with repeated fields (checkboxes) as lists."""
    form = await request.form(max_fields=500, max_files=0)
    out: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            out.setdefault(k, []).append(v)
    return out
