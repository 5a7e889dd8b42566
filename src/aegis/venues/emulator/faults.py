"""Fault injection: names, parsing, and the seeded draws that decide which request fails."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Literal

from aegis.model.errors import ConfigError

HttpFault = Literal["5xx", "429", "418", "timeout"]
LostAckMode = Literal["error", "drop", "timeout"]

#: Every fault name with a one-line description (CLI help, docs, /_admin/faults).
FAULT_NAMES: Final[dict[str, str]] = {
    "http_5xx": "share (0..1) of API requests answered 500 / -1001",
    "http_429": "share of API requests answered 429 / -1003 with Retry-After",
    "http_418": "share of API requests answered 418 (IP ban) with Retry-After",
    "http_timeout": "share of API requests that hang until timeout_s (the client times out)",
    "retry_after_s": "Retry-After seconds sent with 429/418 (default 1)",
    "timeout_s": "how long a hung request hangs (default 30)",
    "lost_ack": "the next N order placements are created but their answer is lost",
    "lost_ack_mode": "how the answer is lost: error (500), drop (connection closed), timeout",
    "fill_delay": "orders rest this many candles before they can fill",
    "gap": "the next N candles of every feed are never published (not in REST klines either)",
    "stream_gap": "the next N candles of every feed are in REST klines but not pushed on ws",
    "ws_drop": "close every websocket after N more candles (0 = now)",
    "ws_stall": "1 = websockets stay open but send nothing and answer no ping; 0 = resume",
    "listen_key_expire": "after N more candles (0 = now) every listenKey expires",
    "seed": "seed of the draws that pick failing requests (default 0)",
}

_SHARES: Final = ("http_5xx", "http_429", "http_418", "http_timeout")
_COUNTS: Final = ("lost_ack", "fill_delay", "gap", "stream_gap", "ws_drop", "listen_key_expire")


@dataclass(slots=True)
class FaultState:
    """Current faults; shares are drawn from a seeded RNG so a run is reproducible."""

    shares: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SHARES, 0.0))
    retry_after_s: int = 1
    timeout_s: float = 30.0
    lost_ack: int = 0
    lost_ack_mode: LostAckMode = "error"
    fill_delay: int = 0
    ws_stall: bool = False
    injected: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311

    def set(self, name: str, value: str) -> int | None:
        """Set fault ``name`` from its text value.

        Returns the integer for the candle-relative one-shot faults (``gap``, ``stream_gap``,
        ``ws_drop``, ``listen_key_expire``) that the server schedules itself, else None.
        Raises ConfigError naming the fault and the value when either is invalid.
        """
        if name not in FAULT_NAMES:
            raise ConfigError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULT_NAMES))}")
        if name in _SHARES:
            share = _number(name, value)
            if not 0.0 <= share <= 1.0:
                raise ConfigError(f"fault {name}={value!r}: a share must be within 0..1")
            self.shares[name] = share
            return None
        if name in ("lost_ack_mode", "ws_stall", "seed", "retry_after_s", "timeout_s"):
            self._set_setting(name, value)
            return None
        count = _count(name, value)
        if name in ("lost_ack", "fill_delay"):
            setattr(self, name, count)
            return None
        return count

    def _set_setting(self, name: str, value: str) -> None:
        if name == "lost_ack_mode":
            if value not in ("error", "drop", "timeout"):
                raise ConfigError(f"fault lost_ack_mode={value!r}: use error, drop or timeout")
            self.lost_ack_mode = value  # type: ignore[assignment]  # checked just above
        elif name == "ws_stall":
            self.ws_stall = _count(name, value) != 0
        elif name == "seed":
            self._rng = random.Random(_count(name, value))  # noqa: S311 - reproducible, not crypto
        else:
            number = _number(name, value)
            if number < 0:
                raise ConfigError(f"fault {name}={value!r} must be >= 0")
            if name == "retry_after_s":
                self.retry_after_s = int(number)
            else:
                self.timeout_s = number

    def draw_http_fault(self) -> HttpFault | None:
        """Decide (seeded) whether this API request fails, and how."""
        for name, kind in (
            ("http_429", "429"),
            ("http_418", "418"),
            ("http_5xx", "5xx"),
            ("http_timeout", "timeout"),
        ):
            share = self.shares[name]
            if share > 0 and self._rng.random() < share:
                self.injected[name] += 1
                return kind  # type: ignore[return-value]  # literal values of HttpFault
        return None

    def take_lost_ack(self) -> LostAckMode | None:
        """Consume one lost acknowledgement if any is armed."""
        if self.lost_ack <= 0:
            return None
        self.lost_ack -= 1
        self.injected["lost_ack"] += 1
        return self.lost_ack_mode

    def snapshot(self) -> dict[str, object]:
        """Current values, JSON-safe (``GET /_admin/faults``)."""
        return {
            **self.shares,
            "retry_after_s": self.retry_after_s,
            "timeout_s": self.timeout_s,
            "lost_ack": self.lost_ack,
            "lost_ack_mode": self.lost_ack_mode,
            "fill_delay": self.fill_delay,
            "ws_stall": int(self.ws_stall),
            "injected": dict(self.injected),
        }


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"fault {name}={value!r} is not a number") from exc


def _count(name: str, value: str) -> int:
    try:
        count = int(value)
    except ValueError as exc:
        raise ConfigError(f"fault {name}={value!r} is not an integer") from exc
    if count < 0:
        raise ConfigError(f"fault {name}={value!r} must be >= 0")
    return count


def parse_fault_assignment(text: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` (CLI ``--fault``); raise ConfigError naming the text."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise ConfigError(f"--fault {text!r} is not NAME=VALUE")
    return name.strip(), value.strip()
