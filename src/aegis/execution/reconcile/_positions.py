"""Position legs moved by adopted fills, so order, fill and position commit together (PE2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Final

from aegis.model import Fill, Instrument, OrderSide, Position, PositionSide

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)


def split_one_way_flip(fill: Fill, legs: Iterable[Position]) -> tuple[Fill, ...]:
    """Split a one-way ``fill`` that goes through zero into its closing and opening parts.

    ``legs`` are the position legs before the fill. A fill with a ``position_side`` (hedge
    mode) or one that does not exceed the opposite leg is returned whole. Otherwise the first
    part closes the opposite leg exactly and the second opens this side's leg with the rest;
    the fee is shared pro rata, as ``Portfolio`` and the backtest's round trips share it.
    """
    if fill.position_side is not None:
        return (fill,)
    opposite = PositionSide.SHORT if fill.side is OrderSide.BUY else PositionSide.LONG
    held = _ZERO
    for leg in legs:
        if leg.symbol == fill.symbol and leg.side is opposite:
            held = leg.quantity
    if not _ZERO < held < fill.quantity:
        return (fill,)
    closing_fee = fill.fee * held / fill.quantity
    return (
        replace(fill, quantity=held, fee=closing_fee),
        replace(fill, quantity=fill.quantity - held, fee=fill.fee - closing_fee),
    )


class PositionBook:
    """The bot's position legs keyed by ``(symbol, side)``, updated fill by fill.

    A fill with a ``position_side`` moves that leg only (hedge mode: long and short residuals
    stay apart, OR7); a fill without one nets one-way: it reduces the opposite leg first.
    """

    def __init__(
        self, positions: Iterable[Position], instruments: Mapping[str, Instrument]
    ) -> None:
        self._legs = {(p.symbol, p.side): replace(p) for p in positions}
        self._instruments = instruments

    def apply(self, fill: Fill) -> Position:
        """Apply ``fill``; return the leg it opened or increased, else the leg it reduced."""
        instrument = self._instruments.get(fill.symbol)
        is_buy = fill.side is OrderSide.BUY
        quantity = fill.quantity
        if fill.position_side is not None:
            leg = self._leg(fill.symbol, fill.position_side, instrument)
            if is_buy is (fill.position_side is PositionSide.LONG):
                leg.increase(quantity, fill.price)
            else:
                leg.reduce(min(quantity, leg.quantity), fill.price)
        else:
            opposite = self._legs.get(
                (fill.symbol, PositionSide.SHORT if is_buy else PositionSide.LONG)
            )
            leg = opposite if opposite is not None else self._own(fill, instrument)
            if opposite is not None and opposite.quantity:
                closed = min(quantity, opposite.quantity)
                opposite.reduce(closed, fill.price)
                quantity -= closed
            if quantity:
                # a one-way fill through zero opens the other leg: the opened leg is returned;
                # split_one_way_flip first to get the closed leg and the fee share as well
                leg = self._own(fill, instrument)
                leg.increase(quantity, fill.price)
        if instrument is not None and fill.fee and fill.fee_currency == instrument.quote:
            leg.fees_paid += fill.fee
        return replace(leg)

    def legs(self) -> list[Position]:
        """Return copies of every leg."""
        return [replace(leg) for leg in self._legs.values()]

    def _own(self, fill: Fill, instrument: Instrument | None) -> Position:
        side = PositionSide.LONG if fill.side is OrderSide.BUY else PositionSide.SHORT
        return self._leg(fill.symbol, side, instrument)

    def _leg(self, symbol: str, side: PositionSide, instrument: Instrument | None) -> Position:
        leg = self._legs.get((symbol, side))
        if leg is None:
            size = _ONE if instrument is None else instrument.contract_size
            leg = Position(symbol=symbol, side=side, contract_size=size)
            self._legs[(symbol, side)] = leg
        return leg
