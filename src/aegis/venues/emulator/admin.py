"""Admin endpoints under ``/_admin``: step the replay, faults, stats, accounts, clock."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from aegis.model.errors import ConfigError
from aegis.venues.emulator.config import AccountSpec, parse_decimal
from aegis.venues.emulator.faults import FAULT_NAMES

if TYPE_CHECKING:
    from aegis.venues.emulator.server import EmulatorServer


class AdminRoutes:
    """Handlers of the admin endpoints of one server (not part of Binance's API)."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server

    async def step(self, request: web.Request) -> web.Response:
        """``POST /_admin/step?candles=N``: close the next N candles of every feed."""
        text = request.query.get("candles", "1")
        if not text.isdigit():
            return _bad(f"candles {text!r} is not a non-negative integer")
        events = self._server.step(int(text))
        exchange = self._server.exchange
        return web.json_response(
            {
                "events": events,
                "candles_published": exchange.candles_published,
                "exhausted": exchange.is_exhausted,
            }
        )

    async def faults(self, request: web.Request) -> web.Response:
        """``GET|POST /_admin/faults``: read or set faults (query or JSON body)."""
        if request.method == "POST":
            values: dict[str, Any] = dict(request.query)
            body = (await request.text()) if request.can_read_body else ""
            try:
                if body.strip():
                    values.update(json.loads(body))
                for name, value in values.items():
                    self._server.set_fault(name, str(value))
            except (json.JSONDecodeError, ConfigError) as exc:
                return _bad(str(exc))
        return web.json_response({"faults": self._server.faults.snapshot(), "names": FAULT_NAMES})

    async def stats(self, request: web.Request) -> web.Response:
        """``GET /_admin/stats``: requests, unhandled paths, faults, frames."""
        return web.json_response(self._server.stats())

    async def accounts(self, request: web.Request) -> web.Response:
        """``POST /_admin/accounts`` with ``{"api_key", "secret", "balance"}``."""
        try:
            body = json.loads(await request.text())
            spec = AccountSpec(
                api_key=str(body["api_key"]),
                secret=str(body["secret"]),
                balance=parse_decimal("balance", str(body.get("balance", "10000"))),
            )
            self._server.add_account(spec)
        except (KeyError, ValueError, ConfigError) as exc:
            return _bad(f"account not created: {exc}")
        return web.json_response({"api_key": spec.api_key, "balance": str(spec.balance)})

    async def clock(self, request: web.Request) -> web.Response:
        """``GET /_admin/clock``: replay position of every feed."""
        feeds = [
            {
                "symbol": feed.symbol_id,
                "interval": feed.interval,
                "markets": list(feed.markets),
                "published": feed.cursor,
                "total": len(feed.candles),
                "now_ms": feed.now_ms(),
            }
            for feed in self._server.exchange.data.candles
        ]
        return web.json_response({"feeds": feeds, "speed": self._server.config.speed})


def add_routes(app: web.Application, server: EmulatorServer) -> None:
    """Register the admin endpoints on ``app``."""
    routes = AdminRoutes(server)
    app.router.add_post("/_admin/step", routes.step)
    app.router.add_get("/_admin/faults", routes.faults)
    app.router.add_post("/_admin/faults", routes.faults)
    app.router.add_get("/_admin/stats", routes.stats)
    app.router.add_post("/_admin/accounts", routes.accounts)
    app.router.add_get("/_admin/clock", routes.clock)


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)
