"""Futures cash is the wallet balance, not ccxt's ``total`` (Binance's margin balance)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.unit.venues.ccxt.test_exchanges import _venue


def _asset(asset: str, wallet: str, unrealized: str, update_time: int = 1) -> dict[str, Any]:
    margin = str(Decimal(wallet) + Decimal(unrealized))
    return {
        "asset": asset, "walletBalance": wallet, "unrealizedProfit": unrealized,
        "marginBalance": margin, "availableBalance": margin, "initialMargin": "0",
        "updateTime": update_time,
    }  # fmt: skip


async def test_an_open_positions_unrealised_pnl_is_not_counted_as_cash() -> None:
    account = {
        "assets": [_asset("USDT", "1000.5", "21.25"), _asset("BNB", "0", "0", update_time=0)],
        "positions": [],
    }
    venue, router = _venue("binanceusdm", {"exchangeInfo": (200, {"symbols": []}),
                                           "v3/account": (200, account)})  # fmt: skip
    balances = await venue.fetch_balances()
    assert balances == {"USDT": Decimal("1000.5")}
    assert router.sent("v3/account")


async def test_a_spot_balance_is_its_total() -> None:
    account = {
        "balances": [{"asset": "USDT", "free": "90", "locked": "10"}],
        "updateTime": 1, "accountType": "SPOT",
    }  # fmt: skip
    venue, _ = _venue("binance", {"exchangeInfo": (200, {"symbols": []}),
                                  "v3/account": (200, account)})  # fmt: skip
    assert await venue.fetch_balances() == {"USDT": Decimal("100")}
