"""Pair fills into round trips: a position opened from flat and closed back to flat."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import overload

from aegis.model.enums import OrderSide, PositionSide
from aegis.model.events import Fill

_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One trade from flat to flat; ``pnl`` is net of the fees on both sides.

    An open round trip (``is_open``) has no exit; its ``pnl`` is marked at the last close.
    Prices are quantity-weighted averages when a side took several fills.
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


class _Open:
    """Running state of the round trip being built for one symbol."""

    __slots__ = (
        "entry_notional",
        "entry_ts_ns",
        "exit_notional",
        "exit_qty",
        "fees",
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


def _close(state: _Open, symbol: str, ts_ns: int, multiplier: Decimal) -> RoundTrip:
    entry_price = state.entry_notional / state.qty
    exit_price = state.exit_notional / state.exit_qty
    gross = (state.exit_notional - state.entry_notional) * multiplier * state.sign
    return RoundTrip(
        symbol,
        PositionSide.LONG if state.sign > 0 else PositionSide.SHORT,
        state.entry_ts_ns // 1_000_000,
        ts_ns // 1_000_000,
        entry_price,
        exit_price,
        state.qty,
        gross - state.fees,
        state.fees,
        False,
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
        gross * multiplier * state.sign - state.fees,
        state.fees,
        True,
    )


def build_round_trips(
    fills: Iterable[Fill],
    last_close: Mapping[str, Decimal],
    contract_size: Mapping[str, Decimal],
) -> list[RoundTrip]:
    """Return the round trips of ``fills`` (in time order), open ones marked at ``last_close``.

    Fees are taken as quote currency. A fill that flips the position is split: the part that
    closes the current trade ends it, the rest opens the next one with a pro-rata fee.
    """
    return list(iter_round_trips(fills, last_close, contract_size))


def iter_round_trips(
    fills: Iterable[Fill],
    last_close: Mapping[str, Decimal],
    contract_size: Mapping[str, Decimal],
) -> Iterator[RoundTrip]:
    """Yield the round trips `build_round_trips` returns, one at a time."""
    states: dict[str, _Open] = {}
    buy = OrderSide.BUY
    for fill in fills:
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
            yield _close(state, symbol, fill.ts_ns, contract_size.get(symbol, _ONE))
            del states[symbol]
            rest = quantity - closing
            if rest > _ZERO:
                flipped = states[symbol] = _Open(sign, fill.ts_ns)
                flipped.qty = rest
                flipped.entry_notional = rest * price
                flipped.fees = fee - closing_fee
    for symbol, state in states.items():
        yield _mark_open(state, symbol, last_close[symbol], contract_size.get(symbol, _ONE))


class RoundTrips(Sequence[RoundTrip]):
    """The round trips of a fill list, built when first read; counts and PnLs without that.

    A backtest keeps its fills anyway; holding 18,000 `RoundTrip` objects (Decimals) beside
    them costs ~12 MB a million candles, while the summary needs only their number, how many
    are open and the closed ones' PnL. Those come from one pass over `iter_round_trips`; the
    objects are rebuilt (the same values: the fills are immutable) on the first item access.
    """

    __slots__ = ("_args", "_trips", "closed_pnls", "open_count", "total")

    def __init__(
        self,
        fills: Sequence[Fill],
        last_close: Mapping[str, Decimal],
        contract_size: Mapping[str, Decimal],
    ) -> None:
        self._args = (fills, dict(last_close), dict(contract_size))
        self._trips: list[RoundTrip] | None = None
        pnls: list[float] = []
        count = open_count = 0
        for trip in iter_round_trips(*self._args):
            count += 1
            if trip.is_open:
                open_count += 1
            else:
                pnls.append(float(trip.pnl))
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
