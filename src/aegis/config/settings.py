"""Runtime settings: defaults < TOML file < secrets file < ``AEGIS_`` environment < CLI flags.

Built once at start-up by the CLI and passed down; each component takes only its own section.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from aegis.model.errors import ConfigError

ExchangeName = Literal["binanceusdm", "binance", "kraken", "coinbase", "emulator"]
Mode = Literal["paper", "live"]

_SECRET_KEYS = ("api_key", "api_secret")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExchangeSettings(_Section):
    """Which venue to trade on and how to reach it."""

    name: ExchangeName = "emulator"
    url: str | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    secrets_file: Path | None = None
    recv_window_ms: int = Field(default=10_000, gt=0, le=60_000)
    request_timeout_s: float = Field(default=10.0, gt=0)

    @property
    def has_credentials(self) -> bool:
        return self.api_key is not None and self.api_secret is not None


class StrategySettings(_Section):
    """The strategy the bot runs and its parameters."""

    name: str = "ema_cross"
    params: dict[str, str | int | float] = Field(default_factory=dict)


class MarketSettings(_Section):
    """What the bot follows."""

    symbols: list[str] = Field(default_factory=lambda: ["XRP/USDT:USDT"])
    timeframe: str = "5m"
    data: list[Path] = Field(default_factory=list)
    speed: str = "60"

    @field_validator("symbols")
    @classmethod
    def _symbols_are_unified(cls, symbols: list[str]) -> list[str]:
        if not symbols:
            raise ValueError("at least one symbol is required")
        for symbol in symbols:
            if "/" not in symbol:
                raise ValueError(
                    f"symbol {symbol!r} is not in unified notation (BTC/USDT or BTC/USDT:USDT)"
                )
        return symbols

    @field_validator("speed")
    @classmethod
    def _speed_is_number_or_max(cls, speed: str) -> str:
        if speed == "max":
            return speed
        try:
            value = float(speed)
        except ValueError as exc:
            raise ValueError(f"speed {speed!r} must be a positive number or 'max'") from exc
        if not value > 0:
            raise ValueError(f"speed {speed!r} must be a positive number or 'max'")
        return speed


class SizingSettings(_Section):
    """How much each entry buys or sells; exactly one of quantity or fraction."""

    quantity: str | None = None
    fraction: float | None = Field(default=None, gt=0, le=1)
    cash: str = "10000"
    fee_bps: str | None = None


class ServerSettings(_Section):
    """The local health / readiness / metrics endpoint (API3)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8686, ge=0, le=65535)


class RuntimeSettings(_Section):
    """How ``aegis run`` behaves around the trading itself (OP2, section 5 of issue 3)."""

    shutdown_timeout_s: float = Field(default=10.0, gt=0)
    warmup_candles: int = Field(default=100, ge=0)
    step_wait_s: float = Field(default=1.0, gt=0)
    emulator_history_candles: int = Field(default=100, ge=0)
    slippage_bps: float = Field(default=0.0, ge=0)
    seed: int = 0
    log_max_bytes: int = Field(default=10_000_000, gt=0)
    log_backups: int = Field(default=5, ge=0)
    user_stream_silence_s: float = Field(default=600.0, gt=0)
    #: live: seconds between light REST requests that keep a connection open for the next
    #: order (under aiohttp's 15 s idle limit); 0 turns them off
    rest_keep_warm_s: float = Field(default=10.0, ge=0)
    #: live, streamed fills: seconds after which an open market / IOC / FOK order without any
    #: update is looked up by REST (a fill the user stream lost); 0 turns the watchdog off
    fill_watchdog_s: float = Field(default=5.0, ge=0, allow_inf_nan=False)


class DatabaseSettings(_Section):
    """Where the runtime keeps its durable state (PE1) and how it maintains it (RC1, PE5).

    ``url`` empty: ``AEGIS_DATABASE_URL`` if set, else SQLite ``<data_dir>/aegis.db`` (WAL).
    """

    url: str | None = None
    reconcile_interval_s: float = Field(default=900.0, gt=0)
    policy: Literal["adopt", "alert"] = "adopt"
    snapshot_interval_s: float = Field(default=60.0, gt=0)
    retention_days: float = Field(default=30.0, gt=0)
    prune_interval_s: float = Field(default=3600.0, gt=0)
    control_poll_s: float = Field(default=0.5, gt=0)
    retry_initial_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=10.0, gt=0)
    tenant: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class RiskLimitSettings(_Section):
    """Risk limits and circuit-breaker thresholds (RK1-RK3); decimals as text, never floats."""

    max_symbol_exposure: str = "0.25"
    max_total_exposure: str = "1"
    max_open_positions: int = Field(default=5, ge=1)
    daily_loss_limit: str = "0.05"
    max_drawdown: str = "0.20"
    #: consecutive losing round trips that pause entries for ``cooldown_s``; None (the
    #: default) switches the cooldown off, so a default run and a backtest without risk rules
    #: in mind trade alike
    cooldown_losses: int | None = Field(default=None, ge=1)
    cooldown_s: int = Field(default=3_600, ge=1)
    stale_data_s: int = Field(default=180, ge=1)
    websocket_down_s: int = Field(default=60, ge=1)
    error_window_s: int = Field(default=60, ge=1)
    max_errors: int = Field(default=10, ge=1)
    max_mismatches: int = Field(default=1, ge=1)


class Settings(BaseSettings):
    """Every setting of a run; invalid input raises ``ConfigError`` naming the setting."""

    model_config = SettingsConfigDict(
        env_prefix="AEGIS_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    mode: Mode = "paper"
    bot_id: str = Field(default="bot1", pattern=r"^[A-Za-z0-9_-]{1,24}$")
    data_dir: Path = Path(".aegis")
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    market: MarketSettings = Field(default_factory=MarketSettings)
    sizing: SizingSettings = Field(default_factory=SizingSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    risk: RiskLimitSettings = Field(default_factory=RiskLimitSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            _FlatCredentialSource(settings_cls),
            env_settings,
        ]
        toml_file = os.environ.get("AEGIS_CONFIG_FILE")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_file)))
        return tuple(sources)


class _FlatCredentialSource(PydanticBaseSettingsSource):
    """Read ``AEGIS_EXCHANGE_API_KEY`` / ``AEGIS_EXCHANGE_API_SECRET`` and a secrets file.

    The documented variable names are flat, while the settings are nested; a secrets file is a
    TOML file with ``api_key`` and ``api_secret`` (named by ``AEGIS_EXCHANGE_SECRETS_FILE``).
    """

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        exchange: dict[str, Any] = {}
        # the variable names the file, else the TOML file's exchange.secrets_file: either way
        # the file's keys rank above the TOML file's and below the variables
        secrets_file = os.environ.get("AEGIS_EXCHANGE_SECRETS_FILE")
        if not secrets_file:
            # a file named in the TOML file and absent here (a backtest or `aegis status` on
            # another machine) is not an error yet: live mode checks it in load_settings
            named = _toml_secrets_file()
            secrets_file = named if named and Path(named).is_file() else None
        if secrets_file:
            exchange.update(_read_secrets_file(Path(secrets_file)))
            exchange["secrets_file"] = secrets_file
        for key in _SECRET_KEYS:
            value = os.environ.get(f"AEGIS_EXCHANGE_{key.upper()}")
            if value:
                exchange[key] = value
        return {"exchange": exchange} if exchange else {}


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc


def _toml_secrets_file() -> str | None:
    """Return ``exchange.secrets_file`` of the TOML settings file, if it names one."""
    toml_file = os.environ.get("AEGIS_CONFIG_FILE")
    if not toml_file:
        return None
    exchange = _read_toml(Path(toml_file), "config file").get("exchange")
    value = exchange.get("secrets_file") if isinstance(exchange, dict) else None
    return str(value) if value else None


def _read_secrets_file(path: Path) -> dict[str, str]:
    content = _read_toml(path, "exchange secrets file")
    unknown = sorted(set(content) - set(_SECRET_KEYS))
    if unknown:
        raise ConfigError(
            f"exchange secrets file {path} has unknown keys {unknown}; expected api_key, api_secret"
        )
    return {key: str(value) for key, value in content.items()}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from all sources; CLI flags come in as ``overrides``.

    Raises:
        ConfigError: a setting is invalid; the message names it and the value.
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    named = os.environ.get("AEGIS_CONFIG_FILE")
    if config_file is None and named and not Path(named).is_file():
        raise ConfigError(f"config file {named} (AEGIS_CONFIG_FILE) does not exist")
    previous = os.environ.get("AEGIS_CONFIG_FILE")
    if config_file is not None:
        os.environ["AEGIS_CONFIG_FILE"] = str(config_file)
    try:
        # parsed here first so that a syntax error names the file instead of escaping raw
        toml_file = os.environ.get("AEGIS_CONFIG_FILE")
        if toml_file:
            _read_toml(Path(toml_file), "config file")
        settings = Settings(**_drop_none(overrides))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    finally:
        if config_file is not None:
            if previous is None:
                os.environ.pop("AEGIS_CONFIG_FILE", None)
            else:
                os.environ["AEGIS_CONFIG_FILE"] = previous
    exchange = settings.exchange
    secrets = exchange.secrets_file
    missing = secrets is not None and not Path(secrets).is_file()
    if settings.mode == "live" and not exchange.has_credentials and missing:
        raise ConfigError(
            f"setting exchange.secrets_file = {str(secrets)!r}: the file does not exist, "
            "and live mode needs the credentials it holds"
        )
    return settings


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            nested = _drop_none(value)
            if nested:
                cleaned[key] = nested
        elif value is not None:
            cleaned[key] = value
    return cleaned


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        setting = ".".join(str(part) for part in item["loc"]) or "settings"
        value = item.get("input")
        shown = "<hidden>" if any(key in setting for key in _SECRET_KEYS) else repr(value)
        problems.append(f"setting {setting} = {shown}: {item['msg']}")
    return "invalid configuration: " + "; ".join(problems)
