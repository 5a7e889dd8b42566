"""The order manager: sized requests become validated orders; venue updates move their state.

Pure and synchronous (no I/O, no clock): the backtester calls it tens of thousands of times per
million candles, and paper/live runners wrap it with persistence and an async venue. Durability
comes through a seam: ``intent_writer`` is called with the order *before* it is marked submitted
and handed to a venue (OR2), so a crash after the call never loses an order we may have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Final

from aegis.model.enums import (
    TERMINAL_STATUSES,
    MarketKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    TimeInForce,
)
from aegis.model.errors import ConfigError, OrderRejected
from aegis.model.events import Fill, OrderEventKind, OrderUpdate, new_update
from aegis.model.ids import client_order_id
from aegis.model.instrument import Instrument
from aegis.model.limits import CONDITIONAL_TYPES, OpenOrderLimits
from aegis.model.order import Order, new_order
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision

IntentWriter = Callable[[Order], None]

_ZERO: Final = Decimal(0)
_TERMINAL: Final = TERMINAL_STATUSES
_BUY: Final = OrderSide.BUY
_SELL: Final = OrderSide.SELL
_LONG: Final = PositionSide.LONG
_SHORT: Final = PositionSide.SHORT
_SPOT: Final = MarketKind.SPOT
_HEDGE: Final = PositionMode.HEDGE
_MARKET: Final = OrderType.MARKET
_GTC: Final = TimeInForce.GTC
_SUBMIT: Final = OrderEventKind.SUBMIT
_ENTER_LONG: Final = Action.ENTER_LONG
_ENTER_SHORT: Final = Action.ENTER_SHORT
_EXIT_LONG: Final = Action.EXIT_LONG
_EXIT_SHORT: Final = Action.EXIT_SHORT


class OrderPlan:
    """What an actionable decision means for the book: side, purpose and exit size if any.

    A plain slotted class, not a frozen dataclass: one is built per signal on the backtester's
    hot path, and frozen construction costs three times as much. Treat it as read-only.
    """

    __slots__ = ("decision", "exit_quantity", "position_side", "reduce_only", "side", "tag")

    def __init__(
        self,
        decision: Decision,
        side: OrderSide,
        tag: str,
        exit_quantity: Decimal | None,
        position_side: PositionSide | None,
        reduce_only: bool,
    ) -> None:
        self.decision = decision
        self.side = side
        self.tag = tag
        # Exits close the whole position: their quantity is known here; entries are sized later.
        self.exit_quantity = exit_quantity
        self.position_side = position_side
        self.reduce_only = reduce_only

    def __repr__(self) -> str:
        return (
            f"OrderPlan({self.tag} {self.side} {self.decision.symbol} "
            f"exit_quantity={self.exit_quantity})"
        )


def annotate(decision: Decision, outcome: str, reason: str) -> Decision:
    """Return ``decision`` with why it was not acted on appended to its thought (ST3)."""
    metadata = dict(decision.metadata)
    metadata["outcome"] = outcome
    metadata["reason"] = reason
    return replace(
        decision, thought=f"{decision.thought} -> {outcome}: {reason}", metadata=metadata
    )


class OrderManager:
    """Creates orders, tracks them by client id and applies venue updates and fills.

    ``retain_history=False`` (the backtester) drops an order from ``orders`` once it is
    terminal, so memory stays flat over millions of candles; ``fill_counts`` still counts the
    fills per order tag. Paper and live keep the default: every order stays queryable.
    """

    def __init__(
        self,
        bot_id: str,
        instruments: Mapping[str, Instrument],
        portfolio: Portfolio,
        *,
        next_sequence: int = 1,
        intent_writer: IntentWriter | None = None,
        retain_history: bool = True,
    ) -> None:
        if next_sequence < 1:
            raise ConfigError(f"next_sequence must be >= 1, got {next_sequence}")
        self.bot_id = bot_id
        self.instruments = instruments
        self.portfolio = portfolio
        self.next_sequence = next_sequence
        self.intent_writer = intent_writer
        self.retain_history = retain_history
        self._orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}
        # Signed net quantity per symbol, kept in step with the fills applied to the portfolio:
        # the entry/exit gate needs it on every signal and must not recompute it.
        self._net: dict[str, Decimal] = {}
        self._pending_tag: dict[str, str] = {}
        self._open_count: dict[str, int] = {}
        self.thoughts: list[Decision] = []
        self.fills_applied = 0
        #: fills applied per order tag ("entry", "exit"...), kept whatever ``retain_history``
        self.fill_counts: dict[str, int] = {}

    # ---- queries -------------------------------------------------------------------------------
    @property
    def orders(self) -> Mapping[str, Order]:
        """Every order this manager created, by client order id (only the unfinished ones
        with ``retain_history=False``)."""
        return self._orders

    @property
    def open_orders(self) -> list[Order]:
        """Orders not yet in a terminal state."""
        return list(self._open.values())

    def has_open_orders(self) -> bool:
        """True while any order awaits a terminal update."""
        return bool(self._open)

    def net_quantity(self, symbol: str) -> Decimal:
        """Signed position (positive long, negative short) built from the applied fills."""
        return self._net.get(symbol, _ZERO)

    # ---- decisions -----------------------------------------------------------------------------
    def plan(self, decision: Decision) -> OrderPlan | None:
        """Map an actionable decision to an order plan, or record why it is ignored."""
        symbol = decision.symbol
        instrument = self.instruments.get(symbol)
        if instrument is None:
            self._ignore(decision, "rejected", f"no instrument metadata for symbol {symbol!r}")
            return None
        pending = self._pending_tag.get(symbol)
        if pending is not None:
            self._ignore(decision, "ignored", f"an {pending} order is still open on {symbol}")
            return None
        net = self._net.get(symbol, _ZERO)
        action = decision.action
        # constants and identity tests, not enum attribute reads: one plan per signal
        is_perp = instrument.kind is not _SPOT
        # Only a hedge-mode account takes a position side: a one-way account refuses one
        # (Binance -4061), and there the side follows the net quantity anyway.
        names_leg = is_perp and self.portfolio.position_mode is _HEDGE
        if action is _ENTER_LONG or action is _ENTER_SHORT:
            if net != _ZERO:
                self._ignore(decision, "ignored", f"already in position {net} on {symbol}")
                return None
            if action is _ENTER_SHORT and not is_perp:
                self._ignore(decision, "rejected", f"cannot short spot market {symbol}")
                return None
            long = action is _ENTER_LONG
            return OrderPlan(
                decision,
                _BUY if long else _SELL,
                "entry",
                None,
                (_LONG if long else _SHORT) if names_leg else None,
                False,
            )
        if action is _EXIT_LONG or action is _EXIT_SHORT:
            long = action is _EXIT_LONG
            if (long and net <= _ZERO) or (not long and net >= _ZERO):
                side_name = "long" if long else "short"
                self._ignore(decision, "ignored", f"no {side_name} position to exit on {symbol}")
                return None
            return OrderPlan(
                decision,
                _SELL if long else _BUY,
                "exit",
                abs(net),
                (_LONG if long else _SHORT) if names_leg else None,
                is_perp,
            )
        self._ignore(decision, "ignored", f"action {action.name} needs no order")
        return None

    def reject(self, decision: Decision, reason: str) -> None:
        """Record that an order for ``decision`` was refused (locally or by the venue)."""
        self._ignore(decision, "rejected", reason)

    def _ignore(self, decision: Decision, outcome: str, reason: str) -> None:
        self.thoughts.append(annotate(decision, outcome, reason))

    # ---- orders --------------------------------------------------------------------------------
    def create(
        self,
        plan: OrderPlan,
        quantity: Decimal,
        ts_ns: int,
        *,
        order_type: OrderType = _MARKET,
        price: Decimal | None = None,
        reference_price: Decimal | None = None,
    ) -> Order:
        """Normalise and validate a new order; raise ``OrderRejected`` naming the filter.

        ``reference_price`` (e.g. the last close) lets a market order's notional be checked,
        and a limit price against the instrument's price band. An order beyond the venue's
        open-order caps for the symbol is refused here too (PR2).
        """
        symbol = plan.decision.symbol
        instrument = self.instruments[symbol]
        reduce_only = plan.reduce_only
        limits = instrument.open_order_limits
        if limits is not None and self._open_count.get(symbol, 0) >= (limits.lowest or 0):
            self._check_open_limits(symbol, order_type, limits)
        if reference_price is None and not reduce_only:
            # the defaults of both keywords: a positional call is the cheaper one (every order)
            quantity, price = instrument.normalise(order_type, plan.side, quantity, price)
        else:
            quantity, price = instrument.normalise(
                order_type,
                plan.side,
                quantity,
                price,
                reference_price=reference_price,
                reduce_only=reduce_only,
            )
        sequence = self.next_sequence
        bot_id = self.bot_id
        # positional: the same NEW order as Order(...), without its keyword parsing
        order = new_order(
            client_order_id(bot_id, sequence),
            bot_id,
            symbol,
            plan.side,
            order_type,
            quantity,
            price,
            None,
            _GTC,
            plan.reduce_only,
            plan.position_side,
            ts_ns,
            plan.tag,
        )
        # The sequence advances only once the order is valid: ids stay dense and replayable.
        self.next_sequence = sequence + 1
        self._orders[order.client_order_id] = order
        return order

    def _check_open_limits(
        self, symbol: str, order_type: OrderType, limits: OpenOrderLimits
    ) -> None:
        conditional = sum(
            1
            for order in self._open.values()
            if order.symbol == symbol and order.type in CONDITIONAL_TYPES
        )
        regular = self._open_count.get(symbol, 0) - conditional
        found = limits.refusal(symbol, order_type, regular, conditional)
        if found is not None:
            raise OrderRejected(found[1], found[0])

    def skip_sequence(self) -> None:
        """Never use the next client id: something (a capital reservation) is keyed on it."""
        self.next_sequence += 1

    def submit(self, order: Order, ts_ns: int) -> Order:
        """Persist the intent (seam), then mark the order submitted, ready for the venue."""
        if self.intent_writer is not None:
            self.intent_writer(order)
        submitted = order.apply(new_update(order.client_order_id, _SUBMIT, ts_ns, None, None, None))
        coid = submitted.client_order_id
        self._orders[coid] = submitted
        self._open[coid] = submitted
        symbol = submitted.symbol
        self._pending_tag[symbol] = submitted.tag
        self._open_count[symbol] = self._open_count.get(symbol, 0) + 1
        return submitted

    def apply(self, update: OrderUpdate) -> Order:
        """Apply a venue update to its order; fills also move the portfolio."""
        coid = update.client_order_id
        order = self._orders.get(coid)
        if order is None:
            raise OrderRejected(f"update {update.kind} for unknown client order id {coid!r}")
        updated = order.apply(update)
        orders = self._orders
        orders[coid] = updated
        fill = update.fill
        if fill is not None:
            self._account(fill, updated.tag)
        if updated.status in _TERMINAL:
            if self._open.pop(coid, None) is not None:
                symbol = updated.symbol
                left = self._open_count[symbol] - 1
                self._open_count[symbol] = left
                if not left:
                    self._pending_tag.pop(symbol, None)
            if not self.retain_history:
                del orders[coid]
        elif coid in self._open:
            self._open[coid] = updated  # open_orders shows the current state, not the submitted
        return updated

    def restore(self, orders: Iterable[Order], fills: Iterable[Fill]) -> None:
        """Rebuild the book from stored orders and their fills, oldest first (restart, PE3).

        Open orders become open again (their symbol pending); fills move the portfolio and the
        net quantities exactly as when they were applied live. An order this manager holds
        already (adopted while a start-up reconciliation ran, see ``adopt``) is kept as it is
        and its fills are not booked a second time.
        """
        held = set(self._orders)
        tags: dict[str, str] = {}
        for order in orders:
            coid = order.client_order_id
            if coid in held:
                continue
            self._track(order)
            tags[coid] = order.tag
        for fill in fills:
            if fill.client_order_id not in held:
                self._account(fill, tags.get(fill.client_order_id, "adopted"))

    def adopt(self, order: Order, fills: Iterable[Fill]) -> Order:
        """Take over an order this manager never created, in its recorded state (RC2).

        The order (placed by hand on the account, or its ack lost) was adopted into the store by
        reconciliation with its fills: it joins the book in that state, without a transition
        (the store's state is already the venue's truth), and ``fills`` move the portfolio and
        the net quantity once. From then on venue updates apply to it as to any order. Raises
        ``OrderRejected`` for a client id already held, a symbol without instrument or a fill of
        another order.
        """
        coid = order.client_order_id
        if coid in self._orders:
            raise OrderRejected(f"cannot adopt order {coid!r}: this manager holds it already")
        if order.symbol not in self.instruments:
            raise OrderRejected(
                f"cannot adopt order {coid!r}: no instrument metadata for symbol {order.symbol!r}"
            )
        fills = list(fills)
        for fill in fills:
            if fill.client_order_id != coid or fill.symbol != order.symbol:
                raise OrderRejected(
                    f"cannot adopt order {coid!r} on {order.symbol}: fill {fill.trade_id!r} "
                    f"belongs to order {fill.client_order_id!r} on {fill.symbol}"
                )
        self._track(order)
        for fill in fills:
            self._account(fill, order.tag)
        if order.status in _TERMINAL and not self.retain_history:
            del self._orders[coid]
        return order

    def _track(self, order: Order) -> None:
        coid = order.client_order_id
        self._orders[coid] = order
        if order.status not in _TERMINAL and order.status is not OrderStatus.NEW:
            self._open[coid] = order
            self._pending_tag[order.symbol] = order.tag
            self._open_count[order.symbol] = self._open_count.get(order.symbol, 0) + 1

    def _account(self, fill: Fill, tag: str) -> None:
        symbol = fill.symbol
        instrument = self.instruments[symbol]
        self.portfolio.apply_fill(fill, instrument)
        quantity = fill.quantity
        if fill.side is _BUY:
            signed = quantity
            if fill.fee and fill.fee_currency == instrument.base:
                signed -= fill.fee  # a base-currency fee shrinks what a buy delivers
        else:
            signed = -quantity
        net = self._net
        net[symbol] = net.get(symbol, _ZERO) + signed
        self.fills_applied += 1
        counts = self.fill_counts
        counts[tag] = counts.get(tag, 0) + 1
