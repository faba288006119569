"""The unit of work: one session, one transaction, the only place that commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from airlock.core.ports import JobQueue, Services

log = logging.getLogger(__name__)


_WROTE = "airlock.wrote"
_SERVICES = "airlock.services"


def services_of(session: Session) -> Services | None:
    """The services of the unit of work that opened session (None for a bare session)."""
    found: Services | None = session.info.get(_SERVICES)
    return found


def _mark_written(session: Session, _flush_context: Any) -> None:
    session.info[_WROTE] = True


def _mark_written_by_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


class UnitOfWork:
    """Wraps a session; callbacks registered with after_commit run only once it commits."""

    def __init__(
        self,
        session_factory: sessionmaker[Any],
        queue: JobQueue | None = None,
        services: Services | None = None,
    ) -> None:
        self._factory = session_factory
        self.queue = queue
        self._services = services
        self._session: Session | None = None
        self._after: list[Callable[[], None]] = []

    @property
    def services(self) -> Services:
        """The storage and settings of the container this unit of work came from."""
        if self._services is None:
            raise RuntimeError("this unit of work was made without services")
        return self._services

    @property
    def session(self) -> Session:
        """The open session; only valid inside `with uow:`."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use `with uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self._after = []
        # The audit trail reaches its key store through the session it is handed.
        self._session.info[_SERVICES] = self._services
        event.listen(self._session, "after_flush", _mark_written)
        event.listen(self._session, "do_orm_execute", _mark_written_by_statement)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            # close() rolls back whatever was not committed, and unlike rollback() it leaves
            # committed objects readable (detached) for the caller's response.
            self._session.close()
        finally:
            self._session = None
            self._after = []

    def end_reads(self) -> None:
        """End the open transaction, which has only read, so that a long step (a scan) runs
        with no transaction held (on SQLite, no write lock); the next query opens a new one.

        Refuses once anything was written: ending the transaction would silently drop it.
        """
        session = self.session
        if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
            raise RuntimeError("end_reads() after a write would drop it; commit in the caller")
        session.rollback()

    def flush(self) -> None:
        """Send pending changes so that ids and constraints are checked now."""
        self.session.flush()

    def commit(self) -> None:
        """Commit, then run what was registered with after_commit (errors there are logged)."""
        self.session.commit()
        self.session.info.pop(_WROTE, None)
        callbacks, self._after = self._after, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a lost dispatch is recovered by the job sweeper
                log.exception("after-commit callback failed")

    def after_commit(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run fn(*args, **kwargs) once this unit of work commits; never if it rolls back."""
        self._after.append(lambda: fn(*args, **kwargs))

    def enqueue(
        self, name: str, payload: dict[str, Any] | None = None, *, run_at: datetime | None = None
    ) -> str:
        """Write a job row now and send it to a worker once this unit of work commits (or,
        when run_at is ahead, once the scheduler finds it due)."""
        from airlock.core import jobs  # jobs imports this module

        if self.queue is None:
            raise RuntimeError("this unit of work has no job queue")
        return jobs.enqueue(self, self.queue, name, payload, run_at=run_at).id
