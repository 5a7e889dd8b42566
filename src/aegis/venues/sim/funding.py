"""Funding schedules for linear perpetuals: rates per funding time and the mark used to settle."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from aegis.model.errors import ConfigError
from aegis.model.events import FundingPayment
from aegis.model.instrument import Instrument

# Binance stamps funding a few ms after the 8 h mark (e.g. 00:00:00.017): a funding time is
# floored to the whole second so it settles on the candle that opens at the mark.
_FUNDING_GRID_MS = 1000


class FundingSeries(Protocol):
    """Funding rates per period: ``aegis.data.Funding`` satisfies it (``ts_ms``, ``rate``)."""

    @property
    def ts_ms(self) -> Any:  # Any: a numpy array or any sequence of int timestamps
        """Funding times in UTC milliseconds, ascending."""

    @property
    def rate(self) -> Any:  # Any: a numpy array or any sequence of float / Decimal rates
        """Funding rate per period as a fraction (0.0001 = 0.01 %)."""


class MarkSeries(Protocol):
    """Mark prices over time (e.g. mark-price candle opens): ``ts_ms`` and ``price``."""

    @property
    def ts_ms(self) -> Any:  # Any: numpy array or sequence of int
        """Times in UTC milliseconds, ascending."""

    @property
    def price(self) -> Any:  # Any: numpy array or sequence of float / Decimal
        """Mark price at each time."""


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))  # type: ignore[arg-type]  # numpy scalars are float()able


class FundingSchedule:
    """One symbol's funding times and rates, consumed in order as market data advances."""

    __slots__ = ("_index", "rates", "settle_ms", "symbol", "ts_ms")

    def __init__(self, symbol: str, series: FundingSeries) -> None:
        times = [int(value) for value in series.ts_ms]
        rates = [_to_decimal(value) for value in series.rate]
        if len(times) != len(rates):
            raise ConfigError(
                f"funding for {symbol}: {len(times)} timestamps but {len(rates)} rates"
            )
        if any(later <= earlier for earlier, later in itertools.pairwise(times)):
            raise ConfigError(f"funding for {symbol}: timestamps must be strictly ascending")
        self.symbol = symbol
        self.ts_ms = times
        self.rates = rates
        self.settle_ms = [ts - ts % _FUNDING_GRID_MS for ts in times]
        self._index = 0

    @property
    def next_settle_ms(self) -> int | None:
        """Return the (second-floored) time of the next unsettled funding, or None."""
        index = self._index
        return self.settle_ms[index] if index < len(self.settle_ms) else None

    def pop_due(self, ts_ms: int) -> list[tuple[int, Decimal]]:
        """Return ``(funding ts_ms, rate)`` for every funding due at or before ``ts_ms``."""
        due: list[tuple[int, Decimal]] = []
        index = self._index
        settle = self.settle_ms
        while index < len(settle) and settle[index] <= ts_ms:
            due.append((self.ts_ms[index], self.rates[index]))
            index += 1
        self._index = index
        return due


class MarkLookup:
    """Mark price at a time: the last mark at or before it."""

    __slots__ = ("_prices", "_times")

    def __init__(self, series: MarkSeries) -> None:
        self._times: Sequence[int] = [int(value) for value in series.ts_ms]
        self._prices = [_to_decimal(value) for value in series.price]

    def at(self, ts_ms: int) -> Decimal | None:
        """Return the last mark at or before ``ts_ms``, or None when there is none yet."""
        position = bisect.bisect_right(self._times, ts_ms)
        return None if position == 0 else self._prices[position - 1]


def settle_due(
    schedule: FundingSchedule,
    instrument: Instrument,
    net_position: Decimal,
    ts_ms: int,
    *,
    mark: MarkLookup | None,
    last_price: Decimal,
) -> list[FundingPayment]:
    """Settle every funding due at or before ``ts_ms`` on ``net_position`` (long > 0).

    The mark is the mark series' value at the funding time when given, else ``last_price``
    (the last close seen before the candle that reached the funding time). Funding due while
    no position is held is consumed without a payment.
    """
    payments: list[FundingPayment] = []
    for funding_ms, rate in schedule.pop_due(ts_ms):
        if net_position == 0:
            continue
        price = None if mark is None else mark.at(funding_ms)
        if price is None:
            price = last_price
        # Positive rate: longs pay shorts (Binance); the amount is the account's cash flow.
        amount = -(rate * net_position * price * instrument.contract_size)
        payments.append(
            FundingPayment(instrument.symbol, rate, price, amount, funding_ms * 1_000_000)
        )
    return payments
