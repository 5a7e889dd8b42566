"""One position leg: quantity, average entry, realised and unrealised PnL in quote currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aegis.model.enums import PositionSide

_ZERO: Final = Decimal(0)


@dataclass(slots=True)
class Position:
    """A long or short leg on one symbol, owned and updated by ``Portfolio``.

    ``quantity`` is the size (never negative); ``side`` says the direction. ``realised_pnl``
    is trading PnL before costs; ``net_realised_pnl`` subtracts fees and adds funding received.
    Treat instances returned by ``Portfolio`` as read-only views.
    """

    symbol: str
    side: PositionSide
    quantity: Decimal = _ZERO
    average_entry_price: Decimal = _ZERO
    realised_pnl: Decimal = _ZERO
    fees_paid: Decimal = _ZERO
    funding_received: Decimal = _ZERO
    contract_size: Decimal = Decimal(1)

    @property
    def is_open(self) -> bool:
        """Return True while the leg holds a quantity."""
        return self.quantity != 0

    @property
    def signed_quantity(self) -> Decimal:
        """Return the quantity, negative for a short leg."""
        return self.quantity if self.side is PositionSide.LONG else -self.quantity

    @property
    def net_realised_pnl(self) -> Decimal:
        """Return realised PnL net of fees and funding (quote currency)."""
        return self.realised_pnl - self.fees_paid + self.funding_received

    def unrealised_pnl(self, mark_price: Decimal) -> Decimal:
        """Return the open PnL at ``mark_price`` (quote currency)."""
        if not self.quantity:
            return _ZERO
        difference = mark_price - self.average_entry_price
        if self.side is PositionSide.SHORT:
            difference = -difference
        return difference * self.quantity * self.contract_size

    def entry_notional(self) -> Decimal:
        """Return the open quantity valued at the average entry price."""
        return self.quantity * self.average_entry_price * self.contract_size

    def increase(self, quantity: Decimal, price: Decimal) -> None:
        """Add ``quantity`` bought (long) or sold (short) at ``price``; moves the average."""
        held = self.quantity
        total = held + quantity
        if held:
            self.average_entry_price = (self.average_entry_price * held + price * quantity) / total
        else:
            self.average_entry_price = price
        self.quantity = total

    def reduce(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Close ``quantity`` at ``price``; return the trading PnL it realises.

        Raises ``ValueError`` when ``quantity`` exceeds the open quantity.
        """
        if quantity > self.quantity:
            raise ValueError(
                f"cannot close {quantity} of {self.side} {self.symbol}: only {self.quantity} open"
            )
        difference = price - self.average_entry_price
        if self.side is PositionSide.SHORT:
            difference = -difference
        pnl = difference * quantity * self.contract_size
        self.realised_pnl += pnl
        self.quantity -= quantity
        if not self.quantity:
            self.average_entry_price = _ZERO
        return pnl
