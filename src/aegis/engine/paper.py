"""Paper trading venue: the simulated exchange fed by live candles (OP3).

``PaperVenue`` satisfies the ``Venue`` protocol: market data (candles, trades, server time, the
instruments and their filters) come from a real venue, while orders rest in an in-process
``SimulatedExchange`` that fills them on the live candles exactly as the backtester does. Only
the fill source differs from live trading; the runner, pipeline and order code are the same.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

from aegis.model.candle import Candle
from aegis.model.enums import OrderStatus, PositionMode
from aegis.model.errors import OrderNotFound
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.venues.base import PublicTrade, Venue, VenueOrder, VenuePosition
from aegis.venues.sim import FillModel, SimulatedExchange

_MS_TO_NS: Final = 1_000_000
_ZERO: Final = Decimal(0)
#: orders a crashed paper run left on the book, which rest again on restart
_RESTING: Final = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


def _venue_order(order: Order) -> VenueOrder:
    return VenueOrder(
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id or order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        status=order.status,
        quantity=order.quantity,
        filled_quantity=order.filled_quantity,
        average_price=order.average_fill_price,
        price=order.price,
        stop_price=order.stop_price,
        reduce_only=order.reduce_only,
        created_ms=order.created_ns // _MS_TO_NS,
        updated_ms=order.updated_ns // _MS_TO_NS,
    )


class PaperVenue:
    """Orders filled by ``SimulatedExchange`` on the candles of ``market_data`` (OP3).

    Args:
        market_data: the venue that supplies candles, trades, instruments and time.
        fill_model: the simulator's fill model (fees, slippage, partial fills, latency).
        cash: the paper account's opening balances (quote currency).
    """

    def __init__(
        self, market_data: Venue, fill_model: FillModel, cash: Mapping[str, Decimal]
    ) -> None:
        self.market_data = market_data
        self.fill_model = fill_model
        self._cash = dict(cash)
        self._sim: SimulatedExchange | None = None
        self._ledger: Portfolio | None = None
        self._updates: asyncio.Queue[list[OrderUpdate]] = asyncio.Queue()

    # ------------------------------------------------------------------ lifecycle
    @property
    def name(self) -> str:
        """Return ``paper:<market data venue>``."""
        return f"paper:{self.market_data.name}"

    async def connect(self) -> None:
        """Connect the market-data venue and build the simulator on its instruments."""
        await self.market_data.connect()
        self._sim = SimulatedExchange(self.market_data.instruments(), self.fill_model)
        self._ledger = Portfolio(self._cash, PositionMode.ONE_WAY)

    def resume(self, book: Portfolio, open_orders: Iterable[Order] = ()) -> None:
        """Take over the paper account a restart rebuilt from the store (PE3).

        The simulator and the ledger start empty on every run. Without this, the exit of a
        restored position would be refused (reduce-only with nothing to reduce), its funding
        would settle on nothing, the ledger would report the opening cash again, and an order
        left resting by a crash would never fill: its symbol would wait on it for ever.
        ``open_orders`` rest again for what they have left to fill.
        """
        self._ledger = copy.deepcopy(book)
        sim = self.sim
        one_way = book.position_mode is PositionMode.ONE_WAY
        for leg in book.positions():
            sim.set_position(leg.symbol, leg.signed_quantity, None if one_way else leg.side)
        for order in open_orders:
            if order.status not in _RESTING:
                continue
            left = order.quantity - order.filled_quantity
            # the simulator fills the rest: its FILL completes the stored order exactly
            rest = order.replace(quantity=left, filled_quantity=_ZERO, average_fill_price=None)
            sim.submit(rest, order.updated_ns)

    async def close(self) -> None:
        """Close the market-data venue."""
        await self.market_data.close()

    def instruments(self) -> Mapping[str, Instrument]:
        """Return the market-data venue's instruments (real filters)."""
        return self.market_data.instruments()

    @property
    def sim(self) -> SimulatedExchange:
        """Return the simulator (after ``connect``)."""
        if self._sim is None:
            raise RuntimeError("PaperVenue used before connect()")
        return self._sim

    # ------------------------------------------------------------------ fills from candles
    def on_candle(self, symbol: str, candle: Candle) -> list[OrderUpdate]:
        """Match resting orders against a closed candle; return (and stream) the updates."""
        updates = self.sim.on_candle(
            symbol, candle.ts_ms, candle.open, candle.high, candle.low, candle.close,
            candle.volume,
        )  # fmt: skip
        if updates:
            ledger = self._ledger
            for update in updates:
                if update.fill is not None and ledger is not None:
                    ledger.apply_fill(update.fill, self.instruments()[update.fill.symbol])
            self._updates.put_nowait(list(updates))
        return updates

    # ------------------------------------------------------------------ orders
    async def submit(self, order: Order) -> OrderUpdate:
        """Accept or reject ``order`` in the simulator (it fills on a later candle)."""
        updates = self.sim.submit(order, order.updated_ns)
        return updates[0]

    async def cancel(self, order: Order) -> OrderUpdate:
        """Cancel ``order`` in the simulator; ``OrderNotFound`` when it is not open there."""
        if not any(o.client_order_id == order.client_order_id for o in self.sim.open_orders()):
            raise OrderNotFound(f"cancel {order.client_order_id}: not open on {self.name}")
        updates = self.sim.cancel(order.client_order_id, order.updated_ns)
        cancel = [u for u in updates if u.kind is OrderEventKind.CANCEL]
        if not cancel:
            raise OrderNotFound(f"cancel {order.client_order_id}: not open on {self.name}")
        return cancel[0]

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """Return the simulator's view of one order, None when unknown."""
        try:
            order = self.sim.get_order(client_order_id)
        except OrderNotFound:
            return None
        return _venue_order(order)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Return the simulator's open orders."""
        return [_venue_order(o) for o in self.sim.open_orders(symbol)]

    async def fetch_orders(self, symbol: str, since_ms: int | None = None) -> list[VenueOrder]:
        """Return every order of ``symbol`` the simulator knows."""
        since_ns = 0 if since_ms is None else since_ms * _MS_TO_NS
        return [
            _venue_order(o)
            for o in self.sim.orders()
            if o.symbol == symbol and o.created_ns >= since_ns
        ]

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Return the simulator's fills of ``symbol``."""
        since_ns = 0 if since_ms is None else since_ms * _MS_TO_NS
        return [f for f in self.sim.fills() if f.symbol == symbol and f.ts_ns >= since_ns]

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        """Return the paper account's cash per asset (after fees and realised PnL)."""
        ledger = self._ledger
        if ledger is None:
            return dict(self._cash)
        return {asset: amount for asset, amount in ledger.cash.items() if amount != 0}

    async def fetch_positions(self) -> list[VenuePosition]:
        """Return no positions: the runtime's portfolio is the paper account's position book."""
        return []

    # ------------------------------------------------------------------ market data
    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return the market-data venue's REST candles."""
        return await self.market_data.fetch_candles(symbol, timeframe, since_ms, limit)

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Return the market-data venue's next closed candles."""
        return await self.market_data.watch_candles(symbol, timeframe)

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Return the market-data venue's next public trades."""
        return await self.market_data.watch_trades(symbol)

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[PublicTrade]:
        """Return the market-data venue's recent public trades."""
        return await self.market_data.fetch_trades(symbol, since_ms)

    async def watch_order_updates(self) -> list[OrderUpdate]:
        """Wait for the simulator's next batch of updates (fills happen on candles)."""
        return await self._updates.get()

    async def server_time_ms(self) -> int:
        """Return the market-data venue's clock."""
        return await self.market_data.server_time_ms()
