"""Exchange adapter over ccxt (async REST + ccxt.pro): the live ``Venue`` (EX1, PR2, OR2, OR5).

Imports ccxt: import this package only where a real exchange (or the emulator) is used.
"""

from aegis.venues.ccxt.backoff import RateLimitGate, RetryPolicy
from aegis.venues.ccxt.errors import retry_after_seconds, translate_error
from aegis.venues.ccxt.markets import (
    instrument_from_binance_market,
    instrument_from_market,
    load_instruments,
)
from aegis.venues.ccxt.orders import OrderRequest, build_request, wire_decimal
from aegis.venues.ccxt.profiles import PROFILES, ExchangeProfile, profile_for
from aegis.venues.ccxt.venue import CcxtVenue, create_exchange

__all__ = [
    "PROFILES",
    "CcxtVenue",
    "ExchangeProfile",
    "OrderRequest",
    "RateLimitGate",
    "RetryPolicy",
    "build_request",
    "create_exchange",
    "instrument_from_binance_market",
    "instrument_from_market",
    "load_instruments",
    "profile_for",
    "retry_after_seconds",
    "translate_error",
    "wire_decimal",
]
