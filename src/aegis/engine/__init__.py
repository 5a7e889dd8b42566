"""Engine: the order pipeline shared by backtest, paper and live trading (BT1)."""

from aegis.engine.pipeline import FillListener, SyncVenue, TradingPipeline

__all__ = ["FillListener", "SyncVenue", "TradingPipeline"]
