"""Jobs run on worker threads of the server process (the embedded default)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_STOP = ("", "")


class InProcessQueue:
    """A thread pool fed by a queue of job ids; the rows in the database are the truth."""

    def __init__(
        self, runner: Callable[[str], str], *, workers: int = 2, retry_delay: float = 2.0
    ) -> None:
        self._runner = runner
        self._workers = max(1, workers)
        self._retry_delay = retry_delay
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._timers: list[threading.Timer] = []
        self._running = False

    def send(self, job_id: str, name: str) -> None:
        """Queue the job id for the worker threads."""
        self._queue.put((job_id, name))

    def start(self) -> None:
        """Start the worker threads."""
        if self._running:
            return
        self._running = True
        for i in range(self._workers):
            t = threading.Thread(target=self._loop, name=f"airlock-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Let running jobs finish, then stop the threads."""
        if not self._running:
            return
        self._running = False
        for timer in self._timers:
            timer.cancel()
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join(timeout=30)
        self._threads = []

    def join(self, timeout: float = 30.0) -> None:
        """Wait until every queued job has been taken and finished (for tests and the CLI)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        done.wait(timeout)

    def _loop(self) -> None:
        while True:
            job_id, name = self._queue.get()
            try:
                if (job_id, name) == _STOP:
                    return
                result = self._runner(job_id)
                # Held by another worker, or failed with attempts left: try again shortly. A job
                # not due yet is left alone: the scheduler sends it when it is.
                if result in ("busy", "queued") and self._running:
                    timer = threading.Timer(self._retry_delay, self.send, args=(job_id, name))
                    timer.daemon = True
                    self._timers = [t for t in self._timers if t.is_alive()] + [timer]
                    timer.start()
            except Exception:
                log.exception("job %s (%s) crashed its worker loop", job_id, name)
            finally:
                self._queue.task_done()
