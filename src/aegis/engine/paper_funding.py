"""Paper trading settles perpetual funding like the backtest and the exchange do (OR3, OP3).

``FundedPaperVenue`` is the ``PaperVenue`` whose simulated account also pays and receives
funding. The simulator's own funding support (``SimulatedExchange(funding=...)``) takes the
whole rate series at construction, which a live run does not know in advance; so this adapter
runs the same settlement code on each funding time as it comes: ``FundingSchedule`` and
``settle_due`` of ``aegis.venues.sim.funding``, on the position the simulator holds when the
first candle at or after the funding time arrives (before that candle's fills, as the
simulator does), marked at the last price before it. The rate is the venue's published rate
read once the funding time has passed (``PaperFundingSource``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import structlog

from aegis.engine.paper import PaperVenue
from aegis.model.candle import Candle
from aegis.model.enums import MarketKind, PositionSide
from aegis.model.errors import AegisError
from aegis.model.events import FundingPayment, OrderUpdate
from aegis.store import StoredFunding
from aegis.venues.base import FundingVenue, Venue
from aegis.venues.sim import FillModel, FundingSchedule
from aegis.venues.sim.funding import settle_due

log = structlog.get_logger(__name__)

_GRID_MS: Final = 1000  # a funding time settles on its whole second (as FundingSchedule)
_SIDES: Final = (None, PositionSide.LONG, PositionSide.SHORT)


@dataclass(frozen=True, slots=True)
class _OneFunding:
    """A ``FundingSeries`` of one funding time (the one being settled)."""

    ts_ms: tuple[int, ...]
    rate: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class _Crossing:
    """The simulated position and mark when the runtime went past a funding time."""

    net_position: Decimal
    mark: Decimal


def paper_payment_id(symbol: str, funding_ms: int) -> str:
    """Return the id a paper funding payment is booked (and deduped) under."""
    return f"paper:{symbol}:{funding_ms}"


class FundedPaperVenue(PaperVenue):
    """A ``PaperVenue`` that settles funding on its simulated position; see module docstring."""

    def __init__(
        self, market_data: Venue, fill_model: FillModel, cash: Mapping[str, Decimal]
    ) -> None:
        super().__init__(market_data, fill_model, cash)
        self._expected: dict[str, set[int]] = {}
        self._crossed: dict[tuple[str, int], _Crossing] = {}

    def expect(self, symbol: str, funding_ms: int) -> None:
        """Watch for ``symbol``'s funding at ``funding_ms`` (ignored for non-perpetuals)."""
        instrument = self.instruments().get(symbol)
        if instrument is None or instrument.kind is not MarketKind.LINEAR_PERPETUAL:
            return
        if (symbol, funding_ms) not in self._crossed:
            self._expected.setdefault(symbol, set()).add(funding_ms)

    def crossed(self, symbol: str) -> list[int]:
        """Return the funding times of ``symbol`` passed and not settled yet, oldest first."""
        return sorted(ms for s, ms in self._crossed if s == symbol)

    def on_candle(self, symbol: str, candle: Candle) -> list[OrderUpdate]:
        """Note the position held at each funding time reached, then match the candle."""
        expected = self._expected.get(symbol)
        if expected:
            for funding_ms in sorted(expected):
                if funding_ms - funding_ms % _GRID_MS > candle.ts_ms:
                    break
                expected.discard(funding_ms)
                self._crossed[(symbol, funding_ms)] = self._snapshot(symbol, candle)
        return super().on_candle(symbol, candle)

    def _snapshot(self, symbol: str, candle: Candle) -> _Crossing:
        sim = self.sim
        net = sum((sim.position(symbol, side) for side in _SIDES), Decimal(0))
        last = sim.last_price(symbol)
        # the simulator marks at the last close before the candle, else this candle's open
        return _Crossing(net, last if last is not None else Decimal(repr(candle.open)))

    def settle(self, symbol: str, funding_ms: int, rate: Decimal) -> list[FundingPayment]:
        """Settle the crossed funding at ``funding_ms`` with ``rate``; return the payments.

        Raises ``KeyError`` naming the funding time when it was not crossed (or settled).
        """
        crossing = self._crossed.pop((symbol, funding_ms), None)
        if crossing is None:
            raise KeyError(f"funding of {symbol} at {funding_ms} was not crossed or is settled")
        schedule = FundingSchedule(symbol, _OneFunding((funding_ms,), (rate,)))
        payments = settle_due(
            schedule, self.instruments()[symbol], crossing.net_position, funding_ms,
            mark=None, last_price=crossing.mark,
        )  # fmt: skip
        ledger = self._ledger  # the paper account's balances (PaperVenue.fetch_balances)
        if ledger is not None:
            for payment in payments:
                ledger.apply_funding(payment)
        return payments


class PaperFundingSource:
    """Paper payments: the published rate settled on the simulated position.

    ``rates`` is the market-data venue (None or without funding rates: nothing settles, the
    crossed funding times wait and are logged).
    """

    def __init__(self, venue: FundedPaperVenue, rates: Venue | None) -> None:
        self.venue = venue
        self.rates = rates if isinstance(rates, FundingVenue) else None

    def scheduled(self, symbol: str, funding_ms: int) -> None:
        """Watch the funding time the poller waits for."""
        self.venue.expect(symbol, funding_ms)

    async def collect(self, symbol: str, since_ms: int | None) -> list[StoredFunding]:
        """Settle every funding time of ``symbol`` passed since the last poll."""
        found: list[StoredFunding] = []
        for funding_ms in self.venue.crossed(symbol):
            rate = await self._rate(symbol, funding_ms)
            if rate is None:
                continue
            quote = self.venue.instruments()[symbol].quote
            for payment in self.venue.settle(symbol, funding_ms, rate):
                found.append(StoredFunding(paper_payment_id(symbol, funding_ms), quote, payment))
        return found

    async def _rate(self, symbol: str, funding_ms: int) -> Decimal | None:
        if self.rates is None:
            log.warning("paper_funding_rate_unavailable", symbol=symbol, funding_ts_ms=funding_ms,
                        reason="the market-data venue publishes no funding rate")  # fmt: skip
            return None
        try:
            published = await self.rates.fetch_funding_rate(symbol)
        except AegisError as error:
            log.warning("paper_funding_rate_unavailable", symbol=symbol,
                        funding_ts_ms=funding_ms, reason=str(error))  # fmt: skip
            return None
        return published.rate

    async def next_funding_ms(self, symbol: str) -> int | None:
        """Return the venue's next funding time of ``symbol`` (None without rates)."""
        if self.rates is None:
            return None
        return (await self.rates.fetch_funding_rate(symbol)).next_funding_ms
