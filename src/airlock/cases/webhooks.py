"""Signed webhooks (Standard Webhooks): endpoints, signing, delivery with retries, the log.

The signature is HMAC-SHA256 over `msg_id.timestamp.body` with the endpoint's secret, sent as
`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64>`; a receiver verifies it
with any Standard Webhooks library. A failed delivery is retried as a delayed job, waiting
twice as long each time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from airlock.cases.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import InvalidInput, NotFound
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
MAX_URL_LENGTH = 2000
MAX_ENDPOINTS_PER_ORG = 10
DELIVER_JOB = "cases.webhook_deliver"

Resolver = Callable[[str], list[str]]


def _resolve(host: str) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
    except socket.gaierror:
        return []


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return bool(
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
        or ip.is_multicast
    )


def check_webhook_url(url: str, *, settings: Settings, resolve: Resolver = _resolve) -> str:
    """The URL if a webhook may be sent to it, else InvalidInput naming the rule it breaks.

    Only http(s); only https outside development; never the server itself; never a loopback,
    private or link-local address outside development (the server must not be made to call
    its own network).
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url: longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"}:
        raise InvalidInput(f"url: must start with https:// (got scheme {parts.scheme or 'none'!r})")
    if parts.scheme != "https" and not settings.dev:
        raise InvalidInput("url: must use https (plain http is allowed only in development)")
    if not parts.hostname:
        raise InvalidInput("url: has no host name")
    if parts.username or parts.password:
        raise InvalidInput(
            "url: must not carry a user name or password; the signature authenticates"
        )
    host = parts.hostname.lower()
    own = urlsplit(settings.base_url)
    own_port = own.port or (443 if own.scheme == "https" else 80)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if own.hostname and host == own.hostname.lower() and port == own_port:
        raise InvalidInput(f"url: points at this server ({own.hostname}); give the receiver's URL")
    if not settings.dev:
        addresses = [host] if _is_ip(host) else resolve(host)
        if not addresses:
            raise InvalidInput(f"url: the host {host!r} does not resolve")
        for address in addresses:
            if _is_internal(address):
                raise InvalidInput(
                    f"url: {host!r} resolves to an internal address ({address}); "
                    "webhooks go to public receivers only"
                )
    return url.strip()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form (whsec_ + base64 of 32 bytes)."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def sign(secret: str, *, msg_id: str, timestamp: int, body: str) -> str:
    """The webhook-signature header value for this message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def retry_delay(attempt: int, *, base_seconds: float) -> timedelta:
    """The wait after failed attempt number `attempt` (from 1): doubling, at most a day."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempt - 1), 86_400.0))


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint and its secret, which is shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def add_endpoint(uow: UnitOfWork, *, actor: Actor, url: str) -> CreatedEndpoint:
    """Register a webhook URL for the actor's firm; the secret is returned only now."""
    authorize(actor, "webhook.manage", org_id=actor.org_id)
    clean = check_webhook_url(url, settings=uow.services.settings)
    count = len(
        list(
            uow.session.scalars(
                select(WebhookEndpoint.id).where(
                    WebhookEndpoint.org_id == actor.org_id, WebhookEndpoint.active.is_(True)
                )
            )
        )
    )
    if count >= MAX_ENDPOINTS_PER_ORG:
        raise InvalidInput(f"url: at most {MAX_ENDPOINTS_PER_ORG} webhook endpoints per firm")
    secret = new_secret()
    row = WebhookEndpoint(
        org_id=actor.org_id,
        url=clean,
        secret=secret,
        active=True,
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    uow.session.add(row)
    uow.flush()
    audit.append(
        uow.session,
        action="webhook.added",
        actor=actor,
        object_type="webhook",
        object_id=row.id,
        org_id=actor.org_id,
        detail={"url": clean},
    )
    return CreatedEndpoint(row, secret)


def list_endpoints(uow: UnitOfWork, *, actor: Actor) -> list[WebhookEndpoint]:
    """The actor's firm's active endpoints."""
    authorize(actor, "webhook.manage", org_id=actor.org_id)
    stmt = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == actor.org_id, WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.created_at)
    )
    return list(uow.session.scalars(stmt))


def remove_endpoint(uow: UnitOfWork, *, actor: Actor, endpoint_id: str) -> None:
    """Stop sending to an endpoint (its delivery log stays)."""
    authorize(actor, "webhook.manage", org_id=actor.org_id)
    row = uow.session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.org_id != actor.org_id or not row.active:
        raise NotFound("no such webhook endpoint")
    row.active = False
    audit.append(
        uow.session,
        action="webhook.removed",
        actor=actor,
        object_type="webhook",
        object_id=row.id,
        org_id=actor.org_id,
    )


def deliveries(
    uow: UnitOfWork, *, actor: Actor, endpoint_id: str
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """The delivery log of one endpoint of the actor's firm, newest first."""
    authorize(actor, "webhook.manage", org_id=actor.org_id)
    row = uow.session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.org_id != actor.org_id:
        raise NotFound("no such webhook endpoint")
    rows = list(
        uow.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.created_at.desc())
            .limit(200)
        )
    )
    out = []
    for d in rows:
        attempts = list(
            uow.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == d.id)
                .order_by(WebhookAttempt.number)
            )
        )
        out.append((d, attempts))
    return out


def emit(uow: UnitOfWork, *, org_id: str, event_type: str, data: Mapping[str, Any]) -> list[str]:
    """Queue one delivery of event_type to each active endpoint of the firm; ids only in data."""
    endpoints = uow.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.org_id == org_id, WebhookEndpoint.active.is_(True)
        )
    )
    ids = []
    for ep in endpoints:
        body = json.dumps(
            {"type": event_type, "timestamp": utcnow().isoformat(), "data": dict(data)},
            sort_keys=True,
            separators=(",", ":"),
        )
        delivery = WebhookDelivery(
            endpoint_id=ep.id,
            event_type=event_type,
            body=body,
            state="pending",
            attempts=0,
            created_at=utcnow(),
        )
        uow.session.add(delivery)
        uow.flush()
        uow.enqueue(DELIVER_JOB, {"delivery_id": delivery.id})
        ids.append(delivery.id)
    return ids


def deliver(uow: UnitOfWork, *, delivery_id: str, now: datetime | None = None) -> str:
    """Try one delivery: POST the signed body; on failure log it and queue the next attempt."""
    delivery = uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return "nothing to do"
    endpoint = uow.session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None
    settings = uow.services.settings
    url, secret, body, attempt = endpoint.url, endpoint.secret, delivery.body, delivery.attempts + 1
    active = endpoint.active
    uow.end_reads()  # no transaction is held while waiting for the receiver
    status: int | None = None
    error = ""
    if not active:
        error = "the endpoint was removed"
    else:
        try:
            check_webhook_url(url, settings=settings)  # the host may resolve differently now
            timestamp = int((now or utcnow()).timestamp())
            headers = {
                "content-type": "application/json",
                "webhook-id": delivery_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(
                    secret, msg_id=delivery_id, timestamp=timestamp, body=body
                ),
                "user-agent": "Airlock-Webhooks/1",
            }
            response = httpx.post(
                url,
                content=body.encode(),
                headers=headers,
                timeout=settings.webhook_timeout_seconds,
                follow_redirects=False,
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"the receiver answered {status}"
        except InvalidInput as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    delivery = uow.session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    delivery.attempts = attempt
    uow.session.add(
        WebhookAttempt(
            delivery_id=delivery_id,
            number=attempt,
            at=utcnow(),
            status_code=status,
            error=error[:500],
        )
    )
    if not error:
        delivery.state = "delivered"
        delivery.delivered_at = utcnow()
        return "delivered"
    if attempt >= settings.webhook_max_attempts or not active:
        delivery.state = "failed"
        return "failed"
    when = utcnow() + retry_delay(attempt, base_seconds=settings.webhook_retry_seconds)
    uow.enqueue(DELIVER_JOB, {"delivery_id": delivery_id}, run_at=when)
    return "retry"
