"""OR3 end to end: a held perpetual position crosses a funding time in ``aegis run``.

Unmodified ccxt against the step-driven emulator (virtual clock, no sleeps): the real XRPUSDT
5m candles around the first funding time of the real funding file. Live mode books the
exchange's payment (``/fapi/v1/income``) once in the portfolio, the store and the summary, also
across a restart; paper mode settles the published rate on the simulated position.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from tests.emulator_accounts import exchange_section

from aegis.cli.run_summary import build_summary
from aegis.config import Settings, load_settings
from aegis.data import read_candles, read_funding
from aegis.engine.assembly import open_store
from aegis.engine.emulator import start_emulator
from aegis.engine.session import RunSession, SessionResult
from aegis.model.candle import Candle
from aegis.model.signals import Action, Decision
from aegis.store import FundingLedger
from aegis.store.schema import PositionRow, table_of
from aegis.strategies import Strategy, register_strategy
from aegis.strategies._params import Param

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SYMBOL = "XRP/USDT:USDT"
CANDLES = "binance-usdm_XRP-USDT-PERP_5m.csv.gz"
FUNDING = "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz"
# Candle 864 of the file opens at the file's first funding time (2021-11-18 00:00:00.017).
FIRST, LAST, FUNDING_CANDLE = 850, 890, 864
ENTER_AT, EXIT_AT = 852, 880  # decided on these candles' closes: filled one candle later
SIZE = Decimal(100)


@register_strategy
class FundingHold(Strategy):
    """Test strategy: enter long on the candle opened at ``enter_ms``, exit at ``exit_ms``."""

    name: ClassVar[str] = "test_funding_hold"
    parameters: ClassVar[dict[str, Param]] = {
        "enter_ms": Param(0, description="open time of the entry candle"),
        "exit_ms": Param(0, description="open time of the exit candle"),
    }

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        action = Action.HOLD
        if candle.ts_ms == self.params["enter_ms"]:
            action = Action.ENTER_LONG
        elif candle.ts_ms == self.params["exit_ms"]:
            action = Action.EXIT_LONG
        return Decision(symbol, candle.ts_ms, action, 1.0, f"{self.name}: {action.name}",
                        self.name, {})  # fmt: skip


@pytest.fixture(scope="module")
def candle_rows(bundled_data_dir: Path) -> list[str]:
    with gzip.open(bundled_data_dir / CANDLES, "rt") as stream:
        return stream.read().splitlines()


@pytest.fixture
def data_files(tmp_path: Path, candle_rows: list[str], bundled_data_dir: Path) -> list[Path]:
    """Candles FIRST..LAST (named as the emulator expects) and the real funding file."""
    target = tmp_path / "binance-usdm_XRP-USDT-PERP_5m.csv"
    target.write_text("\n".join([candle_rows[0], *candle_rows[1 + FIRST : 2 + LAST]]) + "\n",
                      encoding="utf-8")  # fmt: skip
    return [target, bundled_data_dir / FUNDING]


def expected_amount(bundled_data_dir: Path) -> tuple[int, Decimal]:
    """The payment of a SIZE long at the first funding: -rate * size * mark (last close)."""
    candles = read_candles(bundled_data_dir / CANDLES)
    funding = read_funding(bundled_data_dir / FUNDING)
    rate = Decimal(repr(float(funding.rate[0])))
    mark = Decimal(repr(float(candles.close[FUNDING_CANDLE - 1])))
    return int(funding.ts_ms[0]), -rate * SIZE * mark


@pytest.fixture
def make_settings(
    data_files: list[Path], tmp_path: Path, candle_rows: list[str]
) -> Callable[..., Settings]:
    def ts(index: int) -> str:
        return candle_rows[1 + index].split(",")[0]

    def make(mode: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "mode": mode,
            "data_dir": tmp_path / f"data-{mode}",
            "exchange": {"name": "emulator"},
            "market": {"symbols": [SYMBOL], "timeframe": "5m", "data": data_files,
                       "speed": "max"},
            "strategy": {"name": FundingHold.name,
                         "params": {"enter_ms": ts(ENTER_AT), "exit_ms": ts(EXIT_AT)}},
            "sizing": {"quantity": str(SIZE), "fee_bps": "5", "cash": "10000"},
            "server": {"port": 0},
            "database": {"url": f"sqlite:///{tmp_path / f'{mode}.db'}"},
            "risk": {"cooldown_losses": 1_000_000},
        }  # fmt: skip
        values.update(overrides)
        return load_settings(None, **values)

    return make


async def until(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Poll ``predicate`` with a deadline (the run has no event for it)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"condition {predicate!r} not met in {timeout_s} s"
        await asyncio.sleep(0.005)


def stored_leg_funding(settings: Settings) -> Decimal:
    with open_store(settings) as store, store.engine.connect() as connection:
        rows = connection.execute(select(table_of(PositionRow))).mappings().all()
    return sum((row["funding_received"] for row in rows), Decimal(0))


def stored_payments(settings: Settings) -> list[tuple[str, Decimal, int]]:
    with open_store(settings) as store:
        booked = FundingLedger(store).payments("default", settings.bot_id)
    return [(b.payment_id, b.payment.amount, b.payment.ts_ns // 1_000_000) for b in booked]


async def test_live_books_the_exchange_payment_once_across_a_restart(
    make_settings: Callable[..., Settings], bundled_data_dir: Path
) -> None:
    funding_ms, amount = expected_amount(bundled_data_dir)
    base = make_settings("live")
    emulator = await start_emulator(base)
    try:
        exchange = exchange_section(emulator)
        settings = make_settings("live", exchange=exchange)
        first = RunSession(settings, install_signal_handlers=False)

        async def stop_after_funding() -> None:
            await until(lambda: first.funding is not None and first.step_driver is not None)
            assert first.funding is not None
            await until(lambda: first.funding.book.booked_this_run >= 1)  # type: ignore[union-attr]
            assert first.step_driver is not None
            first.step_driver.gate.clear()  # hold the replay: the position is still open
            # live: a connection is kept open for the next order (CcxtVenue.keep_warm)
            assert first.supervisor.is_running("rest-keep-warm")
            first.supervisor.request_stop("test stop")

        stopper = asyncio.get_running_loop().create_task(stop_after_funding())
        one = await asyncio.wait_for(first.run(), 120)
        await stopper
        portfolio = one.runtime.pipeline.order_manager.portfolio
        assert portfolio.funding_paid == -amount
        assert portfolio.position(SYMBOL) is not None  # held over the funding time
        assert [(a, t) for _, a, t in stored_payments(settings)] == [(amount, funding_ms)]
        assert stored_leg_funding(settings) == amount
        summary_one = build_summary(one, time.perf_counter())
        assert summary_one["funding_paid"] == float(-amount)
        assert summary_one["funding_payments"] == 1

        second = RunSession(settings, install_signal_handlers=False)
        two = await asyncio.wait_for(second.run(), 120)
        assert two.stop_reason == "end of data"
    finally:
        await emulator.stop()
    assert two.funding is not None
    assert two.funding.booked_this_run == 0  # restored, and the catch-up's copy deduped
    portfolio = two.runtime.pipeline.order_manager.portfolio
    assert portfolio.funding_paid == -amount
    assert portfolio.position(SYMBOL) is None  # exited after the restart
    assert len(stored_payments(settings)) == 1
    (entry,), (exit_,) = one.runtime.pipeline.fills, two.runtime.pipeline.fills
    trading = (exit_.price - entry.price) * exit_.quantity
    # the cash the risk engine sizes on: the venue's wallet at the restart (the payment is in
    # it, the open position's unrealised PnL is not), moved by the exit only: the restored and
    # the caught-up payment did not move it again
    assert two.info.preflight is not None
    start_cash = two.info.preflight.balances["USDT"]
    assert start_cash == Decimal(10000) - entry.fee + amount
    assert portfolio.cash["USDT"] == start_cash + trading - exit_.fee
    assert entry.fee > 0
    summary = build_summary(two, time.perf_counter())
    assert summary["funding_paid"] == float(-amount)
    assert [Decimal(row["amount"]) for row in summary["run"]["funding"]] == [amount]
    # the second run started holding the position: it is carried in at the run's first close,
    # so the one round trip is the exit's, and the return is the equity's own change
    record = two.runtime.record.symbols[SYMBOL]
    assert record.opening_net == entry.quantity
    assert summary["round_trips"] == 1
    assert summary["trades"] == 0  # no entry order in this run
    assert Decimal(repr(summary["initial_cash"])) == record.opening_equity
    assert summary["total_return"] == pytest.approx(
        summary["final_equity"] / summary["initial_cash"] - 1, abs=1e-9
    )
    # the stored round trip (what the risk engine's cooldown reads) is net of it too
    with open_store(settings) as store:
        (trade,) = store.trades("default", bot_id=settings.bot_id)
    assert not trade.is_open
    assert trade.fees == entry.fee + exit_.fee
    assert trade.pnl == trading - trade.fees + amount


async def test_paper_settles_the_published_rate_and_round_trips_are_net_of_it(
    make_settings: Callable[..., Settings], bundled_data_dir: Path
) -> None:
    funding_ms, amount = expected_amount(bundled_data_dir)
    settings = make_settings("paper")
    session = RunSession(settings, install_signal_handlers=False)
    result: SessionResult = await asyncio.wait_for(session.run(), 120)
    assert result.stop_reason == "end of data"
    assert result.funding is not None
    portfolio = result.runtime.pipeline.order_manager.portfolio
    assert portfolio.funding_paid == -amount
    # paper settles at the venue's published funding time (the exchange stamps a few ms later)
    settle_ms = funding_ms - funding_ms % 1000
    assert stored_payments(settings) == [(f"paper:{SYMBOL}:{settle_ms}", amount, settle_ms)]
    summary = build_summary(result, time.perf_counter())
    assert summary["funding_paid"] == float(-amount)
    assert summary["funding_payments"] == 1
    assert summary["round_trips"] == 1
    fills = result.runtime.pipeline.fills
    assert len(fills) == 2
    entry, exit_ = fills
    trading = (exit_.price - entry.price) * exit_.quantity
    fees = entry.fee + exit_.fee
    # the one round trip is net of fees and funding: it is the whole equity change
    expected_equity = Decimal(10000) + trading - fees + amount
    assert Decimal(repr(summary["final_equity"])) == expected_equity
    assert portfolio.cash["USDT"] == expected_equity
    scrape = result.runtime.metrics.render().decode()
    assert f'aegis_funding_payments_total{{symbol="{SYMBOL}"}} 1.0' in scrape


async def test_paper_restart_hands_the_open_position_back_to_the_simulator(
    make_settings: Callable[..., Settings], bundled_data_dir: Path
) -> None:
    """A paper run stopped with a position open: the next run settles its funding and exits it."""
    _, amount = expected_amount(bundled_data_dir)
    base = make_settings("paper")
    emulator = await start_emulator(base)
    try:
        exchange = exchange_section(emulator)
        settings = make_settings("paper", exchange=exchange)
        first = RunSession(settings, install_signal_handlers=False)

        def entered() -> bool:
            runtime = first.runtime
            return runtime is not None and bool(runtime.pipeline.fills)

        async def stop_after_entry() -> None:
            await until(lambda: entered() and first.step_driver is not None)
            assert first.step_driver is not None
            first.step_driver.gate.clear()  # hold the replay before the funding time
            assert not first.supervisor.is_running("rest-keep-warm")  # paper sends no orders
            first.supervisor.request_stop("test stop")

        stopper = asyncio.get_running_loop().create_task(stop_after_entry())
        one = await asyncio.wait_for(first.run(), 120)
        await stopper
        assert one.runtime.pipeline.order_manager.portfolio.position(SYMBOL) is not None
        assert one.funding is not None
        assert one.funding.booked_this_run == 0

        second = RunSession(settings, install_signal_handlers=False)
        two = await asyncio.wait_for(second.run(), 120)
        assert two.stop_reason == "end of data"
    finally:
        await emulator.stop()
    (entry,), (exit_,) = one.runtime.pipeline.fills, two.runtime.pipeline.fills
    assert exit_.side is not entry.side
    assert exit_.quantity == entry.quantity
    portfolio = two.runtime.pipeline.order_manager.portfolio
    assert portfolio.position(SYMBOL) is None
    assert two.funding is not None
    assert portfolio.funding_paid == -amount  # settled on the position the restart restored
    trading = (exit_.price - entry.price) * exit_.quantity
    assert portfolio.cash["USDT"] == Decimal(10000) + trading - entry.fee - exit_.fee + amount
