"""RK1/RK2: the risk engine approves, sizes, reserves, or rejects with a thought."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from aegis.model import Fill, LiquidityRole, OrderSide, Portfolio
from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.risk.breakers import BreakerBoard, BreakerKind
from aegis.risk.engine import RiskContext, RiskEngine, RiskRule, exposures_from_portfolio
from aegis.risk.kill_switch import KillScope, KillSwitch
from aegis.risk.limits import NS_PER_DAY, NS_PER_SECOND, RiskSettings
from aegis.risk.sizing import FixedQuantity

BTC = "BTC/USDT"
INSTRUMENT = Instrument(
    symbol=BTC, base="BTC", quote="USDT", tick_size=Decimal("0.01"), step_size=Decimal("0.001")
)
DAY0 = 20_000 * NS_PER_DAY
EXITS = (Action.EXIT_LONG, Action.EXIT_SHORT)


def _decision(action: Action = Action.ENTER_LONG, symbol: str = BTC) -> Decision:
    return Decision(symbol, 0, action, 0.8, "ema cross", "ema_cross")


def _context(
    cid: str | None = "bot1.1",
    *,
    equity: str = "10000",
    ts_ns: int = DAY0,
    exposures: dict[str, Decimal] | None = None,
) -> RiskContext:
    return RiskContext(ts_ns, Decimal(equity), Decimal(100), INSTRUMENT, exposures or {}, cid)


def _engine(**settings: object) -> RiskEngine:
    # entries of 10 BTC at 100 = 1,000 notional: 10 % of the default 10,000 equity
    return RiskEngine(RiskSettings(**settings), sizer=FixedQuantity(10))  # type: ignore[arg-type]


def _assert_rejected(verdict: object, rule: RiskRule, text: str) -> None:
    assert not verdict.approved  # type: ignore[attr-defined]
    assert verdict.rule is rule  # type: ignore[attr-defined]
    assert text in verdict.reason  # type: ignore[attr-defined]
    thought = verdict.thought  # type: ignore[attr-defined]
    assert thought.thought.startswith("risk rejected ENTER_LONG BTC/USDT: ")
    assert text in thought.thought
    assert thought.metadata["risk_rule"] == str(rule)
    assert thought.metadata["approved"] is False


def test_an_entry_is_sized_reserved_and_explained() -> None:
    engine = _engine()
    verdict = engine.evaluate(_decision(), _context())
    assert verdict.approved
    assert verdict.rule is RiskRule.APPROVED
    assert verdict.quantity == Decimal(10)
    assert verdict.reserved == Decimal(1_000)
    assert engine.reservations.reserved("bot1") == Decimal(1_000)
    assert engine.pending() == {"bot1.1": (BTC, Decimal(1_000))}
    assert "approved 10 BTC/USDT" in verdict.thought.thought
    assert verdict.thought.metadata["strategy"] == "ema_cross"


def test_exits_are_never_blocked() -> None:
    switch = KillSwitch()
    switch.engage(KillScope.everything(), [], "ops", DAY0, "incident")
    engine = RiskEngine(RiskSettings(), kill_switch=switch)
    engine.breakers.trip(BreakerKind.STALE_DATA, "old", DAY0)
    engine.record_round_trip(Decimal(-1), DAY0)
    engine.evaluate(_decision(Action.EXIT_LONG), _context(equity="10000"))
    # 50 % down: daily loss and drawdown both breached
    for action in EXITS:
        verdict = engine.evaluate(_decision(action), _context(None, equity="5000"))
        assert verdict.approved
        assert verdict.rule is RiskRule.EXIT
        assert verdict.quantity is None
    assert engine.evaluate(_decision(), _context()).rule is RiskRule.KILL_SWITCH


def test_breaker_blocks_entries_until_explicitly_resumed() -> None:
    engine = RiskEngine(RiskSettings(), breakers=BreakerBoard("bot1"), sizer=FixedQuantity(1))
    engine.breakers.websocket_disconnected(DAY0)
    engine.breakers.check_websocket(DAY0 + 61 * NS_PER_SECOND)
    _assert_rejected(engine.evaluate(_decision(), _context()), RiskRule.CIRCUIT_BREAKER,
                     "websocket_down")  # fmt: skip
    engine.breakers.websocket_connected(DAY0 + 70 * NS_PER_SECOND)
    assert not engine.evaluate(_decision(), _context("bot1.2")).approved
    engine.breakers.resume("all", "alice", DAY0 + 80 * NS_PER_SECOND)
    assert engine.evaluate(_decision(), _context("bot1.3")).approved


def test_cooldown_after_n_losses_blocks_then_expires() -> None:
    engine = _engine(cooldown_losses=2, cooldown_s=600)
    engine.record_round_trip(Decimal(-5), DAY0)
    assert engine.evaluate(_decision(), _context("bot1.1", ts_ns=DAY0)).approved
    engine.record_round_trip(Decimal(-5), DAY0 + 1)
    verdict = engine.evaluate(_decision(), _context("bot1.2", ts_ns=DAY0 + 2))
    _assert_rejected(verdict, RiskRule.COOLDOWN, "cooldown after 2 consecutive losses")
    later = DAY0 + 1 + 600 * NS_PER_SECOND
    assert engine.evaluate(_decision(), _context("bot1.3", ts_ns=later)).approved


def test_daily_loss_blocks_entries_and_resets_at_utc_midnight() -> None:
    engine = _engine(daily_loss_limit="0.05", max_drawdown="0.5")
    engine.evaluate(_decision(Action.EXIT_LONG), _context(equity="10000", ts_ns=DAY0 + 1))
    verdict = engine.evaluate(_decision(), _context(equity="9500", ts_ns=DAY0 + 2))
    _assert_rejected(verdict, RiskRule.DAILY_LOSS, "lost 500 since 00:00 UTC")
    next_day = DAY0 + NS_PER_DAY
    assert engine.evaluate(_decision(), _context(equity="9500", ts_ns=next_day)).approved


def test_drawdown_stop_latches_until_reset_by_an_actor() -> None:
    engine = _engine(max_drawdown="0.1", daily_loss_limit="1")
    engine.evaluate(_decision(Action.EXIT_SHORT), _context(equity="10000"))
    verdict = engine.evaluate(_decision(), _context(equity="9000"))
    _assert_rejected(verdict, RiskRule.MAX_DRAWDOWN, "below the peak 10000")
    assert engine.evaluate(_decision(), _context(equity="9999")).rule is RiskRule.MAX_DRAWDOWN
    event = engine.reset_drawdown("alice", DAY0 + 5, "reviewed")
    assert (event.action, event.actor, event.ts_ns) == ("reset_drawdown", "alice", DAY0 + 5)
    assert engine.evaluate(_decision(), _context(equity="9999")).approved


def test_max_open_positions_counts_pending_entries() -> None:
    engine = _engine(max_open_positions=2, max_symbol_exposure="1")
    held = {"ETH/USDT": Decimal(500)}
    assert engine.evaluate(_decision(), _context("bot1.1", exposures=held)).approved
    verdict = engine.evaluate(_decision(symbol="SOL/USDT"), _context("bot1.2", exposures=held))
    assert verdict.rule is RiskRule.MAX_OPEN_POSITIONS
    assert "2 open or pending, limit 2" in verdict.reason
    # adding to a symbol already held or pending is not a new position
    assert engine.evaluate(_decision(), _context("bot1.3", exposures=held)).approved


def test_symbol_exposure_includes_open_and_pending() -> None:
    engine = _engine(max_symbol_exposure="0.25")  # 2,500 of 10,000
    held = {BTC: Decimal(600)}
    assert engine.evaluate(_decision(), _context("bot1.1", exposures=held)).approved
    verdict = engine.evaluate(_decision(), _context("bot1.2", exposures=held))
    _assert_rejected(verdict, RiskRule.SYMBOL_EXPOSURE,
                     "open 600 + pending 1000 + new 1000 = 2600 > 2500.00")  # fmt: skip


def test_total_exposure_is_enforced_by_the_reservation_and_release_frees_it() -> None:
    engine = _engine(max_total_exposure="0.3", max_symbol_exposure="1")  # 3,000 total
    held = {"ETH/USDT": Decimal(1_000)}
    assert engine.evaluate(_decision(), _context("bot1.1", exposures=held)).approved
    assert engine.evaluate(_decision(), _context("bot1.2", exposures=held)).approved
    verdict = engine.evaluate(_decision(), _context("bot1.3", exposures=held))
    _assert_rejected(
        verdict, RiskRule.TOTAL_EXPOSURE, "does not fit in 2000.0 left after open 1000"
    )
    assert engine.release("bot1.1")  # e.g. cancelled
    assert not engine.release("bot1.1")
    assert engine.evaluate(_decision(), _context("bot1.4", exposures=held)).approved


def test_zero_size_is_rejected_with_the_sizer_note() -> None:
    engine = RiskEngine(
        RiskSettings(entry_fraction=Decimal("0.00001"))
    )  # 0.1 quote at 100: 0.001 BTC
    verdict = engine.evaluate(_decision(), _context(equity="1"))
    _assert_rejected(verdict, RiskRule.SIZE, "size is zero")


def test_hold_is_not_approved_and_entries_need_a_client_order_id() -> None:
    engine = _engine()
    assert engine.evaluate(_decision(Action.HOLD), _context()).rule is RiskRule.NOT_ACTIONABLE
    with pytest.raises(ValueError, match="client_order_id"):
        engine.evaluate(_decision(), _context(None))


def test_state_round_trips_through_json() -> None:
    engine = _engine(cooldown_losses=1)
    engine.evaluate(_decision(), _context("bot1.1"))
    engine.record_round_trip(Decimal("-2.5"), DAY0)
    engine.breakers.trip(BreakerKind.MANUAL, "pause", DAY0, actor="alice")
    state = json.loads(json.dumps(engine.state()))
    restored = _engine(cooldown_losses=1)
    restored.restore(state)
    assert restored.state() == engine.state()
    assert restored.history.pnls == (Decimal("-2.5"),)
    assert restored.evaluate(_decision(), _context("bot1.2")).rule is RiskRule.CIRCUIT_BREAKER


def test_exposures_from_portfolio_add_both_legs_at_marks() -> None:
    portfolio = Portfolio({"USDT": Decimal(10_000)})
    fill = Fill("c1", BTC, OrderSide.BUY, Decimal(100), Decimal(2), Decimal(0), "USDT",
                LiquidityRole.TAKER, 1, "t1")  # fmt: skip
    portfolio.apply_fill(fill, INSTRUMENT)
    assert exposures_from_portfolio(portfolio, {BTC: Decimal(110)}) == {BTC: Decimal(220)}
    with pytest.raises(KeyError, match="no mark price"):
        exposures_from_portfolio(portfolio, {})
