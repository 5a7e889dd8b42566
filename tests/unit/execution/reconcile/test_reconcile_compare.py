"""The pure comparison core: every mismatch kind, tolerances, per-side legs (OR7), RC3."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

import aegis.model
from aegis.execution.reconcile import (
    UNKNOWN_ORDER_RULES,
    LocalState,
    Mismatch,
    MismatchKind,
    RecordKind,
    Tolerances,
    VenueState,
    compare_states,
)
from aegis.execution.reconcile import compare as compare_module
from aegis.execution.reconcile import reconciler as reconciler_module
from aegis.execution.reconcile import recovery as recovery_module
from aegis.model import Fill, Order, OrderStatus, Position, PositionSide
from aegis.venues.base import VenueOrder, VenuePosition

from .builders import SYMBOL, fill, leg, order, venue_leg, venue_order

K = MismatchKind
S = OrderStatus


def _local(
    orders: Sequence[Order] = (),
    fills: Sequence[Fill] = (),
    positions: Sequence[Position] = (),
    balances: Mapping[str, Decimal] | None = None,
) -> LocalState:
    return LocalState(orders=list(orders), fills=list(fills), positions=list(positions),
                      balances=balances)  # fmt: skip


def _venue(
    orders: Sequence[VenueOrder] = (),
    fills: Sequence[Fill] = (),
    positions: Sequence[VenuePosition] | None = (),
    balances: Mapping[str, Decimal] | None = None,
) -> VenueState:
    return VenueState(orders=list(orders), fills=list(fills), positions=positions,
                      balances=balances or {})  # fmt: skip


def _kinds(found: list[Mismatch]) -> list[tuple[MismatchKind, str]]:
    return [(m.kind, m.field) for m in found]


def test_identical_states_have_no_mismatch() -> None:
    local = _local([order("a", S.FILLED, filled="1", average="100")], [fill("a", "t1")],
                   [leg(PositionSide.LONG, "1")], {"USDT": Decimal(10)})  # fmt: skip
    venue = _venue([venue_order("a", S.FILLED, filled="1", average="100")], [fill("a", "t1")],
                   [venue_leg(PositionSide.LONG, "1")], {"USDT": Decimal(10)})  # fmt: skip
    assert compare_states(local, venue) == []


def test_order_only_the_venue_knows_is_missing_locally() -> None:
    found = compare_states(_local(), _venue([venue_order("foreign-1")]))
    assert _kinds(found) == [(K.MISSING_LOCALLY, "order")]
    assert found[0].client_order_id == "foreign-1"
    assert found[0].local_value is None
    assert found[0].venue_value == "accepted buy 1"


def test_venue_order_without_client_id_is_keyed_by_its_venue_id() -> None:
    found = compare_states(_local(), _venue([venue_order(None, venue_id="987")]))
    assert found[0].client_order_id == "987"


def test_fill_only_the_venue_knows_is_missing_locally() -> None:
    found = compare_states(_local(), _venue(fills=[fill("a", "t9", "0.5", "101")]))
    assert _kinds(found) == [(K.MISSING_LOCALLY, "fill")]
    assert found[0].record is RecordKind.FILL
    assert found[0].trade_id == "t9"
    assert found[0].venue_value == "buy 0.5 @ 101"


@pytest.mark.parametrize("status", sorted(aegis.model.PENDING_STATUSES))
def test_pending_order_the_venue_does_not_know_is_missing_on_exchange(status: S) -> None:
    found = compare_states(_local([order("a", status)]), _venue())
    assert _kinds(found) == [(K.MISSING_ON_EXCHANGE, "order")]


def test_terminal_order_without_fills_may_be_purged_by_the_venue() -> None:
    local = _local([order("a", S.CANCELLED), order("b", S.REJECTED)])
    assert compare_states(local, _venue()) == []


def test_filled_order_absent_on_the_venue_is_missing_on_exchange() -> None:
    found = compare_states(_local([order("a", S.FILLED, filled="1")]), _venue())
    assert _kinds(found) == [(K.MISSING_ON_EXCHANGE, "order")]


def test_local_fill_absent_on_the_venue_is_missing_on_exchange() -> None:
    found = compare_states(_local(fills=[fill("a", "t1")]), _venue())
    assert _kinds(found) == [(K.MISSING_ON_EXCHANGE, "fill")]


def test_status_quantity_and_price_drift_are_each_reported() -> None:
    local = _local([order("a", S.ACCEPTED, quantity="2", price="100")])
    venue = _venue([venue_order("a", S.PARTIALLY_FILLED, quantity="3", filled="1", price="99")])
    assert _kinds(compare_states(local, venue)) == [
        (K.STATUS_DRIFT, "status"),
        (K.QUANTITY_DRIFT, "quantity"),
        (K.QUANTITY_DRIFT, "filled_quantity"),
        (K.PRICE_DRIFT, "price"),
    ]


def test_average_fill_price_drift_only_when_filled_quantities_agree() -> None:
    local = _local([order("a", S.FILLED, filled="1", average="100.5")])
    venue = _venue([venue_order("a", S.FILLED, filled="1", average="100.4")])
    found = compare_states(local, venue)
    assert _kinds(found) == [(K.PRICE_DRIFT, "average_fill_price")]
    assert (found[0].local_value, found[0].venue_value) == ("100.5", "100.4")


def test_fill_quantity_and_price_drift() -> None:
    local = _local(fills=[fill("a", "t1", "1", "100")])
    venue = _venue(fills=[fill("a", "t1", "0.9", "100.1")])
    assert _kinds(compare_states(local, venue)) == [
        (K.QUANTITY_DRIFT, "quantity"),
        (K.PRICE_DRIFT, "price"),
    ]


def test_decimal_comparisons_are_exact_by_default_and_tolerant_when_asked() -> None:
    local = _local([order("a", S.ACCEPTED, price="100.00000001")])
    venue = _venue([venue_order("a", S.ACCEPTED, price="100")])
    assert _kinds(compare_states(local, venue)) == [(K.PRICE_DRIFT, "price")]
    loose = Tolerances(price=Decimal("0.0000001"))
    assert compare_states(local, venue, loose) == []


def test_trailing_zeros_are_not_a_drift() -> None:
    local = _local([order("a", S.ACCEPTED, quantity="1.000", price="100.0")])
    venue = _venue([venue_order("a", S.ACCEPTED, quantity="1", price="100")])
    assert compare_states(local, venue) == []


def test_negative_tolerance_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="quantity -1"):
        Tolerances(quantity=Decimal(-1))


def test_recently_changed_pending_order_is_in_flight_not_missing() -> None:
    tolerances = Tolerances(in_flight_grace_ns=10_000)
    local = _local([order("a", S.SUBMITTED, updated_ns=95_000)])
    assert compare_states(local, _venue(), tolerances, now_ns=100_000) == []
    found = compare_states(local, _venue(), tolerances, now_ns=106_000)
    assert _kinds(found) == [(K.MISSING_ON_EXCHANGE, "order")]


def test_long_and_short_residuals_are_compared_per_side() -> None:
    # OR7: a long 2 and a short 2 do not net to flat, on either side of the comparison
    local = _local(positions=[leg(PositionSide.LONG, "2"), leg(PositionSide.SHORT, "2")])
    assert compare_states(local, _venue(positions=[])) != []
    venue = _venue(
        positions=[venue_leg(PositionSide.LONG, "2"), venue_leg(PositionSide.SHORT, "1")]
    )
    found = compare_states(local, venue)
    assert _kinds(found) == [(K.POSITION_DRIFT, "quantity")]
    assert found[0].position_side is PositionSide.SHORT
    assert (found[0].local_value, found[0].venue_value) == ("2", "1")


def test_position_closed_on_the_venue_is_a_drift_with_venue_absent() -> None:
    found = compare_states(_local(positions=[leg(PositionSide.LONG, "5")]), _venue(positions=[]))
    assert [(m.kind, m.local_value, m.venue_value) for m in found] == [
        (K.POSITION_DRIFT, "5", None)
    ]


def test_flat_local_leg_matches_no_venue_position() -> None:
    assert compare_states(_local(positions=[leg(PositionSide.LONG, "0")]), _venue()) == []


def test_positions_are_skipped_when_the_venue_has_none_to_compare() -> None:
    local = _local(positions=[leg(PositionSide.LONG, "5")])
    assert compare_states(local, _venue(positions=None)) == []


def test_balance_drift_and_no_data_is_not_zero() -> None:
    venue = _venue(balances={"USDT": Decimal("99.5")})
    assert compare_states(_local(balances=None), venue) == []  # never recorded: not compared
    found = compare_states(_local(balances={"USDT": Decimal(100), "BNB": Decimal(1)}), venue)
    assert [(m.kind, m.symbol, m.local_value, m.venue_value) for m in found] == [
        (K.BALANCE_DRIFT, "BNB", "1", "0"),
        (K.BALANCE_DRIFT, "USDT", "100", "99.5"),
    ]
    loose = Tolerances(balance=Decimal("0.5"))
    assert len(compare_states(_local(balances={"USDT": Decimal(100)}), venue, loose)) == 0


def test_mismatch_is_frozen_and_describes_itself() -> None:
    found = compare_states(_local([order("a", S.SUBMITTED)]), _venue([venue_order("a")]))
    mismatch = found[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mismatch.kind = K.PRICE_DRIFT  # type: ignore[misc]
    assert mismatch.subject == f"order {SYMBOL} a"
    assert mismatch.description == (
        f"status_drift: order {SYMBOL} a status is submitted locally, accepted on the venue"
    )


def test_recovery_and_sync_use_the_one_pending_set() -> None:
    # RC3: the identical object, not an equal copy
    assert compare_module.PENDING_STATUSES is aegis.model.PENDING_STATUSES
    assert recovery_module.PENDING_STATUSES is aegis.model.PENDING_STATUSES
    assert reconciler_module.PENDING_STATUSES is aegis.model.PENDING_STATUSES
    # every pending state has a rule for "the venue does not know it", and nothing else has
    assert frozenset(UNKNOWN_ORDER_RULES) == aegis.model.PENDING_STATUSES
