"""Balances, positions and equity; applies fills and funding (OR3, OR7)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Final

from aegis.model.enums import MarketKind, OrderSide, PositionMode, PositionSide
from aegis.model.events import Fill, FundingPayment
from aegis.model.instrument import Instrument
from aegis.model.position import Position

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_LONG: Final = PositionSide.LONG
_SHORT: Final = PositionSide.SHORT
_BUY: Final = OrderSide.BUY
_SPOT: Final = MarketKind.SPOT
_HEDGE: Final = PositionMode.HEDGE


class Portfolio:
    """Cash per currency and position legs keyed by ``(symbol, PositionSide)``.

    Spot: a buy spends quote cash (plus a quote fee) and a sell receives it; a base-currency fee
    shrinks the position. Linear derivatives: cash moves only by realised PnL, fees and funding;
    the notional does not. One-way mode keeps one net leg per symbol whose side follows the net
    quantity (a fill through zero flips it). Hedge mode keeps long and short legs apart and
    never nets them (OR7); a hedge-mode fill must name its ``position_side``. Money totals
    (``realised_pnl``, ``fees_paid``, ``funding_paid``) are in quote currency.
    """

    __slots__ = (
        "_fees_paid",
        "_funding_received",
        "_leverage",
        "_positions",
        "_symbol_instruments",
        "_trading_pnl",
        "cash",
        "position_mode",
    )

    def __init__(
        self,
        cash: Mapping[str, Decimal],
        position_mode: PositionMode = PositionMode.ONE_WAY,
        *,
        leverage: Decimal | Mapping[str, Decimal] = _ONE,
    ) -> None:
        self.cash: dict[str, Decimal] = dict(cash)
        self.position_mode = position_mode
        self._leverage = leverage
        self._positions: dict[tuple[str, PositionSide], Position] = {}
        self._symbol_instruments: dict[str, Instrument] = {}
        self._trading_pnl = _ZERO
        self._fees_paid = _ZERO
        self._funding_received = _ZERO

    # ----------------------------------------------------------------- updates
    def apply_fill(self, fill: Fill, instrument: Instrument) -> Decimal:
        """Account one fill; return the trading PnL it realised (before fees).

        Raises ``ValueError`` for a hedge-mode fill without ``position_side`` or one that closes
        more than its leg holds.
        """
        symbol = fill.symbol
        self._symbol_instruments[symbol] = instrument
        quantity = fill.quantity
        price = fill.price
        is_buy = fill.side is _BUY
        fee = fill.fee
        cash = self.cash
        # the fee first, written out here: this method runs for every fill of a backtest
        if not fee:
            fee_in_quote = _ZERO
        else:
            fee_currency = fill.fee_currency
            if fee_currency == instrument.base:
                fee_in_quote = fee * price
                # a fee taken in base shrinks what a buy delivers (Binance spot)
                if is_buy:
                    quantity = quantity - fee
            else:
                cash[fee_currency] = cash.get(fee_currency, _ZERO) - fee
                # a fee in a third currency (e.g. BNB) has no quote value here: only cash moves
                fee_in_quote = fee if fee_currency == instrument.quote else _ZERO
            self._fees_paid += fee_in_quote
        kind = instrument.kind
        if kind is _SPOT:
            notional = price * fill.quantity * instrument.contract_size
            quote = instrument.quote
            cash[quote] = cash.get(quote, _ZERO) + (-notional if is_buy else notional)
        if self.position_mode is _HEDGE:
            realised = self._fill_hedge(fill, instrument, quantity, is_buy)
            leg = self._positions.get((symbol, fill.position_side or (_LONG if is_buy else _SHORT)))
            if leg is not None:
                leg.fees_paid += fee_in_quote
        else:
            realised = self._fill_one_way(symbol, instrument, quantity, price, is_buy, fee_in_quote)
        if kind is not _SPOT:
            quote = instrument.quote
            cash[quote] = cash.get(quote, _ZERO) + realised
        self._trading_pnl += realised
        return realised

    def _fill_one_way(
        self,
        symbol: str,
        instrument: Instrument,
        quantity: Decimal,
        price: Decimal,
        is_buy: bool,
        fee: Decimal,
    ) -> Decimal:
        # The fee belongs to the leg the fill trades: the part that closes the opposite leg is
        # charged to it (an exit's fee is that position's cost), the rest to the opened leg.
        positions = self._positions
        opposite = positions.get((symbol, _SHORT if is_buy else _LONG))
        # close the opposite leg first, then open or grow this side's leg with the rest
        realised = _ZERO
        closing = _ZERO
        rest = quantity
        if opposite is not None:
            held = opposite.quantity
            closing = min(quantity, held)
            if held:
                realised = opposite.reduce(closing, price)
                rest = quantity - closing
        opened_key = (symbol, _LONG if is_buy else _SHORT)
        opened = positions.get(opened_key)
        if rest:
            if opened is None:
                opened = positions[opened_key] = Position(
                    symbol=symbol,
                    side=opened_key[1],
                    contract_size=instrument.contract_size,
                )
            opened.increase(rest, price)
        if fee:
            closing_fee = fee * closing / quantity if closing else _ZERO
            if opposite is not None and closing:
                opposite.fees_paid += closing_fee
            if opened is not None and fee - closing_fee:
                opened.fees_paid += fee - closing_fee
        return realised

    def apply_funding(self, payment: FundingPayment) -> None:
        """Book a funding payment: cash moves by ``amount``; open legs share it by quantity."""
        instrument = self._symbol_instruments.get(payment.symbol)
        currency = instrument.quote if instrument is not None else self._default_currency()
        self.cash[currency] = self.cash.get(currency, _ZERO) + payment.amount
        self._funding_received += payment.amount
        legs = [leg for leg in self._legs_of(payment.symbol) if leg.quantity]
        total = sum((leg.quantity for leg in legs), _ZERO)
        for leg in legs:
            leg.funding_received += payment.amount * leg.quantity / total

    # ----------------------------------------------------------------- queries
    @property
    def realised_pnl(self) -> Decimal:
        """Return realised PnL net of fees and funding."""
        return self._trading_pnl - self._fees_paid + self._funding_received

    @property
    def fees_paid(self) -> Decimal:
        """Return the fees paid, valued in quote currency."""
        return self._fees_paid

    @property
    def funding_paid(self) -> Decimal:
        """Return the funding paid (negative when the account received more than it paid)."""
        return -self._funding_received

    @property
    def margin_used(self) -> Decimal:
        """Return the margin locked by derivative legs: entry notional / leverage."""
        total = _ZERO
        for (symbol, _), leg in self._positions.items():
            instrument = self._symbol_instruments[symbol]
            if leg.quantity and instrument.kind.is_derivative:
                total += leg.entry_notional() / self.leverage(symbol)
        return total

    def leverage(self, symbol: str) -> Decimal:
        """Return the leverage used for ``symbol`` (1 unless configured)."""
        if isinstance(self._leverage, Decimal):
            return self._leverage
        return self._leverage.get(symbol, _ONE)

    def position(self, symbol: str, side: PositionSide | None = None) -> Position | None:
        """Return the open leg of ``symbol`` (one-way: the net leg; hedge: ``side``'s leg)."""
        if side is not None:
            leg = self._positions.get((symbol, side))
            return leg if leg is not None and leg.quantity else None
        for leg in self._legs_of(symbol):
            if leg.quantity:
                return leg
        return None

    def positions(self) -> Iterator[Position]:
        """Yield every open leg."""
        return (leg for leg in self._positions.values() if leg.quantity)

    def is_flat(self) -> bool:
        """Return True when no leg is open (``positions()`` would yield nothing)."""
        # a loop, not all(generator): the risk gate asks on every entry
        for leg in self._positions.values():  # noqa: SIM110
            if leg.quantity:
                return False
        return True

    def legs(self, symbol: str) -> list[Position]:
        """Return every leg of ``symbol`` ever opened, closed ones included (their PnL, fees)."""
        return self._legs_of(symbol)

    def equity(self, marks: Mapping[str, Decimal], currency: str | None = None) -> Decimal:
        """Return cash in ``currency`` plus open legs at ``marks`` (spot value, derivative PnL).

        ``currency`` defaults to the first cash currency. Raises ``KeyError`` naming a symbol
        with an open leg and no mark.
        """
        currency = self._default_currency() if currency is None else currency
        total = self.cash.get(currency, _ZERO)
        # the open legs, as positions() yields them, without a generator (every entry sizes)
        for leg in self._positions.values():
            if not leg.quantity:
                continue
            instrument = self._symbol_instruments[leg.symbol]
            if instrument.quote != currency:
                continue
            if leg.symbol not in marks:
                raise KeyError(f"no mark price for open position {leg.symbol} ({leg.side})")
            mark = marks[leg.symbol]
            if instrument.kind is not _SPOT:
                total += leg.unrealised_pnl(mark)
            else:
                total += leg.signed_quantity * mark * instrument.contract_size
        return total

    # ----------------------------------------------------------------- internals
    def _default_currency(self) -> str:
        for currency in self.cash:
            return currency
        return "USDT"

    def _legs_of(self, symbol: str) -> list[Position]:
        return [leg for side in (_LONG, _SHORT) if (leg := self._positions.get((symbol, side)))]

    def _leg(self, symbol: str, side: PositionSide, instrument: Instrument) -> Position:
        leg = self._positions.get((symbol, side))
        if leg is None:
            leg = Position(symbol=symbol, side=side, contract_size=instrument.contract_size)
            self._positions[(symbol, side)] = leg
        return leg

    def _fill_hedge(
        self, fill: Fill, instrument: Instrument, quantity: Decimal, is_buy: bool
    ) -> Decimal:
        side = fill.position_side
        if side is None:
            raise ValueError(
                f"fill {fill.trade_id} on {fill.symbol} needs position_side in hedge mode"
            )
        leg = self._leg(fill.symbol, side, instrument)
        if is_buy is (side is _LONG):
            leg.increase(quantity, fill.price)
            return _ZERO
        return leg.reduce(quantity, fill.price)
