"""The TOTP second factor: enrolment, recovery codes, the challenge between password and code.

The TOTP secret is sealed under the user's organisation key (the vault's sealing, handed in
as a `Sealer` because the vault is a later stage), so a database copy alone does not yield
it and a firm's withdrawal destroys it with everything else. Recovery codes are stored as
SHA-256 hashes (about 79 random bits each) and work once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import pyotp
import segno
from sqlalchemy import delete, func, select

from airlock.accounts import rules
from airlock.accounts.models import LoginChallenge, MfaFactor, RecoveryCode, User
from airlock.core import audit
from airlock.core.access import Actor
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from airlock.core.secrets import new_token, same, token_hash
from airlock.core.uow import UnitOfWork

CHALLENGE_MINUTES = 10
CHALLENGE_ATTEMPTS = 5
STEP_SECONDS = 30


class Sealer(Protocol):
    """Encrypts a value under an organisation's key (airlock.vault.sealing fits)."""

    def seal(self, uow: UnitOfWork, *, org_id: str, bound_to: str, plaintext: bytes) -> str:
        """The sealed text of plaintext, bound to an object and field."""

    def open_sealed(
        self, uow: UnitOfWork, *, org_id: str, bound_to: str, token: str
    ) -> bytes | None:
        """The plaintext, or None once the key was destroyed."""


class EnrolmentRequired(Forbidden):
    """An agency account must set up its second factor before anything else."""

    redirect_to = "/account/mfa"


def _bound(user_id: str) -> str:
    return f"mfa_factor:{user_id}:secret"


def _org_of(uow: UnitOfWork, user_id: str) -> str:
    user = uow.session.get(User, user_id)
    if user is None or user.membership is None:
        raise NotFound("user not found")
    return user.membership.org_id


def is_enrolled(uow: UnitOfWork, *, user_id: str) -> bool:
    """Whether the user has a confirmed second factor."""
    factor = uow.session.get(MfaFactor, user_id)
    return factor is not None and factor.confirmed_at is not None


@dataclass(frozen=True)
class Enrolment:
    """A secret waiting for confirmation: as text, as an otpauth URI, and as a QR code."""

    secret: str
    uri: str
    qr_svg: str
    confirmed: bool


def _secret_of(uow: UnitOfWork, factor: MfaFactor, sealer: Sealer) -> str:
    raw = sealer.open_sealed(
        uow,
        org_id=_org_of(uow, factor.user_id),
        bound_to=_bound(factor.user_id),
        token=factor.secret_sealed,
    )
    if raw is None:
        raise Unauthenticated("this account's second factor can no longer be read")
    return raw.decode()


def _enrolment(secret: str, *, email: str, issuer: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)
    # Drawn here as inline SVG: the page loads nothing from elsewhere.
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1b1b1b", light="#ffffff")
    return Enrolment(secret=secret, uri=uri, qr_svg=svg, confirmed=False)


def start_enrolment(uow: UnitOfWork, *, actor: Actor, sealer: Sealer, issuer: str) -> Enrolment:
    """Make (or keep) the pending secret of the actor; refused once one is confirmed."""
    factor = uow.session.get(MfaFactor, actor.user_id)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("your second factor is already set up")
    if factor is None:
        secret = pyotp.random_base32()
        sealed = sealer.seal(
            uow,
            org_id=actor.org_id,
            bound_to=_bound(actor.user_id),
            plaintext=secret.encode(),
        )
        uow.session.add(MfaFactor(user_id=actor.user_id, secret_sealed=sealed, created_at=utcnow()))
        uow.flush()
        audit.append(
            uow.session,
            actor=actor,
            action="mfa.enrolment_started",
            object_type="user",
            object_id=actor.user_id,
            org_id=actor.org_id,
        )
    else:
        secret = _secret_of(uow, factor, sealer)
    return _enrolment(secret, email=actor.email, issuer=issuer)


def pending_enrolment(
    uow: UnitOfWork, *, actor: Actor, sealer: Sealer, issuer: str
) -> Enrolment | None:
    """The unconfirmed secret to show again, or None (nothing started, or confirmed)."""
    factor = uow.session.get(MfaFactor, actor.user_id)
    if factor is None or factor.confirmed_at is not None:
        return None
    return _enrolment(_secret_of(uow, factor, sealer), email=actor.email, issuer=issuer)


def _totp_ok(factor: MfaFactor, secret: str, code: str) -> bool:
    # One step either side for clock drift; a step once used (or older) is refused: no replay.
    totp = pyotp.TOTP(secret)
    step = int(time.time() // STEP_SECONDS)
    for candidate in (step - 1, step, step + 1):
        if candidate > factor.last_step and same(totp.at(candidate * STEP_SECONDS), code):
            factor.last_step = candidate
            return True
    return False


def _new_recovery_codes(uow: UnitOfWork, user_id: str) -> list[str]:
    uow.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [rules.new_recovery_code() for _ in range(rules.RECOVERY_CODES)]
    for code in codes:
        uow.session.add(
            RecoveryCode(
                user_id=user_id,
                code_hash=token_hash(rules.normalise_code(code)),
                created_at=utcnow(),
            )
        )
    return codes


def confirm_enrolment(uow: UnitOfWork, *, actor: Actor, sealer: Sealer, code: str) -> list[str]:
    """Confirm the pending secret with a code from the app; the recovery codes, shown once."""
    factor = uow.session.get(MfaFactor, actor.user_id)
    if factor is None:
        raise InvalidInput("code: start the set-up first")
    if factor.confirmed_at is not None:
        raise Conflict("your second factor is already set up")
    if not rules.looks_like_totp(code) or not _totp_ok(
        factor, _secret_of(uow, factor, sealer), rules.normalise_code(code)
    ):
        raise InvalidInput("code: that code is not the one your app shows now; try again")
    factor.confirmed_at = utcnow()
    codes = _new_recovery_codes(uow, actor.user_id)
    audit.append(
        uow.session,
        actor=actor,
        action="mfa.enrolled",
        object_type="user",
        object_id=actor.user_id,
        org_id=actor.org_id,
    )
    return codes


def new_recovery_codes(uow: UnitOfWork, *, actor: Actor, sealer: Sealer, code: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working), proven by a current code."""
    if not verify(uow, user_id=actor.user_id, sealer=sealer, code=code):
        raise InvalidInput("code: that code is not valid")
    codes = _new_recovery_codes(uow, actor.user_id)
    audit.append(
        uow.session,
        actor=actor,
        action="mfa.recovery_codes_replaced",
        object_type="user",
        object_id=actor.user_id,
        org_id=actor.org_id,
    )
    return codes


def recovery_codes_left(uow: UnitOfWork, *, user_id: str) -> int:
    """How many unused recovery codes the user has."""
    count = uow.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def verify(uow: UnitOfWork, *, user_id: str, sealer: Sealer, code: str) -> bool:
    """Whether code is a current TOTP code or an unused recovery code (then spent)."""
    factor = uow.session.get(MfaFactor, user_id)
    if factor is None or factor.confirmed_at is None:
        return False
    typed = rules.normalise_code(code)
    if rules.looks_like_totp(typed):
        return _totp_ok(factor, _secret_of(uow, factor, sealer), typed)
    row = uow.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == token_hash(typed),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if row is None:
        return False
    row.used_at = utcnow()
    audit.append(uow.session, action="mfa.recovery_code_used", actor_user_id=user_id)
    return True


def start_challenge(uow: UnitOfWork, *, user_id: str) -> str:
    """After a right password: the token of the challenge that waits for the code."""
    token = new_token()
    uow.session.add(
        LoginChallenge(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(minutes=CHALLENGE_MINUTES),
        )
    )
    return token


def challenge_for(uow: UnitOfWork, *, token: str) -> LoginChallenge:
    """The live challenge behind a token."""
    ch = uow.session.scalars(
        select(LoginChallenge).where(LoginChallenge.token_hash == token_hash(token))
    ).first()
    if (
        ch is None
        or ch.used_at is not None
        or ch.expires_at <= utcnow()
        or ch.attempts >= CHALLENGE_ATTEMPTS
    ):
        raise Unauthenticated("sign in again: the code step expired or had too many tries")
    return ch


def answer_challenge(uow: UnitOfWork, *, token: str, sealer: Sealer, code: str) -> str:
    """Check the code of a challenge; the user id when right (the challenge is then spent)."""
    ch = challenge_for(uow, token=token)
    if not verify(uow, user_id=ch.user_id, sealer=sealer, code=code):
        ch.attempts += 1
        audit.append(uow.session, action="mfa.failed", actor_user_id=ch.user_id)
        raise Unauthenticated("that code is not valid; type the code your app shows now")
    ch.used_at = utcnow()
    return ch.user_id
