"""Socket-with-REST-fallback pieces shared by ``CandleFeed`` and ``TradeFeed`` (EX2).

Both feeds watch one websocket per symbol, back off after a drop, and poll REST round robin
within a request budget for the symbols whose socket is down; only what they fetch differs.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aegis.data.feeds.protocols import NowMs, Sleep
from aegis.data.feeds.timing import Backoff, RequestBudget
from aegis.model.errors import RateLimited, VenueError

# What a broken or silent socket looks like through a venue adapter: our venue errors (ccxt's are
# translated in aegis.venues.ccxt), OS-level connection errors, and our own silence timeout.
SOCKET_ERRORS = (VenueError, OSError, TimeoutError)


def checked_symbols(feed: str, symbols: Sequence[str], poll_interval_s: float) -> tuple[str, ...]:
    """Return ``symbols`` as a tuple; raise ``ValueError`` on none, duplicates or a bad interval."""
    if not symbols:
        raise ValueError(f"{feed} needs at least one symbol, got none")
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"{feed} symbols must be unique, got {list(symbols)}")
    if not (math.isfinite(poll_interval_s) and poll_interval_s > 0):
        raise ValueError(f"poll_interval_s must be positive, got {poll_interval_s!r}")
    return tuple(symbols)


def budget_of(
    request_budget: RequestBudget | None, requests_per_s: float, clock: NowMs, sleep: Sleep
) -> RequestBudget:
    """Return the given shared budget, or a new one of ``requests_per_s`` on ``clock``."""
    if request_budget is not None:
        return request_budget
    return RequestBudget(requests_per_s, now_ms=clock, sleep=sleep)


async def wait_to_reconnect(
    backoff: Backoff,
    sleep: Sleep,
    attempt: int,
    *,
    log: Any,  # structlog's get_logger() is typed Any; the caller's logger keeps its name
    event: str,
    symbol: str,
    error: BaseException,
) -> None:
    """Log the socket drop of ``symbol`` and sleep the backoff delay of ``attempt``."""
    delay = backoff.delay(attempt)
    log.warning(
        event,
        symbol=symbol,
        error=str(error) or type(error).__name__,
        attempt=attempt,
        retry_in_s=round(delay, 3),
    )
    await sleep(delay)


def next_in_rotation(rotation: deque[str], is_due: Callable[[str], bool]) -> str | None:
    """Return the first due symbol of ``rotation``, rotating past every symbol looked at."""
    for _ in range(len(rotation)):
        symbol = rotation[0]
        rotation.rotate(-1)
        if is_due(symbol):
            return symbol
    return None


async def poll_forever(
    next_due: Callable[[], str | None],
    poll: Callable[[str], Awaitable[None]],
    sleep: Sleep,
    idle_s: float,
) -> None:
    """Poll each due symbol in turn; sleep ``idle_s`` whenever none is due."""
    while True:
        symbol = next_due()
        if symbol is None:
            await sleep(idle_s)
            continue
        await poll(symbol)


def pause_if_rate_limited(budget: RequestBudget, error: VenueError) -> None:
    """Pause ``budget`` for the venue's retry-after (1 s when absent) after a 429."""
    if isinstance(error, RateLimited):
        # OR5: a 429 slows every REST caller of this feed, not just this symbol.
        budget.pause(error.retry_after_s if error.retry_after_s is not None else 1.0)
