"""Narrow interfaces to the outside world; adapters implement them, bootstrap picks one by URL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
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
