"""Strategies: the Strategy base class, the plugin registry (ST1), built-ins and confluence (ST2).

Every strategy has a streaming form (``on_candle``, one Decision per bar with a thought, ST3)
and, where possible, a vectorised form (``signals`` -> ``SignalFrame``) that gives the same
actions bar for bar. See docs/strategies.md.
"""

from ._decision import LazyDecision, lazy_decision
from ._params import Param, ParamValue
from .base import CandleArrays, SignalFrame, Strategy
from .builtin import (
    CandlestickReversal,
    EmaAdxTrend,
    EmaCross,
    KeltnerBreakout,
    MeanReversion,
    Momentum,
)
from .confluence import Confluence, TieRule
from .confluence_strategy import ConfluenceStrategy
from .registry import (
    ENTRY_POINT_GROUP,
    StrategyRegistry,
    available_strategies,
    create_strategy,
    default_registry,
    get_strategy,
    register_strategy,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CandleArrays",
    "CandlestickReversal",
    "Confluence",
    "ConfluenceStrategy",
    "EmaAdxTrend",
    "EmaCross",
    "KeltnerBreakout",
    "LazyDecision",
    "MeanReversion",
    "Momentum",
    "Param",
    "ParamValue",
    "SignalFrame",
    "Strategy",
    "StrategyRegistry",
    "TieRule",
    "available_strategies",
    "create_strategy",
    "default_registry",
    "get_strategy",
    "lazy_decision",
    "register_strategy",
]
