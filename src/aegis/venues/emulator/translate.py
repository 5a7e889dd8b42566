"""Binance order requests and instruments, translated into the simulator's model types."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from aegis.model.enums import MarketKind as ModelMarketKind
from aegis.model.enums import OrderSide, OrderType, PositionSide, TimeInForce
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.venues.emulator.markets import MarketKind, SymbolSpec

# Binance's default fee tiers (VIP 0): USD-M maker 0.02 % / taker 0.05 %, spot 0.1 %.
_FEES: dict[MarketKind, tuple[Decimal, Decimal]] = {
    "usdm": (Decimal("0.0002"), Decimal("0.0005")),
    "spot": (Decimal("0.001"), Decimal("0.001")),
}
_MODEL_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "STOP": OrderType.STOP_LIMIT,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT,
}
_TIME_IN_FORCE = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
}
_PRICED = frozenset({"LIMIT", "LIMIT_MAKER", "STOP", "TAKE_PROFIT"})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated-for-shape order request (regular or algo), Binance vocabulary."""

    symbol_id: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str
    reduce_only: bool
    position_side: str
    client_id: str
    close_position: bool = False

    @property
    def is_market(self) -> bool:
        """True when the order executes at market (after its trigger, if any)."""
        return self.type in ("MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET")


def build_instruments(kind: MarketKind, specs: Mapping[str, SymbolSpec]) -> dict[str, Instrument]:
    """Instruments (keyed by unified symbol) for the simulator, with Binance's default fees.

    USD-M instruments carry no min notional: the emulator checks every filter itself before
    the sim sees an order (``checks.check_order``, with Binance's error codes), including
    Binance's exemption of reduce-only / close-position orders from MIN_NOTIONAL, which
    ``Instrument.check`` inside the sim does not know and would otherwise refuse.
    """
    maker, taker = _FEES[kind]
    model_kind = ModelMarketKind.SPOT if kind == "spot" else ModelMarketKind.LINEAR_PERPETUAL
    result: dict[str, Instrument] = {}
    for spec in specs.values():
        instrument = Instrument.from_binance(spec.entry, model_kind)
        instrument = dataclasses.replace(instrument, maker_fee_rate=maker, taker_fee_rate=taker)
        if kind == "usdm":
            instrument = dataclasses.replace(instrument, min_notional=Decimal(0))
        result[instrument.symbol] = instrument
    return result


def sim_order(request: OrderRequest, sim_id: str, symbol: str, now_ms: int) -> Order:
    """The model order the simulated exchange matches for ``request`` (``symbol`` unified)."""
    model_type = _MODEL_TYPES[request.type]
    tif = _TIME_IN_FORCE.get(request.time_in_force, TimeInForce.GTC)
    if request.type == "LIMIT_MAKER":
        tif = TimeInForce.POST_ONLY
    position_side = {"LONG": PositionSide.LONG, "SHORT": PositionSide.SHORT}.get(
        request.position_side
    )
    return Order(
        client_order_id=sim_id,
        bot_id="emulator",
        symbol=symbol,
        side=OrderSide.BUY if request.side == "BUY" else OrderSide.SELL,
        type=model_type,
        quantity=request.quantity,
        price=request.price if request.type in _PRICED else None,
        stop_price=request.stop_price if model_type.requires_stop_price else None,
        time_in_force=tif,
        reduce_only=request.reduce_only,
        position_side=position_side,
        created_ns=now_ms * 1_000_000,
    )
