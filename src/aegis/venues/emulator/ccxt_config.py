"""Point an unmodified ccxt Binance client (sync, async or pro) at the emulator.

This module imports neither aiohttp nor ccxt: the ccxt venue reuses it on its start-up path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The USD-M market streams live at /market/ws and /public/ws (ccxt derives them from
# ``.../ws``). Spot streams use the combined-stream path ``/stream``: ccxt.pro binance tells a
# spot socket from a contract one only by "/stream" in its URL (on binance.com the host name
# ``stream.binance.com`` supplies it), so a spot path without it would file spot trades and
# klines under the USD-M symbol.
_WS_PATHS = {"linear": "/ws", "spot": "/stream"}

# URL path prefix -> ccxt's error table (see get_exceptions_by_url in ccxt/binance.py).
_TABLES = (
    ("/fapi/", "linear"),
    ("/dapi/", "inverse"),
    ("/papi/", "portfolioMargin"),
    ("/eapi/", "option"),
    ("/api/", "spot"),
    ("/sapi/", "spot"),
)


def _rewrite(url: str, netloc: str, key: str | None) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("ws", "wss"):
        path = _WS_PATHS.get(key or "", parts.path)
        return urlunsplit(("ws", netloc, path, parts.query, ""))
    return urlunsplit(("http", netloc, parts.path, parts.query, ""))


def _rewrite_tree(tree: dict[str, Any], netloc: str, under_ws: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, str) and "://" in value:
            result[key] = _rewrite(value, netloc, key if under_ws else None)
        elif isinstance(value, dict):
            result[key] = _rewrite_tree(value, netloc, under_ws or key == "ws")
        else:
            result[key] = value
    return result


def emulator_error_table(exchange: Any) -> Callable[[str, str], dict[str, Any]]:
    """A ``get_exceptions_by_url`` that picks ccxt's market error table from the URL path.

    ccxt only recognises binance.com host names; on 127.0.0.1 it would fall back to the
    generic table and turn -4164 (min notional), -2019 (margin) and others into a plain
    ExchangeError instead of InvalidOrder / InsufficientFunds.
    """

    def get_exceptions_by_url(url: str, exact_or_broad: str) -> dict[str, Any]:
        if url is None:
            return {}
        path = urlsplit(url).path
        for prefix, table in _TABLES:
            if path.startswith(prefix):
                by_market = exchange.safe_dict(exchange.exceptions, table, {})
                result: dict[str, Any] = exchange.safe_dict(by_market, exact_or_broad, {})
                return result
        return {}

    return get_exceptions_by_url


def configure_ccxt(exchange: Any, base_url: str) -> Any:
    """Point a ccxt ``binanceusdm`` / ``binance`` instance (sync, async or pro) at ``base_url``.

    Every URL string under ``exchange.urls['api']`` is rewritten to the emulator's host with its
    path kept (anything unplanned shows up as a counted 404 instead of reaching binance.com);
    ``fetchCurrencies`` and ``fetchMargins`` are switched off (they call ``sapi``);
    ``fetch_open_orders()`` without a symbol is allowed; and ccxt's per-market error table is
    chosen from the URL path. Returns the same instance.
    """
    netloc = urlsplit(base_url).netloc
    if not netloc:
        raise ValueError(f"base_url {base_url!r} has no host:port")
    exchange.urls["api"] = _rewrite_tree(exchange.urls["api"], netloc, under_ws=False)
    options = exchange.options
    options["fetchCurrencies"] = False
    options["fetchMargins"] = False
    options["warnOnFetchOpenOrdersWithoutSymbol"] = False
    open_orders = dict(options.get("fetchOpenOrders") or {})
    open_orders["warnWithoutSymbol"] = False
    options["fetchOpenOrders"] = open_orders
    # Instance attribute on purpose: ccxt itself stays unmodified (pitfall 1 of the notes).
    exchange.get_exceptions_by_url = emulator_error_table(exchange)
    return exchange
