"""Plugin registry (ST1): decorator, entry points, duplicates, unknown names."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from importlib import metadata
from typing import ClassVar

import pytest

from aegis.model.errors import ConfigError
from aegis.strategies import (
    EmaCross,
    Strategy,
    StrategyRegistry,
    available_strategies,
    create_strategy,
    get_strategy,
)
from aegis.strategies import registry as registry_module

BUILT_INS = {
    "candlestick_reversal",
    "confluence",
    "ema_adx_trend",
    "ema_cross",
    "keltner_breakout",
    "mean_reversion",
    "momentum",
}


class Plugin(Strategy):
    name: ClassVar[str] = "plugin_strategy"


def test_built_ins_are_registered_by_decorator() -> None:
    assert set(available_strategies()) >= BUILT_INS
    assert get_strategy("ema_cross") is EmaCross
    assert isinstance(create_strategy("ema_cross", {"fast": "3", "slow": "7"}), EmaCross)


def test_decorator_registers_and_returns_the_class() -> None:
    registry = StrategyRegistry(entry_points=list)
    assert registry.register(Plugin) is Plugin
    assert registry.get("plugin_strategy") is Plugin
    registry.register(Plugin)  # the same class again is not a duplicate
    assert registry.names() == ["plugin_strategy"]


def test_duplicate_name_from_another_class_is_an_error() -> None:
    registry = StrategyRegistry(entry_points=list)
    registry.register(Plugin)

    class Impostor(Strategy):
        name: ClassVar[str] = "plugin_strategy"

    with pytest.raises(ConfigError, match="'plugin_strategy' is already registered by"):
        registry.register(Impostor)


def test_invalid_registrations_are_rejected() -> None:
    registry = StrategyRegistry(entry_points=list)

    class Nameless(Strategy):
        pass

    with pytest.raises(ConfigError, match="not a valid identifier"):
        registry.register(Nameless)
    with pytest.raises(ConfigError, match="not a Strategy subclass"):
        registry.register(int)  # type: ignore[type-var]


def test_unknown_name_lists_the_available_strategies() -> None:
    with pytest.raises(ConfigError) as caught:
        get_strategy("ema_crosss")
    message = str(caught.value)
    assert "unknown strategy 'ema_crosss'" in message
    assert "ema_cross, keltner_breakout" in message


@pytest.fixture
def plugin_module() -> Iterator[str]:
    module = types.ModuleType("fake_aegis_plugin")

    class External(Strategy):
        name: ClassVar[str] = "external"

    module.External = External  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_entry_points_are_loaded_on_first_lookup(plugin_module: str) -> None:
    calls = []

    def entry_points() -> list[metadata.EntryPoint]:
        calls.append(1)
        return [
            metadata.EntryPoint(
                name="external", value=f"{plugin_module}:External", group="aegis.strategies"
            )
        ]

    registry = StrategyRegistry(entry_points=entry_points)
    assert calls == []
    assert registry.get("external").__name__ == "External"
    assert "external" in registry.names()
    assert calls == [1]  # loaded once


def test_default_registry_reads_importlib_metadata_group(
    monkeypatch: pytest.MonkeyPatch, plugin_module: str
) -> None:
    seen_groups = []

    def fake_entry_points(*, group: str) -> list[metadata.EntryPoint]:
        seen_groups.append(group)
        return [metadata.EntryPoint("external", f"{plugin_module}:External", group)]

    monkeypatch.setattr(metadata, "entry_points", fake_entry_points)
    registry = StrategyRegistry()
    monkeypatch.setattr(registry_module, "default_registry", registry)
    assert registry_module.get_strategy("external").name == "external"
    assert seen_groups == ["aegis.strategies"]


def test_entry_point_that_is_not_a_strategy_is_reported(plugin_module: str) -> None:
    registry = StrategyRegistry(
        entry_points=lambda: [
            metadata.EntryPoint("bad", f"{plugin_module}:missing", "aegis.strategies")
        ]
    )
    with pytest.raises(ConfigError, match="strategy entry point 'bad'"):
        registry.names()


def test_entry_point_name_must_match_the_class_name(plugin_module: str) -> None:
    registry = StrategyRegistry(
        entry_points=lambda: [
            metadata.EntryPoint("other", f"{plugin_module}:External", "aegis.strategies")
        ]
    )
    with pytest.raises(ConfigError, match="the two names must match"):
        registry.get("other")
