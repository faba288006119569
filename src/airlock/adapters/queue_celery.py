"""Jobs on Celery workers over Redis or RabbitMQ; imported only when such a URL is configured."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_process_init

log = logging.getLogger(__name__)

TASK_NAME = "airlock.run_job"


def broker_url(url: str) -> str:
    """Map an AIRLOCK_QUEUE_URL to a Celery broker URL (celery+redis://..., redis://, amqp://)."""
    url = url.removeprefix("celery+")
    if url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")):
        return url
    raise ValueError(f"AIRLOCK_QUEUE_URL: unsupported broker in {url.split('://')[0]!r}")


class CeleryQueue:
    """Sends job ids as Celery tasks; `airlock worker` runs them with the same handlers."""

    def __init__(
        self,
        url: str,
        runner: Callable[[str], str],
        *,
        busy_retry: float = 5.0,
        queue_name: str = "airlock",
    ) -> None:
        self.app = Celery("airlock", broker=broker_url(url))
        self.app.conf.update(
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            task_ignore_result=True,
            broker_connection_retry_on_startup=True,
            worker_hijack_root_logger=False,
            task_default_queue=queue_name,
        )
        self._runner = runner

        @self.app.task(name=TASK_NAME, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
        def run(task: Any, job_id: str) -> str:
            result = runner(job_id)
            if result == "busy":
                # A live lease elsewhere: look again later; the lease runs out if that worker died.
                raise task.retry(countdown=busy_retry)
            if result == "queued":
                # The handler failed with attempts left (run_job counts them and marks the job
                # failed at the last one): try again later, waiting longer each time.
                raise task.retry(countdown=min(busy_retry * (task.request.retries + 1), 300.0))
            return result

        self._task = run

    def send(self, job_id: str, name: str) -> None:
        """Publish the job id to the broker."""
        self._task.apply_async(args=[job_id])

    def start(self) -> None:
        """Nothing to start in the web process: workers are separate processes."""

    def stop(self) -> None:
        """Nothing to stop in the web process."""

    def worker_main(
        self,
        *,
        concurrency: int = 1,
        hostname: str | None = None,
        on_child_start: Callable[[], None] | None = None,
        sweep: Callable[[], int] | None = None,
        sweep_every: float = 60.0,
    ) -> None:
        """Run a Celery worker in this process until it is told to stop.

        on_child_start runs in each forked pool process before it takes work (it must not use
        the parent's database connections); sweep runs every sweep_every seconds in the main
        process, so jobs of a worker that died are found while this one keeps running.
        """
        if on_child_start is not None:
            start = on_child_start

            def child_init(**_: Any) -> None:
                start()

            worker_process_init.connect(child_init, weak=False)
        if sweep is not None:
            self.app.steps["worker"].add(_sweeper(sweep, sweep_every))
        argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork"]
        if hostname:
            argv.append(f"--hostname={hostname}")
        self.app.worker_main(argv)


def _sweeper(sweep: Callable[[], int], every: float) -> type[bootsteps.StartStopStep]:
    """A worker bootstep calling sweep() on the worker's timer (in its main process)."""

    class Sweeper(bootsteps.StartStopStep):  # type: ignore[misc]
        requires = {"celery.worker.components:Timer"}

        def __init__(self, parent: Any, **kwargs: Any) -> None:
            super().__init__(parent, **kwargs)
            self.tref: Any = None

        def start(self, parent: Any) -> None:
            self.tref = parent.timer.call_repeatedly(every, self.run)

        def run(self) -> None:
            try:
                found = sweep()
            except Exception:  # the next sweep tries again
                log.warning("the job sweep failed", exc_info=True)
                return
            if found:
                log.info("re-queued %d job(s) whose worker stopped holding them", found)

        def stop(self, parent: Any) -> None:
            if self.tref is not None:
                self.tref.cancel()
                self.tref = None

    return Sweeper
