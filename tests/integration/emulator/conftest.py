"""Fixtures: an emulator on an ephemeral 127.0.0.1 port and unmodified ccxt clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import pytest

from aegis.venues.emulator import AccountSpec, EmulatorConfig, FillModelSpec, configure_ccxt
from aegis.venues.emulator.server import EmulatorServer

pytestmark = pytest.mark.integration

SYMBOL = "XRP/USDT:USDT"
KEY, SECRET = "key-alice", "secret-alice"
OTHER_KEY, OTHER_SECRET = "key-bob", "secret-bob"
HISTORY = 50


@pytest.fixture
def xrp_file(bundled_data_dir: Path) -> Path:
    """Real XRPUSDT perpetual 5m candles (bundled copy of the shared file, no gaps)."""
    return bundled_data_dir / "binance-usdm_XRP-USDT-PERP_5m.csv.gz"


@pytest.fixture
def make_config(xrp_file: Path) -> Callable[..., EmulatorConfig]:
    def make(**overrides: object) -> EmulatorConfig:
        values: dict[str, object] = {
            "data_files": (xrp_file,),
            "accounts": (
                AccountSpec(KEY, SECRET, balance=Decimal(10000)),
                AccountSpec(OTHER_KEY, OTHER_SECRET, balance=Decimal(500)),
            ),
            "history_candles": HISTORY,
        }
        values.update(overrides)
        return EmulatorConfig(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def server(make_config: Callable[..., EmulatorConfig]) -> AsyncIterator[EmulatorServer]:
    emulator = EmulatorServer(make_config())
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def partial_server(
    make_config: Callable[..., EmulatorConfig],
) -> AsyncIterator[EmulatorServer]:
    """Fills capped at a tiny share of each candle's volume: big orders fill partially."""
    emulator = EmulatorServer(make_config(fill_model=FillModelSpec(max_volume_share=1e-5)))
    await emulator.start()
    yield emulator
    await emulator.stop()


def _usdm(module: object, base_url: str, key: str, secret: str) -> object:
    exchange = module.binanceusdm({"apiKey": key, "secret": secret})  # type: ignore[attr-defined]
    return configure_ccxt(exchange, base_url)


@pytest.fixture
async def client(server: EmulatorServer) -> AsyncIterator[ccxt_async.binanceusdm]:
    exchange = _usdm(ccxt_async, server.base_url, KEY, SECRET)
    yield exchange
    await exchange.close()  # type: ignore[attr-defined]


@pytest.fixture
async def other_client(server: EmulatorServer) -> AsyncIterator[ccxt_async.binanceusdm]:
    exchange = _usdm(ccxt_async, server.base_url, OTHER_KEY, OTHER_SECRET)
    yield exchange
    await exchange.close()  # type: ignore[attr-defined]


@pytest.fixture
async def pro_client(server: EmulatorServer) -> AsyncIterator[ccxt_pro.binanceusdm]:
    exchange = _usdm(ccxt_pro, server.base_url, KEY, SECRET)
    yield exchange
    await exchange.close()  # type: ignore[attr-defined]


SPOT_KEY, SPOT_SECRET = "spot-key", "spot-secret"


@pytest.fixture
async def spot_server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    """Real BTC/USDT 5m candles listed on spot (and USD-M); one spot account of 1,000 USDT."""
    config = EmulatorConfig(
        data_files=(bundled_data_dir / "unknown_BTC-USDT_5m.csv.gz",),
        accounts=(AccountSpec(SPOT_KEY, SPOT_SECRET, balance=Decimal(1000)),),
        history_candles=20,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def spot_client(spot_server: EmulatorServer) -> AsyncIterator[ccxt_async.binance]:
    exchange = configure_ccxt(
        ccxt_async.binance({"apiKey": SPOT_KEY, "secret": SPOT_SECRET}), spot_server.base_url
    )
    yield exchange
    await exchange.close()  # type: ignore[attr-defined]
