"""`BacktestConfig.from_settings`: a backtest with the risk limits and sizing of a bot."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from aegis.backtest import DEFAULT_FRACTION, BacktestConfig
from aegis.config import Settings
from aegis.model.errors import ConfigError
from aegis.risk import FixedFraction, FixedQuantity


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AEGIS_ variable of the machine leaks into the settings."""
    for name in list(os.environ):
        if name.startswith("AEGIS_"):
            monkeypatch.delenv(name)


def _settings(**sections: object) -> Settings:
    return Settings.model_validate(sections)


def test_the_risk_section_becomes_the_limits() -> None:
    settings = _settings(risk={"max_drawdown": "0.1", "cooldown_losses": 2, "cooldown_s": 60})
    limits = BacktestConfig.from_settings(settings).risk_limits()
    assert limits.max_drawdown == Decimal("0.1")
    assert (limits.cooldown_losses, limits.cooldown_s) == (2, 60)


def test_only_the_sizing_the_settings_set_is_taken() -> None:
    bare = BacktestConfig.from_settings(_settings())
    # the run's default paper cash (10000) is not the file's choice: the backtest's stays
    assert (bare.cash, bare.fee_bps, bare.size, bare.fraction) == (
        Decimal(100_000), Decimal(10), None, None,
    )  # fmt: skip
    sizer = bare.sizer()
    assert isinstance(sizer, FixedFraction)
    assert sizer.fraction == DEFAULT_FRACTION
    sized = BacktestConfig.from_settings(
        _settings(sizing={"quantity": "0.5", "cash": "2500", "fee_bps": "4"})
    )
    assert (sized.cash, sized.fee_bps, sized.size) == (Decimal(2500), Decimal(4), Decimal("0.5"))
    assert isinstance(sized.sizer(), FixedQuantity)
    assert BacktestConfig.from_settings(_settings(sizing={"fraction": 0.3})).fraction == Decimal(
        "0.3"
    )


def test_overrides_win_and_a_size_replaces_the_settings_fraction() -> None:
    settings = _settings(sizing={"fraction": 0.3, "cash": "2500"})
    config = BacktestConfig.from_settings(settings, size=Decimal(2), cash=None, seed=7)
    assert (config.size, config.fraction) == (Decimal(2), None)
    assert config.cash == Decimal(2500)  # a None override leaves the setting
    assert config.seed == 7


def test_the_paper_runs_fill_model_is_taken_and_a_seed_flag_wins() -> None:
    settings = _settings(runtime={"slippage_bps": 2.5, "seed": 11})
    config = BacktestConfig.from_settings(settings)
    assert (config.slippage_bps, config.seed) == (2.5, 11)
    assert BacktestConfig.from_settings(settings, seed=3, slippage_bps=None).seed == 3
    bare = BacktestConfig.from_settings(_settings())
    assert (bare.slippage_bps, bare.seed) == (0.0, 0)


@pytest.mark.parametrize(
    ("sizing", "risk", "message"),
    [
        ({"quantity": "0"}, {}, "setting sizing.quantity = '0': must be positive"),
        ({"cash": "x"}, {}, "setting sizing.cash = 'x': not a number"),
        ({"fee_bps": "20000"}, {}, r"setting sizing.fee_bps = '20000': must be in \[0, 10000\)"),
        ({"quantity": "1", "fraction": 0.1}, {}, "sizing.quantity and sizing.fraction"),
        ({}, {"daily_loss_limit": "2"}, r"risk setting daily_loss_limit must be in \(0, 1\]"),
    ],
)
def test_a_bad_setting_is_named(
    sizing: dict[str, object], risk: dict[str, object], message: str
) -> None:
    settings = _settings(sizing=sizing, risk=risk)
    with pytest.raises(ConfigError, match=message):
        BacktestConfig.from_settings(settings)
