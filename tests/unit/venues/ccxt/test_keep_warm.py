"""``CcxtVenue.keep_warm``: a light request every interval keeps a connection for the next order."""

from __future__ import annotations

import asyncio

import ccxt
import pytest

from aegis.config import ExchangeSettings
from aegis.venues.ccxt import CcxtVenue, RateLimitGate, RetryPolicy


class TimeOnly:
    """A ccxt-like exchange that answers the server time, failing the calls it is told to."""

    def __init__(self, failing: set[int]) -> None:
        self.calls = 0
        self.failing = failing
        self.last_response_headers: dict[str, str] = {}

    async def fetch_time(self) -> int:
        self.calls += 1
        if self.calls in self.failing:
            raise ccxt.ExchangeNotAvailable("binanceusdm 503 Service Unavailable")
        return 1_700_000_000_000


async def test_it_asks_the_server_time_every_interval_and_outlives_a_failure() -> None:
    exchange = TimeOnly(failing={2})
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 4:
            raise asyncio.CancelledError  # the supervisor cancels it at shutdown

    venue = CcxtVenue(
        "binanceusdm", ExchangeSettings(), exchange=exchange,
        gate=RateLimitGate(sleep=sleep), policy=RetryPolicy(max_attempts=1), sleep=sleep,
    )  # fmt: skip
    with pytest.raises(asyncio.CancelledError):
        await venue.keep_warm(7.5)
    assert exchange.calls == 4  # the second failed, the third and fourth still went
    assert waits == [7.5] * 5
