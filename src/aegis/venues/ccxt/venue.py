"""``CcxtVenue``: the one ``Venue`` implementation for every supported ccxt exchange (EX1)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import structlog

from aegis.config import ExchangeSettings
from aegis.model.candle import Candle
from aegis.model.errors import AegisError, ConfigError
from aegis.model.events import Fill, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.venues.base import (
    PublicTrade,
    VenueFundingPayment,
    VenueFundingRate,
    VenueOrder,
    VenuePosition,
)
from aegis.venues.ccxt.backoff import RateLimitGate, RetryPolicy, Sleep
from aegis.venues.ccxt.calls import GuardedCaller
from aegis.venues.ccxt.funding import funding_payment, funding_rate
from aegis.venues.ccxt.history import pages_by_id, pages_by_time
from aegis.venues.ccxt.market_data import MarketData
from aegis.venues.ccxt.markets import load_instruments, to_decimal
from aegis.venues.ccxt.parsing import fill_from_trade, venue_order, venue_position
from aegis.venues.ccxt.profiles import ExchangeProfile, profile_for
from aegis.venues.ccxt.streams import OrderUpdateTracker
from aegis.venues.ccxt.submission import Submitter
from aegis.venues.ccxt.user_stream import UserDataStream

log = structlog.get_logger(__name__)


def create_exchange(
    profile: ExchangeProfile, settings: ExchangeSettings, base_url: str | None
) -> Any:
    """Build the ccxt.pro instance (async REST + websockets) with our options and keys.

    Returns ``Any``: ccxt ships no type information.
    """
    import ccxt.pro

    config: dict[str, Any] = {
        "enableRateLimit": True,  # ccxt's own per-endpoint weights (OR5)
        "timeout": int(settings.request_timeout_s * 1000),
        "options": {**profile.options, "recvWindow": settings.recv_window_ms},
    }
    if settings.api_key is not None and settings.api_secret is not None:
        # read only here, never logged (TN4)
        config["apiKey"] = settings.api_key.get_secret_value()
        config["secret"] = settings.api_secret.get_secret_value()
    exchange = getattr(ccxt.pro, profile.ccxt_id)(config)
    if base_url is not None:
        if not profile.uses_binance_filters:
            raise ConfigError(
                f"base_url {base_url!r} points at the Binance emulator; "
                f"exchange {profile.ccxt_id!r} does not speak its protocol"
            )
        from aegis.venues.emulator.ccxt_config import configure_ccxt

        configure_ccxt(exchange, base_url)
    return exchange


class CcxtVenue:
    """Trade on ``exchange_name`` (binanceusdm, binance, kraken, coinbase) through ccxt.

    ``base_url`` points a Binance client at the local emulator. ``exchange``, ``gate``,
    ``policy`` and ``sleep`` are injectable for tests; by default the ccxt.pro client is built
    from ``settings`` and one ``RateLimitGate`` is shared by every caller of this venue.
    """

    def __init__(
        self,
        exchange_name: str,
        settings: ExchangeSettings,
        *,
        base_url: str | None = None,
        exchange: Any = None,
        gate: RateLimitGate | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        streamed_price_max_age_s: float = 10.0,
    ) -> None:
        self._name = exchange_name
        self.profile = profile_for(exchange_name)
        self.exchange = (
            exchange if exchange is not None else create_exchange(self.profile, settings, base_url)
        )
        self.gate = gate if gate is not None else RateLimitGate()
        self.caller = GuardedCaller(
            exchange_name,
            self.gate,
            policy if policy is not None else RetryPolicy(),
            headers=lambda: getattr(self.exchange, "last_response_headers", None),
            sleep=sleep,
        )
        self._sleep = sleep
        self._instruments: dict[str, Instrument] = {}
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id
        self._market = MarketData(self, streamed_price_max_age_s, monotonic)
        self._orders = OrderUpdateTracker()
        self._submitter = Submitter(self)
        self.user_stream = UserDataStream(self.exchange, self.caller, self.profile)

    # ------------------------------------------------------------------ lifecycle
    @property
    def name(self) -> str:
        """Return the exchange name this venue was built for."""
        return self._name

    async def connect(self) -> None:
        """Load the markets and build instruments from the exchange's own filters."""
        exchange = self.exchange
        markets = await self.caller.call("load_markets", lambda: exchange.load_markets())
        self._instruments = load_instruments(
            markets,
            int(getattr(exchange, "precisionMode", 0) or 0),
            binance_filters=self.profile.uses_binance_filters,
        )
        self._market.hook_closed_klines()
        log.info("venue_connected", venue=self._name, instruments=len(self._instruments))

    async def close(self) -> None:
        """Close the ccxt client's HTTP session and websockets."""
        await self.exchange.close()

    async def keep_warm(self, interval_s: float) -> None:
        """Keep an HTTP connection to the exchange open between orders; runs until cancelled.

        aiohttp, under ccxt, closes a connection that stays idle for 15 s. A bot on 1m candles
        or slower would then open a new TCP and TLS connection for every order, on the
        decision's critical path. Asking the server time (Binance weight 1, unsigned) every
        ``interval_s`` keeps one open. A failed beat is logged and the next one tries again.
        """
        exchange = self.exchange
        while True:
            await self._sleep(interval_s)
            try:
                await self.caller.call("keep-warm fetch_time", lambda: exchange.fetch_time())
            except AegisError as error:
                log.warning("rest_keep_warm_failed", venue=self._name, error=str(error))

    def instruments(self) -> Mapping[str, Instrument]:
        """Return the loaded instruments keyed by unified symbol."""
        return self._instruments

    def instrument(self, symbol: str) -> Instrument:
        """Return one instrument; ``ConfigError`` names a symbol the venue does not list."""
        found = self._instruments.get(symbol)
        if found is None:
            raise ConfigError(f"symbol {symbol!r} is not listed on {self._name} (connect first?)")
        return found

    # ------------------------------------------------------------------ orders
    async def submit(self, order: Order) -> OrderUpdate:
        """Send ``order`` once under its client id (see ``Submitter``, OR2 / PR2)."""
        update = await self._submitter.submit(order)
        if update.venue_order_id is not None:
            self._client_ids[update.venue_order_id] = order.client_order_id
        return update

    async def cancel(self, order: Order) -> OrderUpdate:
        """Cancel ``order`` by venue id, or by client id when the venue id is unknown."""
        return await self._submitter.cancel(order)

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """Look an order up by client id; None when the venue does not know it."""
        found = await self._submitter.lookup(symbol, client_order_id)
        if found is not None:
            self._client_ids[found.venue_order_id] = client_order_id
        return found

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Return open orders, including Binance USD-M conditional (algo) orders."""
        exchange = self.exchange
        raw = await self.caller.call(
            f"fetch_open_orders {symbol}", lambda: exchange.fetch_open_orders(symbol)
        )
        orders = [venue_order(r) for r in raw]
        if self.profile.conditional_client_id_param is not None:
            algos = await self.caller.call(
                f"fetch_open_orders {symbol} conditional",
                lambda: exchange.fetch_open_orders(symbol, None, None, {"trigger": True}),
            )
            orders.extend(venue_order(r, is_conditional=True) for r in algos)
        self._remember(orders)
        return orders

    async def fetch_orders(self, symbol: str, since_ms: int | None = None) -> list[VenueOrder]:
        """Return ALL orders of ``symbol`` (every page), optionally from ``since_ms`` on."""
        raw = await self._history("fetch_orders", symbol, since_ms, {}, conditional=False)
        orders = [venue_order(r) for r in raw]
        if self.profile.conditional_client_id_param is not None:
            algos = await self._history(
                "fetch_orders", symbol, since_ms, {"trigger": True}, conditional=True
            )
            orders.extend(venue_order(r, is_conditional=True) for r in algos)
        self._remember(orders)
        return [o for o in orders if since_ms is None or (o.created_ms or 0) >= since_ms]

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Return ALL own fills of ``symbol`` (every page), named by client order id."""
        raw = await self._history("fetch_my_trades", symbol, since_ms, {}, conditional=False)
        if any(str(r.get("order")) not in self._client_ids for r in raw):
            await self.fetch_orders(symbol)  # learn the client ids of orders we did not send
        fills = [fill_from_trade(r, self._client_ids) for r in raw]
        since_ns = None if since_ms is None else since_ms * 1_000_000
        return [f for f in fills if since_ns is None or f.ts_ns >= since_ns]

    async def _history(
        self,
        method: str,
        symbol: str,
        since_ms: int | None,
        extra: dict[str, Any],
        *,
        conditional: bool,
    ) -> list[dict[str, Any]]:
        fetch_method = getattr(self.exchange, method)
        context = f"{method} {symbol}"

        async def page(since: int | None, limit: int, params: dict[str, Any]) -> Any:
            merged = {**extra, **params}
            return await self.caller.call(
                context, lambda: fetch_method(symbol, since, limit, merged)
            )

        profile = self.profile
        cursor = profile.trade_cursor_param if method == "fetch_my_trades" else None
        if method == "fetch_orders":
            cursor = "algoId" if conditional else profile.order_cursor_param
        if cursor is not None:
            return await pages_by_id(
                page, cursor_param=cursor, limit=profile.page_limit, context=context
            )
        start = 0 if since_ms is None else since_ms
        return await pages_by_time(page, since_ms=start, limit=profile.page_limit, context=context)

    def _remember(self, orders: list[VenueOrder]) -> None:
        for order in orders:
            if order.client_order_id is not None:
                self._client_ids[order.venue_order_id] = order.client_order_id

    # ------------------------------------------------------------------ account
    async def fetch_balances(self) -> Mapping[str, Decimal]:
        """Return the cash balance per asset (non-zero entries only).

        On a futures account that is the wallet balance: ccxt's ``total`` there is Binance's
        ``marginBalance``, which adds the open positions' unrealised PnL, and the portfolio
        already counts that on its positions (it would be counted twice, and read as drift).
        """
        exchange = self.exchange
        raw = await self.caller.call("fetch_balance", lambda: exchange.fetch_balance())
        totals = {**(raw.get("total") or {}), **_wallet_balances(raw, exchange)}
        result: dict[str, Decimal] = {}
        for asset, amount in totals.items():
            value = to_decimal(amount, field=f"balance {asset}", symbol=self._name)
            if value is not None and value != 0:
                result[str(asset)] = value
        return result

    async def fetch_positions(self) -> list[VenuePosition]:
        """Return open positions; a spot venue has none."""
        exchange = self.exchange
        if not exchange.has.get("fetchPositions") or self._name == "binance":
            return []
        raw = await self.caller.call("fetch_positions", lambda: exchange.fetch_positions())
        positions = (venue_position(r) for r in raw)
        return [p for p in positions if p is not None]

    async def fetch_funding_payments(
        self, symbol: str, since_ms: int | None = None
    ) -> list[VenueFundingPayment]:
        """Return ALL funding payments of ``symbol`` since ``since_ms`` (every page, OR3).

        Binance USD-M: ``fetch_funding_history`` = ``GET /fapi/v1/income`` with
        ``incomeType=FUNDING_FEE``. Calls go through the venue's shared rate-limit gate.
        """
        exchange = self.exchange
        context = f"fetch_funding_history {symbol}"

        async def page(since: int | None, limit: int, params: dict[str, Any]) -> Any:
            return await self.caller.call(
                context, lambda: exchange.fetch_funding_history(symbol, since, limit, params)
            )

        raw = await pages_by_time(
            page, since_ms=0 if since_ms is None else since_ms,
            limit=self.profile.page_limit, context=context,
        )  # fmt: skip
        payments = [funding_payment(r) for r in raw]
        payments.sort(key=lambda p: (p.ts_ms, p.payment_id))
        return payments

    async def fetch_funding_rate(self, symbol: str) -> VenueFundingRate:
        """Return the current funding rate of ``symbol`` and its next funding time."""
        exchange = self.exchange
        raw = await self.caller.call(
            f"fetch_funding_rate {symbol}", lambda: exchange.fetch_funding_rate(symbol)
        )
        return funding_rate(raw, symbol)

    async def server_time_ms(self) -> int:
        """Return the venue clock in UTC milliseconds."""
        exchange = self.exchange
        return int(await self.caller.call("fetch_time", lambda: exchange.fetch_time()))

    # ------------------------------------------------------------------ market data
    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return REST candles of ``symbol`` (the last one may still be open)."""
        return await self._market.fetch_candles(symbol, timeframe, since_ms, limit)

    async def last_price(self, symbol: str) -> Decimal | None:
        """Return the venue's last traded price of ``symbol`` (market-order notional, PR2).

        A price the candle stream delivered within ``streamed_price_max_age_s`` is used as is;
        otherwise the REST ticker is asked.
        """
        return await self._market.last_price(symbol)

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Return the closed candles of ``symbol`` not returned yet; wait if there are none."""
        return await self._market.watch_candles(symbol, timeframe)

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Return the public trades of ``symbol`` not returned yet; wait if there are none."""
        return await self._market.watch_trades(symbol)

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[PublicTrade]:
        """Return recent public trades of ``symbol`` from REST, oldest first."""
        return await self._market.fetch_trades(symbol, since_ms)

    # ------------------------------------------------------------------ user stream
    async def watch_order_updates(self) -> list[OrderUpdate]:
        """Wait for own order events on the user-data stream and return them."""
        exchange = self.exchange
        tracker = self._orders
        while True:
            # Snapshots that reached ccxt's cache while no watch waited first (no lost wake-up:
            # see OrderUpdateTracker.from_cache); then the watch, then its cache again.
            updates = tracker.from_cache(getattr(exchange, "orders", None))
            if updates:
                return updates
            raw = await self.caller.once("watch_orders", lambda: exchange.watch_orders())
            cached = getattr(exchange, "orders", None)
            if cached:
                updates = tracker.from_cache(cached)
            else:
                updates = [u for r in raw for u in tracker.updates(r)]
            if updates:
                return updates

    async def keep_alive(self) -> None:
        """Extend the user stream's listenKey (Binance PUT); elsewhere a logged no-op (EX3).

        Raises ``AuthenticationError`` / ``VenueError`` when the key has expired: the
        supervisor then calls ``restart_user_stream``.
        """
        await self.user_stream.keep_alive()

    async def restart_user_stream(self) -> None:
        """Re-create the user stream: drop ccxt's cached listenKey and socket, open a new one."""
        await self.user_stream.restart()


def _wallet_balances(raw: Mapping[str, Any], exchange: Any) -> dict[str, Any]:
    """Binance futures' per-asset ``walletBalance`` from the raw account, by currency code."""
    info = raw.get("info")
    assets = info.get("assets") if isinstance(info, Mapping) else None
    if not isinstance(assets, list):
        return {}
    wallets: dict[str, Any] = {}
    for entry in assets:
        if isinstance(entry, Mapping) and entry.get("walletBalance") is not None:
            # ccxt skips never-used assets (updateTime 0): so do we, to keep the same keys
            if entry.get("updateTime") in (0, "0"):
                continue
            code = exchange.safe_currency_code(entry.get("asset"))
            wallets[str(code)] = entry["walletBalance"]
    return wallets
