"""Simulated exchange: the matching engine of backtests, paper trading and the emulator."""

from aegis.venues.sim.exchange import SimulatedExchange
from aegis.venues.sim.fill_model import FillModel
from aegis.venues.sim.funding import FundingSchedule, FundingSeries, MarkSeries

__all__ = ["FillModel", "FundingSchedule", "FundingSeries", "MarkSeries", "SimulatedExchange"]
