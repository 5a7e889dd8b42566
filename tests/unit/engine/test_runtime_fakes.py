"""TradingRuntime on fakes: scripted strategy, fake Venue, replayed real candles, virtual clock.

The runtime is otherwise only exercised through the emulator; these tests pin its own rules:
a decision goes prepare_order -> venue.submit -> complete_submission, a stale symbol is never
decided on, user-stream duplicates and reordering never double-apply a fill, and a venue REJECT
leaves a thought.

Constructor notes (``TradingRuntime.__init__``): the candle feed's REST budget runs on
``wall_clock`` with the real ``asyncio.sleep``, so ``wall_clock`` here is a fake that moves
ten seconds per reading (the budget never has to wait); ``pipeline.on_fill`` is replaced by the
runtime's own listener; the feed and the user stream are built but not started.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import pytest

from aegis.data import bundled_data_path, read_candles
from aegis.data.feeds import FeedState, ReplayCandleSource, Resync, StaleReason, VirtualClock
from aegis.engine import RuntimeOptions, TradingPipeline, TradingRuntime
from aegis.execution import OrderManager
from aegis.model import (
    Action,
    Candle,
    Decision,
    Fill,
    Instrument,
    LiquidityRole,
    MarketKind,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderUpdate,
    Portfolio,
    PositionMode,
    PositionSide,
)
from aegis.model.ids import client_order_id
from aegis.risk import FixedQuantity
from aegis.strategies import Strategy
from aegis.venues.base import PublicTrade, Venue, VenueOrder, VenuePosition

SYMBOL = "XRP/USDT:USDT"
TIMEFRAME = "5m"
TIMEFRAME_MS = 300_000
QUANTITY = Decimal(10)
BOT = "bot"
INSTRUMENT = Instrument(
    symbol=SYMBOL, base="XRP", quote="USDT", kind=MarketKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.0001"), step_size=Decimal("0.1"), min_qty=Decimal("0.1"),
)  # fmt: skip
# Real XRP/USDT perpetual 5m candles (bundled copy of the shared file, no gaps).
CANDLES: list[Candle] = [
    read_candles(bundled_data_path("binance-usdm_XRP-USDT-PERP_5m.csv.gz")).row(i)
    for i in range(12)
]
FIRST_COID = client_order_id(BOT, 1)


class Scripted(Strategy):
    """Returns the action scripted for a candle's open time, HOLD otherwise."""

    name: ClassVar[str] = "runtime_scripted"

    def __init__(self, script: Mapping[int, Action]) -> None:
        super().__init__()
        self.script = dict(script)
        self.seen: list[int] = []

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        self.seen.append(candle.ts_ms)
        action = self.script.get(candle.ts_ms, Action.HOLD)
        return Decision(symbol, candle.ts_ms, action, 1.0, f"scripted {action.name}", self.name)


class AsyncOnly:
    """The pipeline's synchronous venue seam: the runtime awaits the real venue itself."""

    def submit(self, order: Order, ts_ns: int) -> list[OrderUpdate]:
        raise AssertionError(f"the runtime must not submit {order.client_order_id} synchronously")

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        raise AssertionError(f"the runtime must not cancel {client_order_id} synchronously")


@dataclass
class FakeVenue:
    """A ``Venue``: candles from a ``ReplayCandleSource``, orders accepted (or rejected) at once.

    ``journal`` records the order of events seen from outside: ``intent`` (the order manager's
    intent writer), ``submit`` (this venue, with the order's status in the book at that time).
    """

    source: ReplayCandleSource
    reject_reason: str | None = None
    journal: list[tuple[str, str, OrderStatus | None]] = field(default_factory=list)
    submitted: list[Order] = field(default_factory=list)
    book: dict[str, VenueOrder] = field(default_factory=dict)
    manager: OrderManager | None = None
    stream: asyncio.Queue[list[OrderUpdate]] = field(default_factory=asyncio.Queue)

    @property
    def name(self) -> str:
        return "fake"

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def instruments(self) -> Mapping[str, Instrument]:
        return {SYMBOL: INSTRUMENT}

    async def submit(self, order: Order) -> OrderUpdate:
        coid = order.client_order_id
        held = None if self.manager is None else self.manager.orders[coid].status
        self.journal.append(("submit", coid, held))
        self.submitted.append(order)
        if self.reject_reason is not None:
            return OrderUpdate(coid, OrderEventKind.REJECT, order.updated_ns,
                               reason=self.reject_reason)  # fmt: skip
        venue_order_id = str(len(self.submitted))
        self.book[coid] = VenueOrder(
            client_order_id=coid, venue_order_id=venue_order_id, symbol=order.symbol,
            side=order.side, type=order.type, status=OrderStatus.ACCEPTED,
            quantity=order.quantity, filled_quantity=Decimal(0),
        )  # fmt: skip
        return OrderUpdate(coid, OrderEventKind.ACCEPT, order.updated_ns,
                           venue_order_id=venue_order_id)  # fmt: skip

    async def cancel(self, order: Order) -> OrderUpdate:
        return OrderUpdate(order.client_order_id, OrderEventKind.CANCEL, order.updated_ns)

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        return self.book.get(client_order_id)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return [o for o in self.book.values() if not o.status.is_terminal]

    async def fetch_orders(self, symbol: str, since_ms: int | None = None) -> list[VenueOrder]:
        return list(self.book.values())

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        return []

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        return {"USDT": Decimal(10_000)}

    async def fetch_positions(self) -> list[VenuePosition]:
        return []

    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        return await self.source.fetch_candles(symbol, timeframe, since_ms, limit)

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        return await self.source.watch_candles(symbol, timeframe)

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        await asyncio.Event().wait()  # no public trades in these tests
        return []

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[PublicTrade]:
        return []

    async def watch_order_updates(self) -> list[OrderUpdate]:
        return await self.stream.get()

    async def server_time_ms(self) -> int:
        return self.source.rest_calls[-1][0] if self.source.rest_calls else 0


class SteppingWallClock:
    """Wall time that moves ten seconds per reading: the REST budget never has to sleep."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> int:
        return next(self._ticks) * 10_000


@dataclass
class Harness:
    clock: VirtualClock
    venue: FakeVenue
    runtime: TradingRuntime
    strategy: Scripted

    @property
    def manager(self) -> OrderManager:
        return self.runtime.pipeline.order_manager

    async def until_processed(self, index: int) -> None:
        """Advance the virtual clock until candle ``index`` went through ``on_candle``."""
        ts_ms = CANDLES[index].ts_ms
        await self.clock.run_until(
            lambda: self.runtime.processed_ms.get(SYMBOL, -1) >= ts_ms,
            timeout_s=(index + 2) * TIMEFRAME_MS / 1000,
            step_s=TIMEFRAME_MS / 1000,
        )


def build(script: Mapping[int, Action], *, start_index: int = 2) -> Harness:
    """A runtime over the first candles; the clock starts when ``start_index`` candles closed."""
    clock = VirtualClock(CANDLES[0].ts_ms + start_index * TIMEFRAME_MS)
    source = ReplayCandleSource(
        {SYMBOL: CANDLES}, TIMEFRAME, clock=clock.now_ms, sleep=clock.sleep, poll_s=60.0
    )
    venue = FakeVenue(source)
    intents = venue.journal
    manager = OrderManager(
        BOT,
        {SYMBOL: INSTRUMENT},
        Portfolio({"USDT": Decimal(10_000)}, PositionMode.ONE_WAY),
        intent_writer=lambda order: intents.append(("intent", order.client_order_id, None)),
    )
    venue.manager = manager
    pipeline = TradingPipeline(manager, FixedQuantity(QUANTITY), AsyncOnly())
    strategy = Scripted(script)
    options = RuntimeOptions(
        symbols=(SYMBOL,), timeframe=TIMEFRAME, poll_interval_s=60.0, gap_retry_delay_s=0.0
    )
    runtime = TradingRuntime(
        venue, pipeline, {SYMBOL: strategy}, options,
        clock=clock.now_ms, sleep=clock.sleep, wall_clock=SteppingWallClock(),
    )  # fmt: skip
    return Harness(clock, venue, runtime, strategy)


@pytest.fixture
async def running() -> AsyncIterator[list[asyncio.Task[None]]]:
    """Tasks started by a test (the candle feed); cancelled and awaited at the end."""
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results


def _fill(order: Order, quantity: str, trade_id: str, kind: OrderEventKind) -> OrderUpdate:
    fill = Fill(
        order.client_order_id, SYMBOL, order.side, Decimal("0.5"), Decimal(quantity),
        Decimal("0.001"), "USDT", LiquidityRole.TAKER, 7, trade_id,
    )  # fmt: skip
    return OrderUpdate(order.client_order_id, kind, 7, fill, "1")


async def _accepted_entry(harness: Harness) -> Order:
    """Place an entry through the runtime's own submit path; return it as accepted."""
    decision = Decision(SYMBOL, CANDLES[3].ts_ms, Action.ENTER_LONG, 1.0, "why", "test")
    order = harness.runtime.pipeline.prepare_order(decision, CANDLES[3].close, 1)
    assert order is not None
    accepted = await harness.runtime.submit(order)
    assert accepted.status is OrderStatus.ACCEPTED
    return accepted


# --------------------------------------------------------------------------- the decision path
def test_fake_venue_satisfies_the_venue_protocol() -> None:
    assert isinstance(build({}).venue, Venue)


async def test_decision_is_prepared_then_submitted_then_completed(
    running: list[asyncio.Task[None]],
) -> None:
    entry_ts = CANDLES[4].ts_ms
    harness = build({entry_ts: Action.ENTER_LONG})
    running.append(asyncio.create_task(harness.runtime.feed.run(), name="candle-feed"))
    await harness.until_processed(5)
    # prepare_order wrote the intent and marked the order SUBMITTED before the venue saw it
    assert harness.venue.journal == [
        ("intent", FIRST_COID, None),
        ("submit", FIRST_COID, OrderStatus.SUBMITTED),
    ]
    (sent,) = harness.venue.submitted
    assert (sent.symbol, sent.side, sent.quantity) == (SYMBOL, OrderSide.BUY, QUANTITY)
    assert sent.position_side is None  # one-way book: no hedge leg on the wire
    # complete_submission applied the venue's ACCEPT and kept the decision
    held = harness.manager.orders[FIRST_COID]
    assert (held.status, held.venue_order_id) == (OrderStatus.ACCEPTED, "1")
    assert [d.ts_ms for d in harness.runtime.pipeline.decisions] == [entry_ts]
    assert harness.runtime.record.decisions_taken == 1
    assert harness.runtime.metrics.orders_submitted.labels(symbol=SYMBOL)._value.get() == 1
    # the order's time is the close of the candle it was decided on (no look-ahead)
    assert sent.created_ns == (entry_ts + TIMEFRAME_MS) * 1_000_000


# --------------------------------------------------------------------------- staleness
async def test_no_decision_while_the_symbol_has_no_data_yet() -> None:
    harness = build({CANDLES[3].ts_ms: Action.ENTER_LONG})
    assert harness.runtime.feed.health(SYMBOL).state is FeedState.WAITING
    await harness.runtime.on_candle(SYMBOL, CANDLES[3])  # bypassing the feed: still stale
    assert harness.strategy.seen == [CANDLES[3].ts_ms]  # the strategy ran ...
    assert harness.venue.submitted == []  # ... but nothing was decided on
    assert harness.runtime.record.decisions_taken == 0
    assert harness.runtime.pipeline.decisions == []


async def test_no_decision_after_a_gap_nobody_can_fill(
    running: list[asyncio.Task[None]],
) -> None:
    harness = build({CANDLES[5].ts_ms: Action.ENTER_LONG, CANDLES[6].ts_ms: Action.ENTER_LONG})
    harness.venue.source.hide_everywhere(SYMBOL, CANDLES[4].ts_ms)
    running.append(asyncio.create_task(harness.runtime.feed.run(), name="candle-feed"))
    await harness.until_processed(3)
    ready_at = CANDLES[6].ts_ms + TIMEFRAME_MS
    await harness.clock.run_until(
        lambda: harness.clock.now_ms() >= ready_at and harness.runtime.feed.held_count(SYMBOL) == 2,
        timeout_s=4 * TIMEFRAME_MS / 1000,
        step_s=TIMEFRAME_MS / 1000,
    )
    health = harness.runtime.feed.health(SYMBOL)
    assert (health.state, health.stale_reason) == (FeedState.STALE, StaleReason.GAP)
    assert harness.venue.submitted == []
    assert CANDLES[5].ts_ms not in harness.strategy.seen
    assert harness.runtime.processed_ms[SYMBOL] == CANDLES[3].ts_ms


# --------------------------------------------------------------------------- venue updates
async def test_duplicate_and_reordered_stream_updates_apply_each_fill_once() -> None:
    harness = build({})
    order = await _accepted_entry(harness)
    first = _fill(order, "4", "t1", OrderEventKind.PARTIAL_FILL)
    second = _fill(order, "6", "t2", OrderEventKind.FILL)
    runtime = harness.runtime
    for update in (second, first, second, first):  # reordered, then both again
        runtime.on_stream_update(update)
    runtime.on_stream_update(OrderUpdate(order.client_order_id, OrderEventKind.ACCEPT, 8))
    # the REST resync after a reconnect reports the same fills again
    fills = tuple(u.fill for u in (first, second) if u.fill is not None)
    await runtime.on_resync(Resync("error", 9, (), fills, 0))
    held = harness.manager.orders[order.client_order_id]
    assert (held.status, held.filled_quantity) == (OrderStatus.FILLED, QUANTITY)
    assert harness.manager.net_quantity(SYMBOL) == QUANTITY
    position = harness.manager.portfolio.position(SYMBOL)
    assert position is not None
    assert (position.side, position.quantity) == (PositionSide.LONG, QUANTITY)
    assert len(runtime.pipeline.fills) == 2
    assert harness.manager.portfolio.fees_paid == Decimal("0.002")
    assert runtime.record.symbols[SYMBOL].fills == list(fills[::-1])  # applied as they came
    # the stream's two repeats are counted; the resync's known trades never become updates
    assert runtime.applier.skipped["duplicate_fill"] == 2
    assert runtime.applier.skipped["stale_status"] == 1


# --------------------------------------------------------------------------- venue reject
async def test_venue_reject_leaves_a_thought_and_frees_the_symbol(
    running: list[asyncio.Task[None]],
) -> None:
    entry_ts = CANDLES[4].ts_ms
    harness = build({entry_ts: Action.ENTER_LONG, CANDLES[6].ts_ms: Action.ENTER_LONG})
    harness.venue.reject_reason = "Margin is insufficient."
    running.append(asyncio.create_task(harness.runtime.feed.run(), name="candle-feed"))
    await harness.until_processed(4)
    manager = harness.manager
    assert manager.orders[FIRST_COID].status is OrderStatus.REJECTED
    (thought,) = manager.thoughts
    assert thought.ts_ms == entry_ts
    assert thought.metadata["outcome"] == "rejected"
    assert f"venue rejected {FIRST_COID}: Margin is insufficient." in thought.thought
    assert harness.runtime.pipeline.decisions == []
    assert harness.runtime.metrics.rejects.labels(reason="venue")._value.get() == 1
    # nothing stays pending: the next entry is sent (and refused) in its turn
    await harness.until_processed(6)
    assert [o.client_order_id for o in harness.venue.submitted] == [
        FIRST_COID, client_order_id(BOT, 2),
    ]  # fmt: skip
    assert not manager.has_open_orders()
