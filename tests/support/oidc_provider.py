"""A real OpenID Connect provider on loopback for the single sign-on tests.

It serves discovery, an authorization endpoint (a page where the tester types who they are),
a token endpoint that checks the client secret, the redirect URI and the PKCE verifier, and
its JWKS; ID tokens are RS256 JWTs signed with joserfc (authlib's JOSE library). Knobs let a
test make it lie (another audience, a wrong nonce, a foreign key, an unverified email) to see
Airlock refuse.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "airlock-test"
CLIENT_SECRET = "loopback-client-secret-" + "x" * 16


@dataclass
class Lies:
    """What the provider gets wrong on purpose (all off by default)."""

    audience: str | None = None
    nonce: str | None = None
    issuer: str | None = None
    foreign_key: bool = False
    email_verified: bool = True
    expired: bool = False


@dataclass
class OidcProvider:
    """The provider's state: keys, issued codes, what clients sent."""

    redirect_uris: list[str] = field(default_factory=list)
    lies: Lies = field(default_factory=Lies)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.codes: dict[str, dict[str, str]] = {}
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/authorize/approve", self.approve, methods=["POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def issuer(self) -> str:
        """The provider's issuer URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the loopback OIDC provider did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        problems = [
            name
            for name, ok in (
                ("client_id", q.get("client_id") == CLIENT_ID),
                ("redirect_uri", self._redirect_ok(q.get("redirect_uri", ""))),
                ("response_type", q.get("response_type") == "code"),
                ("code_challenge", bool(q.get("code_challenge"))),
                ("code_challenge_method", q.get("code_challenge_method") == "S256"),
                ("state", bool(q.get("state"))),
                ("nonce", bool(q.get("nonce"))),
                ("scope", "openid" in q.get("scope", "").split()),
            )
            if not ok
        ]
        if problems:
            return HTMLResponse(f"bad request: {', '.join(problems)}", status_code=400)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in q.items()
        )
        return HTMLResponse(
            "<!doctype html><html lang=en><title>Test identity provider</title>"
            "<h1>Test identity provider</h1><form method=post action=/authorize/approve>"
            f"{hidden}<label for=idp-email>Email</label>"
            "<input id=idp-email name=email type=email required>"
            "<button type=submit id=idp-continue>Continue</button></form></html>"
        )

    def _redirect_ok(self, uri: str) -> bool:
        # Exact match against the registered URIs (a test registers the server's once known).
        return uri in self.redirect_uris

    async def approve(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        code = secrets.token_urlsafe(24)
        self.codes[code] = form
        target = form["redirect_uri"] + "?" + urlencode({"code": code, "state": form["state"]})
        return RedirectResponse(target, status_code=302)

    def _client_ok(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return False
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return user == CLIENT_ID and password == CLIENT_SECRET

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        if not self._client_ok(request):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not verifier or challenge != grant["code_challenge"]:
            return JSONResponse({"error": "invalid_grant", "why": "pkce"}, status_code=400)
        now = int(time.time())
        lies = self.lies
        claims: dict[str, Any] = {
            "iss": lies.issuer or self.issuer,
            "sub": hashlib.sha256(grant["email"].encode()).hexdigest()[:24],
            "aud": lies.audience or CLIENT_ID,
            "iat": now,
            "exp": now - 600 if lies.expired else now + 300,
            "nonce": lies.nonce or grant["nonce"],
            "email": grant["email"],
            "email_verified": lies.email_verified,
        }
        key = self.other_key if lies.foreign_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )
