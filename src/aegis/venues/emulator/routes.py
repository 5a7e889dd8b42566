"""The route table: method, path, market, security and handler of every emulated endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aegis.venues.emulator import rest_account as account
from aegis.venues.emulator import rest_market as market
from aegis.venues.emulator import rest_trade as trade
from aegis.venues.emulator.auth import Security
from aegis.venues.emulator.call import Call
from aegis.venues.emulator.markets import MarketKind

Handler = Callable[[Call], Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint."""

    method: str
    path: str
    kind: MarketKind
    security: Security
    handler: Handler
    places_order: bool = False


_N, _K, _S = Security.NONE, Security.API_KEY, Security.SIGNED


def _routes() -> list[Route]:
    routes: list[Route] = []
    for prefix, kind in (("/fapi/v1", "usdm"), ("/api/v3", "spot")):
        k: MarketKind = "usdm" if kind == "usdm" else "spot"
        routes += [
            Route("GET", f"{prefix}/ping", k, _N, market.ping),
            Route("GET", f"{prefix}/time", k, _N, market.server_time),
            Route("GET", f"{prefix}/exchangeInfo", k, _N, market.exchange_info),
            Route("GET", f"{prefix}/klines", k, _N, market.klines),
            Route("GET", f"{prefix}/ticker/24hr", k, _N, market.ticker_24h),
            Route("GET", f"{prefix}/ticker/price", k, _N, market.ticker_price),
            Route("GET", f"{prefix}/ticker/bookTicker", k, _N, market.book_ticker),
            Route("GET", f"{prefix}/depth", k, _N, market.depth),
            Route("GET", f"{prefix}/trades", k, _N, market.recent_trades),
            Route("POST", f"{prefix}/order", k, _S, trade.place_order, places_order=True),
            Route("GET", f"{prefix}/order", k, _S, trade.get_order),
            Route("DELETE", f"{prefix}/order", k, _S, trade.cancel_order),
            Route("GET", f"{prefix}/openOrders", k, _S, trade.open_orders),
            Route("GET", f"{prefix}/allOrders", k, _S, trade.all_orders),
        ]
    routes += [
        Route("GET", "/dapi/v1/exchangeInfo", "usdm", _N, market.empty_exchange_info),
        Route("GET", "/fapi/v1/premiumIndex", "usdm", _N, market.premium_index),
        Route("GET", "/fapi/v1/userTrades", "usdm", _S, trade.user_trades),
        Route("GET", "/fapi/v1/income", "usdm", _S, account.income),
        Route("DELETE", "/fapi/v1/allOpenOrders", "usdm", _S, trade.cancel_all),
        Route("POST", "/fapi/v1/algoOrder", "usdm", _S, trade.place_algo_order, True),
        Route("GET", "/fapi/v1/algoOrder", "usdm", _S, trade.get_algo_order),
        Route("DELETE", "/fapi/v1/algoOrder", "usdm", _S, trade.cancel_algo_order),
        Route("GET", "/fapi/v1/openAlgoOrders", "usdm", _S, trade.open_algo_orders),
        Route("GET", "/fapi/v1/allAlgoOrders", "usdm", _S, trade.all_algo_orders),
        Route("GET", "/fapi/v1/leverageBracket", "usdm", _S, account.leverage_bracket),
        Route("POST", "/fapi/v1/leverage", "usdm", _S, account.set_leverage),
        Route("POST", "/fapi/v1/marginType", "usdm", _S, account.set_margin_type),
        Route("GET", "/fapi/v1/positionSide/dual", "usdm", _S, account.get_position_mode),
        Route("POST", "/fapi/v1/positionSide/dual", "usdm", _S, account.set_position_mode),
        Route("GET", "/fapi/v1/commissionRate", "usdm", _S, account.commission_rate),
        Route("POST", "/fapi/v1/listenKey", "usdm", _K, account.create_listen_key),
        Route("PUT", "/fapi/v1/listenKey", "usdm", _K, account.keep_alive_listen_key),
        Route("DELETE", "/fapi/v1/listenKey", "usdm", _K, account.close_listen_key),
        Route("GET", "/api/v3/account", "spot", _S, account.spot_account),
        Route("GET", "/api/v3/myTrades", "spot", _S, trade.user_trades),
        Route("DELETE", "/api/v3/openOrders", "spot", _S, trade.cancel_all),
        Route("POST", "/api/v3/userDataStream", "spot", _K, account.create_listen_key),
        Route("PUT", "/api/v3/userDataStream", "spot", _K, account.keep_alive_listen_key),
        Route("DELETE", "/api/v3/userDataStream", "spot", _K, account.close_listen_key),
    ]
    for version in ("v2", "v3"):
        routes += [
            Route("GET", f"/fapi/{version}/account", "usdm", _S, account.futures_account),
            Route("GET", f"/fapi/{version}/balance", "usdm", _S, account.futures_balance),
            Route("GET", f"/fapi/{version}/positionRisk", "usdm", _S, account.position_risk),
        ]
    return routes


#: Every emulated REST endpoint, keyed by (method, path).
ROUTES: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in _routes()}
