"""Translate ccxt exceptions into ``aegis.model.errors`` types (OR5); no ccxt type leaves here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import ccxt

from aegis.model.errors import (
    AegisError,
    AuthenticationError,
    DuplicateClientOrderId,
    InsufficientFunds,
    OrderNotFound,
    RateLimited,
    TransientVenueError,
    VenueError,
)

# Venue messages that mean "this client order id is taken" even where ccxt maps the code to a
# plain InvalidOrder / BadRequest (Binance -4116 "ClientOrderId is duplicated", spot -2010
# "Duplicate order sent.", Kraken "EOrder:Duplicate client order id").
_DUPLICATE_MARKERS: Final = ("clientorderid is duplicated", "duplicate order", "duplicate client")
# Kraken answers "EOrder:Unknown order", which ccxt maps to a plain InvalidOrder.
_UNKNOWN_ORDER_MARKERS: Final = ("unknown order", "order not found", "order does not exist")

# Most specific first: ccxt's hierarchy nests (OrderNotFound / DuplicateOrderId < InvalidOrder,
# InvalidNonce / RequestTimeout < NetworkError ...).
_TRANSLATIONS: Final[tuple[tuple[type[Exception], type[AegisError]], ...]] = (
    (ccxt.DuplicateOrderId, DuplicateClientOrderId),
    (ccxt.OrderNotFound, OrderNotFound),
    (ccxt.InsufficientFunds, InsufficientFunds),
    (ccxt.AuthenticationError, AuthenticationError),
    (ccxt.InvalidNonce, AuthenticationError),  # Binance -1021: timestamp outside recvWindow
    (ccxt.RequestTimeout, TransientVenueError),
    (ccxt.ExchangeNotAvailable, TransientVenueError),
    (ccxt.NetworkError, TransientVenueError),
    (ccxt.InvalidOrder, VenueError),
    (ccxt.BadRequest, VenueError),
    (ccxt.BaseError, VenueError),
)

DEFAULT_RETRY_AFTER_S: Final = 1.0


def retry_after_seconds(headers: Mapping[str, Any] | None) -> float | None:
    """Return the ``Retry-After`` header in seconds (case-insensitive), or None if absent."""
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            try:
                seconds = float(str(value).strip())
            except ValueError:
                # an HTTP-date form: the caller falls back to its default pause
                return None
            return max(seconds, 0.0)
    return None


def _has_marker(message: str, markers: tuple[str, ...]) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in markers)


def is_duplicate_message(message: str) -> bool:
    """Return True when a venue message says the client order id is already in use."""
    return _has_marker(message, _DUPLICATE_MARKERS)


def translate_error(
    error: Exception, *, context: str, headers: Mapping[str, Any] | None = None
) -> AegisError:
    """Return the ``aegis.model.errors`` instance for a ccxt exception.

    ``context`` names the operation and its input (``"submit BTC/USDT:USDT aegis-1"``) and is
    put in front of the venue's message. ``headers`` are the last response headers, read for
    ``Retry-After`` on 429 / 418 answers (ccxt maps those to RateLimitExceeded /
    DDoSProtection).
    """
    if isinstance(error, AegisError):
        return error
    message = f"{context}: {type(error).__name__}: {error}"
    # 429 -> RateLimitExceeded, 418 -> DDoSProtection: siblings under NetworkError in ccxt 4.5
    if isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(message, retry_after_seconds(headers))
    if isinstance(error, ccxt.InvalidOrder | ccxt.BadRequest) and is_duplicate_message(str(error)):
        return DuplicateClientOrderId(message)
    if isinstance(error, ccxt.InvalidOrder) and _has_marker(str(error), _UNKNOWN_ORDER_MARKERS):
        return OrderNotFound(message)
    for ccxt_type, ours in _TRANSLATIONS:
        if isinstance(error, ccxt_type):
            return ours(message)
    # not a ccxt error at all (a bug in a parser, a KeyError): still no foreign type escapes
    return VenueError(message)
