"""The probe engine's response cache in the platform's database (`probe_responses`).

Keyed like the engine's SQLite cache (SHA-256 of target fingerprint, messages and
parameters), per firm, each answer sealed under the firm's key: the answer is the firm's
model's output. Every read and write is its own short unit of work, so a run holds no
transaction while it waits on the endpoint.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from airlock.core.uow import UnitOfWork
from airlock.probes.engine.cache import MAX_CACHED_CHARS
from airlock.probes.models import ProbeResponse
from airlock.vault import sealing
from airlock.vault.keys import KeyDestroyed


def _binding(key: str) -> str:
    return f"probe_response:{key}"


class DatabaseResponseCache:
    """Answers of one firm's endpoints by key, sealed in the database."""

    def __init__(self, make_uow: Callable[[], UnitOfWork], *, org_id: str) -> None:
        self._make_uow = make_uow
        self._org_id = org_id
        self.hits = 0

    def get(self, key: str) -> str | None:
        """The cached answer, or None (also once the firm's key is destroyed)."""
        with self._make_uow() as uow:
            row = uow.session.get(ProbeResponse, (self._org_id, key))
            if row is None:
                return None
            plain = sealing.open_sealed(
                uow, org_id=self._org_id, bound_to=_binding(key), token=row.sealed
            )
        if plain is None:
            return None
        self.hits += 1
        return plain.decode("utf-8")

    def put(self, key: str, text: str) -> None:
        """Remember an answer; the first one stored for a key wins."""
        with self._make_uow() as uow:
            if uow.session.get(ProbeResponse, (self._org_id, key)) is not None:
                return
            try:
                token = sealing.seal(
                    uow,
                    org_id=self._org_id,
                    bound_to=_binding(key),
                    plaintext=text[:MAX_CACHED_CHARS].encode("utf-8"),
                )
            except KeyDestroyed:  # the firm withdrew meanwhile: keep nothing
                return
            uow.session.add(ProbeResponse(org_id=self._org_id, key=key, sealed=token))
            try:
                uow.commit()
            except IntegrityError:  # another task stored the same key first
                return
