"""Who may invite whom, what a password must be, sign-in throttling, token scopes and
recovery codes; pure (roles live in core.roles)."""

from __future__ import annotations

import ipaddress
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from airlock.core.roles import ROLES_BY_KIND, OrgKind, Role

# Who may invite whom: an admin invites into their own organisation only.
INVITERS: Final = {
    Role.DEVELOPER_ADMIN: ROLES_BY_KIND[OrgKind.DEVELOPER],
    Role.AGENCY_ADMIN: ROLES_BY_KIND[OrgKind.AGENCY],
}


def may_invite(inviter: Role, role: Role) -> bool:
    """Whether a member with role inviter may invite someone as role."""
    return role in INVITERS.get(inviter, frozenset())


MIN_PASSWORD_LENGTH: Final = 12

# A token's last use is kept to the minute: writing it on every request would make every API
# call (each chunk of an upload among them) a write transaction.
TOKEN_USE_PRECISION: Final = timedelta(minutes=1)


def token_use_worth_recording(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a use of a token at now moves its recorded last use (kept to the minute)."""
    return last_used_at is None or now - last_used_at >= TOKEN_USE_PRECISION


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > 1024:
        return "password must be at most 1024 characters long"
    if password.strip() != password or not password.strip():
        return "password must not start or end with spaces"
    return None


# --- Sign-in throttling -------------------------------------------------------------------
# No account is ever locked: failures slow down the (account, address) pair that made them,
# and an address that fails across many accounts (password spraying). The owner signing in
# from another address meets neither key.


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures pass freely, the first delay (doubling) and its ceiling."""

    free_failures: int
    delay_seconds: float
    max_delay_seconds: float
    forget_seconds: float


ACCOUNT_ADDRESS: Final = "account_address"
ADDRESS: Final = "address"


def address_key(address: str) -> str:
    """The part of a client address that throttling counts: an IPv6 /64 (one host's usual
    allocation, so rotating within it does not escape), an IPv4 address as is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:100] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def throttle_keys(email: str, address: str) -> list[tuple[str, str]]:
    """The (kind, key) pairs a sign-in attempt is counted under."""
    addr = address_key(address)
    return [(ACCOUNT_ADDRESS, f"{email.strip().lower()}\0{addr}"), (ADDRESS, addr)]


def failures_after(
    previous: int, last_failure_at: datetime | None, now: datetime, policy: ThrottlePolicy
) -> int:
    """The failure count once one more failure is added (old ones are forgotten)."""
    if last_failure_at is None or (now - last_failure_at).total_seconds() > policy.forget_seconds:
        return 1
    return previous + 1


def delay_after(failures: int, policy: ThrottlePolicy) -> float:
    """Seconds during which further attempts are refused after the n-th failure: none for
    the free ones, then the first delay doubling with each failure up to the ceiling."""
    over = failures - policy.free_failures
    if over <= 0:
        return 0.0
    return float(min(policy.max_delay_seconds, policy.delay_seconds * 2 ** min(over - 1, 40)))


def retry_after(blocked_until: datetime | None, now: datetime) -> int:
    """Whole seconds to wait before trying again (0: go ahead)."""
    if blocked_until is None or blocked_until <= now:
        return 0
    return max(1, math.ceil((blocked_until - now).total_seconds()))


# --- API token scopes ---------------------------------------------------------------------

SCOPES: Final = ("read", "submit", "review")
ALL_SCOPES: Final = frozenset(SCOPES)


def parse_scopes(values: Sequence[str] | str | None) -> frozenset[str]:
    """The scopes named (all of them when none are named); refuses unknown names."""
    if values is None:
        return ALL_SCOPES
    items = values.split() if isinstance(values, str) else [v.strip() for v in values]
    items = [v for v in items if v]
    if not items:
        return ALL_SCOPES
    unknown = sorted(set(items) - ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; choose from {', '.join(SCOPES)}")
    return frozenset(items)


def scopes_text(scopes: frozenset[str]) -> str:
    """The stored form of a set of scopes, in a fixed order."""
    return " ".join(s for s in SCOPES if s in scopes)


def scope_needed(*, method: str, agency: bool) -> str:
    """The scope a token needs for a request: `read` to look, `submit` for a firm's changes,
    `review` for the agency's."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return "read"
    return "review" if agency else "submit"


# --- Second factor ------------------------------------------------------------------------

RECOVERY_CODES: Final = 10
_RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"


def new_recovery_code() -> str:
    """A random recovery code of 16 characters (about 79 bits) in four groups."""
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    """A typed code without spaces and dashes, lower case."""
    return "".join(ch for ch in code.lower() if ch not in " -\t")[:64]


def looks_like_totp(code: str) -> bool:
    """Whether a typed code is six digits (else it is tried as a recovery code)."""
    c = normalise_code(code)
    return len(c) == 6 and c.isdigit()


def invitation_link(base_url: str, token: str) -> str:
    """The link an invited person opens: the token rides in the fragment, which browsers never
    send, so it cannot reach a server's access log (the page's script posts it)."""
    return f"{base_url}/invitations#{token}"
