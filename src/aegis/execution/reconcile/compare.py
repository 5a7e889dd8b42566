"""The pure comparison core: local state vs venue state -> classified mismatches (RC1, RC2).

No I/O and no clock: the caller passes ``now_ns``. Orders are matched by client order id (the
venue id for orders without one), fills by ``(client order id, trade id)``, position legs by
``(symbol, side)`` so that long and short residuals on one symbol are compared apart (OR7).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Final

from aegis.execution.reconcile._types import (
    LocalState,
    Mismatch,
    MismatchKind,
    RecordKind,
    Tolerances,
    VenueState,
    venue_key,
)
from aegis.model import PENDING_STATUSES, Fill, Order, PositionSide
from aegis.venues.base import VenueOrder, VenuePosition

__all__ = ["PENDING_STATUSES", "compare_states"]

_ZERO: Final = Decimal(0)
_K = MismatchKind


def compare_states(
    local: LocalState,
    venue: VenueState,
    tolerances: Tolerances | None = None,
    *,
    now_ns: int = 0,
) -> list[Mismatch]:
    """Return every mismatch between ``local`` and ``venue``: orders, fills, legs, balances.

    ``now_ns`` is only used with ``tolerances.in_flight_grace_ns`` (recently changed pending
    orders are left alone).
    """
    limits = Tolerances() if tolerances is None else tolerances
    found: list[Mismatch] = []
    found.extend(_compare_orders(local.orders, venue.orders, limits, now_ns))
    found.extend(_compare_fills(local.fills, venue.fills, limits))
    if venue.positions is not None:
        found.extend(_compare_positions(local, venue.positions, limits))
    if local.balances is not None:
        found.extend(_compare_balances(local.balances, venue.balances, limits))
    return found


# --------------------------------------------------------------------- orders
def _is_in_flight(order: Order, limits: Tolerances, now_ns: int) -> bool:
    # a request sent moments ago may not have reached the venue yet: not a mismatch (yet)
    grace = limits.in_flight_grace_ns
    return grace > 0 and order.status in PENDING_STATUSES and now_ns - order.updated_ns < grace


def _order_mismatch(
    kind: MismatchKind, order: Order | VenueOrder, field: str, local: object, venue: object
) -> Mismatch:
    return Mismatch(
        kind=kind,
        record=RecordKind.ORDER,
        symbol=order.symbol,
        field=field,
        local_value=None if local is None else str(local),
        venue_value=None if venue is None else str(venue),
        client_order_id=order.client_order_id if isinstance(order, Order) else venue_key(order),
        venue_order_id=order.venue_order_id,
    )


def _compare_orders(
    local: Sequence[Order], venue: Sequence[VenueOrder], limits: Tolerances, now_ns: int
) -> Iterator[Mismatch]:
    by_id = {o.client_order_id: o for o in local}
    venue_by_id = {venue_key(v): v for v in venue}
    for key, theirs in venue_by_id.items():
        ours = by_id.get(key)
        if ours is None:
            summary = f"{theirs.status} {theirs.side} {theirs.quantity}"
            yield _order_mismatch(_K.MISSING_LOCALLY, theirs, "order", None, summary)
        elif not _is_in_flight(ours, limits, now_ns):
            yield from _compare_order(ours, theirs, limits)
    for key, ours in by_id.items():
        if key in venue_by_id or _is_in_flight(ours, limits, now_ns):
            continue
        # a terminal order without fills may be purged by the venue (Binance: after days);
        # one we believe pending or filled must be there
        if ours.status in PENDING_STATUSES or ours.filled_quantity > 0:
            summary = f"{ours.status} {ours.side} {ours.quantity}"
            yield _order_mismatch(_K.MISSING_ON_EXCHANGE, ours, "order", summary, None)


def _differs(left: Decimal, right: Decimal, tolerance: Decimal) -> bool:
    return abs(left - right) > tolerance


def _compare_order(ours: Order, theirs: VenueOrder, limits: Tolerances) -> Iterator[Mismatch]:
    if ours.status is not theirs.status:
        yield _order_mismatch(_K.STATUS_DRIFT, ours, "status", ours.status, theirs.status)
    if _differs(ours.quantity, theirs.quantity, limits.quantity):
        yield _order_mismatch(_K.QUANTITY_DRIFT, ours, "quantity", ours.quantity, theirs.quantity)
    filled_differs = _differs(ours.filled_quantity, theirs.filled_quantity, limits.quantity)
    if filled_differs:
        yield _order_mismatch(
            _K.QUANTITY_DRIFT,
            ours,
            "filled_quantity",
            ours.filled_quantity,
            theirs.filled_quantity,
        )
    if (
        ours.price is not None
        and theirs.price is not None
        and _differs(ours.price, theirs.price, limits.price)
    ):
        yield _order_mismatch(_K.PRICE_DRIFT, ours, "price", ours.price, theirs.price)
    average, venue_average = ours.average_fill_price, theirs.average_price
    # with different filled quantities the averages differ for a reason already reported
    if (
        not filled_differs
        and average is not None
        and venue_average is not None
        and _differs(average, venue_average, limits.price)
    ):
        yield _order_mismatch(_K.PRICE_DRIFT, ours, "average_fill_price", average, venue_average)


# --------------------------------------------------------------------- fills
def _fill_summary(fill: Fill) -> str:
    return f"{fill.side} {fill.quantity} @ {fill.price}"


def _fill_mismatch(
    kind: MismatchKind, fill: Fill, field: str, local: str | None, venue: str | None
) -> Mismatch:
    return Mismatch(
        kind=kind,
        record=RecordKind.FILL,
        symbol=fill.symbol,
        field=field,
        local_value=local,
        venue_value=venue,
        client_order_id=fill.client_order_id,
        trade_id=fill.trade_id,
    )


def _compare_fills(
    local: Sequence[Fill], venue: Sequence[Fill], limits: Tolerances
) -> Iterator[Mismatch]:
    ours_by_key = {(f.client_order_id, f.trade_id): f for f in local}
    theirs_by_key = {(f.client_order_id, f.trade_id): f for f in venue}
    for key, theirs in theirs_by_key.items():
        ours = ours_by_key.get(key)
        if ours is None:
            yield _fill_mismatch(_K.MISSING_LOCALLY, theirs, "fill", None, _fill_summary(theirs))
            continue
        if _differs(ours.quantity, theirs.quantity, limits.quantity):
            yield _fill_mismatch(
                _K.QUANTITY_DRIFT, ours, "quantity", str(ours.quantity), str(theirs.quantity)
            )
        if _differs(ours.price, theirs.price, limits.price):
            yield _fill_mismatch(_K.PRICE_DRIFT, ours, "price", str(ours.price), str(theirs.price))
    for key, ours in ours_by_key.items():
        if key not in theirs_by_key:
            yield _fill_mismatch(_K.MISSING_ON_EXCHANGE, ours, "fill", _fill_summary(ours), None)


# --------------------------------------------------------------------- positions (OR7)
def _compare_positions(
    local: LocalState, venue: Sequence[VenuePosition], limits: Tolerances
) -> Iterator[Mismatch]:
    ours: dict[tuple[str, PositionSide], Decimal] = {}
    for leg in local.positions:
        key = (leg.symbol, leg.side)
        ours[key] = ours.get(key, _ZERO) + leg.quantity
    theirs: dict[tuple[str, PositionSide], Decimal] = {}
    for position in venue:
        key = (position.symbol, position.side)
        theirs[key] = theirs.get(key, _ZERO) + position.quantity
    # each side on its own: a long and a short residual never net against each other (OR7)
    for symbol, side in sorted(set(ours) | set(theirs)):
        held = ours.get((symbol, side), _ZERO)
        reported = theirs.get((symbol, side), _ZERO)
        if _differs(held, reported, limits.quantity):
            yield Mismatch(
                kind=_K.POSITION_DRIFT,
                record=RecordKind.POSITION,
                symbol=symbol,
                field="quantity",
                local_value=str(held) if held else None,
                venue_value=str(reported) if reported else None,
                position_side=side,
            )


# --------------------------------------------------------------------- balances
def _compare_balances(
    local: Mapping[str, Decimal], venue: Mapping[str, Decimal], limits: Tolerances
) -> Iterator[Mismatch]:
    for currency in sorted(set(local) | set(venue)):
        held = local.get(currency)
        # the venue lists non-zero balances only: absent there means zero
        reported = venue.get(currency, _ZERO)
        if held is None or _differs(held, reported, limits.balance):
            yield Mismatch(
                kind=_K.BALANCE_DRIFT,
                record=RecordKind.BALANCE,
                symbol=currency,
                field="total",
                local_value=None if held is None else str(held),
                venue_value=str(reported),
            )
