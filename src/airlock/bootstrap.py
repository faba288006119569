"""The one place where backends are chosen by URL and wired together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from airlock import composition
from airlock.core import jobs
from airlock.core.db import make_engine, make_session_factory
from airlock.core.ports import BlobStore, JobQueue
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class Container:
    """Everything an entry point needs: settings, database, storage and the job queue."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Any]
    queue: JobQueue
    _blob_store: BlobStore | None = field(default=None, repr=False)

    def uow(self) -> UnitOfWork:
        """A new unit of work on this database."""
        return UnitOfWork(self.session_factory, self.queue, self)

    @property
    def blob_store(self) -> BlobStore:
        """The artifact store chosen by AIRLOCK_STORAGE_URL, built on first use."""
        if self._blob_store is None:
            from airlock.adapters.storage import blob_store_from_url

            self._blob_store = blob_store_from_url(self.settings.resolved_storage_url())
        return self._blob_store

    def run_job(self, job_id: str) -> str:
        """Run one job with this container's database (what every worker calls)."""
        return jobs.run_job(self.uow, job_id, lease_seconds=self.settings.job_lease_seconds)

    def close(self) -> None:
        """Stop workers and release connections."""
        self.queue.stop()
        self.engine.dispose()


def queue_from_url(url: str, runner: Any, settings: Settings) -> JobQueue:
    """inprocess:// worker threads, or Celery on redis:// / amqp:// (imported only then)."""
    if url.startswith("inprocess://"):
        from airlock.adapters.queue_inprocess import InProcessQueue

        return InProcessQueue(runner, workers=settings.inprocess_workers)
    if url.startswith(("redis://", "amqp://", "pyamqp://", "celery+")):
        from airlock.adapters.queue_celery import CeleryQueue

        return CeleryQueue(url, runner, queue_name=settings.queue_name)
    raise ValueError(f"AIRLOCK_QUEUE_URL: unknown scheme in {url.split('://')[0]!r}")


def build(settings: Settings | None = None) -> Container:
    """Wire a container from settings (the environment by default)."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    factory = make_session_factory(engine)
    composition.load()
    jobs.load_handler_modules(settings.job_modules)
    holder: dict[str, Container] = {}

    def runner(job_id: str) -> str:
        return holder["c"].run_job(job_id)

    queue = queue_from_url(settings.queue_url, runner, settings)
    container = Container(settings, engine, factory, queue)
    holder["c"] = container
    return container


def start_workers(container: Container) -> int:
    """Start in-process workers and re-queue jobs lost by a previous process."""
    container.queue.start()
    return jobs.requeue_lost(container.uow, container.queue)


__all__ = ["Container", "build", "start_workers"]
