"""What the feeds consume: small protocols a venue adapter (or a test double) satisfies.

``aegis.data`` sits below ``aegis.venues`` (import-linter), so the feeds name only the methods
they call. ``aegis.venues.ccxt.CcxtVenue`` satisfies both protocols structurally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from aegis.model.candle import Candle
from aegis.model.events import Fill, OrderUpdate

#: Returns the current UTC time in milliseconds (wall clock live, virtual clock in tests).
NowMs = Callable[[], int]
#: Waits ``seconds``; ``asyncio.sleep`` live, ``VirtualClock.sleep`` in tests.
Sleep = Callable[[float], Awaitable[None]]

OrderT_co = TypeVar("OrderT_co", covariant=True)


@runtime_checkable
class CandleSource(Protocol):
    """A market-data source: closed candles from a websocket and candle history from REST."""

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Wait for the next update and return the candles of ``symbol`` that have closed."""
        ...

    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return REST candles (closed, maybe the open one) from ``since_ms``, oldest first."""
        ...


@runtime_checkable
class UserStreamSource(Protocol[OrderT_co]):
    """A private user-data stream plus the REST calls that resynchronise after a reconnect.

    ``OrderT_co`` is the adapter's open-order type (``VenueOrder`` for ``CcxtVenue``); the
    supervisor passes it through untouched. Optional methods, used when the source has them:
    ``async keep_alive() -> None`` (extend the listenKey) and ``async restart_user_stream()``
    (drop and re-create the stream and its listenKey).
    """

    async def watch_order_updates(self) -> list[OrderUpdate]:
        """Wait for and return the next own order events."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[OrderT_co]:
        """Return every open order (of ``symbol``, or of all symbols)."""
        ...

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Return own fills of ``symbol`` since ``since_ms``."""
        ...
