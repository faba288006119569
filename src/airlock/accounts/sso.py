"""Single sign-on for agency staff through OpenID Connect (authorization code flow, PKCE).

`begin` records a sign-in under way (state hashed, nonce, PKCE verifier) and gives the
provider's authorization URL; `finish` checks the state against the one the browser carried,
exchanges the code with the verifier, validates the ID token's signature against the
provider's JWKS and its issuer, audience, expiry and nonce, and maps the verified email to an
existing active agency account. Nobody is created here: firms never sign in this way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from airlock.accounts.models import SsoLogin, User
from airlock.core import audit
from airlock.core.db import utcnow
from airlock.core.errors import AirlockError, Forbidden, InvalidInput, Unauthenticated
from airlock.core.roles import OrgKind
from airlock.core.secrets import same, token_hash
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings

LOGIN_MINUTES = 10
TIMEOUT = httpx.Timeout(10.0)


class ProviderError(AirlockError):
    """The identity provider could not be reached or answered something unusable."""

    status_code = 502


@dataclass(frozen=True)
class Provider:
    """The configured provider and its discovered endpoints."""

    issuer: str
    client_id: str
    client_secret: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    domains: frozenset[str]


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderError(f"the sign-in provider did not answer ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ProviderError("the sign-in provider answered something unexpected")
    return data


def provider(settings: Settings) -> Provider:
    """The provider of the settings, with its endpoints read from its discovery document."""
    if not settings.oidc_enabled():
        raise InvalidInput("single sign-on is not configured here")
    issuer = settings.oidc_issuer.rstrip("/")
    doc = _get_json(f"{issuer}/.well-known/openid-configuration")
    if str(doc.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderError("the sign-in provider's discovery document names another issuer")
    try:
        endpoints = [str(doc[k]) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    except KeyError as exc:
        raise ProviderError(f"the sign-in provider's discovery lacks {exc.args[0]}") from None
    domains = frozenset(
        d.strip().lower().lstrip("@") for d in settings.oidc_email_domains.split(",") if d.strip()
    )
    return Provider(
        issuer=str(doc["issuer"]),
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        authorization_endpoint=endpoints[0],
        token_endpoint=endpoints[1],
        jwks_uri=endpoints[2],
        domains=domains,
    )


def _client(p: Provider, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=p.client_id,
        client_secret=p.client_secret,
        scope="openid email",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10.0,
    )


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the state it must bring back (kept in a cookie)."""

    url: str
    state: str


def begin(uow: UnitOfWork, *, p: Provider, redirect_uri: str, next_path: str) -> Started:
    """Record a sign-in under way; the provider URL to send the browser to."""
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = generate_token(64)
    with _client(p, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            p.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier
        )
    uow.session.add(
        SsoLogin(
            state_hash=token_hash(state),
            nonce=nonce,
            code_verifier=verifier,
            next_path=next_path[:500],
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(minutes=LOGIN_MINUTES),
        )
    )
    return Started(url=str(url), state=state)


def _login_for(uow: UnitOfWork, *, state: str, browser_state: str) -> SsoLogin:
    # The state must be the one this browser was given: a sign-in started elsewhere and
    # pushed onto a victim (login CSRF) has no matching cookie.
    if not state or not browser_state or not same(state, browser_state):
        raise Unauthenticated("this sign-in did not start in this browser; start again")
    login = uow.session.scalars(
        select(SsoLogin).where(SsoLogin.state_hash == token_hash(state))
    ).first()
    if login is None or login.used_at is not None or login.expires_at <= utcnow():
        raise Unauthenticated("this sign-in expired or was already used; start again")
    return login


# Asymmetric algorithms only: an "alg": "none" or HS256 token signed with a public key as
# the secret is refused before any claim is read.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


def _id_token_claims(p: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS) and its issuer,
    audience, expiry, issue time, subject and nonce are checked (OIDC Core 3.1.3.7)."""
    try:
        keys = KeySet.import_key_set(_get_json(p.jwks_uri))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise ProviderError(f"the sign-in provider's keys are unusable ({exc})") from None
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": p.issuer},
        aud={"essential": True, "value": p.client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
        registry.validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise Unauthenticated(f"the sign-in provider's ID token is not valid ({exc})") from None
    claims = dict(token.claims)
    # With several audiences, the authorised party must be this client.
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != p.client_id:
        raise Unauthenticated("the sign-in provider's ID token is for another party")
    return claims


def finish(
    uow: UnitOfWork,
    *,
    settings: Settings,
    redirect_uri: str,
    state: str,
    browser_state: str,
    code: str,
) -> tuple[User, str]:
    """Complete a sign-in: the agency user the provider vouched for, and where they were
    going."""
    login = _login_for(uow, state=state, browser_state=browser_state)
    if not code:
        raise Unauthenticated("the sign-in provider sent no code; start again")
    # Spent before anything can fail: a state works once, whatever happens next (written at
    # the route's commit, so no write lock is held while the provider is called).
    login.used_at = utcnow()
    p = provider(settings)
    try:
        with _client(p, redirect_uri) as client:
            token = client.fetch_token(
                p.token_endpoint, code=code, code_verifier=login.code_verifier
            )
    except (httpx.HTTPError, OAuth2Error, ValueError) as exc:
        raise ProviderError(f"the code exchange failed ({type(exc).__name__})") from None
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        raise ProviderError("the sign-in provider returned no ID token")
    claims = _id_token_claims(p, id_token, login.nonce)
    email = str(claims.get("email", "")).strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise Forbidden("the sign-in provider did not vouch for a verified email address")
    if p.domains and email.rpartition("@")[2] not in p.domains:
        raise Forbidden(f"{email} is not in a domain allowed to sign in here")
    user = uow.session.scalars(select(User).where(User.email == email)).first()
    if (
        user is None
        or not user.active
        or user.membership is None
        or user.membership.org.kind != OrgKind.AGENCY
    ):
        audit.append(uow.session, action="auth.sso_refused", actor_label=email)
        raise Forbidden(f"there is no active agency account for {email}; ask an administrator")
    audit.append(uow.session, action="auth.sso_verified", actor_user_id=user.id, actor_label=email)
    return user, login.next_path
