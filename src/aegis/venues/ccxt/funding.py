"""Turn ccxt's funding structures into Aegis types (OR3): payments and published rates.

``fetch_funding_history`` (Binance USD-M: ``GET /fapi/v1/income?incomeType=FUNDING_FEE``) lists
the funding the account paid or received; ``fetch_funding_rate`` (``GET /fapi/v1/premiumIndex``)
the current rate and the next funding time. A record that cannot be read raises ``VenueError``
naming the field and the value: a payment is money, it is never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aegis.model.errors import ConfigError, VenueError
from aegis.venues.base import VenueFundingPayment, VenueFundingRate
from aegis.venues.ccxt.markets import to_decimal


def _number(raw: Mapping[str, Any], key: str, context: str) -> Decimal | None:
    try:
        return to_decimal(raw.get(key), field=key, symbol=context)
    except ConfigError as error:
        raise VenueError(f"{context}: {key} {raw.get(key)!r} is not a number") from error


def _integer(value: object, key: str, context: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError as error:
        raise VenueError(f"{context}: {key} {value!r} is not an integer") from error


def funding_payment(raw: Mapping[str, Any]) -> VenueFundingPayment:
    """Build a payment from one ccxt funding-history entry.

    The exact amount comes from the exchange's own text (``info.income`` on Binance) when it is
    there; ccxt's ``amount`` is a float. Raises ``VenueError`` for a missing id, symbol, time or
    amount, or a value that is not a number.
    """
    if not isinstance(raw, Mapping):
        raise VenueError(f"funding history entry {raw!r} is not a record")
    payment_id = raw.get("id")
    context = f"funding payment {payment_id!r}"
    if payment_id is None or str(payment_id) == "":
        raise VenueError(f"funding history entry without an id: {dict(raw)!r}")
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise VenueError(f"{context}: symbol {symbol!r} is missing")
    ts_ms = _integer(raw.get("timestamp"), "timestamp", context)
    if ts_ms is None:
        raise VenueError(f"{context}: timestamp is missing")
    info = raw.get("info")
    amount = None
    if isinstance(info, Mapping) and info.get("income") is not None:
        amount = _number(info, "income", context)
    if amount is None:
        amount = _number(raw, "amount", context)
    if amount is None:
        raise VenueError(f"{context}: amount is missing")
    asset = raw.get("code")
    if not isinstance(asset, str) or not asset:
        raise VenueError(f"{context}: currency code {asset!r} is missing")
    return VenueFundingPayment(
        payment_id=str(payment_id), symbol=symbol, asset=asset, amount=amount, ts_ms=ts_ms
    )


def funding_rate(raw: Mapping[str, Any], symbol: str) -> VenueFundingRate:
    """Build the published rate of ``symbol`` from a ccxt funding-rate structure.

    Raises ``VenueError`` when the rate is missing or a field is not a number.
    """
    context = f"funding rate of {symbol}"
    if not isinstance(raw, Mapping):
        raise VenueError(f"{context}: answer {raw!r} is not a record")
    rate = _number(raw, "fundingRate", context)
    if rate is None:
        raise VenueError(f"{context}: fundingRate is missing")
    return VenueFundingRate(
        symbol=symbol,
        rate=rate,
        ts_ms=_integer(raw.get("timestamp"), "timestamp", context),
        next_funding_ms=_integer(raw.get("fundingTimestamp"), "fundingTimestamp", context),
        mark_price=_number(raw, "markPrice", context),
    )
