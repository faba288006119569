"""Wilson intervals, worst-category aggregation and the adaptive limiter's AIMD behaviour."""

from __future__ import annotations

import asyncio
import time

import pytest

from airlock.probes.engine.limiter import AdaptiveLimiter
from airlock.probes.engine.scoring import Outcome, rate, verdict, wilson, worst


def test_wilson_matches_published_values() -> None:
    # Reference: 8 successes in 10 trials, 95%: (0.4902, 0.9433) (Wilson 1927; Newcombe 1998).
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and 0.15 < high < 0.17


def test_errors_and_unscorable_never_count_as_resisted() -> None:
    r = rate("x", [Outcome.SUCCEEDED, Outcome.ERROR, Outcome.ERROR, Outcome.UNSCORABLE])
    assert (r.succeeded, r.resisted, r.errors, r.unscorable) == (1, 0, 2, 1)
    assert r.rate == 1.0


def test_worst_category_is_chosen_by_lower_bound_not_mean() -> None:
    few = rate("few", [Outcome.SUCCEEDED] * 2)  # rate 1.0 but a wide interval
    many = rate("many", [Outcome.SUCCEEDED] * 60 + [Outcome.RESISTED] * 40)
    assert few.rate is not None and many.rate is not None and few.rate > many.rate
    chosen = worst([few, many])
    assert chosen is not None and chosen.key == "many"
    assert verdict(many) == "block"
    assert verdict(rate("none", [Outcome.RESISTED] * 50)) == "pass"
    assert worst([rate("e", [Outcome.ERROR])]) is None


def test_limiter_grows_in_slow_start_and_halves_once_per_window() -> None:
    async def scenario() -> AdaptiveLimiter:
        limiter = AdaptiveLimiter(initial=2, maximum=32, decrease=0.5)
        epochs = [await limiter.acquire() for _ in range(2)]
        for e in epochs:
            await limiter.release(e, congested=False)
        assert limiter.limit == 4
        epochs = [await limiter.acquire() for _ in range(4)]
        # Four 429s from one window cut the limit once, not four times.
        for e in epochs:
            await limiter.release(e, congested=True)
        assert limiter.limit == 2
        assert not limiter.slow_start
        e = await limiter.acquire()
        await limiter.release(e, congested=False)
        assert limiter.limit == pytest.approx(2.5)  # additive: +1/limit per clean answer
        return limiter

    limiter = asyncio.run(scenario())
    assert [point[1] for point in limiter.history] == [2.0, 3.0, 4.0, 2.0, 2.5]


def test_limiter_never_admits_more_than_its_limit_and_honours_pause() -> None:
    async def scenario() -> tuple[int, float, list[float]]:
        limiter = AdaptiveLimiter(initial=3, maximum=3)
        peak = 0
        admitted: list[float] = []

        async def job() -> None:
            nonlocal peak
            e = await limiter.acquire()
            admitted.append(time.monotonic())
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)
            await limiter.release(e, congested=False)

        await limiter.pause(0.2)
        resume_at = limiter._paused_until
        await asyncio.gather(*(job() for _ in range(12)))
        return peak, resume_at, admitted

    peak, resume_at, admitted = asyncio.run(scenario())
    assert peak == 3
    assert len(admitted) == 12 and min(admitted) >= resume_at  # nobody went in during the pause


def test_limiter_rejects_inconsistent_bounds() -> None:
    with pytest.raises(ValueError, match="minimum <= maximum"):
        AdaptiveLimiter(minimum=8, maximum=4)
    assert AdaptiveLimiter(initial=10, maximum=4).limit == 4
