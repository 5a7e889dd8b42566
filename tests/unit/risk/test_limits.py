"""RK1: daily loss (UTC day), drawdown stop, loss cooldown, settings validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.model.errors import ConfigError
from aegis.risk.limits import (
    NS_PER_DAY,
    NS_PER_SECOND,
    EquityWatch,
    LossCooldown,
    RiskSettings,
    open_positions_reason,
    symbol_exposure_reason,
)

DAY0 = 20_000 * NS_PER_DAY  # 00:00 UTC of some day
HOUR = 3_600 * NS_PER_SECOND


def test_daily_loss_counts_from_the_first_equity_of_the_utc_day() -> None:
    watch = EquityWatch()
    watch.observe(Decimal(10_000), DAY0 + HOUR)
    watch.observe(Decimal(9_600), DAY0 + 2 * HOUR)
    assert watch.daily_loss_reason(Decimal("0.05")) is None  # lost 400 < 500
    watch.observe(Decimal(9_500), DAY0 + 3 * HOUR)
    reason = watch.daily_loss_reason(Decimal("0.05"))
    assert reason is not None
    assert "lost 500 since 00:00 UTC" in reason
    assert "limit 500.00" in reason


def test_daily_loss_resets_at_utc_midnight() -> None:
    watch = EquityWatch()
    watch.observe(Decimal(10_000), DAY0)
    watch.observe(Decimal(9_000), DAY0 + NS_PER_DAY - 1)  # 23:59:59.999.. same day
    assert watch.daily_loss_reason(Decimal("0.05")) is not None
    watch.observe(Decimal(9_000), DAY0 + NS_PER_DAY)  # 00:00 UTC next day: new start
    assert watch.day_start_equity == Decimal(9_000)
    assert watch.daily_loss_reason(Decimal("0.05")) is None


def test_drawdown_stop_measures_from_the_peak_and_latches() -> None:
    watch = EquityWatch()
    for equity in (10_000, 12_000, 10_000):
        watch.observe(Decimal(equity), DAY0)
    assert watch.drawdown_reason(Decimal("0.2")) is None  # 16.7 % below 12,000
    watch.observe(Decimal(9_600), DAY0)  # exactly 20 %
    reason = watch.drawdown_reason(Decimal("0.2"))
    assert reason is not None
    assert "peak 12000" in reason
    watch.observe(Decimal(11_900), DAY0)  # recovery does not clear the stop
    assert watch.drawdown_reason(Decimal("0.2")) == reason
    watch.reset_drawdown()
    assert watch.drawdown_reason(Decimal("0.2")) is None
    assert watch.peak_equity == Decimal(11_900)


def test_equity_watch_round_trips_through_its_state() -> None:
    watch = EquityWatch()
    watch.observe(Decimal(100), DAY0)
    watch.observe(Decimal(70), DAY0)
    watch.drawdown_reason(Decimal("0.2"))
    copy = EquityWatch()
    copy.restore(watch.state())
    assert copy.state() == watch.state()


def test_cooldown_starts_after_n_consecutive_losses_and_expires() -> None:
    cooldown = LossCooldown(3, HOUR)
    cooldown.record(Decimal(-1), DAY0)
    cooldown.record(Decimal(-1), DAY0 + 1)
    assert cooldown.reason(DAY0 + 2) is None
    cooldown.record(Decimal(-1), DAY0 + 10)
    reason = cooldown.reason(DAY0 + 10 + HOUR - 1)
    assert reason is not None
    assert "3 consecutive losses" in reason
    assert cooldown.reason(DAY0 + 10 + HOUR) is None  # expired exactly at the end


def test_a_win_resets_the_loss_count() -> None:
    cooldown = LossCooldown(2, HOUR)
    cooldown.record(Decimal(-1), DAY0)
    cooldown.record(Decimal(0), DAY0)  # break-even breaks the streak
    cooldown.record(Decimal(-1), DAY0)
    assert cooldown.reason(DAY0) is None
    cooldown.record(Decimal(-1), DAY0)
    assert cooldown.reason(DAY0) is not None
    restored = LossCooldown(2, HOUR)
    restored.restore(cooldown.state())
    assert restored.reason(DAY0) is not None


def test_symbol_exposure_counts_open_and_pending() -> None:
    # limit 25 % of 10,000 = 2,500; 1,000 open + 1,000 pending + 600 new = 2,600
    reason = symbol_exposure_reason(
        "BTC/USDT", Decimal(1_000), Decimal(1_000), Decimal(600), Decimal(10_000), Decimal("0.25")
    )
    assert reason is not None
    assert "pending 1000" in reason
    assert (
        symbol_exposure_reason(
            "BTC/USDT",
            Decimal(1_000),
            Decimal(1_000),
            Decimal(500),
            Decimal(10_000),
            Decimal("0.25"),
        )
        is None
    )


def test_open_positions_limit() -> None:
    assert open_positions_reason(4, 5) is None
    assert open_positions_reason(5, 5) == "max open positions: 5 open or pending, limit 5"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_drawdown", "0"),
        ("max_drawdown", "1.5"),
        ("daily_loss_limit", 0.05),
        ("max_total_exposure", "-1"),
        ("max_open_positions", 0),
        ("cooldown_s", True),
        ("entry_fraction", "abc"),
    ],
)
def test_settings_reject_bad_values_naming_them(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        RiskSettings(**{field: value})  # type: ignore[arg-type]


def test_settings_from_mapping_take_strings_and_refuse_unknown_keys() -> None:
    settings = RiskSettings.from_mapping({"max_drawdown": "0.1", "cooldown_s": 60})
    assert settings.max_drawdown == Decimal("0.1")
    assert settings.cooldown_ns == 60 * NS_PER_SECOND
    with pytest.raises(ConfigError, match="unknown risk settings"):
        RiskSettings.from_mapping({"max_leverage": "3"})
