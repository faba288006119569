"""Adaptive concurrency (AIMD): grow while answers are clean, cut on 429 and 5xx.

Slow start doubles the limit every round trip until the first congestion signal; after that
the limit grows by one per round trip and is multiplied by ``decrease`` on congestion. Only one
cut per round trip: signals from requests that were already in flight when the limit was cut
describe the old limit, not the new one. ``Retry-After`` pauses every new request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field


@dataclass
class AdaptiveLimiter:
    """An asyncio concurrency limit that adapts to the server's congestion signals."""

    initial: float = 16.0  # clamped to [minimum, maximum]
    minimum: float = 1.0
    maximum: float = 64.0
    decrease: float = 0.7
    max_pause: float = 60.0
    limit: float = field(init=False)
    in_flight: int = field(default=0, init=False)
    slow_start: bool = field(default=True, init=False)
    history: list[tuple[float, float]] = field(default_factory=list, init=False)
    _epoch: int = field(default=0, init=False)
    _paused_until: float = field(default=0.0, init=False)
    _cond: asyncio.Condition | None = field(default=None, init=False)
    _started: float = field(default_factory=time.monotonic, init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.maximum:
            raise ValueError(
                f"need 1 <= minimum <= maximum (got minimum {self.minimum}, maximum {self.maximum})"
            )
        self.limit = float(min(max(self.initial, self.minimum), self.maximum))
        self._record()

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    def _record(self) -> None:
        point = (round(time.monotonic() - self._started, 3), round(self.limit, 2))
        if not self.history or self.history[-1][1] != point[1]:
            self.history.append(point)
            del self.history[:-1000]  # keep the manifest bounded on very long runs

    async def acquire(self) -> int:
        """Wait for a slot (and for any Retry-After pause); return the epoch to release with."""
        cond = self._condition()
        async with cond:
            while True:
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(cond.wait(), timeout=pause)
                    continue
                if self.in_flight < int(self.limit):
                    self.in_flight += 1
                    return self._epoch
                # Re-check now and then: a wake-up meant for a waiter that was cancelled
                # meanwhile must not leave the others asleep with free slots.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cond.wait(), timeout=1.0)

    async def release(self, epoch: int, *, congested: bool) -> None:
        """Give the slot back, growing the limit on a clean answer or cutting it on congestion."""
        cond = self._condition()
        async with cond:
            self.in_flight -= 1
            if congested:
                if epoch == self._epoch:
                    self.limit = max(self.minimum, self.limit * self.decrease)
                    self.slow_start = False
                    self._epoch += 1
            elif self.slow_start:
                self.limit = min(self.maximum, self.limit + 1.0)
            else:
                self.limit = min(self.maximum, self.limit + 1.0 / self.limit)
            self._record()
            # Wake only as many waiters as there are free slots: waking all of them on every
            # answer costs O(waiters) per request at high concurrency.
            cond.notify(max(1, int(self.limit) - self.in_flight))

    async def pause(self, seconds: float) -> None:
        """Hold new requests for ``seconds`` (a server's Retry-After), capped at max_pause."""
        cond = self._condition()
        async with cond:
            until = time.monotonic() + max(0.0, min(seconds, self.max_pause))
            self._paused_until = max(self._paused_until, until)
            cond.notify_all()
