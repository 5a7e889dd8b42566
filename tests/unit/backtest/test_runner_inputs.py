"""Backtests with real Binance filters and a real funding series (the optional inputs)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from aegis.backtest import BacktestConfig, check_funding_target, load_instrument, run_backtest
from aegis.data import Candles, Funding, read_candles, read_funding
from aegis.model.candle import Candle
from aegis.model.enums import MarketKind
from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.strategies import Param, SignalFrame, Strategy

MARKETS = Path(__file__).resolve().parents[3] / "src" / "aegis" / "resources" / "markets"
PERP = "XRP/USDT:USDT"
CANDLES = "binance-usdm_XRP-USDT-PERP_5m.csv.gz"
FUNDING = "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz"


class Script(Strategy):
    """Emits ``actions`` (bar -> Action code); vectorised unless ``streaming``."""

    name: ClassVar[str] = "inputs_script"
    parameters: ClassVar[Mapping[str, Param]] = {"script": Param(""), "streaming": Param(False)}

    def _configure(self) -> None:
        pairs = (item.split(":") for item in str(self.params["script"]).split(",") if item)
        self.actions = {int(bar): Action(int(code)) for bar, code in pairs}

    def _reset(self) -> None:
        self._bar = 0

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        action = self.actions.get(self._bar, Action.HOLD)
        self._bar += 1
        return Decision(symbol, candle.ts_ms, action, 1.0, f"script {action.name}", self.name)

    def signals(self, candles: object) -> SignalFrame | None:
        if self.params["streaming"]:
            return None
        action = np.zeros(len(candles.ts_ms), dtype=np.int8)  # type: ignore[attr-defined]
        for bar, code in self.actions.items():
            action[bar] = code
        return SignalFrame(
            action,
            (action != 0).astype(np.float64),
            self.name,
            lambda i: (f"script {Action(int(action[i])).name}", {}),
        )


def _script(*pairs: tuple[int, Action], streaming: bool = False) -> Script:
    return Script(script=",".join(f"{bar}:{int(code)}" for bar, code in pairs), streaming=streaming)


def _usdm(symbol: str = PERP) -> Instrument:
    return load_instrument(MARKETS / "binance-usdm.json", symbol)


@pytest.fixture(scope="module")
def xrp(real_data_dir: Path) -> tuple[Candles, Funding]:
    return read_candles(real_data_dir / CANDLES), read_funding(real_data_dir / FUNDING)


def _hand_funding(candles: Candles, funding: Funding, entry_bar: int, quantity: Decimal) -> Decimal:
    """Funding a long of ``quantity`` held from ``entry_bar``'s open to the end pays, by hand.

    A funding time is floored to the second; it settles on the first candle opening at or after
    it, on the position held before that candle, at the previous candle's close (the mark).
    """
    ts = candles.ts_ms.tolist()
    paid = Decimal(0)
    for stamp, rate in zip(funding.ts_ms.tolist(), funding.rate.tolist(), strict=True):
        settle = stamp - stamp % 1000
        if not ts[entry_bar] < settle <= ts[-1]:
            continue  # before the fill (flat then) or after the last candle
        bar = next(index for index, opened in enumerate(ts) if opened >= settle)
        mark = Decimal(repr(float(candles.close[bar - 1])))
        paid += Decimal(repr(rate)) * quantity * mark  # a long pays a positive rate
    return paid


@pytest.mark.parametrize("streaming", [False, True])
def test_funding_is_charged_on_a_held_long(xrp: tuple[Candles, Funding], streaming: bool) -> None:
    candles, funding = xrp
    quantity = Decimal(1000)
    config = BacktestConfig(size=quantity, fee_bps=Decimal(10), instrument=_usdm(), funding=funding)
    result = run_backtest(candles, _script((10, Action.ENTER_LONG), streaming=streaming), config)
    (entry,) = result.fills
    expected = _hand_funding(candles, funding, 11, quantity)
    # 2021-11-18 00:00 .. 2021-11-21 16:00: 12 settlements, nearly all at +0.01 %: a long pays
    assert result.funding_payments == 12
    assert expected > 0
    assert result.funding_paid == expected
    last = Decimal(repr(float(candles.close[-1])))
    assert result.final_equity == (
        Decimal(100_000) + (last - entry.price) * quantity - entry.fee - expected
    )
    assert result.equity[-1] == pytest.approx(float(result.final_equity), abs=1e-6)
    assert result.to_json()["funding_paid"] == pytest.approx(float(expected), abs=1e-12)
    # the first settlement: 2021-11-18 00:00:00.017 floored to the candle opening at 00:00
    first = int(np.searchsorted(candles.ts_ms, 1637193600000))
    before, at = result.equity[first - 1], result.equity[first]
    move = float(quantity) * (candles.close[first] - candles.close[first - 1])
    mark = float(candles.close[first - 1])
    assert at - before == pytest.approx(move - 0.0001 * 1000 * mark, abs=1e-6)
    assert any("funding series starts at ts_ms 1637193600017" in w for w in result.warnings)


def test_a_short_receives_and_no_position_pays_nothing(xrp: tuple[Candles, Funding]) -> None:
    candles, funding = xrp
    config = BacktestConfig(size=Decimal(1000), instrument=_usdm(), funding=funding)
    short = run_backtest(candles, _script((10, Action.ENTER_SHORT)), config)
    long = run_backtest(candles, _script((10, Action.ENTER_LONG)), config)
    assert short.funding_paid == -long.funding_paid
    assert short.funding_paid < 0
    # long only before the first funding time: nothing is charged
    flat = run_backtest(candles, _script((10, Action.ENTER_LONG), (20, Action.EXIT_LONG)), config)
    assert flat.funding_paid == 0
    assert flat.funding_payments == 0


def test_without_funding_nothing_changes(xrp: tuple[Candles, Funding]) -> None:
    candles, _ = xrp
    config = BacktestConfig(size=Decimal(1000), instrument=_usdm())
    result = run_backtest(candles, _script((10, Action.ENTER_LONG)), config)
    assert result.funding_paid == 0
    assert result.to_json()["funding_paid"] == 0.0


def test_real_filters_reject_an_entry_below_min_notional(xrp: tuple[Candles, Funding]) -> None:
    candles, _ = xrp
    # 1 XRP at ~1.2 USDT is below the USD-M minimum notional of 5 USDT; entered twice, so the
    # second entry reuses the refused intent's client id and must be judged afresh
    config = BacktestConfig(size=Decimal(1), instrument=_usdm())
    result = run_backtest(
        candles, _script((10, Action.ENTER_LONG), (30, Action.ENTER_LONG)), config
    )
    assert result.fills == []
    rejected = [d for d in result.decisions if d.metadata.get("outcome") == "rejected"]
    assert len(rejected) == 2
    reason = str(rejected[0].metadata.get("reason"))
    assert "below min_notional 5" in reason
    assert PERP in reason
    assert "rejected" in rejected[0].thought
    assert any("2 decision(s) rejected" in w and "min_notional" in w for w in result.warnings)
    assert not any("permissive" in w for w in result.warnings)


def test_real_filters_round_the_quantity_to_the_step(xrp: tuple[Candles, Funding]) -> None:
    candles, _ = xrp
    config = BacktestConfig(size=Decimal("100.37"), instrument=_usdm())
    result = run_backtest(candles, _script((10, Action.ENTER_LONG)), config)
    (entry,) = result.fills
    assert entry.quantity == Decimal("100.3")  # XRPUSDT step 0.1: quantity floors


def test_instrument_file_picks_the_entry_of_the_symbol() -> None:
    perp = _usdm()
    assert (perp.symbol, perp.kind, perp.min_notional) == (
        PERP,
        MarketKind.LINEAR_PERPETUAL,
        Decimal(5),
    )
    assert (perp.tick_size, perp.step_size) == (Decimal("0.0001"), Decimal("0.1"))
    assert _usdm("XRPUSDT").symbol == PERP
    spot = load_instrument(MARKETS / "binance-spot.json", "BTC/USDT")
    assert (spot.symbol, spot.kind) == ("BTC/USDT", MarketKind.SPOT)


def test_instrument_file_without_the_symbol_names_both() -> None:
    path = MARKETS / "binance-spot.json"
    with pytest.raises(ConfigError) as raised:
        load_instrument(path, PERP)  # a spot file has no perpetual
    assert str(path) in str(raised.value)
    assert PERP in str(raised.value)
    with pytest.raises(ConfigError, match="NOPE/USDT"):
        load_instrument(MARKETS / "binance-usdm.json", "NOPE/USDT:USDT")


def test_instrument_file_that_is_not_exchange_info(tmp_path: Path) -> None:
    bad = tmp_path / "markets.json"
    bad.write_text('{"markets": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match="symbols"):
        load_instrument(bad, PERP)
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_instrument(bad, PERP)


def test_funding_needs_a_perpetual_of_the_same_symbol(xrp: tuple[Candles, Funding]) -> None:
    candles, funding = xrp
    spot = Instrument.permissive("XRP/USDT")
    with pytest.raises(ConfigError, match="linear perpetual"):
        check_funding_target(spot, funding)
    with pytest.raises(ConfigError, match="linear perpetual"):
        run_backtest(
            candles,
            _script(),
            BacktestConfig(instrument=spot, funding=funding),
        )
    with pytest.raises(ConfigError, match="is for XRP/USDT:USDT"):
        check_funding_target(Instrument.permissive("BTC/USDT:USDT"), funding)


def test_the_report_shows_the_funding_paid(xrp: tuple[Candles, Funding], tmp_path: Path) -> None:
    from aegis.backtest import write_report

    candles, funding = xrp
    config = BacktestConfig(size=Decimal(1000), instrument=_usdm(), funding=funding)
    result = run_backtest(candles, _script((10, Action.ENTER_LONG)), config)
    html = write_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Funding paid" in html
    unfunded = run_backtest(candles, _script((10, Action.ENTER_LONG)), BacktestConfig())
    assert "Funding paid" not in write_report(unfunded, tmp_path / "plain.html").read_text(
        encoding="utf-8"
    )
