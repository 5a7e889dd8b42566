"""Settings for the runtime (pydantic-settings); built once in the CLI and passed down."""

from aegis.config.settings import (
    DatabaseSettings,
    ExchangeSettings,
    MarketSettings,
    RiskLimitSettings,
    RuntimeSettings,
    ServerSettings,
    Settings,
    SizingSettings,
    StrategySettings,
    load_settings,
)

__all__ = [
    "DatabaseSettings",
    "ExchangeSettings",
    "MarketSettings",
    "RiskLimitSettings",
    "RuntimeSettings",
    "ServerSettings",
    "Settings",
    "SizingSettings",
    "StrategySettings",
    "load_settings",
]
