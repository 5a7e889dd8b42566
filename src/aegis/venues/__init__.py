"""Venues: where orders go. ``sim`` is the in-process matching engine.

The emulator (``aegis.venues.emulator``) and the ccxt adapter are separate subpackages, imported
by their users only (they pull in heavy dependencies).
"""

from aegis.venues.sim import (
    FillModel,
    FundingSchedule,
    FundingSeries,
    MarkSeries,
    SimulatedExchange,
)

__all__ = ["FillModel", "FundingSchedule", "FundingSeries", "MarkSeries", "SimulatedExchange"]
