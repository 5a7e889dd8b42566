"""Risk: position sizing (and, later, limits and circuit breakers)."""

from aegis.risk.sizing import FixedFraction, FixedQuantity, Sizer

__all__ = ["FixedFraction", "FixedQuantity", "Sizer"]
