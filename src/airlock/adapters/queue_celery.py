"""Jobs on Celery workers over Redis or RabbitMQ; imported only when such a URL is configured."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_process_init

log = logging.getLogger(__name__)

TASK_NAME = "airlock.run_job"
TICK_TASK = "airlock.tick"


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
        tick: Callable[[], object] | None = None,
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

        @self.app.task(name=TICK_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
        def run_tick() -> None:
            # Sent by `airlock beat`: the schedule itself is in the job rows, so a late,
            # duplicated or lost tick changes nothing but when due work is sent.
            if tick is not None:
                tick()

        self._tick_task = run_tick

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
        tick: Callable[[], object] | None = None,
        tick_every: float = 1.0,
    ) -> None:
        """Run a Celery worker in this process until it is told to stop.

        on_child_start runs in each forked pool process before it takes work (it must not use
        the parent's database connections); tick, when given, runs every tick_every seconds in
        the main process (the scheduler, so periodic tasks such as the lost-job sweep run
        even with no `airlock beat`).
        """
        if on_child_start is not None:
            start = on_child_start

            def child_init(**_: Any) -> None:
                start()

            worker_process_init.connect(child_init, weak=False)
        if tick is not None:
            self.app.steps["worker"].add(_ticker(tick, tick_every))
        argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork"]
        if hostname:
            argv.append(f"--hostname={hostname}")
        self.app.worker_main(argv)

    def beat_main(self, *, every: float, schedule_file: str) -> None:
        """Run Celery beat in this process: it sends the tick task every `every` seconds.

        Any number of beats may run; each tick is idempotent, since the periodic tasks and
        delayed jobs it sends are rows with unique due slots (see airlock.core.schedule).
        """
        self.app.conf.beat_schedule = {
            "airlock-tick": {
                "task": TICK_TASK,
                "schedule": every,
                # A tick that waited longer than its interval is useless: the next one is due.
                "options": {"expires": max(every * 2, 1.0)},
            }
        }
        self.app.Beat(schedule=schedule_file, loglevel="INFO", max_interval=max(every, 0.5)).run()


def _ticker(tick: Callable[[], object], every: float) -> type[bootsteps.StartStopStep]:
    """A worker bootstep calling tick() on the worker's timer (in its main process)."""

    class Ticker(bootsteps.StartStopStep):  # type: ignore[misc]
        requires = {"celery.worker.components:Timer"}

        def __init__(self, parent: Any, **kwargs: Any) -> None:
            super().__init__(parent, **kwargs)
            self.tref: Any = None

        def start(self, parent: Any) -> None:
            self.tref = parent.timer.call_repeatedly(every, self.run)

        def run(self) -> None:
            try:
                tick()
            except Exception:  # the next tick tries again; nothing is lost in between
                log.warning("the scheduler tick failed", exc_info=True)

        def stop(self, parent: Any) -> None:
            if self.tref is not None:
                self.tref.cancel()
                self.tref = None

    return Ticker
