"""``runtime.fill_watchdog_s``: 5 s by default, 0 switches the watchdog off, negatives refused."""

from __future__ import annotations

import pytest

from aegis.config import load_settings
from aegis.model.errors import ConfigError


def test_default_is_five_seconds_and_zero_is_allowed() -> None:
    assert load_settings(None).runtime.fill_watchdog_s == 5.0
    assert load_settings(None, runtime={"fill_watchdog_s": 0}).runtime.fill_watchdog_s == 0.0


def test_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_RUNTIME__FILL_WATCHDOG_S", "0.5")
    assert load_settings(None).runtime.fill_watchdog_s == 0.5


@pytest.mark.parametrize("value", [-1, "nan", "inf"])
def test_negative_or_not_finite_is_refused_naming_the_setting(value: object) -> None:
    with pytest.raises(ConfigError, match=r"runtime\.fill_watchdog_s"):
        load_settings(None, runtime={"fill_watchdog_s": value})
