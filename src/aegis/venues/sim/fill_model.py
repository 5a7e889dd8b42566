"""How the simulated exchange turns market data into fills: slippage, volume cap, latency, fees."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from aegis.model.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class FillModel:
    """Parameters of the matching rules (see docs/simulated-exchange.md).

    Args:
        slippage_bps: fixed slippage against the taker, in basis points of the fill price.
        slippage_random_bps: upper bound of an extra uniform random slippage in
            ``[0, slippage_random_bps)`` bps, drawn from a generator seeded with ``seed``.
        max_volume_share: cap of the quantity filled on one candle (or one trade) as a share of
            its volume, shared by every order of the symbol; None = no cap. A NaN volume means
            "unknown" and is never a cap.
        latency_ms: an order submitted at ``ts_ns`` can fill no earlier than a candle opening (or
            a trade printing) at ``ts_ns + latency_ms``.
        seed: seed of the random slippage component.
        fee_rate_override: one fee rate for maker and taker fills (e.g. ``--fee-bps 10`` ->
            ``Decimal("0.001")``); None = the instrument's maker / taker rates.
        limit_fill_on_touch: a limit fills when the price only touches it (``low <= price`` for a
            buy); the default False needs the range to trade through it (``low < price``).
    """

    slippage_bps: float = 0.0
    max_volume_share: float | None = None
    latency_ms: int = 0
    seed: int = 0
    fee_rate_override: Decimal | None = None
    slippage_random_bps: float = 0.0
    limit_fill_on_touch: bool = False

    def __post_init__(self) -> None:
        for name in ("slippage_bps", "slippage_random_bps"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"FillModel.{name} {value!r} must be a finite number >= 0")
        share = self.max_volume_share
        if share is not None and not (math.isfinite(share) and 0 < share <= 1):
            raise ConfigError(f"FillModel.max_volume_share {share!r} must be in (0, 1] or None")
        if self.latency_ms < 0:
            raise ConfigError(f"FillModel.latency_ms {self.latency_ms!r} must be >= 0")
        override = self.fee_rate_override
        if override is not None and (
            not isinstance(override, Decimal) or not override.is_finite() or override < 0
        ):
            raise ConfigError(
                f"FillModel.fee_rate_override {override!r} must be a finite Decimal >= 0"
            )

    @property
    def latency_ns(self) -> int:
        """Return the latency in nanoseconds."""
        return self.latency_ms * 1_000_000

    @property
    def has_slippage(self) -> bool:
        """Return True when taker fills are moved against the taker."""
        return self.slippage_bps > 0 or self.slippage_random_bps > 0
