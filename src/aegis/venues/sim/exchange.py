"""The simulated exchange: a synchronous, deterministic matching engine (issue 2 section 6, BT1).

Used by the backtester, by paper trading and inside the Binance-compatible emulator. The fill
rules are in ``_rules`` and documented in docs/simulated-exchange.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt

from aegis.model.enums import (
    MarketKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)
from aegis.model.errors import ConfigError, DuplicateClientOrderId, OrderNotFound, OrderRejected
from aegis.model.events import Fill, FundingPayment, OrderEventKind, OrderUpdate, new_update
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.venues.sim._matcher import Matcher
from aegis.venues.sim._record import SimOrder
from aegis.venues.sim._validation import rejection_reason
from aegis.venues.sim.fill_model import FillModel
from aegis.venues.sim.funding import (
    FundingSchedule,
    FundingSeries,
    MarkLookup,
    MarkSeries,
    settle_due,
)
from aegis.venues.sim.scan import funding_event_index, order_event_index

_ZERO: Final = Decimal(0)
_BPS: Final = Decimal(10_000)
_NS_PER_MS: Final = 1_000_000
_POSITION_KEYS: Final = (None, PositionSide.LONG, PositionSide.SHORT)
_ACCEPT: Final = OrderEventKind.ACCEPT
_MARKET: Final = OrderType.MARKET
_POST_ONLY: Final = TimeInForce.POST_ONLY
PositionKey = tuple[str, PositionSide | None]


def _decimal(value: float) -> Decimal:
    # float() first: numpy scalars repr as 'np.float64(...)'.
    return Decimal(repr(float(value)))


class SimulatedExchange:
    """Match orders against candles or trades; deterministic for a given ``FillModel.seed``.

    Args:
        instruments: instrument per unified symbol; orders pass ``Instrument.check`` as live.
        fill_model: slippage, volume cap, latency, fee override, touch rule.
        funding: funding series per linear-perpetual symbol (e.g. ``aegis.data.read_funding``).
        marks: mark prices per symbol used to settle funding; default = the last close seen.
        retain_history: keep every order and fill after it finishes (the default: the emulator
            serves ``allOrders`` / ``myTrades`` from them). ``False`` forgets an order once it is
            terminal and keeps no fill list, so memory stays flat over a long backtest; then
            ``orders()``, ``get_order()`` and ``fills()`` only know the open orders, and a
            finished order's client id is no longer checked for reuse.

    Raises:
        ConfigError: funding for an unknown symbol or for an instrument that is not a perpetual.
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        fill_model: FillModel,
        *,
        funding: Mapping[str, FundingSeries] | None = None,
        marks: Mapping[str, MarkSeries] | None = None,
        retain_history: bool = True,
    ) -> None:
        self._instruments = dict(instruments)
        self._model = fill_model
        self._touch = fill_model.limit_fill_on_touch
        self._latency_ns = fill_model.latency_ns
        self._share = fill_model.max_volume_share
        self._orders: dict[str, SimOrder] = {}
        self._books: dict[str, dict[str, SimOrder]] = {}
        self._fills: list[Fill] = []
        self._positions: dict[PositionKey, Decimal] = {}
        self._last_price: dict[str, float] = {}
        self._events: dict[str, int] = {}
        self._order_sequence = 0
        self.retain_history = retain_history
        self._matcher = Matcher(
            fill_model,
            self._books,
            self._positions,
            self._fills if retain_history else None,
            None if retain_history else self._orders,
        )
        self._payments: list[FundingPayment] = []
        self._funding: dict[str, FundingSchedule] = {}
        self._marks: dict[str, MarkLookup] = {}
        for symbol, series in (funding or {}).items():
            instrument = self._instruments.get(symbol)
            if instrument is None or instrument.kind is not MarketKind.LINEAR_PERPETUAL:
                kind = None if instrument is None else instrument.kind
                raise ConfigError(
                    f"funding given for {symbol!r} (kind {kind}): needs a linear perpetual"
                )
            self._funding[symbol] = FundingSchedule(symbol, series)
        for symbol, mark_series in (marks or {}).items():
            self._marks[symbol] = MarkLookup(mark_series)

    # ----------------------------------------------------------------- orders
    def submit(
        self, order: Order, ts_ns: int, *, reference_price: Decimal | None = None
    ) -> list[OrderUpdate]:
        """Validate and accept ``order``; never fills it (it fills on later market data).

        ``reference_price`` (default: the last close or trade seen) is used for the market-order
        notional, the post-only cross check and the immediate-trigger check. A rejection is a
        REJECT update with the reason; nothing is stored.

        Raises:
            DuplicateClientOrderId: the client order id is already known.
        """
        client_order_id = order.client_order_id
        if client_order_id in self._orders:
            raise DuplicateClientOrderId(
                f"client order id {client_order_id!r} already used on the simulated exchange"
            )
        symbol = order.symbol
        instrument = self._instruments.get(symbol)
        if (
            instrument is not None
            and reference_price is None
            and order.type is _MARKET
            and order.stop_price is None
            and not order.reduce_only
            and order.time_in_force is not _POST_ONLY
            and not instrument.min_notional
        ):
            # A plain market order: only the instrument's filters can refuse it, and without a
            # min notional they do not read the last price (the backtester's hot path).
            try:
                # reduce_only is False here (the default): no keyword, a cheaper call
                instrument.check(order.type, order.side, order.quantity, order.price)
                reason = None
            except OrderRejected as error:
                reason = str(error)
        else:
            if reference_price is None:
                last = self._last_price.get(symbol)
                reference_price = None if last is None else _decimal(last)
            position = self._positions.get((symbol, order.position_side), _ZERO)
            reason = rejection_reason(
                order, instrument, reference_price, position, touch=self._touch
            )
        if reason is not None:
            return [OrderUpdate(client_order_id, OrderEventKind.REJECT, ts_ns, reason=reason)]
        sequence = self._order_sequence + 1
        self._order_sequence = sequence
        venue_order_id = str(sequence)
        record = SimOrder(
            order,
            self._instruments[symbol],
            venue_order_id,
            ts_ns,  # positional (ts_ns, eligible_ns, arrival_event): once per order
            ts_ns + self._latency_ns,
            self._events.get(symbol, 0),
        )
        self._orders[client_order_id] = record
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = {}
        book[client_order_id] = record
        return [new_update(client_order_id, _ACCEPT, ts_ns, None, venue_order_id, None)]

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        """Cancel an open order.

        Raises:
            OrderNotFound: the id is unknown, or the order is already filled, cancelled or
                expired (Binance answers "Unknown order sent" in both cases).
        """
        record = self._orders.get(client_order_id)
        if record is None:
            raise OrderNotFound(f"order {client_order_id!r} is unknown to the simulated exchange")
        if record.status.is_terminal:
            raise OrderNotFound(f"order {client_order_id!r} is already {record.status}")
        self._matcher.close(record, OrderStatus.CANCELLED, ts_ns)
        return [
            OrderUpdate(
                client_order_id,
                OrderEventKind.CANCEL,
                ts_ns,
                venue_order_id=record.venue_order_id,
            )
        ]

    # ----------------------------------------------------------------- queries
    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the open orders (of ``symbol``, or all), in submission order."""
        if symbol is not None:
            return [record.snapshot() for record in self._books.get(symbol, {}).values()]
        return [r.snapshot() for r in self._orders.values() if not r.status.is_terminal]

    def has_open_orders(self, symbol: str | None = None) -> bool:
        """Return True when an order (of ``symbol``, or any) is still open."""
        if symbol is not None:
            return bool(self._books.get(symbol))
        return any(self._books.values())

    def get_order(self, client_order_id: str) -> Order:
        """Return the order as the exchange sees it.

        Raises:
            OrderNotFound: the id is unknown.
        """
        record = self._orders.get(client_order_id)
        if record is None:
            raise OrderNotFound(f"order {client_order_id!r} is unknown to the simulated exchange")
        return record.snapshot()

    def orders(self) -> list[Order]:
        """Return every accepted order, open or closed, in submission order."""
        return [record.snapshot() for record in self._orders.values()]

    def fills(self) -> list[Fill]:
        """Return every fill so far, in execution order."""
        return list(self._fills)

    def position(self, symbol: str, position_side: PositionSide | None = None) -> Decimal:
        """Return the signed position the exchange holds from its own fills (long > 0)."""
        return self._positions.get((symbol, position_side), _ZERO)

    def set_position(
        self, symbol: str, quantity: Decimal, position_side: PositionSide | None = None
    ) -> None:
        """Seed a position held before the simulation (signed; short < 0), e.g. on restart."""
        self._positions[(symbol, position_side)] = quantity

    def last_price(self, symbol: str) -> Decimal | None:
        """Return the last close or trade price seen for ``symbol``."""
        last = self._last_price.get(symbol)
        return None if last is None else _decimal(last)

    def drain_funding(self) -> list[FundingPayment]:
        """Return and forget the funding payments settled since the last call."""
        payments, self._payments = self._payments, []
        return payments

    # ----------------------------------------------------------------- market data
    def on_candle(
        self,
        symbol: str,
        ts_ms: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> list[OrderUpdate]:
        """Match the open orders of ``symbol`` against one candle (``ts_ms`` = its open time).

        Funding due at or before ``ts_ms`` settles first, on the position held before the candle.
        """
        count = self._events.get(symbol, 0) + 1
        self._events[symbol] = count
        schedule = self._funding.get(symbol)
        if schedule is not None:
            due = schedule.next_settle_ms
            if due is not None and due <= ts_ms:
                self._settle_funding(symbol, schedule, ts_ms, open)
        updates: list[OrderUpdate] = []
        book = self._books.get(symbol)
        if book:
            share = self._share
            budget = None if share is None or math.isnan(volume) else _decimal(share * volume)
            self._matcher.match(
                book, count, ts_ms * _NS_PER_MS, open, high, low, budget, False, updates
            )
        self._last_price[symbol] = close
        return updates

    def on_trade(
        self,
        symbol: str,
        ts_ms: int,
        price: float,
        quantity: float,
        side: OrderSide | None = None,
    ) -> list[OrderUpdate]:
        """Match the open orders of ``symbol`` against one printed trade.

        The fill quantity is capped by the trade's quantity (times ``max_volume_share`` when
        set). ``side`` (the aggressor) is accepted for the feed's sake: a print through a
        limit fills it whoever the aggressor was.
        """
        count = self._events.get(symbol, 0) + 1
        self._events[symbol] = count
        schedule = self._funding.get(symbol)
        if schedule is not None:
            due = schedule.next_settle_ms
            if due is not None and due <= ts_ms:
                self._settle_funding(symbol, schedule, ts_ms, price)
        updates: list[OrderUpdate] = []
        book = self._books.get(symbol)
        if book:
            share = self._share
            budget = _decimal(quantity if share is None else quantity * share)
            self._matcher.match(
                book, count, ts_ms * _NS_PER_MS, price, price, price, budget, True, updates
            )
        self._last_price[symbol] = price
        return updates

    # ----------------------------------------------------------------- funding
    def _settle_funding(
        self, symbol: str, schedule: FundingSchedule, ts_ms: int, fallback: float
    ) -> None:
        last = self._last_price.get(symbol, fallback)
        self._payments += settle_due(
            schedule,
            self._instruments[symbol],
            self._net_position(symbol),
            ts_ms,
            mark=self._marks.get(symbol),
            last_price=_decimal(last),
        )

    def _net_position(self, symbol: str) -> Decimal:
        positions = self._positions
        return sum((positions.get((symbol, side), _ZERO) for side in _POSITION_KEYS), _ZERO)

    # ----------------------------------------------------------------- event search
    def next_event_index(
        self,
        symbol: str,
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        start: int,
        *,
        ts_ms: npt.NDArray[np.int64] | None = None,
    ) -> int | None:
        """Return the first candle index >= ``start`` where an open order of ``symbol`` can
        trigger or fill (or None), so the caller can skip the quiet candles in between.

        ``high`` / ``low`` are the candles' arrays. With ``ts_ms`` (the candles' open times) the
        search also honours the latency, and, while a position is open on a perpetual with a
        funding series, returns the last candle before each funding time and the candle at it.
        A volume cap can still leave the returned candle without a fill.
        """
        stop = int(high.shape[0])
        if start >= stop:
            return None
        best: int | None = None
        touch = self._touch
        for record in self._books.get(symbol, {}).values():
            begin = start
            if ts_ms is not None:
                eligible_ms = -(-record.eligible_ns // _NS_PER_MS)
                begin = max(start, int(np.searchsorted(ts_ms, eligible_ms, side="left")))
            found = order_event_index(
                record, high, low, begin, stop if best is None else best, touch=touch
            )
            if found is not None:
                best = found
                if found == start:
                    return found
        schedule = self._funding.get(symbol)
        due = None if schedule is None else schedule.next_settle_ms
        if ts_ms is not None and due is not None and self._holds_position(symbol):
            funding_index = funding_event_index(ts_ms, due, start)
            if funding_index is not None and (best is None or funding_index < best):
                best = funding_index
        return best

    def _holds_position(self, symbol: str) -> bool:
        return any(self._positions.get((symbol, side), _ZERO) != 0 for side in _POSITION_KEYS)
