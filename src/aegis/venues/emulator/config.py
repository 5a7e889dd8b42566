"""Configuration of the exchange emulator: data files, accounts, replay speed, fill model."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from aegis.model.errors import ConfigError


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One API key of the emulator with its secret and opening balances.

    ``balance`` is the USD-M wallet (in ``margin_asset``) and also the spot balance of that asset;
    ``spot_balances`` adds other spot assets.
    """

    api_key: str
    secret: str
    balance: Decimal = Decimal(10000)
    margin_asset: str = "USDT"
    spot_balances: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, balance: Decimal = Decimal(10000)) -> AccountSpec:
        """Parse ``KEY:SECRET`` (CLI form).

        Raises ConfigError naming the value when it has no ``:`` or an empty part.
        """
        key, sep, secret = text.partition(":")
        if not sep or not key or not secret:
            raise ConfigError(f"--account {text!r} is not KEY:SECRET")
        return cls(api_key=key, secret=secret, balance=balance)

    @classmethod
    def demo(cls, balance: Decimal = Decimal(10000)) -> AccountSpec:
        """Create an account with a random key and secret (printed by the CLI)."""
        return cls(api_key=secrets.token_hex(32), secret=secrets.token_hex(32), balance=balance)


def parse_decimal(name: str, text: str) -> Decimal:
    """Parse a decimal option value; raise ConfigError naming the option and the value."""
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ConfigError(f"{name} {text!r} is not a number") from exc
    if not value.is_finite():
        raise ConfigError(f"{name} {text!r} is not a finite number")
    return value


def parse_speed(text: str) -> float | None:
    """Parse ``--speed``: a positive factor (60 = a minute of history per second) or ``max``.

    ``max`` (None) means step-driven: candles are published only by `EmulatorServer.step` or
    ``POST /_admin/step``, i.e. as fast as the client consumes them.
    """
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError as exc:
        raise ConfigError(f"--speed {text!r} is neither a number nor 'max'") from exc
    if not speed > 0:
        raise ConfigError(f"--speed {text!r} must be positive")
    return speed


@dataclass(frozen=True, slots=True)
class FillModelSpec:
    """Arguments of ``aegis.venues.sim.FillModel`` used for every account."""

    slippage_bps: float = 0.0
    max_volume_share: float | None = None
    latency_ms: int = 0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Everything `EmulatorServer` needs.

    Attributes:
        data_files: candle, trade and funding files in the shared data format.
        accounts: API keys; empty means none (the CLI then creates a demo account).
        host, port: where to listen; port 0 picks a free port.
        speed: history seconds per wall second, or None for step-driven replay.
        history_candles: candles of every feed already closed at start (served by REST klines,
            never pushed nor matched).
        faults: initial faults, ``name -> value`` as for ``--fault NAME=VALUE``.
        default_leverage: leverage of every USD-M symbol until set_leverage changes it.
        recv_window_limit_ms: largest accepted ``recvWindow`` (Binance: 60000).
    """

    data_files: tuple[Path, ...]
    accounts: tuple[AccountSpec, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0
    speed: float | None = None
    history_candles: int = 0
    faults: Mapping[str, str] = field(default_factory=dict)
    fill_model: FillModelSpec = field(default_factory=FillModelSpec)
    default_leverage: int = 20
    recv_window_limit_ms: int = 60_000
    listen_key_ttl_s: float = 3600.0

    def __post_init__(self) -> None:
        if not self.data_files:
            raise ConfigError("data_files is empty: the emulator needs at least one candle file")
        if self.history_candles < 0:
            raise ConfigError(f"history_candles {self.history_candles} must be >= 0")
        keys = [account.api_key for account in self.accounts]
        if len(keys) != len(set(keys)):
            raise ConfigError(f"accounts have duplicate API keys: {sorted(keys)}")
