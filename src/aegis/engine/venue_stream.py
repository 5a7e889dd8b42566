"""The venue as the user-stream supervisor sees it (EX3): watch, open, resync, keep alive, restart.

``UserStreamSupervisor`` (``aegis.data.feeds.user_stream``) uses ``keep_alive`` and
``restart_user_stream`` when its source has them. A ccxt venue has both: the listenKey is
extended by a PUT every keep-alive interval, and a restart drops ccxt.pro's cached key and
socket, creates a new key and opens its socket. A venue without them (the paper venue, a test
double) gets the fallback restart: ccxt.pro's cached listenKey is forgotten, so that its next
``watch_orders`` authenticates again.
"""

from __future__ import annotations

from aegis.model.events import Fill, OrderUpdate
from aegis.venues.base import Venue, VenueOrder


class VenueUserStream:
    """The venue's user stream for ``UserStreamSupervisor``; see the module docstring."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.restarts = 0
        self.keepalives = 0

    async def watch_order_updates(self) -> list[OrderUpdate]:
        return await self.venue.watch_order_updates()

    async def open_user_stream(self) -> None:
        # a ccxt venue's listenKey socket, opened before the supervisor's REST snapshot
        stream = getattr(self.venue, "user_stream", None)
        opener = getattr(stream, "open", None)
        if opener is not None:
            await opener()

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return await self.venue.fetch_open_orders(symbol)

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        return await self.venue.fetch_fills(symbol, since_ms)

    async def keep_alive(self) -> None:
        """Extend the venue's listenKey; a venue without one has nothing to extend."""
        extend = getattr(self.venue, "keep_alive", None)
        if extend is None:
            return
        await extend()
        self.keepalives += 1

    async def restart_user_stream(self) -> None:
        """Re-create the venue's user stream (a ccxt venue: new listenKey, new socket)."""
        self.restarts += 1
        restart = getattr(self.venue, "restart_user_stream", None)
        if restart is not None:
            await restart()
            return
        exchange = getattr(self.venue, "exchange", None)
        options = getattr(exchange, "options", None)
        if not isinstance(options, dict):
            return
        for value in options.values():
            if isinstance(value, dict) and "listenKey" in value:
                value.pop("listenKey", None)
                value["lastAuthenticatedTime"] = 0
