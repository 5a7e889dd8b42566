"""One account on one market: order records, matching through aegis.venues.sim, bookkeeping."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from aegis.model.errors import OrderNotFound
from aegis.model.events import Fill, FundingPayment, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.venues.emulator import errors
from aegis.venues.emulator.checks import check_order
from aegis.venues.emulator.errors import BinanceError
from aegis.venues.emulator.income import IncomeLog
from aegis.venues.emulator.ledger import FuturesLedger, SpotLedger
from aegis.venues.emulator.markets import MarketKind, SymbolSpec
from aegis.venues.emulator.records import AlgoRecord, OrderRecord, TradeRecord, order_trade_update
from aegis.venues.emulator.translate import OrderRequest, build_instruments, sim_order
from aegis.venues.sim import FillModel, FundingSeries, SimulatedExchange

_Record = TypeVar("_Record", OrderRecord, AlgoRecord)

__all__ = ["AccountVenue", "OrderRequest", "build_instruments"]


class AccountVenue:
    """The orders, trades and balances of one API key on one market (USD-M or spot).

    Every change appends user-stream events to ``outbox``; the server drains it.
    """

    def __init__(
        self,
        kind: MarketKind,
        specs: Mapping[str, SymbolSpec],
        instruments: Mapping[str, Instrument],
        fill_model: FillModel,
        ids: Iterator[int],
        now_ms: Callable[[str], int],
        mark: Callable[[str], Decimal],
        ledger: FuturesLedger | SpotLedger,
        funding: Mapping[str, FundingSeries] | None = None,
    ) -> None:
        self.kind = kind
        self.specs = specs
        self._unified = {s.symbol_id: s.unified_symbol for s in specs.values()}
        self._symbol_ids = {s.unified_symbol: s.symbol_id for s in specs.values()}
        # The sim settles funding (OR3); ``funding`` is keyed by unified symbol.
        self.sim = SimulatedExchange(instruments, fill_model, funding=funding)
        self._ids = ids
        self._trade_ids = itertools.count(1)
        self.now_ms = now_ms
        self.mark = mark
        self.ledger = ledger
        self.orders: dict[int, OrderRecord] = {}
        self.algos: dict[int, AlgoRecord] = {}
        # ids of the orders that may still be open, oldest first: every order check walks the
        # open orders, and walking the whole history made each placement O(orders placed)
        self._open_ids: dict[int, None] = {}
        self._open_algo_ids: dict[int, None] = {}
        self.trades: list[TradeRecord] = []
        self.income = IncomeLog(itertools.count(1))
        self.outbox: list[dict[str, Any]] = []
        self._by_sim: dict[str, OrderRecord | AlgoRecord] = {}
        self._held: list[tuple[OrderRecord, OrderRequest]] = []

    # ------------------------------------------------------------------ lookups
    def find_order(self, order_id: int | None, client_id: str | None) -> OrderRecord:
        """The order by id or client id (latest with that client id); -2013 if unknown."""
        if order_id is not None and order_id in self.orders:
            return self.orders[order_id]
        if client_id is not None:
            for record in reversed(self.orders.values()):
                if record.client_order_id == client_id:
                    return record
        raise errors.order_does_not_exist()

    def find_algo(self, algo_id: int | None, client_id: str | None) -> AlgoRecord:
        """The algo order by id or client algo id; -2013 if unknown."""
        if algo_id is not None and algo_id in self.algos:
            return self.algos[algo_id]
        for record in reversed(self.algos.values()):
            if client_id is not None and record.client_algo_id == client_id:
                return record
        raise errors.order_does_not_exist()

    def open_orders(self, symbol_id: str | None = None) -> list[OrderRecord]:
        """Open regular orders, oldest first."""
        return _still_open(self.orders, self._open_ids, symbol_id)

    def open_algos(self, symbol_id: str | None = None) -> list[AlgoRecord]:
        """Open (untriggered) algo orders, oldest first."""
        return _still_open(self.algos, self._open_algo_ids, symbol_id)

    def open_order_margin(self) -> Decimal:
        """Initial margin reserved by open non-reduce-only USD-M orders."""
        if not isinstance(self.ledger, FuturesLedger):
            return Decimal(0)
        total = Decimal(0)
        for order in self.open_orders():
            if not order.reduce_only:
                price = order.price if order.price > 0 else self.mark(order.symbol_id)
                remaining = order.quantity - order.executed_qty
                total += remaining * price / self.ledger.leverage_of(order.symbol_id)
        return total

    def spot_locked(self) -> dict[str, Decimal]:
        """Spot assets locked by open orders."""
        locked: dict[str, Decimal] = {}
        for order in self.open_orders():
            spec = self.specs[order.symbol_id]
            remaining = order.quantity - order.executed_qty
            if order.side == "BUY":
                price = order.price if order.price > 0 else self.mark(order.symbol_id)
                locked[spec.quote] = locked.get(spec.quote, Decimal(0)) + remaining * price
            else:
                locked[spec.base] = locked.get(spec.base, Decimal(0)) + remaining
        return locked

    # ------------------------------------------------------------------ placing
    def place(
        self, request: OrderRequest, *, is_algo: bool, hold_candles: int = 0
    ) -> OrderRecord | AlgoRecord:
        """Validate and accept an order; raise BinanceError with Binance's code otherwise.

        ``hold_candles`` keeps a regular order away from matching that many candles (the
        ``fill_delay`` fault): it rests as NEW and fills late.
        """
        check_order(self, request, is_algo=is_algo)
        now = self.now_ms(request.symbol_id)
        new_id = next(self._ids)
        if is_algo:
            algo = AlgoRecord(
                algo_id=new_id,
                client_algo_id=request.client_id,
                symbol_id=request.symbol_id,
                side=request.side,
                order_type=request.type,
                quantity=request.quantity,
                trigger_price=request.stop_price or Decimal(0),
                price=request.price or Decimal(0),
                reduce_only=request.reduce_only,
                close_position=request.close_position,
                position_side=request.position_side,
                time_in_force=request.time_in_force,
                create_time_ms=now,
                sim_id=f"a{new_id}",
            )
            self.algos[new_id] = algo
            self._open_algo_ids[new_id] = None
            self._submit(algo.sim_id, algo, request, now)
            self.outbox.append(algo.to_event(now))
            return algo
        order = OrderRecord(
            kind=self.kind,
            order_id=new_id,
            client_order_id=request.client_id,
            symbol_id=request.symbol_id,
            side=request.side,
            type=request.type,
            quantity=request.quantity,
            price=request.price or Decimal(0),
            stop_price=request.stop_price or Decimal(0),
            time_in_force=request.time_in_force,
            reduce_only=request.reduce_only,
            position_side=request.position_side,
            time_ms=now,
            update_time_ms=now,
            sim_id=f"o{new_id}",
        )
        self.orders[new_id] = order
        self._open_ids[new_id] = None
        self._emit_order(order, "NEW", None)
        if hold_candles > 0:
            order.held_candles = hold_candles
            self._held.append((order, request))
        else:
            self._submit(order.sim_id, order, request, now)
        return order

    # ------------------------------------------------------------------ matching
    def _submit(
        self, sim_id: str, record: OrderRecord | AlgoRecord, request: OrderRequest, now_ms: int
    ) -> None:
        order = sim_order(request, sim_id, self._unified[request.symbol_id], now_ms)
        self._by_sim[sim_id] = record
        reference = self.mark(request.symbol_id)
        updates = self.sim.submit(order, now_ms * 1_000_000, reference_price=reference)
        for update in updates:
            if update.kind is OrderEventKind.REJECT and update.client_order_id == sim_id:
                self._close(record, "REJECTED", now_ms)
                raise BinanceError(-1013, f"Order rejected: {update.reason}")
        self._apply(updates)

    def cancel(self, record: OrderRecord | AlgoRecord) -> None:
        """Cancel an open order; -2011 when it is not open."""
        if not record.is_open:
            raise errors.unknown_order_cancel()
        now = self.now_ms(record.symbol_id)
        held = [pair for pair in self._held if pair[0] is record]
        if held:
            self._held.remove(held[0])
        else:
            try:
                self._apply(self.sim.cancel(record.sim_id, now * 1_000_000))
            except OrderNotFound as exc:
                raise errors.unknown_order_cancel() from exc
        if record.is_open:
            self._close(record, "CANCELED", now)

    def on_candle(
        self, symbol_id: str, ts_ms: int, values: tuple[float, float, float, float, float]
    ) -> None:
        """Match the open orders of ``symbol_id`` against a closed candle."""
        if symbol_id not in self._unified:
            return
        open_, high, low, close, volume = values
        updates = self.sim.on_candle(
            self._unified[symbol_id], ts_ms, open_, high, low, close, volume
        )
        # Funding settles first, on the position held before the candle (as the sim does).
        for payment in self.sim.drain_funding():
            self._charge_funding(payment)
        self._apply(updates)
        for pair in list(self._held):
            order, request = pair
            if order.symbol_id != symbol_id:
                continue
            order.held_candles -= 1
            if order.held_candles <= 0:
                self._held.remove(pair)
                if order.is_open:
                    self._submit(order.sim_id, order, request, self.now_ms(symbol_id))

    def _charge_funding(self, payment: FundingPayment) -> None:
        """Book a funding payment computed by the sim: wallet, income history, user stream."""
        if not isinstance(self.ledger, FuturesLedger):
            return
        symbol_id = self._symbol_ids[payment.symbol]
        asset = self.specs[symbol_id].quote
        time_ms = payment.ts_ns // 1_000_000
        self.ledger.charge_funding(asset, payment.amount)
        self.income.book(symbol_id, "FUNDING_FEE", payment.amount, asset, time_ms)
        self.outbox.append(
            self.ledger.account_update(
                time_ms,
                symbol_id,
                payment.mark_price,
                reason="FUNDING_FEE",
                balance_change=(asset, payment.amount),
            )
        )

    def _apply(self, updates: list[OrderUpdate]) -> None:
        for update in updates:
            record = self._by_sim.get(update.client_order_id)
            if record is None:
                continue
            now = update.ts_ns // 1_000_000
            if update.fill is not None:
                self._fill(record, update.fill)
            elif update.kind is OrderEventKind.CANCEL and record.is_open:
                self._close(record, "CANCELED", now)
            elif update.kind is OrderEventKind.EXPIRE and record.is_open:
                self._close(record, "EXPIRED", now)

    def _close(self, record: OrderRecord | AlgoRecord, status: str, now_ms: int) -> None:
        if isinstance(record, AlgoRecord):
            record.algo_status = status
            record.update_time_ms = now_ms
            self.outbox.append(record.to_event(now_ms))
            return
        record.status = status
        record.update_time_ms = now_ms
        self._emit_order(record, status if status != "REJECTED" else "REJECTED", None)

    def _trigger(self, algo: AlgoRecord, now_ms: int) -> OrderRecord:
        """An algo order triggered: it becomes a regular order, as on Binance."""
        order_id = next(self._ids)
        order = OrderRecord(
            kind=self.kind,
            order_id=order_id,
            client_order_id=algo.client_algo_id,
            symbol_id=algo.symbol_id,
            side=algo.side,
            type="MARKET" if algo.order_type.endswith("MARKET") else "LIMIT",
            quantity=algo.quantity,
            price=algo.price,
            stop_price=algo.trigger_price,
            time_in_force=algo.time_in_force,
            reduce_only=algo.reduce_only,
            position_side=algo.position_side,
            time_ms=now_ms,
            update_time_ms=now_ms,
            close_position=algo.close_position,
            sim_id=algo.sim_id,
        )
        self.orders[order_id] = order
        self._open_ids[order_id] = None
        algo.actual_order_id = order_id
        algo.trigger_time_ms = now_ms
        algo.update_time_ms = now_ms
        algo.algo_status = "TRIGGERED"
        self.outbox.append(algo.to_event(now_ms))
        algo.algo_status = "FINISHED"
        self.outbox.append(algo.to_event(now_ms))
        self._by_sim[algo.sim_id] = order
        self._emit_order(order, "NEW", None)
        return order

    def _fill(self, record: OrderRecord | AlgoRecord, fill: Fill) -> None:
        now = fill.ts_ns // 1_000_000
        order = self._trigger(record, now) if isinstance(record, AlgoRecord) else record
        order.executed_qty += fill.quantity
        order.cum_quote += fill.quantity * fill.price
        order.status = "FILLED" if order.executed_qty >= order.quantity else "PARTIALLY_FILLED"
        order.update_time_ms = now
        spec = self.specs[order.symbol_id]
        if isinstance(self.ledger, FuturesLedger):
            realized = self.ledger.apply_fill(
                order.symbol_id,
                order.position_side,
                order.side,
                fill.price,
                fill.quantity,
                fill.fee,
                fill.fee_currency,
            )
        else:
            realized = Decimal(0)
            self.ledger.apply_fill(
                spec.base,
                spec.quote,
                order.side,
                fill.price,
                fill.quantity,
                fill.fee,
                fill.fee_currency,
            )
        trade = TradeRecord(
            kind=self.kind,
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            symbol_id=order.symbol_id,
            side=order.side,
            price=fill.price,
            quantity=fill.quantity,
            commission=fill.fee,
            commission_asset=fill.fee_currency or spec.quote,
            realized_pnl=realized,
            is_maker=fill.liquidity.value == "maker",
            position_side=order.position_side,
            time_ms=now,
        )
        self.trades.append(trade)
        self._emit_order(order, "TRADE", trade)
        if isinstance(self.ledger, FuturesLedger):
            trade_id = str(trade.trade_id)
            self.income.book(order.symbol_id, "REALIZED_PNL", realized, spec.quote, now, trade_id)
            fee_asset = trade.commission_asset
            self.income.book(order.symbol_id, "COMMISSION", -fill.fee, fee_asset, now, trade_id)
            mark = self.mark(order.symbol_id)
            self.outbox.append(self.ledger.account_update(now, order.symbol_id, mark))

    def _emit_order(self, order: OrderRecord, execution: str, trade: TradeRecord | None) -> None:
        if self.kind == "usdm":
            time_ms = trade.time_ms if trade is not None else order.update_time_ms
            self.outbox.append(order_trade_update(order, execution, time_ms, trade))


def _still_open(
    records: Mapping[int, _Record], candidates: dict[int, None], symbol_id: str | None
) -> list[_Record]:
    """The open records among ``candidates`` (dropping those that closed), oldest first."""
    found: list[_Record] = []
    closed: list[int] = []
    for record_id in candidates:
        record = records[record_id]
        if not record.is_open:
            closed.append(record_id)
        elif symbol_id is None or record.symbol_id == symbol_id:
            found.append(record)
    for record_id in closed:
        del candidates[record_id]
    return found
