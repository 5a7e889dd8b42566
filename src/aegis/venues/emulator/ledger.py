"""Balances and positions of one emulated account (USD-M wallet and positions, spot assets)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aegis.venues.emulator.records import ZERO, fmt


@dataclass(slots=True)
class PositionState:
    """A USD-M position leg: signed amount (short < 0) and average entry price."""

    amount: Decimal = ZERO
    entry_price: Decimal = ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        """Unrealised PnL at ``mark``."""
        return (mark - self.entry_price) * self.amount


@dataclass(slots=True)
class FuturesLedger:
    """USD-M wallet, positions keyed by (symbol id, position side), leverage and modes."""

    wallet: dict[str, Decimal]
    default_leverage: int = 20
    positions: dict[tuple[str, str], PositionState] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    isolated: set[str] = field(default_factory=set)
    dual_side: bool = False

    def leverage_of(self, symbol_id: str) -> int:
        """Leverage of a symbol (the default until set_leverage)."""
        return self.leverage.get(symbol_id, self.default_leverage)

    def position(self, symbol_id: str, position_side: str) -> PositionState:
        """The position leg, created flat on first use."""
        return self.positions.setdefault((symbol_id, position_side), PositionState())

    def apply_fill(
        self,
        symbol_id: str,
        position_side: str,
        side: str,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        fee_asset: str,
    ) -> Decimal:
        """Book a fill: move the position, realise PnL, pay the fee; return the realised PnL."""
        state = self.position(symbol_id, position_side)
        delta = quantity if side == "BUY" else -quantity
        realized = ZERO
        if state.amount == 0 or (state.amount > 0) == (delta > 0):
            total = abs(state.amount) + quantity
            state.entry_price = (abs(state.amount) * state.entry_price + quantity * price) / total
            state.amount += delta
        else:
            closed = min(quantity, abs(state.amount))
            direction = Decimal(1) if state.amount > 0 else Decimal(-1)
            realized = closed * (price - state.entry_price) * direction
            state.amount += delta
            if state.amount == 0:
                state.entry_price = ZERO
            elif (state.amount > 0) != (direction > 0):
                state.entry_price = price  # the fill flipped the position
        asset = fee_asset or next(iter(self.wallet))
        self.wallet[asset] = self.wallet.get(asset, ZERO) + realized - fee
        return realized

    def unrealized(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Sum of unrealised PnL over every position at ``marks``."""
        return sum(
            (p.unrealized(marks[s]) for (s, _), p in self.positions.items() if s in marks), ZERO
        )

    def position_margin(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Initial margin of the open positions at ``marks``."""
        total = ZERO
        for (symbol_id, _), state in self.positions.items():
            if state.amount != 0 and symbol_id in marks:
                total += abs(state.amount) * marks[symbol_id] / self.leverage_of(symbol_id)
        return total

    def position_json(self, symbol_id: str, side: str, mark: Decimal) -> dict[str, Any]:
        """One entry of ``/fapi/v3/positionRisk``."""
        state = self.position(symbol_id, side)
        notional = state.amount * mark
        leverage = self.leverage_of(symbol_id)
        margin = abs(notional) / leverage
        return {
            "symbol": symbol_id,
            "positionSide": side,
            "positionAmt": fmt(state.amount),
            "entryPrice": fmt(state.entry_price),
            "breakEvenPrice": fmt(state.entry_price),
            "markPrice": fmt(mark),
            "unRealizedProfit": fmt(state.unrealized(mark)),
            "liquidationPrice": "0",
            "isolatedMargin": fmt(margin) if symbol_id in self.isolated else "0",
            "notional": fmt(notional),
            "marginAsset": "USDT",
            "isolatedWallet": fmt(margin) if symbol_id in self.isolated else "0",
            "initialMargin": fmt(margin),
            "maintMargin": fmt(abs(notional) * Decimal("0.004")),
            "positionInitialMargin": fmt(margin),
            "openOrderInitialMargin": "0",
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": 0,
            # v2 fields (leverage and margin type are not in v3, as on Binance)
            "leverage": str(leverage),
            "marginType": "isolated" if symbol_id in self.isolated else "cross",
        }

    def charge_funding(self, asset: str, amount: Decimal) -> None:
        """Book a funding payment (signed: what the wallet receives)."""
        self.wallet[asset] = self.wallet.get(asset, ZERO) + amount

    def account_update(
        self,
        event_time_ms: int,
        symbol_id: str,
        mark: Decimal,
        *,
        reason: str = "ORDER",
        balance_change: tuple[str, Decimal] | None = None,
    ) -> dict[str, Any]:
        """The ``ACCOUNT_UPDATE`` event after a fill (or a funding fee) on ``symbol_id``.

        As on Binance, a funding fee on a cross position carries only the balance (with the
        change in ``bc``); on an isolated position it also carries the position.
        """
        sides = ("LONG", "SHORT") if self.dual_side else ("BOTH",)
        with_positions = reason != "FUNDING_FEE" or symbol_id in self.isolated
        changed_asset, change = balance_change or ("", ZERO)
        return {
            "e": "ACCOUNT_UPDATE",
            "E": event_time_ms,
            "T": event_time_ms,
            "a": {
                "m": reason,
                "B": [
                    {
                        "a": asset,
                        "wb": fmt(amount),
                        "cw": fmt(amount),
                        "bc": fmt(change) if asset == changed_asset else "0",
                    }
                    for asset, amount in self.wallet.items()
                ],
                "P": [
                    {
                        "s": symbol_id,
                        "pa": fmt(self.position(symbol_id, side).amount),
                        "ep": fmt(self.position(symbol_id, side).entry_price),
                        "bep": fmt(self.position(symbol_id, side).entry_price),
                        "cr": "0",
                        "up": fmt(self.position(symbol_id, side).unrealized(mark)),
                        "mt": "isolated" if symbol_id in self.isolated else "cross",
                        "iw": "0",
                        "ps": side,
                    }
                    for side in sides
                    if with_positions
                ],
            },
        }


@dataclass(slots=True)
class SpotLedger:
    """Spot asset balances (free + locked = total; locked is derived from open orders)."""

    balances: dict[str, Decimal]

    def apply_fill(
        self,
        base: str,
        quote: str,
        side: str,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        fee_asset: str,
    ) -> None:
        """Exchange base against quote and pay the fee."""
        sign = Decimal(1) if side == "BUY" else Decimal(-1)
        self.balances[base] = self.balances.get(base, ZERO) + sign * quantity
        self.balances[quote] = self.balances.get(quote, ZERO) - sign * quantity * price
        asset = fee_asset or quote
        self.balances[asset] = self.balances.get(asset, ZERO) - fee
