"""RateLimitGate with a fake clock and concurrent tasks; retry policy; ccxt error translation."""

from __future__ import annotations

import asyncio

import ccxt
import pytest

from aegis.model import (
    AuthenticationError,
    DuplicateClientOrderId,
    InsufficientFunds,
    OrderNotFound,
    RateLimited,
    TransientVenueError,
    VenueError,
)
from aegis.venues.ccxt import RateLimitGate, RetryPolicy, retry_after_seconds, translate_error


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_block_pauses_every_concurrent_caller_until_retry_after() -> None:
    clock = FakeClock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    passed_at: list[float] = []

    async def caller() -> None:
        await gate.wait()
        passed_at.append(clock.now)

    gate.block(5.0)
    await asyncio.gather(*(caller() for _ in range(3)))
    assert passed_at == [105.0, 105.0, 105.0]
    assert gate.is_open


async def test_a_longer_block_while_waiting_extends_the_pause_and_a_shorter_does_not() -> None:
    clock = FakeClock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    gate.block(2.0)
    gate.block(1.0)  # shorter: ignored
    assert gate.open_at == 102.0
    gate.block(None)  # default 1 s from now: still before 102
    assert gate.open_at == 102.0
    gate.block(10.0)
    await gate.wait()
    assert clock.now == 110.0
    assert gate.blocks == 4


async def test_an_open_gate_does_not_sleep() -> None:
    clock = FakeClock()
    gate = RateLimitGate(clock=clock, sleep=clock.sleep)
    await gate.wait()
    assert clock.sleeps == []


def test_retry_delays_grow_exponentially_within_jitter_and_cap() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=4.0, jitter=0.5, seed=3)
    delays = [policy.delay_s(n) for n in range(5)]
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(c * 0.5 <= d <= c for d, c in zip(delays, ceilings, strict=True))


def test_retry_policy_refuses_zero_attempts() -> None:
    from aegis.model import ConfigError

    with pytest.raises(ConfigError, match="max_attempts 0"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ccxt.RateLimitExceeded("429"), RateLimited),
        (ccxt.DDoSProtection("418"), RateLimited),
        (ccxt.RequestTimeout("t"), TransientVenueError),
        (ccxt.ExchangeNotAvailable("down"), TransientVenueError),
        (ccxt.NetworkError("reset"), TransientVenueError),
        (ccxt.OrderNotFound("Unknown order sent."), OrderNotFound),
        (ccxt.InsufficientFunds("Margin is insufficient."), InsufficientFunds),
        (ccxt.AuthenticationError("Signature for this request is not valid."), AuthenticationError),
        (ccxt.InvalidNonce("Timestamp outside recvWindow"), AuthenticationError),
        (ccxt.DuplicateOrderId("dup"), DuplicateClientOrderId),
        (ccxt.InvalidOrder("ClientOrderId is duplicated."), DuplicateClientOrderId),
        (ccxt.InvalidOrder("Filter failure: PRICE_FILTER"), VenueError),
        (ccxt.BadRequest("bad"), VenueError),
        (ccxt.ExchangeError("other"), VenueError),
    ],
)
def test_ccxt_errors_map_to_aegis_types(error: Exception, expected: type[Exception]) -> None:
    translated = translate_error(error, context="submit BTC/USDT:USDT cid-1")
    assert type(translated) is expected
    assert "submit BTC/USDT:USDT cid-1" in str(translated)
    assert not isinstance(translated, ccxt.BaseError)


def test_rate_limit_carries_retry_after_from_headers_case_insensitively() -> None:
    translated = translate_error(
        ccxt.RateLimitExceeded("429"), context="x", headers={"retry-after": "12"}
    )
    assert isinstance(translated, RateLimited)
    assert translated.retry_after_s == 12.0
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after_seconds(None) is None
