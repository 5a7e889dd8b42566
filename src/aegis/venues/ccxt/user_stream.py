"""Keep-alive and restart of ccxt.pro's private user-data stream (EX3).

Binance futures streams live on a listenKey. ccxt.pro caches that key in
``exchange.options[type]`` together with ``lastAuthenticatedTime`` and reuses it for
``listenKeyRefreshRate`` (20 minutes) without asking the exchange again. After the key expired
(``listenKeyExpired``, or an hour without keep-alive) every resubscription would therefore dial
the dead key's URL until that window closes. ``UserDataStream.restart`` drops the cached key and
the old socket, creates a new key and opens the new socket; ``keep_alive`` is the listenKey PUT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import ccxt
import structlog

from aegis.venues.ccxt.calls import GuardedCaller
from aegis.venues.ccxt.profiles import ExchangeProfile

log = structlog.get_logger(__name__)

# The listenKey PUT of each ccxt auth type, and whether it names the key in the request.
_KEEP_ALIVE: Final[Mapping[str, tuple[str, bool]]] = {
    "linear": ("fapiPrivatePutListenKey", False),
    "inverse": ("dapiPrivatePutListenKey", False),
    "spot": ("publicPutUserDataStream", True),
}


class UserDataStream:
    """The listenKey life cycle of one ccxt.pro client (Binance); a no-op elsewhere.

    Args:
        exchange: the ccxt.pro instance (``Any``: ccxt ships no type information).
        caller: translates ccxt errors and retries transient REST failures.
        profile: the exchange's profile (only Binance uses listenKeys).
        now_ms: ccxt's own clock (``exchange.milliseconds``) by default.
    """

    def __init__(
        self,
        exchange: Any,
        caller: GuardedCaller,
        profile: ExchangeProfile,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self._exchange = exchange
        self._caller = caller
        self._profile = profile
        self._now_ms = now_ms if now_ms is not None else lambda: int(exchange.milliseconds())
        self.keepalives = 0
        self.restarts = 0

    def auth_type(self) -> tuple[str, str | None] | None:
        """Return ccxt's user-data bucket type and sub type, None on non-Binance exchanges."""
        if not self._profile.uses_binance_filters:
            return None
        resolved = self._exchange.resolve_auth_type("watchOrders", None, {})
        return str(resolved[0]), None if resolved[1] is None else str(resolved[1])

    def listen_key(self) -> str | None:
        """Return the listenKey ccxt currently caches, None when there is none."""
        resolved = self.auth_type()
        if resolved is None:
            return None
        bucket = self._exchange.options.get(resolved[0])
        key = bucket.get("listenKey") if isinstance(bucket, dict) else None
        return None if key is None else str(key)

    async def keep_alive(self) -> None:
        """Extend the listenKey (PUT); an expired key raises, so the caller restarts the stream.

        Nothing is sent when the exchange has no listenKey (Kraken, Coinbase, Binance spot's
        signed websocket-API session) or no stream was opened yet; the reason is logged.
        """
        resolved = self.auth_type()
        if resolved is None:
            log.debug("user_stream_keepalive_skipped", reason="exchange has no listenKey")
            return
        auth_type = resolved[0]
        endpoint = _KEEP_ALIVE.get(auth_type)
        key = self.listen_key()
        if endpoint is None or key is None:
            reason = "no listenKey cached yet" if endpoint else f"auth type {auth_type} has none"
            log.debug("user_stream_keepalive_skipped", reason=reason)
            return
        method_name, names_key = endpoint
        method = getattr(self._exchange, method_name)
        params = {"listenKey": key} if names_key else {}
        await self._caller.call(f"keep_alive listenKey {auth_type}", lambda: method(params))
        # ccxt's own keep-alive stamps the bucket the same way
        self._exchange.options[auth_type]["lastAuthenticatedTime"] = self._now_ms()
        self.keepalives += 1
        log.info("user_stream_keepalive", auth_type=auth_type)

    async def open(self) -> None:
        """Create (or reuse) the listenKey and open its socket, before anything watches it.

        ccxt.pro opens the socket only inside the first ``watch_orders``, after a listenKey POST
        and a handshake: an order placed meanwhile had its ``ORDER_TRADE_UPDATE`` events sent to
        no socket, and a fill lost that way left the order open until shutdown. Opened here, the
        supervisor takes its REST snapshot only once every later event reaches ccxt's cache.
        ``watch_orders`` then finds the key cached and the socket connected.
        """
        resolved = self.auth_type()
        if resolved is None or resolved[0] not in _KEEP_ALIVE or resolved[0] == "spot":
            # no listenKey socket (Kraken, Coinbase; Binance spot signs in on the websocket
            # API): ccxt opens the stream inside watch_orders as before
            return
        auth_type, sub_type = resolved
        exchange = self._exchange
        params = {"type": auth_type, "subType": sub_type}
        await self._caller.call(
            f"open_user_stream authenticate {auth_type}", lambda: exchange.authenticate(params)
        )
        url = self._private_url(auth_type)
        if url is not None:
            await self._caller.once(
                f"open_user_stream connect {auth_type}", self._opener(url, auth_type)
            )

    async def restart(self) -> None:
        """Drop the cached listenKey and its socket, create a new key and open its socket.

        On exchanges without listenKeys nothing is cached across sockets: ccxt signs in again on
        the next ``watch_orders`` after a closed socket, so this only logs.
        """
        resolved = self.auth_type()
        if resolved is None:
            log.info("user_stream_restart_skipped", reason="exchange has no listenKey")
            return
        auth_type, sub_type = resolved
        await self._drop_clients(auth_type)
        bucket = self._exchange.options.get(auth_type)
        fresh = dict(bucket) if isinstance(bucket, dict) else {}
        # lastAuthenticatedTime = 0 is what makes ccxt ask for a new key at once.
        fresh.update(listenKey=None, lastAuthenticatedTime=0)
        self._exchange.options[auth_type] = fresh
        exchange = self._exchange
        params = {"type": auth_type, "subType": sub_type}
        await self._caller.call(
            f"restart_user_stream authenticate {auth_type}", lambda: exchange.authenticate(params)
        )
        self.restarts += 1
        url = self._private_url(auth_type)
        if url is not None:
            await self._caller.once(
                f"restart_user_stream connect {auth_type}", self._opener(url, auth_type)
            )
        log.info("user_stream_recreated", auth_type=auth_type, restarts=self.restarts)

    def _private_url(self, auth_type: str) -> str | None:
        key = self.listen_key()
        if key is None or auth_type not in _KEEP_ALIVE or auth_type == "spot":
            # ccxt routes Binance spot orders through the websocket API, not a listenKey URL
            return None
        return str(self._exchange.get_private_ws_url(auth_type, key))

    def _opener(self, url: str, auth_type: str) -> Callable[[], Any]:
        exchange = self._exchange

        async def open_socket() -> None:
            exchange.open()  # the aiohttp session ccxt's clients share
            client = exchange.client(url)
            # What watch_orders registers before it reads the socket: ccxt.pro's ACCOUNT_UPDATE
            # handler takes the account type from the socket's subscriptions and writes the
            # balance cache. An event that arrived before the first watch_orders (a fill of an
            # order placed meanwhile) raised KeyError('') there and killed the socket.
            if auth_type not in client.subscriptions:
                client.subscriptions[auth_type] = True
            set_balance_cache = getattr(exchange, "set_balance_cache", None)
            if set_balance_cache is not None:
                set_balance_cache(client, auth_type, False)
            set_positions_cache = getattr(exchange, "set_positions_cache", None)
            if set_positions_cache is not None:
                set_positions_cache(client, auth_type, None, False)
            await client.connect(exchange.session, 0)

        return open_socket

    async def _drop_clients(self, auth_type: str) -> None:
        """Close the sockets of the old stream so no waiter stays on a dead listenKey."""
        urls: list[str] = []
        key = self.listen_key()
        if key is not None and auth_type in _KEEP_ALIVE and auth_type != "spot":
            urls.append(str(self._exchange.get_private_ws_url(auth_type, key)))
        ws_api = self._exchange.urls.get("api", {}).get("ws", {}).get("ws-api")
        if auth_type == "spot" and isinstance(ws_api, dict) and ws_api.get("spot") is not None:
            urls.append(str(ws_api["spot"]))
        for url in urls:
            client = self._exchange.clients.pop(url, None)
            if client is None:
                continue
            client.reject(ccxt.NetworkError(f"user stream {auth_type} restarted: new listenKey"))
            await client.close()
