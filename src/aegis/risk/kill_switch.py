"""Kill switch (RK5): plan "cancel everything and flatten" for a bot, a tenant or everyone.

Planning only: ``KillSwitch.engage`` returns the exact cancels and reduce-only market orders;
the engine executes them (through the order manager) and stores the audit event. Engaging
latches the scope: no entry is allowed in it until an actor re-arms that same scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from aegis.model.enums import OrderSide, OrderType, PositionMode, PositionSide
from aegis.model.order import Order
from aegis.model.position import Position


class KillScopeKind(StrEnum):
    """How much the kill switch covers."""

    BOT = "bot"
    TENANT = "tenant"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class KillScope:
    """A bot of a tenant, a whole tenant, or every tenant."""

    kind: KillScopeKind
    tenant: str | None = None
    bot_id: str | None = None

    def __post_init__(self) -> None:
        needs_tenant = self.kind is not KillScopeKind.GLOBAL
        needs_bot = self.kind is KillScopeKind.BOT
        if needs_tenant != (self.tenant is not None) or needs_bot != (self.bot_id is not None):
            raise ValueError(
                f"kill scope {self.kind} takes tenant={'yes' if needs_tenant else 'no'} and "
                f"bot_id={'yes' if needs_bot else 'no'}, got {self.tenant!r}, {self.bot_id!r}"
            )

    @classmethod
    def of_bot(cls, tenant: str, bot_id: str) -> KillScope:
        """Return the scope of one bot."""
        return cls(KillScopeKind.BOT, tenant, bot_id)

    @classmethod
    def of_tenant(cls, tenant: str) -> KillScope:
        """Return the scope of every bot of ``tenant``."""
        return cls(KillScopeKind.TENANT, tenant)

    @classmethod
    def everything(cls) -> KillScope:
        """Return the global scope."""
        return cls(KillScopeKind.GLOBAL)

    def covers(self, tenant: str, bot_id: str) -> bool:
        """Return True when the bot is inside this scope."""
        if self.kind is KillScopeKind.GLOBAL:
            return True
        if self.kind is KillScopeKind.TENANT:
            return tenant == self.tenant
        return tenant == self.tenant and bot_id == self.bot_id

    def label(self) -> str:
        """Return a short readable name: ``global``, ``tenant:t1``, ``bot:t1/bot1``."""
        if self.kind is KillScopeKind.GLOBAL:
            return "global"
        if self.kind is KillScopeKind.TENANT:
            return f"tenant:{self.tenant}"
        return f"bot:{self.tenant}/{self.bot_id}"

    def to_json(self) -> dict[str, str | None]:
        """Return a JSON-safe dict."""
        return {"kind": str(self.kind), "tenant": self.tenant, "bot_id": self.bot_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KillScope:
        """Inverse of ``to_json``."""
        return cls(KillScopeKind(data["kind"]), data["tenant"], data["bot_id"])


@dataclass(frozen=True, slots=True)
class BotBook:
    """What one bot holds: its open orders and its open position legs."""

    tenant: str
    bot_id: str
    open_orders: Sequence[Order] = ()
    positions: Sequence[Position] = ()
    position_mode: PositionMode = PositionMode.ONE_WAY


@dataclass(frozen=True, slots=True)
class CancelInstruction:
    """Cancel one open order."""

    tenant: str
    bot_id: str
    client_order_id: str
    symbol: str


@dataclass(frozen=True, slots=True)
class FlattenInstruction:
    """Close one position leg with a reduce-only market order of exactly its quantity."""

    tenant: str
    bot_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    position_side: PositionSide | None  # hedge mode names the leg; one-way mode does not
    order_type: OrderType = OrderType.MARKET
    reduce_only: bool = True


@dataclass(frozen=True, slots=True)
class KillSwitchEvent:
    """An engage or re-arm, for the audit log (API4) and alerts."""

    scope: KillScope
    action: str  # "kill" or "rearm"
    actor: str
    reason: str
    ts_ns: int

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "scope": self.scope.to_json(),
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "ts_ns": self.ts_ns,
        }


@dataclass(frozen=True, slots=True)
class KillPlan:
    """Everything to do for one kill: cancels first, then flattens."""

    event: KillSwitchEvent
    cancels: tuple[CancelInstruction, ...] = field(default_factory=tuple)
    flattens: tuple[FlattenInstruction, ...] = field(default_factory=tuple)


def plan_flatten(
    books: Iterable[BotBook], scope: KillScope
) -> tuple[tuple[CancelInstruction, ...], tuple[FlattenInstruction, ...]]:
    """Return the cancels and flattens for every book inside ``scope``, in a stable order.

    Each leg is closed on its own (OR7): in hedge mode a symbol holding a long and a short
    residual gets a SELL for the long leg and a BUY for the short leg, never one net order.
    """
    cancels: list[CancelInstruction] = []
    flattens: list[FlattenInstruction] = []
    for book in books:
        if not scope.covers(book.tenant, book.bot_id):
            continue
        cancels.extend(
            CancelInstruction(book.tenant, book.bot_id, order.client_order_id, order.symbol)
            for order in book.open_orders
            if order.is_open
        )
        is_hedge = book.position_mode is PositionMode.HEDGE
        for leg in book.positions:
            if leg.quantity <= 0:
                continue
            side = OrderSide.SELL if leg.side is PositionSide.LONG else OrderSide.BUY
            flattens.append(
                FlattenInstruction(
                    book.tenant,
                    book.bot_id,
                    leg.symbol,
                    side,
                    leg.quantity,
                    leg.side if is_hedge else None,
                )
            )
    cancels.sort(key=lambda c: (c.tenant, c.bot_id, c.client_order_id))
    flattens.sort(key=lambda f: (f.tenant, f.bot_id, f.symbol, str(f.position_side), f.side))
    return tuple(cancels), tuple(flattens)


class KillSwitch:
    """Latched kill scopes and the plans that go with them."""

    __slots__ = ("_latched",)

    def __init__(self) -> None:
        self._latched: dict[KillScope, KillSwitchEvent] = {}

    def engage(
        self, scope: KillScope, books: Iterable[BotBook], actor: str, ts_ns: int, reason: str
    ) -> KillPlan:
        """Latch ``scope`` and return the plan that cancels and flattens everything in it.

        Engaging an already latched scope re-plans (positions may remain after a partial run).
        Raises ``ValueError`` without an actor.
        """
        _require_actor(actor, scope)
        event = KillSwitchEvent(scope, "kill", actor, reason, ts_ns)
        self._latched.setdefault(scope, event)
        cancels, flattens = plan_flatten(books, scope)
        return KillPlan(event, cancels, flattens)

    def rearm(
        self, scope: KillScope, actor: str, ts_ns: int, reason: str = "re-armed"
    ) -> KillSwitchEvent | None:
        """Clear the latch of exactly ``scope``; None if it was not latched.

        A bot re-armed inside a latched tenant stays blocked: each scope is cleared on its own.
        """
        _require_actor(actor, scope)
        if self._latched.pop(scope, None) is None:
            return None
        return KillSwitchEvent(scope, "rearm", actor, reason, ts_ns)

    def entry_block_reason(self, tenant: str, bot_id: str) -> str | None:
        """Return why the bot may not enter (a latched scope covers it), or None."""
        for scope, event in self._latched.items():
            if scope.covers(tenant, bot_id):
                return (
                    f"kill switch engaged on {scope.label()} by {event.actor} at ts_ns "
                    f"{event.ts_ns} ({event.reason}); re-arm is explicit"
                )
        return None

    def latched(self) -> list[KillScope]:
        """Return the latched scopes."""
        return list(self._latched)

    def state(self) -> dict[str, Any]:
        """Return a JSON-safe snapshot."""
        return {"latched": [event.to_json() for event in self._latched.values()]}

    def restore(self, state: dict[str, Any]) -> None:
        """Load a snapshot made by ``state``."""
        self._latched = {}
        for item in state["latched"]:
            scope = KillScope.from_json(item["scope"])
            self._latched[scope] = KillSwitchEvent(
                scope,
                str(item["action"]),
                str(item["actor"]),
                str(item["reason"]),
                int(item["ts_ns"]),
            )


def _require_actor(actor: str, scope: KillScope) -> None:
    if not actor.strip():
        raise ValueError(f"kill switch on {scope.label()} needs an actor, got {actor!r}")
