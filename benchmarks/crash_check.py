"""The crash harness's verdict: the emulator's orders and fills against the store.

The emulator is read over its own REST API with signed requests built here (stdlib only), not
through the runtime's ccxt venue, so a bug there cannot hide a bug in the runtime.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aegis.model import OrderSide, OrderStatus

PAGE = 1000
_OPEN_ON_VENUE = frozenset({"NEW", "PARTIALLY_FILLED"})
_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class EmulatorReader:
    """Signed GETs against the emulator's Binance USD-M REST API, plus its admin stats."""

    def __init__(self, base_url: str, api_key: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._secret = secret.encode()

    def _get(self, path: str, params: dict[str, str], *, signed: bool = True) -> Any:
        query = dict(params)
        if signed:
            query["timestamp"] = str(time.time_ns() // 1_000_000)
            query["recvWindow"] = "60000"
        text = urllib.parse.urlencode(query)
        if signed:
            signature = hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()
            text = f"{text}&signature={signature}"
        request = urllib.request.Request(  # noqa: S310 - the emulator on 127.0.0.1
            f"{self.base_url}{path}?{text}", headers={"X-MBX-APIKEY": self._api_key}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def _paged(self, path: str, symbol_id: str, cursor: str, key: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        start = 0
        while True:
            page = self._get(path, {"symbol": symbol_id, cursor: str(start), "limit": str(PAGE)})
            records.extend(page)
            if len(page) < PAGE:
                return records
            start = int(page[-1][key]) + 1

    def orders(self, symbol_id: str) -> list[dict[str, Any]]:
        """Every order the account ever created on ``symbol_id`` (allOrders, paginated)."""
        return self._paged("/fapi/v1/allOrders", symbol_id, "orderId", "orderId")

    def trades(self, symbol_id: str) -> list[dict[str, Any]]:
        """Every fill of the account on ``symbol_id`` (userTrades, paginated)."""
        return self._paged("/fapi/v1/userTrades", symbol_id, "fromId", "id")

    def position_amount(self, symbol_id: str) -> Decimal:
        """The account's net position on ``symbol_id`` (positionRisk, summed over legs)."""
        rows = self._get("/fapi/v3/positionRisk", {"symbol": symbol_id})
        return sum((Decimal(str(r["positionAmt"])) for r in rows), Decimal(0))

    def stats(self) -> dict[str, Any]:
        """``GET /_admin/stats`` (requests per route)."""
        result: dict[str, Any] = self._get("/_admin/stats", {}, signed=False)
        return result


@dataclass(slots=True)
class Verdict:
    """Counts of the three invariant families, and one line of evidence per finding."""

    duplicates: int = 0
    lost: int = 0
    drift: int = 0
    findings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, family: str, text: str) -> None:
        """Count one finding of ``family`` (duplicates, lost, drift) with its evidence."""
        setattr(self, family, getattr(self, family) + 1)
        self.findings.append(f"{family}: {text}")

    @property
    def is_clean(self) -> bool:
        """True when nothing was duplicated, lost or drifted."""
        return self.duplicates == 0 and self.lost == 0 and self.drift == 0


def _signed(side: str | OrderSide, quantity: Decimal) -> Decimal:
    return quantity if str(side).lower() == "buy" else -quantity


def check_duplicates(
    verdict: Verdict, venue_orders: list[dict[str, Any]], stats: dict[str, Any]
) -> None:
    """No client order id was created twice, and every order POST created an order."""
    counts = Counter(str(o["clientOrderId"]) for o in venue_orders)
    for client_id, count in sorted(counts.items()):
        for _ in range(count - 1):
            verdict.add("duplicates", f"client order id {client_id} created {count} times")
    posts = int(stats.get("requests", {}).get("POST /fapi/v1/order", 0))
    verdict.facts["order_posts"] = posts
    verdict.facts["venue_orders"] = len(venue_orders)
    # A POST that created nothing was refused: a resend of a client id still open (-4116) or an
    # order the venue rejected. Either way the runtime sent an order it should not have.
    for _ in range(posts - len(venue_orders)):
        verdict.add(
            "duplicates",
            f"{posts} order POSTs but {len(venue_orders)} orders created: a refused resend",
        )


def check_fills(
    verdict: Verdict,
    venue_orders: list[dict[str, Any]],
    venue_trades: list[dict[str, Any]],
    stored_fills: list[Any],
) -> None:
    """Every venue fill is stored exactly once, and the store has no fill the venue lacks."""
    client_of = {int(o["orderId"]): str(o["clientOrderId"]) for o in venue_orders}
    on_venue = {(client_of.get(int(t["orderId"]), "?"), str(t["id"])): t for t in venue_trades}
    stored = Counter((f.client_order_id, f.trade_id) for f in stored_fills)
    for key, trade in sorted(on_venue.items()):
        if key not in stored:
            verdict.add(
                "lost",
                f"venue fill trade {key[1]} of {key[0]} ({trade['side']} {trade['qty']} @ "
                f"{trade['price']}) is not in the store",
            )
    for key, count in sorted(stored.items()):
        if key not in on_venue:
            verdict.add("drift", f"stored fill trade {key[1]} of {key[0]} is not on the venue")
        if count > 1:
            verdict.add("duplicates", f"fill trade {key[1]} of {key[0]} stored {count} times")
    verdict.facts["venue_fills"] = len(on_venue)
    verdict.facts["stored_fills"] = sum(stored.values())


def check_orders(
    verdict: Verdict,
    venue_orders: list[dict[str, Any]],
    stored_orders: list[Any],
    stored_fills: list[Any],
) -> None:
    """Every venue order is stored; filled quantities and open/closed states agree; none pending."""
    venue_by_client = {str(o["clientOrderId"]): o for o in venue_orders}
    stored_by_client = {o.client_order_id: o for o in stored_orders}
    filled_by_fills: dict[str, Decimal] = defaultdict(Decimal)
    for fill in stored_fills:
        filled_by_fills[fill.client_order_id] += fill.quantity
    for client_id, venue_order in sorted(venue_by_client.items()):
        if client_id not in stored_by_client:
            verdict.add(
                "lost",
                f"venue order {client_id} ({venue_order['status']}, executed "
                f"{venue_order['executedQty']}) is not in the store",
            )
    for client_id, order in sorted(stored_by_client.items()):
        if order.status not in _TERMINAL:
            verdict.add("drift", f"order {client_id} left pending in the store ({order.status})")
        if order.filled_quantity != filled_by_fills[client_id]:
            verdict.add(
                "drift",
                f"order {client_id} filled_quantity {order.filled_quantity} != sum of its "
                f"stored fills {filled_by_fills[client_id]}",
            )
        _compare_order(verdict, order, venue_by_client.get(client_id))
    verdict.facts["stored_orders"] = len(stored_orders)


def _compare_order(verdict: Verdict, order: Any, venue_order: dict[str, Any] | None) -> None:
    client_id = order.client_order_id
    if venue_order is None:
        if order.filled_quantity != 0:
            verdict.add("drift", f"order {client_id} filled in the store, unknown to the venue")
        return
    executed = Decimal(str(venue_order["executedQty"]))
    if executed != order.filled_quantity:
        verdict.add(
            "drift",
            f"order {client_id} executed {executed} on the venue, "
            f"{order.filled_quantity} in the store",
        )
    if (venue_order["status"] in _OPEN_ON_VENUE) != (order.status not in _TERMINAL):
        verdict.add(
            "drift",
            f"order {client_id} is {venue_order['status']} on the venue, "
            f"{order.status} in the store",
        )


def check_positions(
    verdict: Verdict, stored_positions: list[Any], stored_fills: list[Any], venue_net: Decimal
) -> None:
    """Every stored position equals the signed sum of its fills, and the venue's position."""
    by_fills: dict[str, Decimal] = defaultdict(Decimal)
    for fill in stored_fills:
        by_fills[fill.symbol] += _signed(fill.side, fill.quantity)
    by_legs: dict[str, Decimal] = defaultdict(Decimal)
    for position in stored_positions:
        by_legs[position.symbol] += position.signed_quantity
    for symbol in sorted(set(by_fills) | set(by_legs)):
        if by_fills[symbol] != by_legs[symbol]:
            verdict.add(
                "drift",
                f"position {symbol} is {by_legs[symbol]} in the store, its fills sum to "
                f"{by_fills[symbol]}",
            )
    stored_net = sum(by_legs.values(), Decimal(0))
    if stored_net != venue_net:
        verdict.add("drift", f"net position {stored_net} in the store, {venue_net} on the venue")
    verdict.facts["stored_net_position"] = str(stored_net)
    verdict.facts["venue_net_position"] = str(venue_net)


def compare(
    reader: EmulatorReader, database_url: str, tenant: str, bot_id: str, symbol_id: str
) -> Verdict:
    """Read the venue and the store after the runs and return the verdict."""
    from aegis.store import Store

    verdict = Verdict()
    venue_orders = reader.orders(symbol_id)
    venue_trades = reader.trades(symbol_id)
    venue_net = reader.position_amount(symbol_id)
    stats = reader.stats()
    with Store(database_url) as store:
        # At head already when the runtime wrote to it; creates empty tables when it never did.
        store.upgrade()
        stored_orders = store.orders(tenant, bot_id=bot_id)
        stored_fills = store.fills(tenant, bot_id=bot_id)
        stored_positions = store.positions(tenant, bot_id=bot_id)
    check_duplicates(verdict, venue_orders, stats)
    check_fills(verdict, venue_orders, venue_trades, stored_fills)
    check_orders(verdict, venue_orders, stored_orders, stored_fills)
    check_positions(verdict, stored_positions, stored_fills, venue_net)
    return verdict
