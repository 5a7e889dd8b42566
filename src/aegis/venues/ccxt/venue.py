"""``CcxtVenue``: the one ``Venue`` implementation for every supported ccxt exchange (EX1)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import structlog

from aegis.config import ExchangeSettings
from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.events import Fill, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.venues.base import PublicTrade, VenueOrder, VenuePosition
from aegis.venues.ccxt.backoff import RateLimitGate, RetryPolicy, Sleep
from aegis.venues.ccxt.calls import GuardedCaller
from aegis.venues.ccxt.history import pages_by_id, pages_by_time
from aegis.venues.ccxt.markets import load_instruments, to_decimal
from aegis.venues.ccxt.parsing import (
    candle,
    fill_from_trade,
    public_trade,
    venue_order,
    venue_position,
)
from aegis.venues.ccxt.profiles import ExchangeProfile, profile_for
from aegis.venues.ccxt.streams import ClosedCandles, OrderUpdateTracker
from aegis.venues.ccxt.submission import Submitter

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
        self._instruments: dict[str, Instrument] = {}
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id
        self._candles = ClosedCandles()
        self._orders = OrderUpdateTracker()
        self._submitter = Submitter(self)

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
        self._hook_closed_klines()
        log.info("venue_connected", venue=self._name, instruments=len(self._instruments))

    async def close(self) -> None:
        """Close the ccxt client's HTTP session and websockets."""
        await self.exchange.close()

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
        """Return the total balance per asset (non-zero entries only)."""
        exchange = self.exchange
        raw = await self.caller.call("fetch_balance", lambda: exchange.fetch_balance())
        totals = raw.get("total") or {}
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

    async def server_time_ms(self) -> int:
        """Return the venue clock in UTC milliseconds."""
        exchange = self.exchange
        return int(await self.caller.call("fetch_time", lambda: exchange.fetch_time()))

    # ------------------------------------------------------------------ market data
    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return REST candles of ``symbol`` (the last one may still be open)."""
        exchange = self.exchange
        rows = await self.caller.call(
            f"fetch_ohlcv {symbol} {timeframe}",
            lambda: exchange.fetch_ohlcv(symbol, timeframe, since_ms, limit),
        )
        return [candle(row) for row in rows]

    async def last_price(self, symbol: str) -> Decimal | None:
        """Return the venue's last traded price of ``symbol`` (market-order notional, PR2)."""
        exchange = self.exchange
        ticker = await self.caller.call(
            f"fetch_ticker {symbol}", lambda: exchange.fetch_ticker(symbol)
        )
        return to_decimal(ticker.get("last") or ticker.get("close"), field="last", symbol=symbol)

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Wait until at least one candle of ``symbol`` closes; return the closed ones."""
        exchange = self.exchange
        market_id = str(exchange.market(symbol)["id"]) if self._instruments else symbol
        while True:
            rows = await self.caller.once(
                f"watch_ohlcv {symbol} {timeframe}",
                lambda: exchange.watch_ohlcv(symbol, timeframe),
            )
            closed = self._candles.closed(symbol, market_id, timeframe, rows)
            if closed:
                return closed

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Wait for and return the next public trades of ``symbol``."""
        exchange = self.exchange
        raw = await self.caller.once(
            f"watch_trades {symbol}", lambda: exchange.watch_trades(symbol)
        )
        return [public_trade(r) for r in raw]

    async def watch_order_updates(self) -> list[OrderUpdate]:
        """Wait for own order events on the user-data stream and return them."""
        exchange = self.exchange
        while True:
            raw = await self.caller.once("watch_orders", lambda: exchange.watch_orders())
            updates = [u for r in raw for u in self._orders.updates(r)]
            if updates:
                return updates

    def _hook_closed_klines(self) -> None:
        """Record Binance's kline "closed" flag, which ccxt's parser drops (instance-level)."""
        exchange = self.exchange
        original = getattr(exchange, "handle_ohlcv", None)
        if not self.profile.uses_binance_filters or original is None:
            return
        closed = self._candles

        def handle_ohlcv(client: Any, message: Any) -> Any:
            kline = message.get("k") if isinstance(message, dict) else None
            if isinstance(kline, dict) and kline.get("x") is True:
                closed.mark_closed(str(kline.get("s")), str(kline.get("i")), int(kline["t"]))
            return original(client, message)

        exchange.handle_ohlcv = handle_ohlcv
