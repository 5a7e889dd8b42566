"""What the feeds consume: small protocols a venue adapter (or a test double) satisfies.

``aegis.data`` sits below ``aegis.venues`` (import-linter), so the feeds name only the methods
they call. ``aegis.venues.ccxt.CcxtVenue`` satisfies these protocols structurally.
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


class TradeLike(Protocol):
    """What the trade feed reads of a public trade (``aegis.venues.base.PublicTrade`` fits)."""

    @property
    def trade_id(self) -> str:
        """Return the venue's trade id (the same on the websocket and on REST)."""
        ...

    @property
    def ts_ms(self) -> int:
        """Return the trade time in UTC milliseconds."""
        ...


TradeT_co = TypeVar("TradeT_co", bound=TradeLike, covariant=True)


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


@runtime_checkable
class TradeSource(Protocol[TradeT_co]):
    """Public trades from a websocket, and recent trades from REST for while it is down.

    ``TradeT_co`` is the adapter's trade type (``PublicTrade`` for ``CcxtVenue``); the feed
    reads only ``trade_id`` and ``ts_ms`` and hands the trade on untouched.
    """

    async def watch_trades(self, symbol: str) -> Sequence[TradeT_co]:
        """Wait for and return the next public trades of ``symbol``."""
        ...

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> Sequence[TradeT_co]:
        """Return recent public trades of ``symbol`` from ``since_ms`` on, oldest first."""
        ...
