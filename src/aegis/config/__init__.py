"""Settings for the runtime (pydantic-settings); built once in the CLI and passed down."""

from aegis.config.settings import (
    ExchangeSettings,
    MarketSettings,
    RuntimeSettings,
    ServerSettings,
    Settings,
    SizingSettings,
    StrategySettings,
    load_settings,
)

__all__ = [
    "ExchangeSettings",
    "MarketSettings",
    "RuntimeSettings",
    "ServerSettings",
    "Settings",
    "SizingSettings",
    "StrategySettings",
    "load_settings",
]
