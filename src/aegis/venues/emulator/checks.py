"""Order checks before acceptance: filters, client ids, triggers, margin, balances."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aegis.venues.emulator import errors
from aegis.venues.emulator.ledger import FuturesLedger, SpotLedger
from aegis.venues.emulator.markets import SymbolSpec
from aegis.venues.emulator.order_limits import OrderLimits

if TYPE_CHECKING:
    from aegis.venues.emulator.engine import AccountVenue, OrderRequest


def check_order(venue: AccountVenue, request: OrderRequest, *, is_algo: bool) -> None:
    """Raise Binance's error for the first check ``request`` fails on ``venue``."""
    spec = venue.specs.get(request.symbol_id)
    if spec is None:
        raise errors.invalid_symbol()
    reference = venue.mark(request.symbol_id)
    error = spec.check_order(
        is_market=request.is_market,
        quantity=request.quantity,
        price=request.price,
        reference_price=reference,
        reduce_only=request.reduce_only or request.close_position,
    )
    if error is not None:
        raise error
    _check_limits(venue, request, spec.limits, reference, is_algo=is_algo)
    if _client_id_in_use(venue, request.client_id, is_algo=is_algo):
        if venue.kind == "spot":
            raise errors.duplicate_client_order_id_spot()
        raise errors.duplicate_client_order_id_futures()
    if request.stop_price is not None:
        _check_trigger(request, request.stop_price, reference)
    if isinstance(venue.ledger, FuturesLedger):
        _check_futures_funds(venue, request, reference, venue.ledger)
    else:
        _check_spot_funds(venue, request, spec, reference, venue.ledger)


def _check_limits(
    venue: AccountVenue,
    request: OrderRequest,
    limits: OrderLimits,
    mark: Decimal,
    *,
    is_algo: bool,
) -> None:
    if request.type == "LIMIT" and request.price is not None:
        error = limits.check_price(request.side, request.price, mark)
        if error is not None:
            raise error
    symbol_id = request.symbol_id
    error = limits.check_open(
        request.type,
        is_algo=is_algo,
        open_types=(o.type for o in venue.open_orders(symbol_id)),
        open_algos=len(venue.open_algos(symbol_id)),
    )
    if error is not None:
        raise error


def _client_id_in_use(venue: AccountVenue, client_id: str, *, is_algo: bool) -> bool:
    # Binance refuses a client id only while an order with it is still open.
    if is_algo:
        return any(a.client_algo_id == client_id for a in venue.open_algos())
    return any(o.client_order_id == client_id for o in venue.open_orders())


def _check_trigger(request: OrderRequest, stop: Decimal, last: Decimal) -> None:
    is_stop = request.type in ("STOP_MARKET", "STOP")
    rises = (request.side == "BUY") == is_stop
    if (rises and stop <= last) or (not rises and stop >= last):
        raise errors.would_immediately_trigger()


def _check_futures_funds(
    venue: AccountVenue, request: OrderRequest, reference: Decimal, ledger: FuturesLedger
) -> None:
    if ledger.dual_side != (request.position_side != "BOTH"):
        raise errors.position_side_mismatch()
    if ledger.dual_side and request.reduce_only:
        # hedge mode: the side against the leg's positionSide is what closes it
        raise errors.parameter_not_required("reduceOnly")
    if request.reduce_only or request.close_position:
        position = ledger.position(request.symbol_id, request.position_side).amount
        reduces = (position > 0 and request.side == "SELL") or (
            position < 0 and request.side == "BUY"
        )
        if not reduces or (request.reduce_only and request.quantity > abs(position)):
            raise errors.reduce_only_rejected()
        return
    if request.position_side in ("LONG", "SHORT"):
        opening = (request.side == "BUY") == (request.position_side == "LONG")
        if not opening:
            return  # closing a hedge leg needs no margin
    symbols = {symbol_id for symbol_id, _ in ledger.positions}
    marks = {s: venue.mark(s) for s in symbols}
    available = (
        sum(ledger.wallet.values(), Decimal(0))
        + ledger.unrealized(marks)
        - ledger.position_margin(marks)
        - venue.open_order_margin()
    )
    price = request.price if request.price is not None else reference
    required = request.quantity * price / ledger.leverage_of(request.symbol_id)
    if required > available:
        raise errors.margin_insufficient()


def _check_spot_funds(
    venue: AccountVenue,
    request: OrderRequest,
    spec: SymbolSpec,
    reference: Decimal,
    ledger: SpotLedger,
) -> None:
    locked = venue.spot_locked()
    if request.side == "BUY":
        price = request.price if request.price is not None else reference
        asset, needed = spec.quote, request.quantity * price
    else:
        asset, needed = spec.base, request.quantity
    if ledger.balances.get(asset, Decimal(0)) - locked.get(asset, Decimal(0)) < needed:
        raise errors.spot_insufficient_balance()
