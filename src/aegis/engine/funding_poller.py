"""When the runtime asks for funding: after each funding time, at start, after a reconnect.

``FundingPoller`` asks a ``FundingSource`` for the payments of each linear-perpetual symbol since
the last one booked and hands them to the ``FundingBook``. Live mode reads the exchange's own
payment records (``LiveFundingSource``: ccxt ``fetch_funding_history``, the source of truth);
paper mode settles the published rate on the simulated position (``PaperFundingSource``).

REST budget: one page-walk per symbol after each funding time (bounded retries while a payment
the bot owes is not listed yet), one per symbol at start and after each user-stream reconnect,
and one per symbol every ``catch_up_interval_s``; every call passes the venue's shared
rate-limit gate. A symbol the bot never traded costs no call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

import structlog

from aegis.engine.funding import FundingBook, PositionHistory, stored_from_venue
from aegis.model.errors import AegisError
from aegis.store import StoredFunding
from aegis.venues.base import FundingVenue

log = structlog.get_logger(__name__)

#: Binance's default funding period, used when the venue does not say the next funding time
DEFAULT_FUNDING_INTERVAL_MS: Final = 8 * 3_600_000
_MS_TO_NS: Final = 1_000_000

#: wait_past(symbol, funding_ms, timeout_s) -> True once the runtime is past that funding time
WaitPast = Callable[[str, int, float], Awaitable[bool]]


class FundingSource(Protocol):
    """Where a runtime's funding payments come from (live exchange or paper settlement)."""

    async def collect(self, symbol: str, since_ms: int | None) -> list[StoredFunding]:
        """Return the payments of ``symbol`` since ``since_ms`` (booked ones may repeat)."""
        ...

    async def next_funding_ms(self, symbol: str) -> int | None:
        """Return the next funding time of ``symbol`` (UTC ms), None when unknown."""
        ...

    def scheduled(self, symbol: str, funding_ms: int) -> None:
        """Hear which funding time the poller waits for next (paper: watch for it)."""
        ...


class LiveFundingSource:
    """The exchange's own funding records (Binance ``/fapi/v1/income`` FUNDING_FEE)."""

    def __init__(self, venue: FundingVenue) -> None:
        self.venue = venue

    async def collect(self, symbol: str, since_ms: int | None) -> list[StoredFunding]:
        """Return the account's payments of ``symbol`` since ``since_ms``."""
        payments = await self.venue.fetch_funding_payments(symbol, since_ms)
        return [stored_from_venue(p) for p in payments if p.symbol == symbol]

    async def next_funding_ms(self, symbol: str) -> int | None:
        """Return the venue's next funding time of ``symbol``."""
        return (await self.venue.fetch_funding_rate(symbol)).next_funding_ms

    def scheduled(self, symbol: str, funding_ms: int) -> None:
        """Nothing to prepare: the exchange settles on its own."""


class FundingPoller:
    """Poll ``source`` for ``symbols`` and book what it returns; see the module docstring.

    Args:
        source: live or paper payments.
        book: where payments are booked (dedupe, portfolio, store, log, metrics).
        symbols: the linear-perpetual symbols traded.
        wait_past: waits (at most ``timeout_s`` wall seconds) until the runtime has processed
            the candle at a funding time: the venue has settled it by then.
        clock_ms: the runtime's clock (history time in replays), for the fallback schedule.
        history: the bot's fills; when given, a payment for a time the bot held no position
            in the symbol is not its own and is not booked (live: a shared account).
        catch_up_interval_s: wall seconds between safety catch-ups of every symbol.
        retry_delays_s: pauses before asking again when a payment the bot owes is not listed.
        sleep: wall-clock sleep (retries).
    """

    def __init__(
        self,
        source: FundingSource,
        book: FundingBook,
        symbols: Sequence[str],
        *,
        wait_past: WaitPast,
        clock_ms: Callable[[], int],
        history: PositionHistory | None = None,
        catch_up_interval_s: float = 900.0,
        retry_delays_s: Sequence[float] = (5.0, 30.0, 120.0),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source = source
        self.book = book
        self.symbols = tuple(symbols)
        self.wait_past = wait_past
        self.clock_ms = clock_ms
        self.history = history
        self.catch_up_interval_s = catch_up_interval_s
        self.retry_delays_s = tuple(retry_delays_s)
        self.sleep = sleep
        self.next_funding: dict[str, int | None] = dict.fromkeys(self.symbols)
        self._passed: dict[str, int] = {}
        self.polls = 0

    # ----------------------------------------------------------------- one poll
    async def catch_up(self, trigger: str) -> int:
        """Fetch and book every symbol's payments since its last booked one; return the count.

        Venue errors are logged and counted, not raised: the next trigger asks again.
        """
        booked = 0
        for symbol in self.symbols:
            booked += await self.poll(symbol, trigger)
        return booked

    async def poll(self, symbol: str, trigger: str) -> int:
        """Fetch and book ``symbol``'s payments since its last booked one; return the count."""
        since = self.book.last_booked_ms(symbol)
        if since is None and self.history is not None:
            since = self.history.first_fill_ms(symbol)
            if since is None:
                return 0  # never traded here: nothing owed, no REST call
        metrics = self.book.metrics
        metrics.polls.labels(trigger=trigger).inc()
        self.polls += 1
        try:
            items = await self.source.collect(symbol, since)
        except AegisError as error:
            metrics.poll_errors.inc()
            log.error("funding_poll_failed", symbol=symbol, trigger=trigger, error=str(error))
            return 0
        return sum(1 for item in items if self._book(symbol, item, trigger))

    def _book(self, symbol: str, item: StoredFunding, trigger: str) -> bool:
        payment = item.payment
        metrics = self.book.metrics
        if payment.symbol != symbol or self.book.is_booked(item.payment_id):
            metrics.duplicates.inc()
            return False
        ts_ms = payment.ts_ns // _MS_TO_NS
        history = self.history
        if history is not None and not history.holds_at(symbol, ts_ms):
            metrics.skipped.labels(reason="bot_flat").inc()
            log.warning("funding_not_this_bots", symbol=symbol, payment_id=item.payment_id,
                        amount=str(payment.amount), funding_ts_ms=ts_ms)  # fmt: skip
            return False
        try:
            return self.book.book(item, source=trigger)
        except ValueError as error:
            metrics.skipped.labels(reason="asset").inc()
            log.error("funding_payment_refused", symbol=symbol, error=str(error))
            return False

    # ----------------------------------------------------------------- schedule
    async def _next(self, symbol: str) -> int:
        known = self.next_funding.get(symbol)
        if known is not None:
            return known
        found: int | None = None
        try:
            found = await self.source.next_funding_ms(symbol)
        except AegisError as error:
            self.book.metrics.poll_errors.inc()
            log.warning("funding_schedule_unknown", symbol=symbol, error=str(error))
        # a funding time already handled (a stale answer) would be polled again at once
        floor = max(self.clock_ms(), self._passed.get(symbol, -1))
        if found is None or found <= self._passed.get(symbol, -1):
            found = (floor // DEFAULT_FUNDING_INTERVAL_MS + 1) * DEFAULT_FUNDING_INTERVAL_MS
        self.next_funding[symbol] = found
        self.source.scheduled(symbol, found)
        return found

    async def schedule(self) -> None:
        """Learn every symbol's next funding time (call before trading)."""
        for symbol in self.symbols:
            await self._next(symbol)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: poll each symbol after its funding time; catch up periodically."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            due = {symbol: await self._next(symbol) for symbol in self.symbols}
            symbol = min(due, key=lambda s: due[s])
            funding_ms = due[symbol]
            deadline = loop.time() + self.catch_up_interval_s
            passed = False
            while not stop.is_set() and not passed and loop.time() < deadline:
                passed = await self.wait_past(
                    symbol, funding_ms, min(1.0, self.catch_up_interval_s)
                )
            if stop.is_set():
                return
            if not passed:
                await self.catch_up("periodic")
                continue
            self.next_funding[symbol] = None
            self._passed[symbol] = funding_ms
            await self._after_funding(symbol, funding_ms, stop)

    async def _after_funding(self, symbol: str, funding_ms: int, stop: asyncio.Event) -> None:
        await self.poll(symbol, "funding_time")
        history = self.history
        if history is None or not history.holds_at(symbol, funding_ms):
            return
        for delay in self.retry_delays_s:
            last = self.book.last_booked_ms(symbol)
            if (last is not None and last >= funding_ms - 1000) or stop.is_set():
                return
            # held over the funding time, nothing listed yet: the exchange may lag a little
            await self.sleep(delay)
            await self.poll(symbol, "funding_retry")
