"""Preflight at start (OP2): venue reachable, clock skew, markets loaded, balance readable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import structlog

from aegis.data.feeds import NowMs
from aegis.model.errors import AegisError
from aegis.venues.base import Venue

log = structlog.get_logger(__name__)


class PreflightFailed(AegisError):
    """A start-up check failed: the message names the check and what was found."""


@dataclass(frozen=True, slots=True)
class PreflightCheck:
    """One check's outcome, printed at start."""

    name: str
    is_ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class PreflightReport:
    """Every check, the balances read and the measured clock skew."""

    checks: tuple[PreflightCheck, ...]
    balances: Mapping[str, Decimal]
    clock_skew_ms: int


async def preflight(
    venue: Venue, symbols: Sequence[str], *, wall_clock: NowMs, max_skew_ms: int = 5_000
) -> PreflightReport:
    """Connect ``venue`` and check it; raise ``PreflightFailed`` naming the first failure."""
    checks: list[PreflightCheck] = []

    def record(name: str, detail: str) -> None:
        checks.append(PreflightCheck(name, True, detail))
        log.info("preflight_ok", check=name, detail=detail)

    def fail(name: str, detail: str, error: BaseException | None = None) -> PreflightFailed:
        log.error("preflight_failed", check=name, detail=detail)
        failure = PreflightFailed(f"preflight check '{name}' failed on {venue.name}: {detail}")
        if error is not None:
            failure.__cause__ = error
        return failure

    before = wall_clock()
    try:
        server_ms = await venue.server_time_ms()
    except AegisError as error:
        raise fail("exchange reachable", str(error), error) from error
    after = wall_clock()
    # Half the round trip: the server read its clock roughly in the middle of the request.
    skew = server_ms - (before + after) // 2
    record("exchange reachable", f"server time {server_ms}, round trip {after - before} ms")
    if abs(skew) > max_skew_ms:
        raise fail("clock skew", f"{skew} ms exceeds {max_skew_ms} ms; sync the local clock")
    record("clock skew", f"{skew} ms")
    try:
        await venue.connect()
    except AegisError as error:
        raise fail("markets loaded", str(error), error) from error
    instruments = venue.instruments()
    missing = [s for s in symbols if s not in instruments]
    if missing:
        raise fail("markets loaded", f"symbols {missing} are not listed ({len(instruments)} are)")
    record("markets loaded", f"{len(instruments)} instruments; {', '.join(symbols)} listed")
    try:
        balances = await venue.fetch_balances()
    except AegisError as error:
        raise fail("balance readable", str(error), error) from error
    shown = ", ".join(f"{asset} {amount}" for asset, amount in sorted(balances.items())[:5])
    record("balance readable", shown or "no funds")
    return PreflightReport(tuple(checks), dict(balances), skew)
