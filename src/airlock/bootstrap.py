"""The one place where backends are chosen by URL and wired together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from airlock import composition
from airlock.core import jobs, schedule
from airlock.core.db import make_engine, make_session_factory, private_dir
from airlock.core.ports import BlobStore, JobQueue, KeyStore, Mailer
from airlock.core.uow import UnitOfWork
from airlock.settings import Settings, get_settings

log = logging.getLogger(__name__)


class VaultSealer:
    """The Sealer port, implemented by the vault (a later stage than those that use it)."""

    def seal(self, uow: Any, *, org_id: str, bound_to: str, plaintext: bytes) -> str:
        """Seal under the firm's current key."""
        from airlock.vault import sealing

        return sealing.seal(uow, org_id=org_id, bound_to=bound_to, plaintext=plaintext)

    def open(self, uow: Any, *, org_id: str, bound_to: str, token: str) -> bytes | None:
        """Open a sealed token; None once the firm's key was destroyed."""
        from airlock.vault import sealing

        return sealing.open_sealed(uow, org_id=org_id, bound_to=bound_to, token=token)


@dataclass
class Container:
    """Everything an entry point needs: settings, database, storage and the job queue."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Any]
    queue: JobQueue
    _blob_store: BlobStore | None = field(default=None, repr=False)
    _key_store: KeyStore | None = field(default=None, repr=False)
    _ticker: schedule.Ticker | None = field(default=None, repr=False)
    _mailer: Mailer | None = field(default=None, repr=False)

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

    @property
    def mailer(self) -> Mailer:
        """The SMTP relay of AIRLOCK_SMTP_*, built on first use."""
        if self._mailer is None:
            from airlock.adapters.mail_smtp import mailer_from_settings

            self._mailer = mailer_from_settings(self.settings)
        return self._mailer

    @property
    def key_store(self) -> KeyStore:
        """The organisation key store chosen by AIRLOCK_KEYSTORE_URL, built on first use."""
        if self._key_store is None:
            from airlock.adapters.keystore import key_store_from_url

            self._key_store = key_store_from_url(self.settings.resolved_keystore_url())
        return self._key_store

    @property
    def sealer(self) -> VaultSealer:
        """Seals confidential values under the firms' keys (the vault's sealing)."""
        return VaultSealer()

    def run_job(self, job_id: str) -> str:
        """Run one job with this container's database (what every worker calls)."""
        return jobs.run_job(self.uow, job_id, lease_seconds=self.settings.job_lease_seconds)

    def tick(self) -> schedule.TickReport:
        """Create due periodic tasks and send due delayed jobs (what every scheduler calls)."""
        return schedule.tick(self.uow, self.queue, self.settings)

    def start_scheduler(self) -> None:
        """Tick on a thread of this process until close()."""
        if self._ticker is None:
            self._ticker = schedule.Ticker(self.tick, every=self.settings.scheduler_tick_seconds)
        self._ticker.start()

    def close_workers(self) -> None:
        """Stop the scheduler and the in-process workers."""
        if self._ticker is not None:
            self._ticker.stop()
        self.queue.stop()

    def close(self) -> None:
        """Stop the scheduler and workers and release connections."""
        self.close_workers()
        self.engine.dispose()


def queue_from_url(url: str, runner: Any, settings: Settings, tick: Any = None) -> JobQueue:
    """inprocess:// worker threads, or Celery on redis:// / amqp:// (imported only then)."""
    if url.startswith("inprocess://"):
        from airlock.adapters.queue_inprocess import InProcessQueue

        return InProcessQueue(runner, workers=settings.inprocess_workers)
    if url.startswith(("redis://", "amqp://", "pyamqp://", "celery+")):
        from airlock.adapters.queue_celery import CeleryQueue

        return CeleryQueue(url, runner, queue_name=settings.queue_name, tick=tick)
    raise ValueError(f"AIRLOCK_QUEUE_URL: unknown scheme in {url.split('://')[0]!r}")


def build(settings: Settings | None = None) -> Container:
    """Wire a container from settings (the environment by default)."""
    settings = settings or get_settings()
    private_dir(settings.data_dir)  # it holds the SQLite file, blobs and keys
    engine = make_engine(settings.resolved_database_url())
    factory = make_session_factory(engine)
    composition.load()
    jobs.load_handler_modules(settings.job_modules)
    holder: dict[str, Container] = {}

    def runner(job_id: str) -> str:
        return holder["c"].run_job(job_id)

    def tick() -> schedule.TickReport:
        return holder["c"].tick()

    queue = queue_from_url(settings.queue_url, runner, settings, tick)
    container = Container(settings, engine, factory, queue)
    holder["c"] = container
    return container


def start_workers(container: Container) -> int:
    """Start in-process workers and re-queue jobs lost by a previous process; with in-process
    jobs, the server also runs the scheduler (Celery deployments run `airlock beat`)."""
    from airlock.vault import keyring

    with container.uow() as uow:  # the one-off move of keys kept in the database before 0008
        if keyring.move_keys_to_store(uow):
            uow.commit()
    container.queue.start()
    found = jobs.requeue_lost(container.uow, container.queue)
    if container.settings.queue_url.startswith("inprocess://"):
        container.start_scheduler()
    return found


__all__ = ["Container", "build", "start_workers"]
