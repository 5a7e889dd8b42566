"""Risk: sizing, limits, capital reservation, circuit breakers, kill switch, statistics."""

from aegis.risk.breakers import (
    BreakerAction,
    BreakerAuditEvent,
    BreakerBoard,
    BreakerKind,
    BreakerSettings,
    Trip,
)
from aegis.risk.engine import (
    RiskContext,
    RiskControlEvent,
    RiskEngine,
    RiskRule,
    RiskVerdict,
    exposures_from_portfolio,
)
from aegis.risk.gate import GatedBook, LegRoundTrips, RiskEntryGate
from aegis.risk.kill_switch import (
    BotBook,
    CancelInstruction,
    FlattenInstruction,
    KillPlan,
    KillScope,
    KillScopeKind,
    KillSwitch,
    KillSwitchEvent,
)
from aegis.risk.limits import EquityWatch, LossCooldown, RiskSettings, limits_from_config
from aegis.risk.reservations import (
    CapitalReservations,
    InMemoryCapitalReservations,
    ReservationBackend,
    TenantCapitalReservations,
)
from aegis.risk.sizing import FixedFraction, FixedQuantity, Sizer
from aegis.risk.sizing_advanced import (
    CappedKellySizer,
    RoundTripHistory,
    SizingResult,
    VolatilitySizer,
)
from aegis.risk.statistics import (
    DEFAULT_MINIMUM_ROUND_TRIPS,
    Statistic,
    classic_risk_of_ruin,
    expectancy,
    kelly_fraction,
    not_enough_data,
    risk_of_ruin,
    win_loss,
)

__all__ = [
    "DEFAULT_MINIMUM_ROUND_TRIPS",
    "BotBook",
    "BreakerAction",
    "BreakerAuditEvent",
    "BreakerBoard",
    "BreakerKind",
    "BreakerSettings",
    "CancelInstruction",
    "CapitalReservations",
    "CappedKellySizer",
    "EquityWatch",
    "FixedFraction",
    "FixedQuantity",
    "FlattenInstruction",
    "GatedBook",
    "InMemoryCapitalReservations",
    "KillPlan",
    "KillScope",
    "KillScopeKind",
    "KillSwitch",
    "KillSwitchEvent",
    "LegRoundTrips",
    "LossCooldown",
    "ReservationBackend",
    "RiskContext",
    "RiskControlEvent",
    "RiskEngine",
    "RiskEntryGate",
    "RiskRule",
    "RiskSettings",
    "RiskVerdict",
    "RoundTripHistory",
    "Sizer",
    "SizingResult",
    "Statistic",
    "TenantCapitalReservations",
    "Trip",
    "VolatilitySizer",
    "classic_risk_of_ruin",
    "expectancy",
    "exposures_from_portfolio",
    "kelly_fraction",
    "limits_from_config",
    "not_enough_data",
    "risk_of_ruin",
    "win_loss",
]
