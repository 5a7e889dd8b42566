"""The risk engine (RK1, RK2): approve or reject each decision, size it, reserve its capital.

``RiskEngine(settings).evaluate(decision, context)`` returns a ``RiskVerdict``. Exits are always
approved: risk never blocks reducing exposure. An entry passes, in order: kill switch, circuit
breakers, drawdown stop, daily loss limit, loss cooldown, sizing, open positions, symbol exposure
and finally the atomic reservation against the total exposure limit. Every verdict carries a
``thought`` (a ``Decision`` with the reason) that the engine layer stores (ST3).

One engine serves one bot and is driven by one task (the kernel is single-threaded); the
atomicity across tasks and processes comes from ``CapitalReservations``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Protocol, runtime_checkable

from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision
from aegis.risk.breakers import BreakerBoard
from aegis.risk.kill_switch import KillSwitch
from aegis.risk.limits import (
    EquityWatch,
    LossCooldown,
    RiskSettings,
    open_positions_reason,
    symbol_exposure_reason,
)
from aegis.risk.reservations import CapitalReservations, InMemoryCapitalReservations
from aegis.risk.sizing import FixedFraction, Sizer
from aegis.risk.sizing_advanced import RoundTripHistory, SizingResult

_ZERO: Final = Decimal(0)
_EXIT_LONG: Final = Action.EXIT_LONG
_EXIT_SHORT: Final = Action.EXIT_SHORT
_HOLD: Final = Action.HOLD
_NO_NOTIONALS: Final[Mapping[str, Decimal]] = MappingProxyType({})
_new: Final = object.__new__
RISK_STRATEGY: Final = "risk"
"""``Decision.strategy`` of the thoughts the engine writes."""


class RiskRule(StrEnum):
    """Which rule decided a verdict."""

    EXIT = "exit"
    NOT_ACTIONABLE = "not_actionable"
    KILL_SWITCH = "kill_switch"
    CIRCUIT_BREAKER = "circuit_breaker"
    MAX_DRAWDOWN = "max_drawdown"
    DAILY_LOSS = "daily_loss"
    COOLDOWN = "cooldown"
    SIZE = "size"
    MAX_OPEN_POSITIONS = "max_open_positions"
    SYMBOL_EXPOSURE = "symbol_exposure"
    TOTAL_EXPOSURE = "total_exposure"
    APPROVED = "approved"


_APPROVED: Final = RiskRule.APPROVED


@runtime_checkable
class ExplainingSizer(Protocol):
    """A sizer that also says how it found the quantity."""

    def explain(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> SizingResult:
        """Return the quantity and a note."""
        ...


@dataclass(slots=True)
class RiskContext:
    """What the engine needs to judge one decision, all passed in (no I/O, no clock).

    Not frozen on purpose, like ``RiskVerdict``: one is made for every entry judged, and a
    frozen dataclass's ``__init__`` costs seven times as much; treat both as read-only.

    ``exposures`` maps each symbol with open positions to its absolute notional at marks
    (both legs of a hedged symbol added up; see ``exposures_from_portfolio``).
    ``client_order_id`` is the id the entry order will carry: its reservation key (OR2).
    """

    ts_ns: int
    equity: Decimal
    price: Decimal
    instrument: Instrument
    exposures: Mapping[str, Decimal] = field(default_factory=dict)
    client_order_id: str | None = None


@dataclass(slots=True)
class RiskVerdict:
    """Approved (with a quantity for entries) or rejected with the rule and the reason.

    ``reason`` and ``thought`` (the ``Decision`` that records the verdict, ST3) are written when
    first read: a backtest keeps only the refused entries' thoughts, and writing the text of an
    approval costs more than judging it. ``detail`` is the reason of a refusal or an exit, the
    sizing note of an approval.
    """

    approved: bool
    rule: RiskRule
    detail: str
    decision: Decision
    bot_id: str
    quantity: Decimal | None = None  # None for exits: close exactly what the leg holds
    reserved: Decimal = _ZERO
    client_order_id: str | None = None
    _thought: Decision | None = field(default=None, repr=False, compare=False)

    @property
    def reason(self) -> str:
        """Return why the engine decided so."""
        if self.rule is not RiskRule.APPROVED:
            return self.detail
        return (
            f"approved {self.quantity} {self.decision.symbol} (notional {self.reserved} "
            f"reserved); {self.detail}"
        )

    @property
    def thought(self) -> Decision:
        """Return the verdict as a ``Decision`` of strategy ``risk``, with the reason."""
        thought = self._thought
        if thought is None:
            thought = self._thought = _thought(self)  # a cache: the verdict stays equal
        return thought


def _thought(verdict: RiskVerdict) -> Decision:
    decision = verdict.decision
    verb = "approved" if verdict.approved else "rejected"
    text = f"risk {verb} {decision.action.name} {decision.symbol}: {verdict.reason}"
    if decision.thought:
        text += f" | strategy: {decision.thought}"
    return Decision(
        symbol=decision.symbol,
        ts_ms=decision.ts_ms,
        action=decision.action,
        strength=decision.strength,
        thought=text,
        strategy=RISK_STRATEGY,
        metadata={
            "approved": verdict.approved,
            "risk_rule": str(verdict.rule),
            "reason": verdict.reason,
            "strategy": decision.strategy,
            "bot_id": verdict.bot_id,
        },
    )


@dataclass(frozen=True, slots=True)
class RiskControlEvent:
    """An operator action on the engine (API4): who, what, when, why."""

    bot_id: str
    action: str
    actor: str
    reason: str
    ts_ns: int


def exposures_from_portfolio(
    portfolio: Portfolio, marks: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Return the absolute notional per symbol of every open leg, valued at ``marks``."""
    exposures: dict[str, Decimal] = {}
    for leg in portfolio.positions():
        if leg.symbol not in marks:
            raise KeyError(f"no mark price for open position {leg.symbol} ({leg.side})")
        notional = leg.quantity * marks[leg.symbol] * leg.contract_size
        exposures[leg.symbol] = exposures.get(leg.symbol, _ZERO) + notional
    return exposures


class RiskEngine:
    """Pre-trade risk for one bot."""

    def __init__(
        self,
        settings: RiskSettings | None = None,
        *,
        bot_id: str = "bot1",
        tenant: str = "default",
        sizer: Sizer | None = None,
        reservations: CapitalReservations | None = None,
        breakers: BreakerBoard | None = None,
        kill_switch: KillSwitch | None = None,
        history: RoundTripHistory | None = None,
    ) -> None:
        self.settings = RiskSettings() if settings is None else settings
        self.bot_id = bot_id
        self.tenant = tenant
        self.sizer: Sizer = FixedFraction(self.settings.entry_fraction) if sizer is None else sizer
        self.reservations: CapitalReservations = (
            InMemoryCapitalReservations() if reservations is None else reservations
        )
        self.breakers = BreakerBoard(bot_id) if breakers is None else breakers
        self.kill_switch = kill_switch
        self.history = RoundTripHistory() if history is None else history
        self.equity_watch = EquityWatch()
        self.cooldown = LossCooldown(self.settings.cooldown_losses, self.settings.cooldown_ns)
        # client order id -> (symbol, reserved notional) of entries approved but not final
        self._pending: dict[str, tuple[str, Decimal]] = {}
        # the note of a sizer without ``explain``, written once per sizer
        self._plain_note: tuple[Sizer, str] | None = None

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, decision: Decision, context: RiskContext) -> RiskVerdict:
        """Judge ``decision``; an approved entry has reserved its capital.

        Raises ``ValueError`` for an entry without ``context.client_order_id``.
        """
        self.equity_watch.observe(context.equity, context.ts_ns)
        action = decision.action
        # identity, not a set lookup: an enum member's hash is a Python-level call
        if action is _EXIT_LONG or action is _EXIT_SHORT:
            reason = "exit reduces exposure: never blocked by risk"
            return self._verdict(decision, True, RiskRule.EXIT, reason)
        if action is _HOLD:
            return self._verdict(decision, False, RiskRule.NOT_ACTIONABLE, "hold: nothing to do")
        blocked = self._entry_block(context.ts_ns)
        if blocked is not None:
            return self._verdict(decision, False, blocked[0], blocked[1])
        return self._size_and_reserve(decision, context)

    def _entry_block(self, ts_ns: int) -> tuple[RiskRule, str] | None:
        """Return the first account-wide rule that stops entries, with its reason."""
        # one rule after the other, stopping at the first: the order is the documented one
        settings = self.settings
        kill_switch = self.kill_switch
        if kill_switch is not None:
            reason = kill_switch.entry_block_reason(self.tenant, self.bot_id)
            if reason is not None:
                return RiskRule.KILL_SWITCH, reason
        reason = self.breakers.entry_block_reason()
        if reason is not None:
            return RiskRule.CIRCUIT_BREAKER, reason
        reason = self.equity_watch.drawdown_reason(settings.max_drawdown)
        if reason is not None:
            return RiskRule.MAX_DRAWDOWN, reason
        reason = self.equity_watch.daily_loss_reason(settings.daily_loss_limit)
        if reason is not None:
            return RiskRule.DAILY_LOSS, reason
        cooldown = self.cooldown
        if cooldown.until_ns is not None:  # never in a cooldown: no call (every entry)
            reason = cooldown.reason(ts_ns)
            if reason is not None:
                return RiskRule.COOLDOWN, reason
        return None

    def _size_and_reserve(self, decision: Decision, context: RiskContext) -> RiskVerdict:
        settings = self.settings
        symbol = decision.symbol
        quantity, note = self._size(decision, context)
        if quantity <= _ZERO:
            return self._verdict(decision, False, RiskRule.SIZE, f"size is zero: {note}")
        amount = quantity * context.price * context.instrument.contract_size
        exposures = context.exposures
        # the usual case, a flat book and nothing pending, needs none of the tables below
        pending_by_symbol = self._pending_by_symbol() if self._pending else _NO_NOTIONALS
        if exposures or pending_by_symbol:
            held_symbols = {s for s, notional in exposures.items() if notional > _ZERO}
            if symbol not in held_symbols and symbol not in pending_by_symbol:
                open_count = len(held_symbols | set(pending_by_symbol))
                reason = open_positions_reason(open_count, settings.max_open_positions)
                if reason is not None:
                    return self._verdict(decision, False, RiskRule.MAX_OPEN_POSITIONS, reason)
            open_notional = sum(exposures.values(), _ZERO)
        else:
            open_notional = _ZERO  # no position, no pending entry: open_positions_reason(0, n>=1)
        reason = symbol_exposure_reason(
            symbol,
            exposures.get(symbol, _ZERO),
            pending_by_symbol.get(symbol, _ZERO),
            amount,
            context.equity,
            settings.max_symbol_exposure,
        )
        if reason is not None:
            return self._verdict(decision, False, RiskRule.SYMBOL_EXPOSURE, reason)
        client_order_id = context.client_order_id
        if client_order_id is None:
            raise ValueError(f"entry on {symbol} needs context.client_order_id to reserve capital")
        # RK2: the reservation limit is what the total limit leaves after open positions; the
        # backend checks it against every pending intent of the bot atomically
        limit = max(_ZERO, settings.max_total_exposure * context.equity - open_notional)
        if not self.reservations.reserve(self.bot_id, client_order_id, amount, limit):
            reason = (
                f"total exposure limit: new {amount} does not fit in {limit} left after open "
                f"{open_notional} and pending intents ({settings.max_total_exposure} of equity "
                f"{context.equity})"
            )
            return self._verdict(decision, False, RiskRule.TOTAL_EXPOSURE, reason)
        self._pending[client_order_id] = (symbol, amount)
        # built field by field, not through the dataclass's __init__: this is every approval
        verdict: RiskVerdict = _new(RiskVerdict)
        verdict.approved = True
        verdict.rule = _APPROVED
        verdict.detail = note
        verdict.decision = decision
        verdict.bot_id = self.bot_id
        verdict.quantity = quantity
        verdict.reserved = amount
        verdict.client_order_id = client_order_id
        verdict._thought = None
        return verdict

    def _size(self, decision: Decision, context: RiskContext) -> tuple[Decimal, str]:
        sizer = self.sizer
        note = self._plain_note
        if note is not None and note[0] is sizer:
            # a sizer already found to have no ``explain``: skip the failing attribute lookup
            return sizer.size(decision, context.price, context.equity, context.instrument), note[1]
        # getattr, not isinstance(ExplainingSizer): a runtime Protocol check costs ~10 us
        explain = getattr(sizer, "explain", None)
        if explain is not None:
            result: SizingResult = explain(
                decision, context.price, context.equity, context.instrument
            )
            return result.quantity, result.note
        note = self._plain_note = (sizer, f"sized by {sizer!r}")
        return sizer.size(decision, context.price, context.equity, context.instrument), note[1]

    def _pending_by_symbol(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for symbol, amount in self._pending.values():
            totals[symbol] = totals.get(symbol, _ZERO) + amount
        return totals

    def _verdict(
        self,
        decision: Decision,
        approved: bool,
        rule: RiskRule,
        reason: str,
        **fields: Any,
    ) -> RiskVerdict:
        return RiskVerdict(approved, rule, reason, decision, self.bot_id, **fields)

    # ----------------------------------------------------------------- lifecycle feedback
    def release(self, client_order_id: str) -> bool:
        """Release an entry's reservation: call on fill, cancel, reject or expiry (RK2)."""
        self._pending.pop(client_order_id, None)
        return self.reservations.release(self.bot_id, client_order_id)

    def pending(self) -> dict[str, tuple[str, Decimal]]:
        """Return the entries approved and not yet released: id -> (symbol, notional)."""
        return dict(self._pending)

    def is_pending(self, client_order_id: str) -> bool:
        """Return True if ``client_order_id`` holds a reservation (no copy of the table)."""
        return client_order_id in self._pending

    def release_missing(self, live_orders: Mapping[str, object]) -> None:
        """Release every reservation whose client order id is not in ``live_orders``."""
        pending = self._pending
        if pending:
            # a plain loop, not a comprehension (a frame of its own in 3.11): one call per entry
            missing: list[str] = []
            for client_order_id in pending:
                if client_order_id not in live_orders:
                    missing.append(client_order_id)
            for client_order_id in missing:
                self.release(client_order_id)

    def record_round_trip(self, pnl: Decimal, ts_ns: int) -> None:
        """Feed a closed round trip's net PnL to the cooldown and the Kelly history."""
        self.cooldown.record(pnl, ts_ns)
        self.history.record(pnl)

    def reset_drawdown(self, actor: str, ts_ns: int, reason: str = "reset") -> RiskControlEvent:
        """Clear a latched drawdown stop (operator action); return the audit event."""
        if not actor.strip():
            raise ValueError(f"reset_drawdown needs an actor, got {actor!r}")
        self.equity_watch.reset_drawdown()
        return RiskControlEvent(self.bot_id, "reset_drawdown", actor, reason, ts_ns)

    # ----------------------------------------------------------------- snapshots
    def state(self) -> dict[str, Any]:
        """Return a JSON-safe snapshot of every stateful rule (PE3)."""
        return {
            "equity_watch": self.equity_watch.state(),
            "cooldown": self.cooldown.state(),
            "breakers": self.breakers.state(),
            "history": [str(pnl) for pnl in self.history.pnls],
            "pending": {cid: [s, str(a)] for cid, (s, a) in self._pending.items()},
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Load a snapshot made by ``state``."""
        self.equity_watch.restore(state["equity_watch"])
        self.cooldown.restore(state["cooldown"])
        self.breakers.restore(state["breakers"])
        history: Iterable[str] = state["history"]
        # in place: a Kelly sizer may share this history object
        self.history.load(Decimal(pnl) for pnl in history)
        self._pending = {cid: (s, Decimal(a)) for cid, (s, a) in state["pending"].items()}
