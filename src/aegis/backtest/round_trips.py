"""Pair fills into round trips: a position opened from flat and closed back to flat.

Funding payments (perpetuals) count in the round trip open on their symbol when they settled,
so a round trip's ``pnl`` is net of fees and funding, like the account's equity (OR3).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import overload

from aegis.model.enums import OrderSide, PositionSide
from aegis.model.events import Fill, FundingPayment

_ZERO = Decimal(0)
_ONE = Decimal(1)
# The exchange (Binance, and aegis.venues.sim after it) stamps a funding a few ms after the
# funding time but charges the position held at the whole second, before any fill at that
# instant: a payment is ordered among the fills by its time floored to the second.
_FUNDING_GRID_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One trade from flat to flat; ``pnl`` is net of the fees on both sides and of funding.

    An open round trip (``is_open``) has no exit; its ``pnl`` is marked at the last close.
    Prices are quantity-weighted averages when a side took several fills. ``funding`` is the
    net funding the account received while the trade was open (negative when it paid; 0
    without funding payments): ``pnl`` = trading PnL - ``fees`` + ``funding``.
    """

    symbol: str
    side: PositionSide
    entry_ts_ms: int
    exit_ts_ms: int | None
    entry_price: Decimal
    exit_price: Decimal | None
    quantity: Decimal
    pnl: Decimal
    fees: Decimal
    is_open: bool
    funding: Decimal = _ZERO


class _Open:
    """Running state of the round trip being built for one symbol."""

    __slots__ = (
        "entry_notional",
        "entry_ts_ns",
        "exit_notional",
        "exit_qty",
        "fees",
        "funding",
        "qty",
        "sign",
    )

    def __init__(self, sign: int, ts_ns: int) -> None:
        self.sign = sign
        self.entry_ts_ns = ts_ns
        self.qty = _ZERO  # entered quantity
        self.entry_notional = _ZERO
        self.exit_qty = _ZERO
        self.exit_notional = _ZERO
        self.fees = _ZERO
        self.funding = _ZERO  # received while open (signed as the account's cash flow)


def _closed_pnl(state: _Open, multiplier: Decimal) -> Decimal:
    pnl = (state.exit_notional - state.entry_notional) * multiplier * state.sign - state.fees
    funding = state.funding
    return pnl + funding if funding else pnl  # no Decimal add per trip without funding


def _close(state: _Open, symbol: str, ts_ns: int, multiplier: Decimal) -> RoundTrip:
    return RoundTrip(
        symbol,
        PositionSide.LONG if state.sign > 0 else PositionSide.SHORT,
        state.entry_ts_ns // 1_000_000,
        ts_ns // 1_000_000,
        state.entry_notional / state.qty,
        state.exit_notional / state.exit_qty,
        state.qty,
        _closed_pnl(state, multiplier),
        state.fees,
        False,
        state.funding,
    )


def _mark_open(state: _Open, symbol: str, last_close: Decimal, multiplier: Decimal) -> RoundTrip:
    entry_price = state.entry_notional / state.qty
    remaining = state.qty - state.exit_qty
    # realised part (partial exits) + the rest marked at the last close
    gross = (
        state.exit_notional - entry_price * state.exit_qty + (last_close - entry_price) * remaining
    )
    return RoundTrip(
        symbol,
        PositionSide.LONG if state.sign > 0 else PositionSide.SHORT,
        state.entry_ts_ns // 1_000_000,
        None,
        entry_price,
        None,
        state.qty,
        gross * multiplier * state.sign - state.fees + state.funding,
        state.fees,
        True,
        state.funding,
    )


def build_round_trips(
    fills: Iterable[Fill],
    last_close: Mapping[str, Decimal],
    contract_size: Mapping[str, Decimal],
    funding: Iterable[FundingPayment] = (),
) -> list[RoundTrip]:
    """Return the round trips of ``fills`` (in time order), open ones marked at ``last_close``.

    Fees are taken as quote currency. A fill that flips the position is split: the part that
    closes the current trade ends it, the rest opens the next one with a pro-rata fee.
    Each ``funding`` payment counts in the round trip open on its symbol when it settled (its
    ``ts_ns`` floored to the second, before any fill at that instant); a payment that settled
    while the symbol was flat belongs to no round trip.
    """
    return list(iter_round_trips(fills, last_close, contract_size, funding))


def _settle_ns(payment: FundingPayment) -> int:
    return payment.ts_ns - payment.ts_ns % _FUNDING_GRID_NS


def _segments(
    fills: Iterable[Fill], funding: Iterable[FundingPayment]
) -> Iterator[tuple[Iterable[Fill], list[FundingPayment]]]:
    """Cut ``fills`` (time order) at each settlement: (fills before it, payments settled then)."""
    payments = sorted(funding, key=_settle_ns)
    if not payments:
        yield fills, []  # one segment: the pairing loop runs as it would without funding
        return
    ordered = fills if isinstance(fills, Sequence) else list(fills)
    start = 0
    for payment in payments:
        # the fills strictly before the settlement; one at the same instant comes after it
        end = bisect.bisect_left(ordered, _settle_ns(payment), lo=start, key=_fill_ts_ns)
        yield ordered[start:end], [payment]
        start = end
    yield ordered[start:], []


def _fill_ts_ns(fill: Fill) -> int:
    return fill.ts_ns


def _book_funding(states: Mapping[str, _Open], payments: Iterable[FundingPayment]) -> None:
    for payment in payments:
        state = states.get(payment.symbol)
        if state is not None:  # a payment while flat belongs to no round trip
            state.funding += payment.amount


def iter_round_trips(
    fills: Iterable[Fill],
    last_close: Mapping[str, Decimal],
    contract_size: Mapping[str, Decimal],
    funding: Iterable[FundingPayment] = (),
) -> Iterator[RoundTrip]:
    """Yield the round trips `build_round_trips` returns, one at a time."""
    for symbol, state, exit_ts_ns in _pairs(fills, funding):
        multiplier = contract_size.get(symbol, _ONE)
        if exit_ts_ns is None:
            yield _mark_open(state, symbol, last_close[symbol], multiplier)
        else:
            yield _close(state, symbol, exit_ts_ns, multiplier)


def _pairs(
    fills: Iterable[Fill], funding: Iterable[FundingPayment]
) -> Iterator[tuple[str, _Open, int | None]]:
    """Yield ``(symbol, state, exit ts_ns)`` per closed trip, then ``(symbol, state, None)``
    per trip still open; a yielded state is final (a flip starts a new one)."""
    states: dict[str, _Open] = {}
    buy = OrderSide.BUY
    for segment, payments in _segments(fills, funding):
        for fill in segment:
            symbol = fill.symbol
            sign = 1 if fill.side is buy else -1
            quantity, price, fee = fill.quantity, fill.price, fill.fee
            state = states.get(symbol)
            if state is None:
                state = states[symbol] = _Open(sign, fill.ts_ns)
            if sign == state.sign:
                state.qty += quantity
                state.entry_notional += quantity * price
                state.fees += fee
                continue
            remaining = state.qty - state.exit_qty
            if quantity <= remaining:
                closing, closing_fee = quantity, fee
            else:
                closing = remaining
                closing_fee = fee * closing / quantity
            state.exit_qty += closing
            state.exit_notional += closing * price
            state.fees += closing_fee
            if closing == remaining:
                yield symbol, state, fill.ts_ns
                del states[symbol]
                rest = quantity - closing
                if rest > _ZERO:
                    flipped = states[symbol] = _Open(sign, fill.ts_ns)
                    flipped.qty = rest
                    flipped.entry_notional = rest * price
                    flipped.fees = fee - closing_fee
        if payments:
            _book_funding(states, payments)
    for symbol, state in states.items():
        yield symbol, state, None


class RoundTrips(Sequence[RoundTrip]):
    """The round trips of a fill list, built when first read; counts and PnLs without that.

    A backtest keeps its fills anyway; holding 18,000 `RoundTrip` objects (Decimals) beside
    them costs ~12 MB a million candles, while the summary needs only their number, how many
    are open and the closed ones' PnL. Those come from one pass over the fills that pairs them
    but builds no object; the objects are rebuilt (the same values: the fills are immutable)
    on the first item access.
    ``funding`` (a perpetual's settled payments) counts in the round trips as in
    `build_round_trips`; the PnLs are then net of fees and funding.
    """

    __slots__ = ("_args", "_trips", "closed_pnls", "open_count", "total")

    def __init__(
        self,
        fills: Sequence[Fill],
        last_close: Mapping[str, Decimal],
        contract_size: Mapping[str, Decimal],
        funding: Sequence[FundingPayment] = (),
    ) -> None:
        self._args = (fills, dict(last_close), dict(contract_size), tuple(funding))
        self._trips: list[RoundTrip] | None = None
        pnls: list[float] = []
        count = open_count = 0
        sizes = self._args[2]
        for symbol, state, exit_ts_ns in _pairs(fills, self._args[3]):
            count += 1
            if exit_ts_ns is None:
                open_count += 1
            else:  # the PnL `_close` computes, without the prices and the object
                pnls.append(float(_closed_pnl(state, sizes.get(symbol, _ONE))))
        self.total = count
        self.open_count = open_count
        self.closed_pnls = pnls  # net PnL of each closed round trip, in order, for the metrics

    def _built(self) -> list[RoundTrip]:
        if self._trips is None:
            self._trips = list(iter_round_trips(*self._args))
        return self._trips

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> RoundTrip: ...
    @overload
    def __getitem__(self, index: slice) -> list[RoundTrip]: ...
    def __getitem__(self, index: int | slice) -> RoundTrip | list[RoundTrip]:
        return self._built()[index]

    def __iter__(self) -> Iterator[RoundTrip]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RoundTrips | list | tuple):
            return self._built() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the list it stands for

    def __repr__(self) -> str:
        return f"RoundTrips(total={self.total}, open={self.open_count})"
