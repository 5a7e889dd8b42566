"""Round trips per position leg (PE2), shared by the runtime's journal and reconciliation.

``TradeTracker`` derives the round trips the store holds from the position legs before and
after each fill, with the semantics of ``aegis.backtest.build_round_trips``: a one-way fill
through zero is split by ``split_one_way_flip`` into the part that closes the held leg (it ends
that round trip) and the rest, which opens the other leg and the next round trip, each with its
pro-rata share of the fee, so that live stored trades and backtest round trips agree.

It lives here, below the engine, so that fills adopted by reconciliation (``OrderHealer``)
write the trades they imply with the very derivation the journal uses (``apply_fill``), in the
same transaction as the legs they move. ``aegis.engine.record`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aegis.execution.reconcile._positions import PositionBook, split_one_way_flip
from aegis.model import Fill, Instrument, Position, PositionSide
from aegis.store import Store, TradeRecord

_ZERO: Final = Decimal(0)


def stored_legs_and_trades(
    store: Store, tenant: str, bot_id: str, instruments: Mapping[str, Instrument]
) -> tuple[PositionBook, TradeTracker]:
    """Return the bot's stored position legs and its stored open trades resumed on them.

    What a restart, a heal of the running process and reconciliation's adoption all carry on
    from: fills applied afterwards (``apply_fill``) continue the legs and the trades.
    """
    book = PositionBook(store.positions(tenant, bot_id=bot_id), instruments)
    trades = TradeTracker(bot_id, store.trades(tenant, bot_id=bot_id, is_open=True))
    trades.resume(book.legs())
    return book, trades


def apply_fill(
    book: PositionBook, tracker: TradeTracker, fill: Fill
) -> tuple[list[Position], list[TradeRecord]]:
    """Move ``book`` by ``fill``; return the legs it moved and the trades it implies on them.

    A one-way fill through zero is applied in its two parts (``split_one_way_flip``): the
    closed leg and its ended trade, then the opened leg and its new trade.
    """
    moved: list[Position] = []
    trades: list[TradeRecord] = []
    for part in split_one_way_flip(fill, book.legs()):
        held = {leg.side: leg for leg in book.legs() if leg.symbol == part.symbol}
        leg = book.apply(part)
        moved.append(leg)
        trades.append(tracker.on_fill(part, held.get(leg.side), leg))
    return moved, trades


@dataclass(slots=True, kw_only=True)
class _OpenTrade:
    # the quantities and notionals entered and exited so far
    entered: Decimal = _ZERO
    entry_notional: Decimal = _ZERO
    exited: Decimal = _ZERO
    exit_notional: Decimal = _ZERO
    trade_id: str
    entry_ts_ns: int
    # the leg's net realised PnL (after fees and funding) and fees when the trade opened
    net_before: Decimal
    fees_before: Decimal


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
                trade_id=f"{fill.client_order_id}:{after.side}",
                entry_ts_ns=fill.ts_ns,
                net_before=_ZERO if before is None else before.net_realised_pnl,
                fees_before=_ZERO if before is None else before.fees_paid,
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
        trade_id=restored.trade_id,
        entry_ts_ns=restored.entry_ts_ns,
        net_before=net_before,
        fees_before=fees_before,
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
