"""What a run leaves behind: the candles seen, fills and their bars, decisions, round trips.

``RunRecord`` feeds the run's summary. ``TradeTracker`` derives the round trips the journal
stores (PE2) from the position legs before and after each fill, with the semantics of
``aegis.backtest.build_round_trips``: a one-way fill through zero is split by
``split_one_way_flip`` into the part that closes the held leg (it ends that round trip) and the
rest, which opens the other leg and the next round trip, each with its pro-rata share of the
fee, so that live stored trades and backtest round trips agree.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from aegis.model.enums import PositionSide
from aegis.model.events import Fill
from aegis.model.position import Position
from aegis.model.signals import Decision
from aegis.store import TradeRecord

_ZERO: Final = Decimal(0)


@dataclass(slots=True)
class SymbolRecord:
    """One symbol's run: candle times and closes, fills and the candle index of each fill.

    ``opening_net`` and ``opening_equity`` are the symbol's signed position and the portfolio's
    equity when its first candle of the run was processed: a run that starts with a position
    (restored at a restart, or adopted before the first candle) carries it in from there.
    """

    symbol: str
    ts_ms: list[int] = field(default_factory=list)
    close: list[float] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    fill_bars: list[int] = field(default_factory=list)
    opening_net: Decimal = _ZERO
    opening_equity: Decimal | None = None

    def add_candle(self, ts_ms: int, close: float) -> None:
        """Record a processed candle."""
        self.ts_ms.append(ts_ms)
        self.close.append(close)

    def add_fill(self, fill: Fill) -> None:
        """Record a fill on the latest candle (the one being processed when it was applied)."""
        self.fills.append(fill)
        self.fill_bars.append(max(0, len(self.ts_ms) - 1))


@dataclass(slots=True)
class RunRecord:
    """Every symbol's record plus the recent decisions (for the live view)."""

    symbols: dict[str, SymbolRecord]
    initial_cash: Decimal
    recent_decisions: deque[Decision] = field(default_factory=lambda: deque(maxlen=20))
    decisions_taken: int = 0

    @classmethod
    def for_symbols(cls, symbols: tuple[str, ...], initial_cash: Decimal) -> RunRecord:
        """Return an empty record for ``symbols``."""
        return cls({symbol: SymbolRecord(symbol) for symbol in symbols}, initial_cash)

    def add_fill(self, fill: Fill) -> None:
        """Route a fill to its symbol's record (fills of other symbols are ignored)."""
        record = self.symbols.get(fill.symbol)
        if record is not None:
            record.add_fill(fill)

    def add_decision(self, decision: Decision) -> None:
        """Remember a decision for the live view."""
        self.recent_decisions.append(decision)
        self.decisions_taken += 1


@dataclass(slots=True)
class _OpenTrade:
    trade_id: str
    entry_ts_ns: int
    # the leg's net realised PnL (after fees and funding) and fees when the trade opened
    net_before: Decimal
    fees_before: Decimal
    entered: Decimal = _ZERO
    entry_notional: Decimal = _ZERO
    exited: Decimal = _ZERO
    exit_notional: Decimal = _ZERO


class TradeTracker:
    """Round trips per position leg, derived from the leg before and after each fill (PE2).

    A trade opens when its leg leaves flat and closes when the leg is flat again. Its ``pnl``
    is what the leg realised meanwhile net of fees and funding; ``quantity`` is the quantity
    entered, ``entry_price`` / ``exit_price`` the quantity-weighted averages of the entries /
    exits (as ``aegis.backtest.RoundTrip``); ``exit_price`` stays None while the trade is
    open, even partly exited. Every record also carries the leg's net realised PnL and fees
    when the trade opened and the quantity and notional exited so far, so ``open_trades``, the
    store's open trades at a restart, resume exactly: ``resume`` (or else the first fill of
    their leg) carries them on, every funding payment the leg settled since the trade opened
    counts in its ``pnl``, and its exit average counts the exits before the restart too.
    """

    def __init__(self, bot_id: str, open_trades: Iterable[TradeRecord] = ()) -> None:
        self.bot_id = bot_id
        self._open: dict[tuple[str, PositionSide], _OpenTrade] = {}
        self._restored = {(t.symbol, t.side): t for t in open_trades if t.is_open}

    def resume(self, legs: Iterable[Position]) -> None:
        """Carry on the restored open trades whose leg in ``legs`` (the store's) is open.

        Their baseline is taken now, so funding the leg settles before its next fill counts in
        the trade.
        """
        for leg in legs:
            key = (leg.symbol, leg.side)
            restored = self._restored.get(key)
            if restored is not None and leg.quantity and key not in self._open:
                self._open[key] = _resumed(self._restored.pop(key), leg)

    def on_fill(self, fill: Fill, before: Position | None, after: Position) -> TradeRecord:
        """Return the trade ``fill`` opened, grew, reduced or closed on leg ``after``.

        ``before`` is the same leg (symbol and side) before the fill, None if it did not
        exist. A one-way fill through zero must be split first (``split_one_way_flip``).
        """
        key = (after.symbol, after.side)
        held_before = _ZERO if before is None else before.quantity
        state = self._open.get(key)
        restored = self._restored.pop(key, None)
        if state is None and restored is not None and before is not None and held_before:
            state = _resumed(restored, before)
        if state is None or not held_before:
            state = _OpenTrade(
                f"{fill.client_order_id}:{after.side}",
                fill.ts_ns,
                _ZERO if before is None else before.net_realised_pnl,
                _ZERO if before is None else before.fees_paid,
            )
        moved = after.quantity - held_before
        if moved > _ZERO:
            state.entered += moved
            state.entry_notional += moved * fill.price
        elif moved < _ZERO:
            state.exited -= moved
            state.exit_notional -= moved * fill.price
        is_open = after.quantity > _ZERO
        if is_open:
            self._open[key] = state
        else:
            self._open.pop(key, None)
        return _record(self.bot_id, state, fill, after, is_open)


def _resumed(restored: TradeRecord, leg: Position) -> _OpenTrade:
    net_before, fees_before = restored.leg_net_at_open, restored.leg_fees_at_open
    if net_before is None or fees_before is None:
        # A row written before revision 0004 has no baseline: the leg's only trip (no fee paid
        # before it) owns all the leg holds, with every funding payment; on a leg with earlier
        # trips the trade's stored pnl singles out its share, so funding settled after its last
        # write and before the restart stays with the earlier trips, and (no exits stored) the
        # exit average counts only the exits seen since the restart.
        fees_before = leg.fees_paid - restored.fees
        net_before = leg.net_realised_pnl - restored.pnl if fees_before else _ZERO
    exited, exit_notional = restored.exited_quantity, restored.exit_notional
    if exited is None or exit_notional is None:
        exited = exit_notional = _ZERO
    return _OpenTrade(
        restored.trade_id,
        restored.entry_ts_ns,
        net_before,
        fees_before,
        entered=restored.quantity,
        entry_notional=restored.quantity * restored.entry_price,
        exited=exited,
        exit_notional=exit_notional,
    )


def _record(
    bot_id: str, state: _OpenTrade, fill: Fill, after: Position, is_open: bool
) -> TradeRecord:
    entered = state.entered
    entry_price = state.entry_notional / entered if entered else after.average_entry_price
    exit_price: Decimal | None = None
    if not is_open:
        exit_price = state.exit_notional / state.exited if state.exited else fill.price
    return TradeRecord(
        trade_id=state.trade_id,
        bot_id=bot_id,
        symbol=after.symbol,
        side=after.side,
        entry_ts_ns=state.entry_ts_ns,
        entry_price=entry_price,
        quantity=entered if entered else after.quantity,
        pnl=after.net_realised_pnl - state.net_before,
        fees=after.fees_paid - state.fees_before,
        is_open=is_open,
        exit_ts_ns=None if is_open else fill.ts_ns,
        exit_price=exit_price,
        leg_net_at_open=state.net_before,
        leg_fees_at_open=state.fees_before,
        exited_quantity=state.exited,
        exit_notional=state.exit_notional,
    )
