"""Execution: turning decisions into validated orders and tracking them (OR1, OR2, PR1, PR2)."""

from aegis.execution.order_manager import IntentWriter, OrderManager, OrderPlan, annotate

__all__ = ["IntentWriter", "OrderManager", "OrderPlan", "annotate"]
