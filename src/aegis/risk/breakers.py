"""Circuit breakers (RK3): conditions that pause new entries until an operator resumes.

A tripped breaker blocks *entries* only: exits and cancels keep working, because a breaker
that stopped us reducing exposure would turn a data problem into a loss. Every trip and resume
returns a ``BreakerAuditEvent`` (who, what, when, why) for the engine to store and alert on.
Resuming is never automatic: the condition clearing (the socket reconnecting, fresh data) does
not resume; an actor must call ``resume``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal

from aegis.model.errors import ConfigError

NS_PER_SECOND: Final = 1_000_000_000
SYSTEM_ACTOR: Final = "system"


class BreakerKind(StrEnum):
    """Why entries are paused."""

    STALE_DATA = "stale_data"
    WEBSOCKET_DOWN = "websocket_down"
    ERROR_RATE = "error_rate"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    DATABASE_DOWN = "database_down"
    MANUAL = "manual"


class BreakerAction(StrEnum):
    """What happened to a breaker."""

    TRIP = "trip"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class BreakerAuditEvent:
    """One trip or resume, as written to the audit log and sent as an alert."""

    bot_id: str
    breaker: BreakerKind
    action: BreakerAction
    reason: str
    actor: str
    ts_ns: int

    def to_json(self) -> dict[str, str | int]:
        """Return a JSON-safe dict."""
        return {
            "bot_id": self.bot_id,
            "breaker": str(self.breaker),
            "action": str(self.action),
            "reason": self.reason,
            "actor": self.actor,
            "ts_ns": self.ts_ns,
        }


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """Thresholds: data older than ``stale_data_s``, socket down over ``websocket_down_s``,
    ``max_errors`` or more errors within ``error_window_s``, ``max_mismatches`` or more
    reconciliation mismatches in one run.
    """

    stale_data_s: int = 180
    websocket_down_s: int = 60
    error_window_s: int = 60
    max_errors: int = 10
    max_mismatches: int = 1

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"breaker setting {name} must be an integer >= 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class Trip:
    """An active trip: why, by whom and since when."""

    reason: str
    actor: str
    ts_ns: int


class BreakerBoard:
    """The breakers of one bot, with the monitors that trip them."""

    __slots__ = ("_errors", "_tripped", "_websocket_down_since", "bot_id", "settings")

    def __init__(self, bot_id: str, settings: BreakerSettings | None = None) -> None:
        self.bot_id = bot_id
        self.settings = BreakerSettings() if settings is None else settings
        self._tripped: dict[BreakerKind, Trip] = {}
        self._errors: deque[int] = deque()
        self._websocket_down_since: int | None = None

    # ----------------------------------------------------------------- state
    def allows_entry(self) -> bool:
        """Return True when no breaker is tripped."""
        return not self._tripped

    def is_tripped(self, kind: BreakerKind) -> bool:
        """Return True while ``kind`` is tripped."""
        return kind in self._tripped

    def tripped(self) -> dict[BreakerKind, Trip]:
        """Return the active trips."""
        return dict(self._tripped)

    def entry_block_reason(self) -> str | None:
        """Return why entries are paused (every active trip), or None."""
        if not self._tripped:
            return None
        parts = [f"{kind} ({trip.reason})" for kind, trip in sorted(self._tripped.items())]
        return "circuit breaker tripped: " + "; ".join(parts) + "; resume is explicit"

    # ----------------------------------------------------------------- trip / resume
    def trip(
        self, kind: BreakerKind, reason: str, ts_ns: int, actor: str = SYSTEM_ACTOR
    ) -> BreakerAuditEvent | None:
        """Trip ``kind``; return the audit event, or None if it was already tripped."""
        if kind in self._tripped:
            return None
        self._tripped[kind] = Trip(reason, actor, ts_ns)
        return BreakerAuditEvent(self.bot_id, kind, BreakerAction.TRIP, reason, actor, ts_ns)

    def resume(
        self,
        kind: BreakerKind | Literal["all"],
        actor: str,
        ts_ns: int,
        reason: str = "resumed by operator",
    ) -> list[BreakerAuditEvent]:
        """Resume ``kind`` (or every tripped breaker); return one event per breaker resumed.

        Raises ``ValueError`` without an actor: an anonymous resume cannot be audited.
        """
        if not actor.strip():
            raise ValueError(f"resume of {kind} needs an actor, got {actor!r}")
        kinds = sorted(self._tripped) if kind == "all" else [BreakerKind(kind)]
        events = []
        for each in kinds:
            if self._tripped.pop(each, None) is not None:
                events.append(
                    BreakerAuditEvent(self.bot_id, each, BreakerAction.RESUME, reason, actor, ts_ns)
                )
            if each is BreakerKind.ERROR_RATE:
                self._errors.clear()  # the errors that tripped it must not trip it again
        return events

    # ----------------------------------------------------------------- monitors
    def check_data_age(
        self, symbol: str, last_data_ts_ns: int | None, ts_ns: int
    ) -> BreakerAuditEvent | None:
        """Trip STALE_DATA when ``symbol``'s newest data is older than the threshold."""
        limit_ns = self.settings.stale_data_s * NS_PER_SECOND
        if last_data_ts_ns is None:
            return self.trip(BreakerKind.STALE_DATA, f"no data for {symbol}", ts_ns)
        age_ns = ts_ns - last_data_ts_ns
        if age_ns > limit_ns:
            reason = (
                f"data for {symbol} is {age_ns // NS_PER_SECOND} s old "
                f"(limit {self.settings.stale_data_s} s)"
            )
            return self.trip(BreakerKind.STALE_DATA, reason, ts_ns)
        return None

    def websocket_disconnected(self, ts_ns: int) -> None:
        """Note that the market-data socket went down at ``ts_ns`` (first report counts)."""
        if self._websocket_down_since is None:
            self._websocket_down_since = ts_ns

    def websocket_connected(self, ts_ns: int) -> None:
        """Note that the socket is back; a trip it caused stays until resumed."""
        self._websocket_down_since = None

    def check_websocket(self, ts_ns: int) -> BreakerAuditEvent | None:
        """Trip WEBSOCKET_DOWN when the socket has been down longer than the threshold."""
        since = self._websocket_down_since
        if since is None:
            return None
        down_ns = ts_ns - since
        if down_ns > self.settings.websocket_down_s * NS_PER_SECOND:
            reason = (
                f"websocket down for {down_ns // NS_PER_SECOND} s "
                f"(limit {self.settings.websocket_down_s} s)"
            )
            return self.trip(BreakerKind.WEBSOCKET_DOWN, reason, ts_ns)
        return None

    def record_error(self, ts_ns: int, description: str = "error") -> BreakerAuditEvent | None:
        """Count an error; trip ERROR_RATE at ``max_errors`` within the sliding window."""
        window_ns = self.settings.error_window_s * NS_PER_SECOND
        errors = self._errors
        errors.append(ts_ns)
        while errors and errors[0] <= ts_ns - window_ns:
            errors.popleft()
        if len(errors) >= self.settings.max_errors:
            reason = (
                f"{len(errors)} errors within {self.settings.error_window_s} s "
                f"(limit {self.settings.max_errors}); last: {description}"
            )
            return self.trip(BreakerKind.ERROR_RATE, reason, ts_ns)
        return None

    def reconciliation_result(
        self, mismatches: int, ts_ns: int, summary: str = ""
    ) -> BreakerAuditEvent | None:
        """Trip RECONCILIATION_MISMATCH when a run found at least ``max_mismatches``."""
        if mismatches < self.settings.max_mismatches:
            return None
        reason = f"reconciliation found {mismatches} mismatch(es)"
        if summary:
            reason += f": {summary}"
        return self.trip(BreakerKind.RECONCILIATION_MISMATCH, reason, ts_ns)

    # ----------------------------------------------------------------- snapshots
    def state(self) -> dict[str, Any]:
        """Return a JSON-safe snapshot of trips and monitor memory."""
        return {
            "tripped": {
                str(kind): {"reason": trip.reason, "actor": trip.actor, "ts_ns": trip.ts_ns}
                for kind, trip in self._tripped.items()
            },
            "errors": list(self._errors),
            "websocket_down_since": self._websocket_down_since,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load a snapshot made by ``state`` (trips survive a restart: RK3)."""
        self._tripped = {
            BreakerKind(kind): Trip(str(trip["reason"]), str(trip["actor"]), int(trip["ts_ns"]))
            for kind, trip in state["tripped"].items()
        }
        self._errors = deque(int(ts) for ts in state["errors"])
        since = state["websocket_down_since"]
        self._websocket_down_since = None if since is None else int(since)
