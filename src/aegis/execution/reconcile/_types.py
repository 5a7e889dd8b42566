"""Value types of reconciliation: mismatch kinds, mismatches, tolerances and the two states."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final

from aegis.model import Fill, Order, Position, PositionSide
from aegis.venues.base import VenueOrder, VenuePosition

_ZERO: Final = Decimal(0)


class MismatchKind(StrEnum):
    """Classification of one difference between the store and the venue (RC2)."""

    MISSING_LOCALLY = "missing_locally"
    MISSING_ON_EXCHANGE = "missing_on_exchange"
    QUANTITY_DRIFT = "quantity_drift"
    PRICE_DRIFT = "price_drift"
    STATUS_DRIFT = "status_drift"
    POSITION_DRIFT = "position_drift"
    BALANCE_DRIFT = "balance_drift"


class RecordKind(StrEnum):
    """What kind of record a mismatch is about."""

    ORDER = "order"
    FILL = "fill"
    POSITION = "position"
    BALANCE = "balance"


class ReconcilePolicy(StrEnum):
    """How mismatches are healed: ``adopt`` the venue's truth, or ``alert`` only (RC2)."""

    ADOPT = "adopt"
    ALERT = "alert"


class HealAction(StrEnum):
    """What was done about one mismatch (written to the store's mismatch row)."""

    ADOPTED = "adopted"
    ALERTED = "alerted"
    NOT_ADOPTABLE = "not_adoptable"  # adopt policy, but the venue's truth cannot be written


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """One classified difference; values are rendered as text (``None`` = absent on that side)."""

    kind: MismatchKind
    record: RecordKind
    symbol: str
    field: str
    local_value: str | None
    venue_value: str | None
    client_order_id: str | None = None
    venue_order_id: str | None = None
    trade_id: str | None = None
    position_side: PositionSide | None = None

    @property
    def subject(self) -> str:
        """Return a stable, readable key of the record: ``order BTC/USDT:USDT id``..."""
        parts = [str(self.record), self.symbol]
        if self.client_order_id is not None:
            parts.append(self.client_order_id)
        if self.trade_id is not None:
            parts.append(f"trade {self.trade_id}")
        if self.position_side is not None:
            parts.append(str(self.position_side))
        return " ".join(parts)

    @property
    def description(self) -> str:
        """Return one human-readable sentence for logs, alerts and the dashboard."""
        local = "absent" if self.local_value is None else self.local_value
        venue = "absent" if self.venue_value is None else self.venue_value
        return f"{self.kind}: {self.subject} {self.field} is {local} locally, {venue} on the venue"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tolerances:
    """Absolute tolerances of Decimal comparisons (exact by default) and the in-flight grace.

    ``in_flight_grace_ns``: a pending order changed locally less than this long ago is not
    judged missing on the exchange or drifted in status: its request may still be on the wire.
    """

    quantity: Decimal = _ZERO
    price: Decimal = _ZERO
    balance: Decimal = _ZERO
    in_flight_grace_ns: int = 0

    def __post_init__(self) -> None:
        for name in ("quantity", "price", "balance"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"tolerance {name} {value} must not be negative")
        if self.in_flight_grace_ns < 0:
            raise ValueError(f"in_flight_grace_ns {self.in_flight_grace_ns} must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalState:
    """What the store holds for one bot: its orders, fills, position legs and balances.

    ``balances`` is ``None`` when no balance was ever recorded ("no data", not zero).
    """

    orders: Sequence[Order]
    fills: Sequence[Fill]
    positions: Sequence[Position]
    balances: Mapping[str, Decimal] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueState:
    """What the venue reports over all records: orders, fills, open positions, balances.

    ``positions`` is ``None`` when the venue has no positions to compare (spot only): local
    spot legs are then not judged against an empty list.
    """

    orders: Sequence[VenueOrder]
    fills: Sequence[Fill]
    positions: Sequence[VenuePosition] | None
    balances: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Return how many venue records were compared."""
        positions = 0 if self.positions is None else len(self.positions)
        return len(self.orders) + len(self.fills) + positions + len(self.balances)


def venue_key(order: VenueOrder) -> str:
    """Return the id a venue order is known by locally: its client id, else its venue id.

    The venue id is what ``fill_from_trade`` names the fills of an order without client id.
    """
    return order.venue_order_id if order.client_order_id is None else order.client_order_id
