"""Execute a kill through the venue when no runtime runs (``aegis kill``, RK5).

``kill_offline`` is the whole offline kill: plan from the store, decide whether a venue can be
reached with the bot's settings (paper orders and an in-process emulator die with the runtime),
resolve the pending orders against the venue as a start does (a fill that happened while no
runtime ran changes what must be flattened), plan again, execute, and write the outcome to the
audit log. The outcome row carries the request's id as ``kill_request_id``, not ``request_id``:
the request stays pending, so the next start of the bot's runtime still executes it and latches
the kill switch.

Intent first here too (OR2): each flatten order is recorded with a client id from the store's
sequence before the venue is called, and the venue's answer is written in one transaction. Its
fills are adopted by the next runtime start, or the next offline kill (pending orders are
resolved against the venue).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aegis.config import Settings
from aegis.engine.status import bot_ids
from aegis.model.enums import OrderStatus, OrderType, TimeInForce
from aegis.model.errors import AegisError, ConfigError
from aegis.model.events import OrderEventKind, OrderUpdate
from aegis.model.order import Order
from aegis.risk import BotBook, KillPlan, KillScope, KillSwitch
from aegis.store import Store
from aegis.venues.base import Venue

NOTHING_TO_DO: Final = "nothing_to_do"
DEFERRED: Final = "deferred_to_start"
EXECUTED: Final = "executed_offline"
PARTIAL: Final = "partially_executed_offline"
FAILED: Final = "failed_offline"

#: builds the venue of the bot's settings (``default_venue``: the one `aegis run` builds)
VenueFactory = Callable[[Settings], Venue]


@dataclass(frozen=True, slots=True)
class OfflineKill:
    """One kill to execute without a runtime: what, for whom, and the bot's settings."""

    store: Store
    tenant: str
    scope: KillScope
    actor: str
    reason: str
    request_id: str
    settings: Settings
    #: where ``settings`` came from, for the operator: "config file bot.toml", ...
    source: str
    #: bots of the scope whose runtime runs: each executes the kill itself, none is touched here
    running: frozenset[str] = frozenset()

    def covers(self, bot_id: str) -> bool:
        """Return True when this offline kill acts for ``bot_id`` (in scope, not running)."""
        return self.scope.covers(self.tenant, bot_id) and bot_id not in self.running


def plan_offline(
    store: Store,
    tenant: str,
    scope: KillScope,
    actor: str,
    reason: str,
    skip: Collection[str] = (),
) -> KillPlan:
    """Plan cancels and flattens for every bot of ``tenant`` inside ``scope``, from the store.

    Bots in ``skip`` (their runtime runs and executes the kill itself) are left out.
    """
    books: Sequence[BotBook] = [
        BotBook(
            tenant,
            bot_id,
            tuple(store.pending_orders(tenant, bot_id)),
            tuple(p for p in store.positions(tenant, bot_id) if p.quantity > 0),
        )
        for bot_id in bot_ids(store, tenant)
        if scope.covers(tenant, bot_id) and bot_id not in skip
    ]
    return KillSwitch().engage(scope, books, actor, time.time_ns(), reason)


async def execute_offline(
    store: Store, tenant: str, venue: Venue, plan: KillPlan
) -> dict[str, Any]:
    """Cancel, then flatten, through ``venue``; return what was done and what failed.

    A venue error on one order is listed in ``errors`` and the next order is still tried: a
    cancel that fails must not keep the positions open.
    """
    done: dict[str, Any] = {"cancelled": [], "flatten_orders": [], "errors": []}
    for cancel in plan.cancels:
        order = store.get_order(tenant, cancel.client_order_id)
        if order is None:
            continue
        try:
            update = await venue.cancel(order)
            store.apply_order_update(tenant, order.apply(update), update)
            done["cancelled"].append(order.client_order_id)
        except AegisError as error:
            done["errors"].append(f"cancel {order.client_order_id}: {error}")
    for flatten in plan.flattens:
        now = time.time_ns()
        intent = Order(
            client_order_id="",
            bot_id=flatten.bot_id,
            symbol=flatten.symbol,
            side=flatten.side,
            type=OrderType.MARKET,
            quantity=flatten.quantity,
            price=None,
            stop_price=None,
            time_in_force=TimeInForce.GTC,
            reduce_only=True,
            position_side=flatten.position_side,
            status=OrderStatus.NEW,
            created_ns=now,
            updated_ns=now,
            tag="kill",
        )
        recorded = store.record_intent(tenant, intent)  # OR2: the id comes from the store
        submit = OrderUpdate(recorded.client_order_id, OrderEventKind.SUBMIT, now)
        submitted = recorded.apply(submit)
        store.apply_order_update(tenant, submitted, submit)
        try:
            answer = await venue.submit(submitted)
            store.apply_order_update(tenant, submitted.apply(answer), answer)
        except AegisError as error:
            done["errors"].append(f"flatten {recorded.client_order_id}: {error}")
            continue
        done["flatten_orders"].append(recorded.client_order_id)
    return done


def default_venue(settings: Settings) -> Venue:
    """Return the live venue ``aegis run`` builds from ``settings`` (same ccxt set-up).

    Logging is set up as for a run first: the venue's calls go to the bot's log file
    (``<data_dir>/logs/aegis.log``, secrets redacted), warnings to stderr, never to stdout,
    where ``aegis kill --json`` prints its answer.
    """
    from aegis.engine.logs import configure_logging
    from aegis.engine.wiring import build_venue

    exchange = settings.exchange
    configure_logging(
        Path(settings.data_dir),
        secrets=[
            s.get_secret_value() for s in (exchange.api_key, exchange.api_secret) if s is not None
        ],
        max_bytes=settings.runtime.log_max_bytes,
        backups=settings.runtime.log_backups,
    )
    return build_venue(settings, exchange, exchange.url)


def _why_no_venue(settings: Settings, source: str) -> str | None:
    """Return why the kill cannot reach a venue with these settings, None when it can."""
    exchange = settings.exchange
    if settings.mode == "paper":
        return (
            f"mode is paper ({source}): paper orders and positions exist only inside the "
            "runtime, nothing is sent to a venue; the kill is latched and runs when the bot "
            "starts"
        )
    if exchange.name == "emulator" and exchange.url is None:
        return (
            f"exchange emulator without exchange.url ({source}): the in-process emulator "
            "ended with the runtime; the kill is latched and runs when the bot starts"
        )
    return None


def _venue_settings(settings: Settings) -> Settings:
    exchange = settings.exchange
    if not exchange.has_credentials:
        raise ConfigError(
            f"exchange {exchange.name!r} needs credentials to cancel and flatten: set "
            "exchange.api_key and exchange.api_secret, exchange.secrets_file, or "
            "AEGIS_EXCHANGE_API_KEY / AEGIS_EXCHANGE_API_SECRET"
        )
    return settings.model_copy(update={"exchange": exchange})


async def kill_offline(
    kill: OfflineKill, make_venue: VenueFactory = default_venue
) -> dict[str, Any]:
    """Resolve what the store has pending, cancel and flatten through the bot's venue; audit.

    The store is planned from first: nothing to do, or settings without a venue to call (paper,
    in-process emulator), end there without touching any venue. Otherwise every pending order
    of the scope's bots is first resolved against the venue, as a runtime's start does
    (``resolve_pending``): a resting order that filled while no runtime ran grows the position
    to flatten, an order the venue no longer has is not cancelled again. Then the plan is made
    again from the updated store and executed.

    Returns the summary the CLI prints: ``planned_cancels``, ``planned_flattens``, then
    ``resolved``, ``cancelled``, ``flatten_orders`` and ``errors`` when the venue was called,
    ``note`` when there was nothing to do or no venue to call, and ``outcome``.
    """
    store, tenant = kill.store, kill.tenant
    plan = plan_offline(store, tenant, kill.scope, kill.actor, kill.reason, kill.running)
    summary = _planned(plan)
    if not plan.cancels and not plan.flattens:
        summary["note"] = _nothing_note(store, kill)
        return _audited(kill, NOTHING_TO_DO, summary)
    reason = _why_no_venue(kill.settings, kill.source)
    if reason is not None:
        summary["note"] = reason
        return _audited(kill, DEFERRED, summary)
    try:
        venue = make_venue(_venue_settings(kill.settings))
    except AegisError as error:
        summary["errors"] = [f"venue {kill.settings.exchange.name} ({kill.source}): {error}"]
        return _audited(kill, FAILED, summary)
    summary.update(await _on_venue(venue, kill))
    if not summary["errors"]:
        return _audited(kill, EXECUTED, summary)
    acted = summary["cancelled"] or summary["flatten_orders"]
    return _audited(kill, PARTIAL if acted else FAILED, summary)


def _planned(plan: KillPlan) -> dict[str, Any]:
    return {"planned_cancels": len(plan.cancels), "planned_flattens": len(plan.flattens)}


async def _on_venue(venue: Venue, kill: OfflineKill) -> dict[str, Any]:
    store, tenant = kill.store, kill.tenant
    try:
        try:
            await venue.connect()
        except AegisError as error:
            return {"resolved": [], "cancelled": [], "flatten_orders": [],
                    "errors": [f"venue {venue.name} unreachable: {error}"]}  # fmt: skip
        resolved, errors = await _resolve_pending(venue, kill)
        plan = plan_offline(store, tenant, kill.scope, kill.actor, kill.reason, kill.running)
        done = await execute_offline(store, tenant, venue, plan)
        done["errors"] = errors + done["errors"]
        return {**_planned(plan), "resolved": resolved, **done}
    finally:
        await venue.close()


async def _resolve_pending(venue: Venue, kill: OfflineKill) -> tuple[list[str], list[str]]:
    """Adopt the venue's answer for every pending order of the scope's bots (RC3).

    A failure is listed and the kill goes on with what the store holds: cancelling and
    flattening what is known beats doing nothing.
    """
    from aegis.execution.reconcile import resolve_pending

    store, tenant = kill.store, kill.tenant
    resolved: list[str] = []
    errors: list[str] = []
    for bot_id in bot_ids(store, tenant):
        if not kill.covers(bot_id) or not store.pending_orders(tenant, bot_id):
            continue
        try:
            results = await resolve_pending(venue, store, tenant, bot_id)
        except AegisError as error:
            errors.append(f"resolve pending orders of {bot_id}: {error}")
            continue
        resolved.extend(
            f"{r.client_order_id}: {r.previous_status} -> {r.status}" for r in results if r.changed
        )
    return resolved, errors


def _nothing_note(store: Store, kill: OfflineKill) -> str:
    bots = [b for b in bot_ids(store, kill.tenant) if kill.covers(b)]
    if bots:
        return f"no open order and no position in the store for {', '.join(bots)}"
    # the likeliest cause is the wrong store: say which one was read
    return (
        f"no bot of {kill.scope.label()} in the store {store.url} (tenant {kill.tenant!r}, "
        f"{kill.source}); if the bot runs elsewhere, pass its settings with --config"
    )


def _audited(kill: OfflineKill, outcome: str, summary: dict[str, Any]) -> dict[str, Any]:
    kill.store.audit(kill.tenant, kill.actor, "kill", outcome,
                     {"kill_request_id": kill.request_id, "scope": kill.scope.to_json(),
                      "source": kill.source, **summary})  # fmt: skip
    summary["outcome"] = outcome
    return summary
