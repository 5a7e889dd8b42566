"""What differs between the supported ccxt exchanges: options and client-order-id parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from aegis.model.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeProfile:
    """How ``CcxtVenue`` drives one ccxt exchange.

    Attributes:
        ccxt_id: the ccxt class name.
        options: merged into ``exchange.options`` (e.g. which market types to load).
        client_id_param: the ``create_order`` param that carries our client order id (ccxt
            reads ``clientOrderId`` for Binance and Kraken; Coinbase overwrites it, so the raw
            ``client_order_id`` field is sent).
        conditional_client_id_param: the param for trigger orders when they use another API
            (Binance USD-M algo orders: ``clientAlgoId``), else None.
        lookup: how an order is found by client id: ``"param"`` (fetch_order with
            ``lookup_params``), or ``"scan"`` (search open and recent orders; Coinbase and
            Kraken cannot fetch one order by a string client id).
        lookup_params: names of the fetch_order params that carry the client id.
        uses_binance_filters: markets come with Binance ``exchangeInfo`` filters in ``info``.
        order_cursor_param / trade_cursor_param: id-based pagination of order and trade
            history (Binance ``orderId`` / ``fromId``: no time window, unlike ``startTime``
            which Binance caps at 7 days); None = page forward by timestamp.
        page_limit: records per history page.
        public_trades_params: ``fetch_trades`` params. Binance's default (``aggTrades``) numbers
            aggregates, not trades: the plain ``trades`` endpoint keeps the ids of the
            ``@trade`` stream, so a feed can de-duplicate across the socket / REST switch.
        public_trades_since: the REST trades call accepts ``since`` (Binance ``trades``
            does not: it returns the latest trades, filtered locally).
    """

    ccxt_id: str
    options: Mapping[str, Any] = field(default_factory=dict)
    client_id_param: str = "clientOrderId"
    conditional_client_id_param: str | None = None
    lookup: str = "param"
    lookup_params: tuple[str, ...] = ("clientOrderId",)
    uses_binance_filters: bool = False
    order_cursor_param: str | None = None
    trade_cursor_param: str | None = None
    page_limit: int = 500
    public_trades_params: Mapping[str, Any] = field(default_factory=dict)
    public_trades_since: bool = True


_BINANCE_OPTIONS: Final[Mapping[str, Any]] = {
    # load_markets would call sapi capital/config with keys set; we need markets only
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchOpenOrders": {"warnWithoutSymbol": False},
    "warnOnFetchOpenOrdersWithoutSymbol": False,
    "adjustForTimeDifference": False,
    # No permessage-deflate on the websockets (ccxt.pro offers it by default, Binance accepts):
    # a kline is a few hundred bytes, and deflating and inflating each one cost ~65 us between
    # a closed candle and its order on the project machine (issue 3 section 7). Merged into
    # ccxt's own ``ws`` options (its per-subscription ``cost`` stays).
    "ws": {"compress": 0},
}

PROFILES: Final[Mapping[str, ExchangeProfile]] = MappingProxyType(
    {
        "binanceusdm": ExchangeProfile(
            ccxt_id="binanceusdm",
            options={**_BINANCE_OPTIONS, "defaultType": "future"},
            client_id_param="newClientOrderId",
            conditional_client_id_param="clientAlgoId",
            lookup_params=("clientOrderId",),
            uses_binance_filters=True,
            order_cursor_param="orderId",
            trade_cursor_param="fromId",
            # Binance caps allOrders / userTrades / myTrades pages at 1,000 records: the largest
            # page halves the weighted calls a full reconciliation makes (RC1).
            page_limit=1000,
            public_trades_params={"fetchTradesMethod": "fapiPublicGetTrades"},
            public_trades_since=False,
        ),
        "binance": ExchangeProfile(
            ccxt_id="binance",
            options={
                **_BINANCE_OPTIONS,
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
            },
            client_id_param="newClientOrderId",
            uses_binance_filters=True,
            order_cursor_param="orderId",
            trade_cursor_param="fromId",
            # Binance caps allOrders / userTrades / myTrades pages at 1,000 records: the largest
            # page halves the weighted calls a full reconciliation makes (RC1).
            page_limit=1000,
            public_trades_params={"fetchTradesMethod": "publicGetTrades"},
            public_trades_since=False,
        ),
        "kraken": ExchangeProfile(
            ccxt_id="kraken",
            options={"fetchCurrencies": False},
            client_id_param="clientOrderId",  # ccxt sends it as cl_ord_id
            lookup="scan",
            page_limit=50,
        ),
        "coinbase": ExchangeProfile(
            ccxt_id="coinbase",
            options={"fetchCurrencies": False},
            # ccxt omits 'clientOrderId' and generates its own id: send the raw field instead
            client_id_param="client_order_id",
            lookup="scan",
            page_limit=250,
        ),
    }
)


def profile_for(exchange_name: str) -> ExchangeProfile:
    """Return the profile of a supported exchange; ``ConfigError`` names the unknown one."""
    found = PROFILES.get(exchange_name)
    if found is None:
        raise ConfigError(
            f"exchange {exchange_name!r} is not supported; supported: {', '.join(sorted(PROFILES))}"
        )
    return found
