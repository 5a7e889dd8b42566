"""The in-process exchange emulator of ``aegis run --exchange emulator`` (demo, parity runs)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from aegis.config import ExchangeSettings, Settings
from aegis.data import bundled_data_path
from aegis.model.errors import ConfigError

DEFAULT_DATA_FILE = "binance-usdm_XRP-USDT-PERP_5m.csv.gz"


@dataclass(slots=True)
class EmulatorHandle:
    """A running in-process emulator and the exchange settings (demo account) to reach it."""

    server: Any  # EmulatorServer, imported lazily (aiohttp)
    base_url: str
    exchange_settings: ExchangeSettings

    async def stop(self) -> None:
        """Stop the emulator."""
        await self.server.stop()


def emulator_data_files(settings: Settings) -> tuple[Path, ...]:
    """Return the files to replay: ``market.data`` or the bundled XRP/USDT:USDT 5m candles."""
    files = tuple(settings.market.data) or (bundled_data_path(DEFAULT_DATA_FILE),)
    for path in files:
        if not path.is_file():
            raise ConfigError(f"setting market.data: file {path} does not exist")
    return files


async def start_emulator(settings: Settings) -> EmulatorHandle:
    """Start the emulator on 127.0.0.1 with one demo account funded with ``sizing.cash``.

    The emulator is always step-driven here: ``--speed max`` replays step by step from the
    first candle (no pre-closed history), so a run sees exactly the candles a backtest of the
    same file sees; a numeric speed starts after ``emulator_history_candles`` closed candles
    (the strategies' warm-up) and the session paces the steps on the wall clock.
    """
    from aegis.venues.emulator import AccountSpec, EmulatorConfig, FillModelSpec, parse_speed
    from aegis.venues.emulator.server import EmulatorServer

    speed = parse_speed(settings.market.speed)
    account = AccountSpec.demo(balance=Decimal(settings.sizing.cash))
    try:
        config = EmulatorConfig(
            data_files=emulator_data_files(settings),
            accounts=(account,),
            speed=None,
            history_candles=0 if speed is None else settings.runtime.emulator_history_candles,
            fill_model=FillModelSpec(
                slippage_bps=settings.runtime.slippage_bps, seed=settings.runtime.seed
            ),
        )
        server = EmulatorServer(config)
    except ValueError as error:
        raise ConfigError(f"setting market.data: {error}") from error
    base_url = await server.start()
    exchange = settings.exchange.model_copy(
        update={
            "url": base_url,
            "api_key": SecretStr(account.api_key),
            "api_secret": SecretStr(account.secret),
        }
    )
    return EmulatorHandle(server, base_url, exchange)
