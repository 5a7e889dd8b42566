"""An emulator account and the clients tests drive it with, for fixtures in several packages.

Each is an async context manager, so a fixture is ``async with ...: yield``:
``xrp_emulator`` (step-driven, real XRP/USDT perpetual 5m candles, 20 of history, one funded
account), ``bot_venue`` (the bot's ``CcxtVenue`` on that account) and ``raw_client`` (a second,
plain ccxt client on the same account: what the exchange really holds). ``exchange_section``
is the ``[exchange]`` settings of a bot trading on an emulator that ``start_emulator`` started;
``place_filled_market_orders`` fills an account with order history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
from pydantic import SecretStr

from aegis.config import ExchangeSettings
from aegis.engine.emulator import EmulatorHandle
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import AccountSpec, EmulatorConfig, configure_ccxt
from aegis.venues.emulator.engine import OrderRequest
from aegis.venues.emulator.server import EmulatorServer

XRP_5M_FILE = "binance-usdm_XRP-USDT-PERP_5m.csv.gz"


@asynccontextmanager
async def xrp_emulator(
    data_dir: Path, key: str, secret: str, balance: Decimal = Decimal(100_000)
) -> AsyncIterator[EmulatorServer]:
    """Run a step-driven emulator on a free loopback port with one funded account."""
    config = EmulatorConfig(
        data_files=(data_dir / XRP_5M_FILE,),
        accounts=(AccountSpec(key, secret, balance=balance),),
        history_candles=20,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@asynccontextmanager
async def bot_venue(server: EmulatorServer, key: str, secret: str) -> AsyncIterator[CcxtVenue]:
    """Connect the bot's venue (fast retries) on the account."""
    settings = ExchangeSettings(
        name="binanceusdm", api_key=SecretStr(key), api_secret=SecretStr(secret)
    )
    venue = CcxtVenue("binanceusdm", settings, base_url=server.base_url,
                      policy=RetryPolicy(base_delay_s=0.01, seed=1))  # fmt: skip
    await venue.connect()
    try:
        yield venue
    finally:
        await venue.close()


@asynccontextmanager
async def raw_client(server: EmulatorServer, key: str, secret: str) -> AsyncIterator[Any]:
    """Open a plain ccxt client on the account (ccxt is untyped: Any)."""
    exchange = configure_ccxt(ccxt_async.binanceusdm({"apiKey": key, "secret": secret}),
                              server.base_url)  # fmt: skip
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


def exchange_section(emulator: EmulatorHandle) -> dict[str, Any]:
    """Return the ``exchange`` settings of a bot on ``emulator``: its URL and demo account."""
    account = emulator.exchange_settings
    assert account.api_key is not None
    assert account.api_secret is not None
    return {
        "name": "emulator",
        "url": emulator.base_url,
        "api_key": account.api_key.get_secret_value(),
        "api_secret": account.api_secret.get_secret_value(),
    }


def place_filled_market_orders(server: EmulatorServer, key: str, count: int, prefix: str) -> None:
    """Place ``count`` XRPUSDT market orders (buy, sell, buy...) through the emulator's Python
    API (fast), ids ``<prefix>-<n>``, and fill them all.

    A candle fills them in batches of 100: the venue keeps at most MAX_NUM_ORDERS (200) orders
    open on a symbol.
    """
    account = server.exchange.accounts[key].venues["usdm"]
    for n in range(count):
        side = "BUY" if n % 2 == 0 else "SELL"
        account.place(
            OrderRequest("XRPUSDT", side, "MARKET", Decimal(10), None, None, "GTC", False,
                         "BOTH", f"{prefix}-{n}"),
            is_algo=False,
        )  # fmt: skip
        if n % 100 == 99:
            server.step()
    server.step()
