"""Operator controls (RK3, RK5, API4): kill, pause, resume, through the audit table.

A control is requested by writing an audit row with outcome ``requested`` and a ``request_id``
(``request_control``). A running runtime polls the audit log, executes each request it has not
handled and writes the outcome (``done`` or ``failed``) as a second row with the same
``request_id``. A runtime that starts picks up the requests made while none ran. Every row says
who, what, when and the outcome (API4). ``runtime_pid`` tells the CLI whether a runtime of the
bot runs on this host (``<data_dir>/run/<bot>.pid``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aegis.risk import KillScope
from aegis.store import AuditEntry, Store

REQUESTED: Final = "requested"
DONE: Final = "done"
FAILED: Final = "failed"
CONTROL_ACTIONS: Final = frozenset({"kill", "pause", "resume", "rearm"})
_SCAN_LIMIT: Final = 500


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One requested control action."""

    request_id: str
    action: str
    actor: str
    ts_ns: int
    details: dict[str, Any]

    @property
    def scope(self) -> KillScope:
        """Return the scope the request names (bot, tenant or everything)."""
        return KillScope.from_json(self.details["scope"])


def request_control(
    store: Store, tenant: str, actor: str, action: str, scope: KillScope, **details: Any
) -> ControlRequest:
    """Write a control request (audit row, outcome ``requested``) and return it."""
    if action not in CONTROL_ACTIONS:
        raise ValueError(f"control action {action!r} is not one of {sorted(CONTROL_ACTIONS)}")
    payload = {"request_id": uuid.uuid4().hex, "scope": scope.to_json(), **details}
    entry = store.audit(tenant, actor, action, REQUESTED, payload)
    return ControlRequest(payload["request_id"], action, actor, entry.ts_ns, entry.details)


def pending_requests(
    entries: Iterable[AuditEntry], bot_id: str | None = None
) -> list[ControlRequest]:
    """Return the requests among ``entries`` without an outcome row, oldest first.

    With ``bot_id``: without an outcome row of that bot. A request for a whole tenant is
    executed by each of its bots' runtimes (each writes its own outcome row), so one bot's
    runtime handling it does not hide it from a bot that was stopped then: that bot still
    executes it, and latches its kill switch, when it starts.
    """
    entries = list(entries)
    handled = {
        e.details.get("request_id")
        for e in entries
        if e.outcome != REQUESTED and (bot_id is None or e.details.get("bot_id") in (None, bot_id))
    } - {None}
    pending = [
        ControlRequest(str(e.details["request_id"]), e.action, e.actor, e.ts_ns, dict(e.details))
        for e in entries
        if e.outcome == REQUESTED
        and e.action in CONTROL_ACTIONS
        and "request_id" in e.details
        and e.details["request_id"] not in handled
    ]
    return sorted(pending, key=lambda r: r.ts_ns)


def load_pending(store: Store, tenant: str, bot_id: str | None = None) -> list[ControlRequest]:
    """Return the tenant's unhandled control requests (for ``bot_id``: by it), oldest first."""
    return pending_requests(store.audit_log(tenant, limit=_SCAN_LIMIT), bot_id)


def finish_request(
    store: Store, tenant: str, request: ControlRequest, outcome: str, **details: Any
) -> AuditEntry:
    """Write the outcome row of ``request`` (``done`` or ``failed``)."""
    payload = {"request_id": request.request_id, "scope": request.details.get("scope"), **details}
    return store.audit(tenant, request.actor, request.action, outcome, payload)


def pid_file(data_dir: Path, bot_id: str) -> Path:
    """Return the file holding the pid of the bot's running runtime."""
    return data_dir / "run" / f"{bot_id}.pid"


def write_pid(data_dir: Path, bot_id: str) -> Path:
    """Record this process as the bot's runtime."""
    path = pid_file(data_dir, bot_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n", encoding="utf-8")
    return path


def runtime_pid(data_dir: Path, bot_id: str) -> int | None:
    """Return the pid of the bot's running runtime on this host, None when none runs."""
    path = pid_file(data_dir, bot_id)
    try:
        pid = int(path.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a crashed runtime left its file behind
    except PermissionError:
        return pid
    return pid
