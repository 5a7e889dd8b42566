"""A paper restart hands the restored account to the simulator and the ledger (PE3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aegis.engine.paper import PaperVenue
from aegis.model.candle import Candle
from aegis.model.enums import (
    LiquidityRole,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
)
from aegis.model.events import Fill, OrderEventKind
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.venues.sim import FillModel

PERP = "XRP/USDT:USDT"
T = 1_637_193_600_000
MINUTE_NS = 60_000_000_000


class Instruments:
    """Market data for the paper venue: instruments only."""

    name = "instruments"

    async def connect(self) -> None:
        return None

    def instruments(self) -> Mapping[str, Instrument]:
        return {PERP: Instrument.permissive(PERP)}


def _restored_book() -> Portfolio:
    """The runtime's portfolio after a restart: a long of 100 bought at 1.0 for a fee of 0.05."""
    book = Portfolio({"USDT": Decimal(1000)}, PositionMode.ONE_WAY)
    entry = Fill(
        "bot1.1", PERP, OrderSide.BUY, Decimal("1.0"), Decimal(100), Decimal("0.05"), "USDT",
        LiquidityRole.TAKER, T * 1_000_000, "1",
    )  # fmt: skip
    book.apply_fill(entry, Instrument.permissive(PERP))
    return book


async def _paper() -> PaperVenue:
    market: Any = Instruments()  # Any: a partial Venue (the paper venue uses these only)
    venue = PaperVenue(market, FillModel(), {"USDT": Decimal(1000)})
    await venue.connect()
    return venue


async def test_the_exit_of_a_restored_position_fills_and_the_ledger_books_its_pnl() -> None:
    venue, book = await _paper(), _restored_book()
    venue.resume(book)
    assert venue.sim.position(PERP) == Decimal(100)
    assert await venue.fetch_balances() == {"USDT": Decimal("999.95")}
    exit_ = Order(
        client_order_id="bot1.2", bot_id="bot1", symbol=PERP, side=OrderSide.SELL,
        type=OrderType.MARKET, quantity=Decimal(100), reduce_only=True,
        status=OrderStatus.SUBMITTED, created_ns=T * 1_000_000, updated_ns=T * 1_000_000,
    )  # fmt: skip
    accepted = await venue.submit(exit_)
    assert accepted.kind is OrderEventKind.ACCEPT, accepted.reason
    updates = venue.on_candle(PERP, Candle(T + 60_000, 1.5, 1.5, 1.5, 1.5, 10_000.0))
    (fill,) = [u.fill for u in updates if u.fill is not None]
    assert fill.quantity == Decimal(100)
    assert venue.sim.position(PERP) == 0
    # the ledger held the position: the exit realises (1.5 - 1.0) * 100, less its fee
    assert (await venue.fetch_balances())["USDT"] == Decimal("999.95") + Decimal(50) - fill.fee


async def test_resume_copies_the_book_it_is_given() -> None:
    venue, book = await _paper(), _restored_book()
    venue.resume(book)
    venue.on_candle(PERP, Candle(T + 60_000, 1.5, 1.5, 1.5, 1.5, 10_000.0))
    book.cash["USDT"] = Decimal(0)  # the runtime's own book moves on its own
    assert await venue.fetch_balances() == {"USDT": Decimal("999.95")}


async def test_an_order_a_crash_left_resting_fills_what_it_had_left() -> None:
    venue = await _paper()
    placed = Order(
        client_order_id="bot1.3", bot_id="bot1", symbol=PERP, side=OrderSide.BUY,
        type=OrderType.LIMIT, quantity=Decimal(100), price=Decimal("0.9"),
        status=OrderStatus.PARTIALLY_FILLED, filled_quantity=Decimal(40),
        average_fill_price=Decimal("0.9"), venue_order_id="7",
        created_ns=T * 1_000_000, updated_ns=T * 1_000_000,
    )  # fmt: skip
    sent = placed.replace(client_order_id="bot1.4", status=OrderStatus.SUBMITTED,
                          filled_quantity=Decimal(0), average_fill_price=None)  # fmt: skip
    venue.resume(Portfolio({"USDT": Decimal(1000)}), [placed, sent])
    assert [o.client_order_id for o in venue.sim.open_orders()] == ["bot1.3"]  # not the unsent
    updates = venue.on_candle(PERP, Candle(T + 60_000, 1.0, 1.0, 0.8, 0.85, 10_000.0))
    (update,) = [u for u in updates if u.fill is not None]
    assert update.kind is OrderEventKind.FILL
    assert update.fill is not None
    assert update.fill.quantity == Decimal(60)
    done = placed.apply(update)  # the runtime's stored order completes exactly
    assert done.status is OrderStatus.FILLED
    assert done.filled_quantity == Decimal(100)
