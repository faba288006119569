"""Narrow interfaces to the outside world; adapters implement them, bootstrap picks one by URL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork
    from airlock.settings import Settings


Chunk = bytes | bytearray | memoryview


class BlobStore(Protocol):
    """Opaque objects by key. Keys are chosen by Airlock, never by a client."""

    # How many chunks put() may still hold, unwritten and uncopied, when it asks for the next
    # one; a producer may reuse a chunk's buffer once that many more have been requested.
    max_held_chunks: int

    def put(self, key: str, chunks: Iterable[Chunk]) -> int:
        """Store the chunks under key atomically (all or nothing); return the bytes written."""
        ...

    def open(self, key: str) -> Iterator[bytes]:
        """Stream the stored object back in chunks; NotFound if it does not exist."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with prefix."""
        ...

    def put_new(self, key: str, data: bytes) -> bool:
        """Store a small object only if none exists under key (write-once); False if one did."""
        ...


class JobQueue(Protocol):
    """Moves job ids to workers. The job itself lives in a database row."""

    def send(self, job_id: str, name: str) -> None:
        """Ask a worker to run the job with this id (called only after the row is committed)."""
        ...

    def start(self) -> None:
        """Start consuming (for in-process workers); a no-op for external brokers."""
        ...

    def stop(self) -> None:
        """Stop consuming and wait for running jobs to finish."""
        ...


@dataclass(frozen=True)
class MailMessage:
    """One plain-text email; the subject names a case reference, never confidential detail."""

    to: tuple[str, ...]
    subject: str
    body: str


class Mailer(Protocol):
    """Sends email (SMTP in production)."""

    def send(self, message: MailMessage) -> None:
        """Deliver the message to the relay or raise; never logs its body."""
        ...


class KeyStoreError(Exception):
    """The key store cannot be used as configured; the message names the setting or key."""


class KeyStore(Protocol):
    """Holds organisation keys outside the database; deleting a key destroys it there."""

    def put(self, name: str, secret: bytes) -> bytes:
        """Store or replace a key; returns a reference to keep in the database (may be empty)."""
        ...

    def get(self, name: str, ref: bytes) -> bytes | None:
        """The key, or None once it was deleted (or never existed)."""
        ...

    def delete(self, name: str) -> None:
        """Destroy the key; safe to repeat."""
        ...


class Sealer(Protocol):
    """Seals confidential values under an organisation's key (the vault implements it; earlier
    stages reach it through their unit of work's services)."""

    def seal(self, uow: Any, *, org_id: str, bound_to: str, plaintext: bytes) -> str:
        """The sealed token of plaintext, bound to an object and field."""
        ...

    def open(self, uow: Any, *, org_id: str, bound_to: str, token: str) -> bytes | None:
        """The plaintext, or None once the organisation's key was destroyed."""
        ...


class Services(Protocol):
    """What a unit of work can reach beyond its database (the container implements it)."""

    @property
    def settings(self) -> Settings:
        """The settings the process was wired with."""
        ...

    @property
    def blob_store(self) -> BlobStore:
        """The artifact store."""
        ...

    @property
    def mailer(self) -> Mailer:
        """The outgoing mail relay."""
        ...

    @property
    def key_store(self) -> KeyStore:
        """Where organisation keys live."""
        ...

    @property
    def sealer(self) -> Sealer:
        """Seals confidential values under organisation keys."""
        ...

    def uow(self) -> UnitOfWork:
        """A fresh unit of work: for side records a long check writes while it runs (a probe
        run's progress), never for the check's own results."""
        ...
