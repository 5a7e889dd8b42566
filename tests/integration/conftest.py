"""Fixtures shared by the integration packages that drive the real CcxtVenue against the emulator.

A package whose emulator needs another setup (its own data, account or clock) keeps its own
``server`` fixture in its conftest; these fixtures are the common XRP/USDT perpetual case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from aegis.config import ExchangeSettings
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import AccountSpec, EmulatorConfig, EmulatorServer

EMULATOR_KEY, EMULATOR_SECRET = "key-integration", "secret-integration"
XRP_5M_FILE = "binance-usdm_XRP-USDT-PERP_5m.csv.gz"

#: Connects a ``binanceusdm`` CcxtVenue on the emulator account with a retry policy.
ConnectVenue = Callable[[EmulatorServer, RetryPolicy], Awaitable[CcxtVenue]]


@pytest.fixture
def emulator_account() -> AccountSpec:
    """The one funded emulator account (10 000 USDT) that ``connect_venue`` trades on."""
    return AccountSpec(EMULATOR_KEY, EMULATOR_SECRET, balance=Decimal(10000))


@pytest.fixture
async def xrp_emulator(
    bundled_data_dir: Path, emulator_account: AccountSpec
) -> AsyncIterator[EmulatorServer]:
    """A step-driven emulator replaying real XRP/USDT perpetual 5m candles, 20 of history."""
    config = EmulatorConfig(
        data_files=(bundled_data_dir / XRP_5M_FILE,),
        accounts=(emulator_account,),
        history_candles=20,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def connect_venue(emulator_account: AccountSpec) -> AsyncIterator[ConnectVenue]:
    """Connect venues on the emulator account; every one is closed at teardown."""
    opened: list[CcxtVenue] = []
    settings = ExchangeSettings(
        name="binanceusdm",
        api_key=SecretStr(emulator_account.api_key),
        api_secret=SecretStr(emulator_account.secret),
    )

    async def connect(server: EmulatorServer, policy: RetryPolicy) -> CcxtVenue:
        venue = CcxtVenue("binanceusdm", settings, base_url=server.base_url, policy=policy)
        await venue.connect()
        opened.append(venue)
        return venue

    yield connect
    for venue in reversed(opened):
        await venue.close()
