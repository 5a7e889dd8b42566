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
_EXITS: Final = frozenset({Action.EXIT_LONG, Action.EXIT_SHORT})
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


@runtime_checkable
class ExplainingSizer(Protocol):
    """A sizer that also says how it found the quantity."""

    def explain(
        self, decision: Decision, price: Decimal, equity: Decimal, instrument: Instrument
    ) -> SizingResult:
        """Return the quantity and a note."""
        ...


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the engine needs to judge one decision, all passed in (no I/O, no clock).

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


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """Approved (with a quantity for entries) or rejected with the rule and the reason."""

    approved: bool
    rule: RiskRule
    reason: str
    thought: Decision
    quantity: Decimal | None = None  # None for exits: close exactly what the leg holds
    reserved: Decimal = _ZERO
    client_order_id: str | None = None


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

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, decision: Decision, context: RiskContext) -> RiskVerdict:
        """Judge ``decision``; an approved entry has reserved its capital.

        Raises ``ValueError`` for an entry without ``context.client_order_id``.
        """
        self.equity_watch.observe(context.equity, context.ts_ns)
        if decision.action in _EXITS:
            reason = "exit reduces exposure: never blocked by risk"
            return self._verdict(decision, True, RiskRule.EXIT, reason)
        if decision.action is Action.HOLD:
            return self._verdict(decision, False, RiskRule.NOT_ACTIONABLE, "hold: nothing to do")
        blocked = self._entry_block(context.ts_ns)
        if blocked is not None:
            return self._verdict(decision, False, blocked[0], blocked[1])
        return self._size_and_reserve(decision, context)

    def _entry_block(self, ts_ns: int) -> tuple[RiskRule, str] | None:
        """Return the first account-wide rule that stops entries, with its reason."""
        settings = self.settings
        checks = (
            (
                RiskRule.KILL_SWITCH,
                None
                if self.kill_switch is None
                else self.kill_switch.entry_block_reason(self.tenant, self.bot_id),
            ),
            (RiskRule.CIRCUIT_BREAKER, self.breakers.entry_block_reason()),
            (RiskRule.MAX_DRAWDOWN, self.equity_watch.drawdown_reason(settings.max_drawdown)),
            (RiskRule.DAILY_LOSS, self.equity_watch.daily_loss_reason(settings.daily_loss_limit)),
            (RiskRule.COOLDOWN, self.cooldown.reason(ts_ns)),
        )
        for rule, reason in checks:
            if reason is not None:
                return rule, reason
        return None

    def _size_and_reserve(self, decision: Decision, context: RiskContext) -> RiskVerdict:
        settings = self.settings
        symbol = decision.symbol
        sizing = self._size(decision, context)
        if sizing.quantity <= _ZERO:
            return self._verdict(decision, False, RiskRule.SIZE, f"size is zero: {sizing.note}")
        amount = sizing.quantity * context.price * context.instrument.contract_size
        pending_by_symbol = self._pending_by_symbol()
        held_symbols = {s for s, notional in context.exposures.items() if notional > _ZERO}
        if symbol not in held_symbols and symbol not in pending_by_symbol:
            open_count = len(held_symbols | set(pending_by_symbol))
            reason = open_positions_reason(open_count, settings.max_open_positions)
            if reason is not None:
                return self._verdict(decision, False, RiskRule.MAX_OPEN_POSITIONS, reason)
        reason = symbol_exposure_reason(
            symbol,
            context.exposures.get(symbol, _ZERO),
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
        open_notional = sum(context.exposures.values(), _ZERO)
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
        return self._verdict(
            decision,
            True,
            RiskRule.APPROVED,
            f"approved {sizing.quantity} {symbol} (notional {amount} reserved); {sizing.note}",
            quantity=sizing.quantity,
            reserved=amount,
            client_order_id=client_order_id,
        )

    def _size(self, decision: Decision, context: RiskContext) -> SizingResult:
        args = (decision, context.price, context.equity, context.instrument)
        if isinstance(self.sizer, ExplainingSizer):
            return self.sizer.explain(*args)
        return SizingResult(self.sizer.size(*args), f"sized by {self.sizer!r}")

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
        verb = "approved" if approved else "rejected"
        text = f"risk {verb} {decision.action.name} {decision.symbol}: {reason}"
        if decision.thought:
            text += f" | strategy: {decision.thought}"
        thought = Decision(
            symbol=decision.symbol,
            ts_ms=decision.ts_ms,
            action=decision.action,
            strength=decision.strength,
            thought=text,
            strategy=RISK_STRATEGY,
            metadata={
                "approved": approved,
                "risk_rule": str(rule),
                "reason": reason,
                "strategy": decision.strategy,
                "bot_id": self.bot_id,
            },
        )
        return RiskVerdict(approved, rule, reason, thought, **fields)

    # ----------------------------------------------------------------- lifecycle feedback
    def release(self, client_order_id: str) -> bool:
        """Release an entry's reservation: call on fill, cancel, reject or expiry (RK2)."""
        self._pending.pop(client_order_id, None)
        return self.reservations.release(self.bot_id, client_order_id)

    def pending(self) -> dict[str, tuple[str, Decimal]]:
        """Return the entries approved and not yet released: id -> (symbol, notional)."""
        return dict(self._pending)

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
