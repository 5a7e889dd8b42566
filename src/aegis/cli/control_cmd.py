"""`aegis kill`, `aegis pause`, `aegis resume`: operator controls (RK3, RK5, API4).

Each writes a control request to the audit table (who, what, when). A runtime of the bot that
runs picks it up within ``database.control_poll_s`` and writes the outcome; the command waits for
it. When no runtime runs, `kill` executes the plan itself through the venue (cancel everything,
then flatten with reduce-only market orders) and the request latches the kill switch at the next
start; `pause` / `resume` take effect at the next start.
"""

from __future__ import annotations

import getpass
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aegis.cli.status_cmd import (
    DataDirOption,
    JsonOption,
    TenantOption,
    UrlOption,
    data_dir_of,
    echo_json,
    open_store,
)

if TYPE_CHECKING:
    from pathlib import Path

    from aegis.risk import KillScope
    from aegis.store import Store

BotOption = Annotated[str | None, typer.Option("--bot", help="Only this bot.")]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Who acts (default: $USER).")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (audited).")]
WaitOption = Annotated[float, typer.Option("--wait", help="Seconds to wait for a runtime.")]


def _scope(tenant: str, bot: str | None, all_tenants: bool) -> KillScope:
    from aegis.risk import KillScope

    if all_tenants:
        return KillScope.everything()
    return KillScope.of_bot(tenant, bot) if bot else KillScope.of_tenant(tenant)


def _running(folder: Path, store: Store, tenant: str, scope: KillScope) -> list[str]:
    from aegis.engine.controls import runtime_pid
    from aegis.engine.status import bot_ids

    return [
        b
        for b in bot_ids(store, tenant)
        if scope.covers(tenant, b) and runtime_pid(folder, b) is not None
    ]


def _wait_outcome(
    store: Store, tenant: str, request_id: str, wait_s: float
) -> dict[str, Any] | None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        for entry in store.audit_log(tenant, limit=200):
            if entry.details.get("request_id") == request_id and entry.outcome != "requested":
                return {"outcome": entry.outcome, "details": entry.details}
        time.sleep(0.1)  # polling another process's answer: there is no event to wait on
    return None


def _control(action: str, tenant: str, bot: str | None, all_tenants: bool, actor: str | None,
             reason: str | None, data_dir: Path | None, database_url: str | None,
             wait_s: float, json_output: bool, **extra: Any) -> None:  # fmt: skip
    from aegis.engine.controls import request_control

    folder = data_dir_of(data_dir)
    who = actor or getpass.getuser()
    scope = _scope(tenant, bot, all_tenants)
    with open_store(folder, database_url) as store:
        request = request_control(store, tenant, who, action, scope,
                                  reason=reason or f"{action} from the CLI", **extra)  # fmt: skip
        result: dict[str, Any] = {"request_id": request.request_id, "action": action,
                                  "actor": who, "scope": scope.to_json()}  # fmt: skip
        running = _running(folder, store, tenant, scope)
        if running:
            result["runtime"] = running
            result["result"] = _wait_outcome(store, tenant, request.request_id, wait_s)
        elif action == "kill":
            result["offline"] = _kill_offline(store, tenant, scope, who, reason or "kill")
        else:
            result["result"] = "queued: applied when the bot's runtime starts"
    if json_output:
        echo_json(result)
    else:
        typer.echo(
            f"{action} {scope.label()} by {who}: {result.get('result') or result.get('offline')}"
        )


def _kill_offline(
    store: Store, tenant: str, scope: KillScope, actor: str, reason: str
) -> dict[str, Any]:
    import asyncio

    from aegis.config import load_settings
    from aegis.engine.offline import execute_offline, plan_offline

    plan = plan_offline(store, tenant, scope, actor, reason)
    summary: dict[str, Any] = {"planned_cancels": len(plan.cancels),
                               "planned_flattens": len(plan.flattens)}  # fmt: skip
    if not plan.cancels and not plan.flattens:
        store.audit(tenant, actor, "kill", "nothing_to_do", {"scope": scope.to_json()})
        return summary
    settings = load_settings(None)
    exchange = settings.exchange
    if settings.mode == "paper" or (exchange.name == "emulator" and exchange.url is None):
        summary["note"] = "paper orders live in the runtime: the kill runs when it starts"
        return summary
    from aegis.venues.ccxt import CcxtVenue

    name = "binanceusdm" if exchange.name == "emulator" else exchange.name
    venue = CcxtVenue(name, exchange, base_url=exchange.url)

    async def run() -> dict[str, Any]:
        await venue.connect()
        try:
            return await execute_offline(store, tenant, venue, plan)
        finally:
            await venue.close()

    summary.update(asyncio.run(run()))
    outcome = "executed_offline" if not summary.get("errors") else "partially_executed_offline"
    store.audit(tenant, actor, "kill", outcome, {"scope": scope.to_json(), **summary})
    return summary


def kill(
    bot: BotOption = None,
    tenant: TenantOption = "default",
    all_tenants: Annotated[bool, typer.Option("--all", help="Every tenant and bot.")] = False,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    wait: WaitOption = 15.0,
    json_output: JsonOption = False,
) -> None:
    """Cancel every open order and flatten every position; latch the kill switch (RK5)."""
    _control("kill", tenant, bot, all_tenants, actor, reason, data_dir, database_url, wait,
             json_output)  # fmt: skip


def pause(
    bot: BotOption = None,
    tenant: TenantOption = "default",
    actor: ActorOption = None,
    reason: ReasonOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    wait: WaitOption = 15.0,
    json_output: JsonOption = False,
) -> None:
    """Pause new entries (manual breaker); exits keep working."""
    _control("pause", tenant, bot, False, actor, reason, data_dir, database_url, wait,
             json_output)  # fmt: skip


def resume(
    bot: BotOption = None,
    tenant: TenantOption = "default",
    breaker: Annotated[str, typer.Option("--breaker", help="Breaker kind or 'all'.")] = "all",
    actor: ActorOption = None,
    reason: ReasonOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    wait: WaitOption = 15.0,
    json_output: JsonOption = False,
) -> None:
    """Resume entries: clear tripped breakers and re-arm the kill switch (explicit, RK3)."""
    _control("resume", tenant, bot, False, actor, reason, data_dir, database_url, wait,
             json_output, breaker=breaker)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add `aegis kill`, `aegis pause` and `aegis resume` to the root app."""
    app.command("kill")(kill)
    app.command("pause")(pause)
    app.command("resume")(resume)
