"""Security headers on every response (the guard's refusals and errors included)."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

# 'self' alone for scripts and styles (the Swagger UI and htmx are vendored files); no
# framing, no plugins, forms post only here, and no <base> can redirect relative URLs.
CSP: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def csp_for(*, sign_in_origin: str = "") -> str:
    """The CSP; with single sign-on configured, forms may also lead to the provider's origin
    (the sign-in button posts here and is redirected there, which form-action governs)."""
    if not sign_in_origin:
        return CSP
    return CSP.replace("form-action 'self'", f"form-action 'self' {sign_in_origin}")


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, or "" when it has none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# The upload worker compiles the vendored WebAssembly SHA-256: that, and still no eval.
WORKER_SCRIPT: Final = "/static/upload-worker.js"
WORKER_CSP: Final = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
HSTS: Final = "max-age=31536000; includeSubDomains"


def security_headers(*, path: str, dev: bool, csp: str = CSP) -> list[tuple[bytes, bytes]]:
    """The headers a response to path gets; HSTS outside development only."""
    out = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", csp.encode()),
    ]
    if not dev:
        # A development server on http://localhost must not pin the browser to https.
        out.append((b"strict-transport-security", HSTS.encode()))
    if not path.startswith("/static"):
        out.append((b"cache-control", b"no-store"))
    return out


class SecurityHeaders:
    """ASGI middleware adding security_headers where the response did not set its own."""

    def __init__(self, app: Any, *, dev: bool, sign_in_origin: str = "") -> None:
        self.app = app
        self.dev = dev
        self.csp = csp_for(sign_in_origin=sign_in_origin)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = WORKER_CSP if path == WORKER_SCRIPT else self.csp
        extra = security_headers(path=path, dev=self.dev, csp=csp)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
