"""`aegis kill`, `aegis pause`, `aegis resume`: operator controls (RK3, RK5, API4).

Each writes a control request to the audit table (who, what, when) of the bot's store, found from
the bot's settings (``--config``, as for `aegis run`). A runtime of the bot that runs picks it up
within ``database.control_poll_s`` and writes the outcome; the command waits for it. When no
runtime runs, `kill` executes the plan itself through the venue of the bot's settings (cancel
everything, then flatten with reduce-only market orders) and the request latches the kill switch
at the next start; `pause` / `resume` take effect at the next start. An offline kill that could
not cancel or flatten everything exits with code 4.
"""

from __future__ import annotations

import getpass
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aegis.cli.status_cmd import (
    BotStore,
    ConfigOption,
    DataDirOption,
    JsonOption,
    TenantOption,
    UrlOption,
    echo_json,
    locate_store,
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

#: an offline kill left something undone (a cancel or a flatten failed, or the venue could not
#: be reached): the code `aegis run` uses for orders left in an unknown state
EXIT_KILL_INCOMPLETE = 4


def _scope(tenant: str, bot: str | None, all_tenants: bool) -> KillScope:
    from aegis.risk import KillScope

    if all_tenants:
        return KillScope.everything()
    return KillScope.of_bot(tenant, bot) if bot else KillScope.of_tenant(tenant)


def _bots_in_scope(
    folder: Path, store: Store, tenant: str, scope: KillScope
) -> tuple[list[str], list[str]]:
    """Return the scope's bots whose runtime runs on this host, and the others."""
    from aegis.engine.controls import runtime_pid
    from aegis.engine.status import bot_ids

    running: list[str] = []
    stopped: list[str] = []
    for bot in bot_ids(store, tenant):
        if scope.covers(tenant, bot):
            (running if runtime_pid(folder, bot) is not None else stopped).append(bot)
    return running, stopped


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


def _control(action: str, location: BotStore, bot: str | None, all_tenants: bool,
             actor: str | None, reason: str | None, wait_s: float, json_output: bool,
             **extra: Any) -> None:  # fmt: skip
    from aegis.engine.controls import request_control

    tenant = location.tenant
    who = actor or getpass.getuser()
    scope = _scope(tenant, bot, all_tenants)
    with open_store(location) as store:
        request = request_control(store, tenant, who, action, scope,
                                  reason=reason or f"{action} from the CLI", **extra)  # fmt: skip
        result: dict[str, Any] = {"request_id": request.request_id, "action": action,
                                  "actor": who, "scope": scope.to_json(),
                                  "store": location.to_json()}  # fmt: skip
        running, stopped = _bots_in_scope(location.data_dir, store, tenant, scope)
        if action == "kill" and (stopped or not running):
            # RK5: a stopped bot's resting orders and positions are on the venue now; its
            # next start would run the latched kill, but that may be never
            result["offline"] = _kill_offline(store, location, scope, who, reason or "kill",
                                              request.request_id, running)  # fmt: skip
        if running:
            result["runtime"] = running
            result["result"] = _wait_outcome(store, tenant, request.request_id, wait_s)
        elif action != "kill":
            result["result"] = "queued: applied when the bot's runtime starts"
    if json_output:
        echo_json(result)
    else:
        _print_result(result, scope, location)
    if (result.get("offline") or {}).get("errors"):
        raise typer.Exit(EXIT_KILL_INCOMPLETE)


def _print_result(result: dict[str, Any], scope: KillScope, location: BotStore) -> None:
    database = result["store"]["database"]
    typer.echo(f"{result['action']} {scope.label()} by {result['actor']} "
               f"(store {database}, tenant {location.tenant}, {location.source})")  # fmt: skip
    offline = result.get("offline")
    if "runtime" in result:
        typer.echo(f"  runtime of {', '.join(result['runtime'])}: {result.get('result')}")
    elif offline is None:
        typer.echo(f"  {result.get('result')}")
    if offline is None:
        return
    where = "the bots whose runtime is stopped" if "runtime" in result else "no runtime runs"
    typer.echo(f"  {where}: executed here ({offline['outcome']})")
    typer.echo(f"  planned: {offline['planned_cancels']} cancel(s), "
               f"{offline['planned_flattens']} flatten(s)")  # fmt: skip
    if "cancelled" in offline:
        typer.echo(f"  cancelled: {', '.join(offline['cancelled']) or 'none'}")
        typer.echo(f"  flatten orders sent: {', '.join(offline['flatten_orders']) or 'none'}")
    for error in offline.get("errors", []):
        typer.echo(f"  error: {error}")
    if "note" in offline:
        typer.echo(f"  note: {offline['note']}")


def _kill_offline(store: Store, location: BotStore, scope: KillScope, actor: str, reason: str,
                  request_id: str, running: list[str]) -> dict[str, Any]:  # fmt: skip
    import asyncio

    from aegis.engine.offline import OfflineKill, kill_offline

    kill = OfflineKill(store, location.tenant, scope, actor, reason, request_id,
                       location.settings, location.source, frozenset(running))  # fmt: skip
    return asyncio.run(kill_offline(kill))


def kill(
    bot: BotOption = None,
    config: ConfigOption = None,
    tenant: TenantOption = None,
    all_tenants: Annotated[bool, typer.Option("--all", help="Every tenant and bot.")] = False,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    wait: WaitOption = 15.0,
    json_output: JsonOption = False,
) -> None:
    """Cancel every open order and flatten every position; latch the kill switch (RK5)."""
    location = locate_store(config, data_dir, database_url, tenant)
    _control("kill", location, bot, all_tenants, actor, reason, wait, json_output)


def pause(
    bot: BotOption = None,
    config: ConfigOption = None,
    tenant: TenantOption = None,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    wait: WaitOption = 15.0,
    json_output: JsonOption = False,
) -> None:
    """Pause new entries (manual breaker); exits keep working."""
    location = locate_store(config, data_dir, database_url, tenant)
    _control("pause", location, bot, False, actor, reason, wait, json_output)


def resume(
    bot: BotOption = None,
    config: ConfigOption = None,
    tenant: TenantOption = None,
    breaker: Annotated[str, typer.Option("--breaker", help="Breaker kind or 'all'.")] = "all",
    actor: ActorOption = None,
    reason: ReasonOption = None,
    data_dir: DataDirOption = None,
    database_url: UrlOption = None,
    wait: WaitOption = 15.0,
    json_output: JsonOption = False,
) -> None:
    """Resume entries: clear tripped breakers and re-arm the kill switch (explicit, RK3)."""
    location = locate_store(config, data_dir, database_url, tenant)
    _control("resume", location, bot, False, actor, reason, wait, json_output, breaker=breaker)


def register(app: typer.Typer) -> None:
    """Add `aegis kill`, `aegis pause` and `aegis resume` to the root app."""
    app.command("kill")(kill)
    app.command("pause")(pause)
    app.command("resume")(resume)
