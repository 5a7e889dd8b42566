"""The async ``Venue`` protocol shared by paper and live runners, and its small result types.

Everything crossing this boundary uses the unified symbol notation (``BTC/USDT`` spot,
``BTC/USDT:USDT`` linear perpetual), ``Decimal`` for prices and quantities (PR1) and the
``aegis.model`` error types (OR5): no exchange library type leaks out of an implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from aegis.model.candle import Candle
from aegis.model.enums import OrderSide, OrderStatus, OrderType, PositionSide
from aegis.model.events import Fill, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """The venue's view of one order (what reconciliation compares with the store).

    ``is_conditional`` marks orders that live in a venue's separate trigger-order family
    (Binance USD-M algo orders: stop-market, take-profit).
    """

    client_order_id: str | None
    venue_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType | None
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    reduce_only: bool = False
    is_conditional: bool = False
    created_ms: int | None = None
    updated_ms: int | None = None

    @property
    def remaining_quantity(self) -> Decimal:
        """Return the quantity the venue may still fill."""
        return self.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class VenuePosition:
    """One open position as the venue reports it; ``quantity`` is positive, ``side`` the sign."""

    symbol: str
    side: PositionSide
    quantity: Decimal
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealised_pnl: Decimal | None = None
    leverage: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    """One public trade of the market data stream (``side`` is the taker's, if known)."""

    symbol: str
    trade_id: str
    ts_ms: int
    price: Decimal
    quantity: Decimal
    side: OrderSide | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueFundingPayment:
    """One funding payment the venue booked on the account (OR3).

    ``payment_id`` is the venue's own id of the cash flow (Binance ``tranId``): stable across
    restarts, it is what a runtime dedupes on. ``amount`` is signed as the account's cash flow
    (> 0 received, < 0 paid) in ``asset``. ``rate`` and ``mark_price`` are None when the venue's
    payment record does not state them (Binance's income history does not).
    """

    payment_id: str
    symbol: str
    asset: str
    amount: Decimal
    ts_ms: int
    rate: Decimal | None = None
    mark_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueFundingRate:
    """A perpetual's published funding rate and the time of its next settlement.

    ``rate`` is the venue's current (last published) rate per period as a fraction;
    ``next_funding_ms`` is None when the venue does not say when it settles next.
    """

    symbol: str
    rate: Decimal
    ts_ms: int | None = None
    next_funding_ms: int | None = None
    mark_price: Decimal | None = None


@runtime_checkable
class FundingVenue(Protocol):
    """A venue that reports perpetual funding: what the account paid, and the published rates.

    Separate from ``Venue`` so that venues without funding (spot, paper, test fakes) still
    satisfy ``Venue``. Errors are ``aegis.model.errors`` types, as for ``Venue``.
    """

    async def fetch_funding_payments(
        self, symbol: str, since_ms: int | None = None
    ) -> list[VenueFundingPayment]:
        """Return ALL funding payments of ``symbol`` since ``since_ms`` (every page), oldest
        first."""
        ...

    async def fetch_funding_rate(self, symbol: str) -> VenueFundingRate:
        """Return the current funding rate of ``symbol`` and its next funding time."""
        ...


@runtime_checkable
class Venue(Protocol):
    """Where orders go: a real exchange (``CcxtVenue``) or a simulated one.

    Methods raise ``aegis.model.errors`` types only: ``TransientVenueError`` (already retried with
    back-off), ``RateLimited``, ``AuthenticationError``, ``OrderNotFound``, ``VenueError``.
    """

    @property
    def name(self) -> str:
        """Return the venue's name (``binanceusdm``, ``kraken``...)."""
        ...

    async def connect(self) -> None:
        """Open the connection and load the markets into ``instruments()``."""
        ...

    async def close(self) -> None:
        """Release connections; the venue is unusable afterwards."""
        ...

    def instruments(self) -> Mapping[str, Instrument]:
        """Return the loaded instruments keyed by unified symbol."""
        ...

    async def submit(self, order: Order) -> OrderUpdate:
        """Send ``order`` (normalised to the venue's filters) under its client order id.

        Returns ACCEPT (with the venue order id) or REJECT / EXPIRE with the venue's reason;
        fills arrive through ``watch_order_updates`` / ``fetch_fills``. Never creates a second
        order for one client order id (OR2). Raises ``OrderRejected`` before the wire when
        the order cannot meet the filters (PR2).
        """
        ...

    async def cancel(self, order: Order) -> OrderUpdate:
        """Cancel ``order``; return the CANCEL update. Raises ``OrderNotFound``."""
        ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """Look an order up by its client order id; None when the venue does not know it."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Return every open order (of ``symbol``, or of all symbols)."""
        ...

    async def fetch_orders(self, symbol: str, since_ms: int | None = None) -> list[VenueOrder]:
        """Return ALL orders of ``symbol`` since ``since_ms``, following every page."""
        ...

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Return ALL own fills of ``symbol`` since ``since_ms``, following every page."""
        ...

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        """Return the total balance per asset (wallet balance on derivatives accounts)."""
        ...

    async def fetch_positions(self) -> list[VenuePosition]:
        """Return the open derivative positions (empty on spot venues)."""
        ...

    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return closed and open candles from REST history, oldest first."""
        ...

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Wait for the next candle update(s) and return the candles that have closed."""
        ...

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Wait for and return the next public trades of ``symbol``."""
        ...

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[PublicTrade]:
        """Return recent public trades of ``symbol`` from REST (ids as on the stream)."""
        ...

    async def watch_order_updates(self) -> list[OrderUpdate]:
        """Wait for and return the next own order events from the user-data stream."""
        ...

    async def server_time_ms(self) -> int:
        """Return the venue's clock in UTC milliseconds (clock-skew check at start-up)."""
        ...
