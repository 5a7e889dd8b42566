"""The entry gate every mode shares, the round-trip feed of the cooldown, the cooldown default."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.config import RiskLimitSettings
from aegis.execution import OrderManager
from aegis.model import Fill, LiquidityRole, OrderSide, Portfolio
from aegis.model.enums import PositionMode
from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.risk import (
    InMemoryCapitalReservations,
    LegRoundTrips,
    LossCooldown,
    RiskEngine,
    RiskEntryGate,
    RiskRule,
    RiskSettings,
    RiskVerdict,
    limits_from_config,
)
from aegis.risk.limits import NS_PER_SECOND
from aegis.risk.sizing import FixedQuantity

BTC = "BTC/USDT"
INSTRUMENT = Instrument(
    symbol=BTC, base="BTC", quote="USDT", tick_size=Decimal("0.01"), step_size=Decimal("0.001")
)
TS_MS = 1_700_000_000_000
HOUR_NS = 3_600 * NS_PER_SECOND


def _book(cash: str = "10000") -> OrderManager:
    portfolio = Portfolio({"USDT": Decimal(cash)}, PositionMode.ONE_WAY)
    return OrderManager("bot1", {BTC: INSTRUMENT}, portfolio)


def _engine(quantity: str = "10", **settings: object) -> RiskEngine:
    return RiskEngine(
        RiskSettings(**settings),  # type: ignore[arg-type]
        bot_id="bot1",
        sizer=FixedQuantity(quantity),
        reservations=InMemoryCapitalReservations(),
    )


def _entry(ts_ms: int = TS_MS) -> Decision:
    return Decision(BTC, ts_ms, Action.ENTER_LONG, 1.0, "ema cross", "ema_cross")


def _fill(side: OrderSide, price: str, quantity: str, ts_ns: int, cid: str) -> Fill:
    return Fill(cid, BTC, side, Decimal(price), Decimal(quantity), Decimal(0), "USDT",
                LiquidityRole.TAKER, ts_ns, f"t-{cid}")  # fmt: skip


def test_an_approved_entry_gets_its_quantity_and_a_reservation_keyed_by_its_order_id() -> None:
    book = _book()
    engine = _engine()
    seen: list[RiskVerdict] = []
    gate = RiskEntryGate(engine, book, on_verdict=seen.append)
    assert gate(_entry(), 100.0) == Decimal(10)
    (verdict,) = seen
    assert verdict.approved
    assert verdict.rule is RiskRule.APPROVED
    assert verdict.client_order_id == gate.expected_client_order_id()
    assert engine.pending() == {verdict.client_order_id: (BTC, Decimal(1000))}
    # the texts are written when read, and then stay the same
    assert verdict.reason.startswith("approved 10 BTC/USDT (notional 1000.0 reserved); sized by")
    assert verdict.thought is verdict.thought
    assert verdict.thought.metadata["risk_rule"] == "approved"
    assert (gate.approved, gate.rejected) == (1, 0)


def test_a_refused_entry_is_a_thought_on_the_book_with_the_rule_and_the_reason() -> None:
    book = _book()
    gate = RiskEntryGate(_engine(quantity="30"), book)  # 3,000 of 10,000 > 25 % per symbol
    assert gate(_entry(), 100.0) is None
    (thought,) = book.thoughts
    assert thought.metadata["outcome"] == "rejected"
    assert str(thought.metadata["reason"]).startswith("risk symbol_exposure: symbol exposure")
    assert (gate.approved, gate.rejected) == (0, 1)
    assert gate.engine.pending() == {}


def test_live_orders_release_what_finished_orders_held_before_the_next_entry() -> None:
    engine = _engine(max_total_exposure="0.15")  # room for one 1,000 entry at a time
    live: dict[str, object] = {}
    gate = RiskEntryGate(engine, _book(), live_orders=live)
    assert gate(_entry(), 100.0) == Decimal(10)
    first = gate.last_verdict
    assert first is not None
    assert first.client_order_id is not None
    live[first.client_order_id] = object()  # its order is still working
    gate.manager.next_sequence += 1
    assert gate(_entry(), 100.0) is None
    assert gate.last_verdict is not None
    assert gate.last_verdict.rule is RiskRule.TOTAL_EXPOSURE
    del live[first.client_order_id]  # the order ended: its capital is free again
    assert gate(_entry(), 100.0) == Decimal(10)
    assert list(engine.pending()) == [gate.expected_client_order_id()]


def test_release_frees_a_reservation_once() -> None:
    engine = _engine()
    gate = RiskEntryGate(engine, _book())
    gate(_entry(), 100.0)
    cid = gate.expected_client_order_id()
    gate.release(cid)
    gate.release(cid)  # nothing held any more: a no-op, not an error
    assert engine.pending() == {}
    assert engine.reservations.reserved("bot1") == 0


def test_leg_round_trips_report_each_closed_leg_once_with_fees() -> None:
    engine = _engine(cooldown_losses=2, cooldown_s=3_600)
    portfolio = Portfolio({"USDT": Decimal(10000)}, PositionMode.ONE_WAY)
    feed = LegRoundTrips(engine, portfolio)
    steps = [
        (OrderSide.BUY, "100", "1", 1, "a"),
        (OrderSide.SELL, "99", "1", 2, "b"),  # loss 1
        (OrderSide.BUY, "100", "1", 3, "c"),
        (OrderSide.SELL, "101", "0.5", 4, "d"),  # partial: still open, nothing reported
    ]
    for side, price, quantity, ts, cid in steps:
        fill = _fill(side, price, quantity, ts * HOUR_NS, cid)
        portfolio.apply_fill(fill, INSTRUMENT)
        feed(fill)
    assert engine.cooldown.consecutive_losses == 1
    assert engine.history.pnls == (Decimal(-1),)
    fill = _fill(OrderSide.SELL, "98", "0.5", 5 * HOUR_NS, "e")  # +0.5 - 1 = -0.5: a loss
    portfolio.apply_fill(fill, INSTRUMENT)
    feed(fill)
    assert engine.history.pnls == (Decimal(-1), Decimal("-0.5"))
    assert engine.cooldown.until_ns == 6 * HOUR_NS  # 2 losses: cooldown from the closing fill


def test_the_loss_cooldown_is_off_by_default_and_counts_losses_all_the_same() -> None:
    assert RiskSettings().cooldown_losses is None
    assert RiskLimitSettings().cooldown_losses is None
    cooldown = LossCooldown(None, HOUR_NS)
    for ts in range(5):
        cooldown.record(Decimal(-1), ts)
    assert cooldown.consecutive_losses == 5
    assert cooldown.reason(5) is None
    with pytest.raises(ConfigError, match="cooldown_losses must be an integer >= 1, got 0"):
        RiskSettings(cooldown_losses=0)


def test_the_config_section_and_the_risk_package_have_the_same_defaults() -> None:
    assert limits_from_config(RiskLimitSettings()) == RiskSettings()
    section = RiskLimitSettings(cooldown_losses=2, cooldown_s=60, max_symbol_exposure="0.5")
    limits = limits_from_config(section)
    assert (limits.cooldown_losses, limits.cooldown_s) == (2, 60)
    assert limits.max_symbol_exposure == Decimal("0.5")
    with pytest.raises(ConfigError, match="max_drawdown must be a number, got 'lots'"):
        limits_from_config(RiskLimitSettings(max_drawdown="lots"))
