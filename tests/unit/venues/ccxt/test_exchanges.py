"""Kraken, Coinbase and Binance through unmodified ccxt parsing on constructed responses.

The exchange's ``fetch`` (its HTTP boundary) is replaced by a router returning constructed JSON;
ccxt's own ``handle_errors`` still runs, so error mapping is ccxt's real behaviour.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from aegis.config import ExchangeSettings
from aegis.model import (
    InsufficientFunds,
    Order,
    OrderEventKind,
    OrderNotFound,
    OrderSide,
    OrderStatus,
    OrderType,
)
from aegis.venues.ccxt import CcxtVenue, RateLimitGate, RetryPolicy, create_exchange, profile_for

KRAKEN_PAIRS = {
    "error": [],
    "result": {
        "XXBTZUSD": {
            "altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
            "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5,
            "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1,
            "leverage_buy": [2, 3], "leverage_sell": [2, 3],
            "fees": [[0, 0.4]], "fees_maker": [[0, 0.25]], "fee_volume_currency": "ZUSD",
            "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001", "costmin": "0.5",
            "tick_size": "0.1", "status": "online",
        }
    },
}  # fmt: skip

KRAKEN_ASSETS = {
    "error": [],
    "result": {
        "XXBT": {"aclass": "currency", "altname": "XBT", "decimals": 10,
                 "display_decimals": 5, "status": "enabled"},
        "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4,
                 "display_decimals": 2, "status": "enabled"},
    },
}  # fmt: skip
KRAKEN_MARKETS = {"AssetPairs": (200, KRAKEN_PAIRS), "public/Assets": (200, KRAKEN_ASSETS)}

COINBASE_PRODUCTS = {
    "products": [
        {
            "product_id": "BTC-USD", "price": "67060", "base_increment": "0.00000001",
            "quote_increment": "0.01", "quote_min_size": "1", "quote_max_size": "150000000",
            "base_min_size": "0.00000001", "base_max_size": "3400", "base_name": "Bitcoin",
            "quote_name": "US Dollar", "is_disabled": False, "status": "online",
            "cancel_only": False, "limit_only": False, "post_only": False,
            "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
            "quote_currency_id": "USD", "base_currency_id": "BTC", "alias": "",
            "alias_to": [], "base_display_symbol": "BTC", "quote_display_symbol": "USD",
            "view_only": False, "price_increment": "0.01", "display_name": "BTC-USD",
            "product_venue": "CBE",
        }
    ],
    "num_products": 1,
}  # fmt: skip


class Router:
    """Replace ``exchange.fetch``: answer by URL substring, record every request."""

    def __init__(self, exchange: Any, routes: dict[str, tuple[int, Any]]) -> None:
        self.exchange = exchange
        self.routes = routes
        self.requests: list[tuple[str, str, Any]] = []
        exchange.fetch = self.fetch

    async def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None):
        self.requests.append((method, url, body))
        for fragment, (status, payload) in self.routes.items():
            if fragment in url:
                text = json.dumps(payload)
                response_headers = {"Retry-After": "9"} if status == 429 else {}
                self.exchange.last_response_headers = response_headers
                self.exchange.handle_errors(
                    status, "", url, method, response_headers, text, payload, headers, body
                )
                self.exchange.handle_http_status_code(status, "", url, method, text)
                return payload
        raise AssertionError(f"unrouted request {method} {url}")

    def sent(self, fragment: str) -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if fragment in r[1]]


def _settings(secret: str) -> ExchangeSettings:
    return ExchangeSettings(api_key=SecretStr("key"), api_secret=SecretStr(secret))


def _venue(name: str, routes: dict[str, tuple[int, Any]]) -> tuple[CcxtVenue, Router]:
    secret = base64.b64encode(b"0" * 64).decode()
    exchange = create_exchange(profile_for(name), _settings(secret), None)
    exchange.enableRateLimit = False  # nothing to protect: no request leaves the process
    router = Router(exchange, routes)
    venue = CcxtVenue(
        name,
        _settings(secret),
        exchange=exchange,
        gate=RateLimitGate(sleep=_no_sleep),
        policy=RetryPolicy(max_attempts=2, base_delay_s=0.0),
        sleep=_no_sleep,
    )
    return venue, router


async def _no_sleep(seconds: float) -> None:
    return None


def _order(symbol: str, cid: str = "bot1-000001") -> Order:
    return Order(
        client_order_id=cid, bot_id="bot1", symbol=symbol, side=OrderSide.BUY,
        type=OrderType.LIMIT, quantity=Decimal("0.01"), price=Decimal("60000.0"),
        status=OrderStatus.SUBMITTED,
    )  # fmt: skip


async def test_kraken_markets_become_unified_instruments_with_tick_and_lot_grids() -> None:
    venue, _ = _venue("kraken", dict(KRAKEN_MARKETS))
    await venue.connect()
    btc = venue.instruments()["BTC/USD"]
    assert (btc.tick_size, btc.step_size, btc.min_qty) == (
        Decimal("0.1"), Decimal("1E-8"), Decimal("0.0001"),
    )  # fmt: skip
    assert btc.min_notional == Decimal("0.5")
    await venue.close()


async def test_kraken_order_carries_the_client_id_as_cl_ord_id() -> None:
    placed = {
        "error": [],
        "result": {
            "txid": ["OABC-123"],
            "descr": {"order": "buy 0.01000000 XBTUSD @ limit 60000.0"},
        },
    }
    venue, router = _venue("kraken", {**KRAKEN_MARKETS, "AddOrder": (200, placed)})
    await venue.connect()
    update = await venue.submit(_order("BTC/USD"))
    assert update.kind is OrderEventKind.ACCEPT
    assert update.venue_order_id == "OABC-123"
    body = router.sent("AddOrder")[0][2]
    assert "cl_ord_id=bot1-000001" in body
    assert "volume=0.01" in body
    assert "price=60000" in body
    await venue.close()


async def test_kraken_insufficient_funds_answer_becomes_a_reject_update() -> None:
    refusal = {"error": ["EOrder:Insufficient funds"], "result": {}}
    venue, _ = _venue("kraken", {**KRAKEN_MARKETS, "AddOrder": (200, refusal)})
    await venue.connect()
    update = await venue.submit(_order("BTC/USD"))
    assert update.kind is OrderEventKind.REJECT
    assert "Insufficient funds" in (update.reason or "")
    await venue.close()


async def test_kraken_unknown_order_on_cancel_raises_order_not_found() -> None:
    unknown = {"error": ["EOrder:Unknown order"], "result": {}}
    venue, _ = _venue("kraken", {**KRAKEN_MARKETS, "CancelOrder": (200, unknown)})
    await venue.connect()
    with pytest.raises(OrderNotFound, match="bot1-000001"):
        await venue.cancel(_order("BTC/USD").replace(venue_order_id="OABC-123"))
    await venue.close()


async def test_coinbase_markets_and_client_order_id_field() -> None:
    placed = {
        "success": True,
        "success_response": {
            "order_id": "cb-1", "product_id": "BTC-USD", "side": "BUY",
            "client_order_id": "bot1-000001",
        },
    }  # fmt: skip
    venue, router = _venue(
        "coinbase",
        {
            "market/products": (200, COINBASE_PRODUCTS),
            "brokerage/orders": (200, placed),
            "transaction_summary": (200, {"fee_tier": {}}),
            "v2/currencies": (200, {"data": []}),
            "exchange-rates": (200, {"data": {"currency": "USD", "rates": {}}}),
        },
    )
    await venue.connect()
    btc = venue.instruments()["BTC/USD"]
    assert (btc.tick_size, btc.step_size) == (Decimal("0.01"), Decimal("1E-8"))
    assert btc.min_notional == Decimal(1)
    update = await venue.submit(_order("BTC/USD"))
    assert update.venue_order_id == "cb-1"
    body = json.loads(router.sent("brokerage/orders")[-1][2])
    assert body["client_order_id"] == "bot1-000001"  # ours, not ccxt's generated one
    limit = body["order_configuration"]["limit_limit_gtc"]
    assert (limit["base_size"], limit["limit_price"]) == ("0.01", "60000")
    await venue.close()


async def test_coinbase_insufficient_funds_maps_to_reject() -> None:
    refusal = {
        "success": False,
        "error_response": {"error": "INSUFFICIENT_FUND", "message": "Insufficient balance"},
    }
    venue, _ = _venue(
        "coinbase",
        {
            "market/products": (200, COINBASE_PRODUCTS),
            "brokerage/orders": (200, refusal),
            "transaction_summary": (200, {"fee_tier": {}}),
            "v2/currencies": (200, {"data": []}),
            "exchange-rates": (200, {"data": {"currency": "USD", "rates": {}}}),
        },
    )
    await venue.connect()
    update = await venue.submit(_order("BTC/USD"))
    assert update.kind is OrderEventKind.REJECT
    await venue.close()


def test_unsupported_exchange_names_the_supported_ones() -> None:
    from aegis.model import ConfigError

    with pytest.raises(ConfigError, match="'bitmex' is not supported; supported: binance"):
        profile_for("bitmex")


def test_insufficient_funds_type_is_exported_for_callers() -> None:
    assert issubclass(InsufficientFunds, Exception)
