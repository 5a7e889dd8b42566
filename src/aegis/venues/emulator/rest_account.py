"""Signed account endpoints: balances, positions, leverage and modes, listen keys."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aegis.venues.emulator import errors
from aegis.venues.emulator.call import Call
from aegis.venues.emulator.ledger import FuturesLedger, SpotLedger
from aegis.venues.emulator.records import fmt


def _futures(call: Call) -> FuturesLedger:
    ledger = call.venue.ledger
    if not isinstance(ledger, FuturesLedger):
        raise TypeError(f"{call.kind} route asked for the USD-M ledger")
    return ledger


def _marks(call: Call, ledger: FuturesLedger) -> dict[str, Decimal]:
    symbols = {symbol_id for symbol_id, _ in ledger.positions}
    return {s: call.exchange.last_price("usdm", s) for s in symbols}


def futures_account(call: Call) -> Any:
    """``GET /fapi/v3/account`` (and v2): wallet, margins, positions."""
    ledger = _futures(call)
    marks = _marks(call, ledger)
    unrealized = ledger.unrealized(marks)
    position_margin = ledger.position_margin(marks)
    order_margin = call.venue.open_order_margin()
    assets = []
    for asset, wallet in ledger.wallet.items():
        margin_balance = wallet + unrealized
        available = margin_balance - position_margin - order_margin
        assets.append({
            "asset": asset, "walletBalance": fmt(wallet), "unrealizedProfit": fmt(unrealized),
            "marginBalance": fmt(margin_balance), "maintMargin": "0",
            "initialMargin": fmt(position_margin + order_margin),
            "positionInitialMargin": fmt(position_margin),
            "openOrderInitialMargin": fmt(order_margin), "crossWalletBalance": fmt(wallet),
            "crossUnPnl": fmt(unrealized), "availableBalance": fmt(available),
            "maxWithdrawAmount": fmt(available), "marginAvailable": True,
            "updateTime": call.wall_ms,
        })  # fmt: skip
    total = assets[0] if assets else {}
    positions = [
        {"symbol": s, "positionSide": side, "positionAmt": fmt(p.amount),
         "unrealizedProfit": fmt(p.unrealized(marks[s])), "isolatedMargin": "0",
         "notional": fmt(p.amount * marks[s]), "isolatedWallet": "0",
         "initialMargin": fmt(abs(p.amount) * marks[s] / ledger.leverage_of(s)),
         "maintMargin": "0", "updateTime": call.wall_ms}
        for (s, side), p in ledger.positions.items()
        if p.amount != 0
    ]  # fmt: skip
    return {
        "totalInitialMargin": total.get("initialMargin", "0"),
        "totalMaintMargin": "0",
        "totalWalletBalance": total.get("walletBalance", "0"),
        "totalUnrealizedProfit": fmt(unrealized),
        "totalMarginBalance": total.get("marginBalance", "0"),
        "totalPositionInitialMargin": fmt(position_margin),
        "totalOpenOrderInitialMargin": fmt(order_margin),
        "totalCrossWalletBalance": total.get("walletBalance", "0"),
        "totalCrossUnPnl": fmt(unrealized),
        "availableBalance": total.get("availableBalance", "0"),
        "maxWithdrawAmount": total.get("availableBalance", "0"),
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "assets": assets,
        "positions": positions,
    }


def futures_balance(call: Call) -> Any:
    """``GET /fapi/v2/balance`` (and v3)."""
    account = futures_account(call)
    return [
        {"accountAlias": "emulator", "asset": a["asset"], "balance": a["walletBalance"],
         "crossWalletBalance": a["crossWalletBalance"], "crossUnPnl": a["crossUnPnl"],
         "availableBalance": a["availableBalance"], "maxWithdrawAmount": a["maxWithdrawAmount"],
         "marginAvailable": True, "updateTime": call.wall_ms}
        for a in account["assets"]
    ]  # fmt: skip


def position_risk(call: Call) -> Any:
    """``GET /fapi/v3/positionRisk`` (and v2): open positions, or every leg of ``symbol``."""
    ledger = _futures(call)
    spec = call.optional_symbol()
    sides = ("LONG", "SHORT") if ledger.dual_side else ("BOTH",)
    if spec is not None:
        keys = [(spec.symbol_id, side) for side in sides]
    else:
        keys = [key for key, state in ledger.positions.items() if state.amount != 0]
    return [ledger.position_json(s, side, call.exchange.last_price("usdm", s)) for s, side in keys]


def leverage_bracket(call: Call) -> Any:
    """``GET /fapi/v1/leverageBracket``: one simple bracket per symbol."""
    spec = call.optional_symbol()
    symbols = [spec.symbol_id] if spec else list(call.exchange.specs["usdm"])
    brackets = [
        {"symbol": s, "brackets": [
            {"bracket": 1, "initialLeverage": 125, "notionalCap": 50_000_000, "notionalFloor": 0,
             "maintMarginRatio": 0.004, "cum": 0.0}]}
        for s in symbols
    ]  # fmt: skip
    return brackets[0] if spec else brackets


def set_leverage(call: Call) -> Any:
    """``POST /fapi/v1/leverage``; -4028 outside 1..125."""
    spec = call.symbol()
    text = call.text("leverage")
    leverage = call.integer("leverage")
    if leverage is None or not 1 <= leverage <= 125:
        raise errors.invalid_leverage(text)
    _futures(call).leverage[spec.symbol_id] = leverage
    return {"leverage": leverage, "maxNotionalValue": "50000000", "symbol": spec.symbol_id}


def set_margin_type(call: Call) -> Any:
    """``POST /fapi/v1/marginType`` (ISOLATED / CROSSED); -4046 when unchanged."""
    spec = call.symbol()
    margin_type = call.text("marginType").upper()
    if margin_type not in ("ISOLATED", "CROSSED"):
        raise errors.illegal_parameter("marginType", margin_type)
    ledger = _futures(call)
    isolated = margin_type == "ISOLATED"
    if isolated == (spec.symbol_id in ledger.isolated):
        raise errors.no_need_to_change_margin_type()
    if isolated:
        ledger.isolated.add(spec.symbol_id)
    else:
        ledger.isolated.discard(spec.symbol_id)
    return {"code": 200, "msg": "success"}


def get_position_mode(call: Call) -> Any:
    """``GET /fapi/v1/positionSide/dual``."""
    return {"dualSidePosition": _futures(call).dual_side}


def set_position_mode(call: Call) -> Any:
    """``POST /fapi/v1/positionSide/dual``; -4059 when unchanged, -4068 with open positions."""
    dual = call.text("dualSidePosition").lower() == "true"
    ledger = _futures(call)
    if dual == ledger.dual_side:
        raise errors.no_need_to_change_position_side()
    if any(p.amount != 0 for p in ledger.positions.values()) or call.venue.open_orders():
        raise errors.BinanceError(
            -4068, "Position side cannot be changed if there exists position."
        )
    ledger.dual_side = dual
    return {"code": 200, "msg": "success"}


def commission_rate(call: Call) -> Any:
    """``GET /fapi/v1/commissionRate``."""
    spec = call.symbol()
    return {"symbol": spec.symbol_id, "makerCommissionRate": "0.0002",
            "takerCommissionRate": "0.0005"}  # fmt: skip


def spot_account(call: Call) -> Any:
    """``GET /api/v3/account``: free and locked per asset."""
    ledger = call.venue.ledger
    if not isinstance(ledger, SpotLedger):
        raise TypeError(f"{call.kind} route asked for the spot ledger")
    locked = call.venue.spot_locked()
    return {
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
        "sellerCommission": 0, "canTrade": True, "canWithdraw": True, "canDeposit": True,
        "brokered": False, "requireSelfTradePrevention": False, "updateTime": call.wall_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": fmt(total - locked.get(asset, Decimal(0))),
             "locked": fmt(locked.get(asset, Decimal(0)))}
            for asset, total in ledger.balances.items()
        ],
        "permissions": ["SPOT"],
    }  # fmt: skip


def create_listen_key(call: Call) -> Any:
    """``POST listenKey`` / ``userDataStream``."""
    key = call.listen_keys.create(call.require_api_key(), call.kind, call.wall_ms / 1000)
    return {"listenKey": key}


def keep_alive_listen_key(call: Call) -> Any:
    """``PUT listenKey``; -1125 when the key expired or was closed."""
    key = call.listen_keys.keep_alive(
        call.require_api_key(), call.kind, call.optional("listenKey"), call.wall_ms / 1000
    )
    return {"listenKey": key} if call.kind == "usdm" else {}


def close_listen_key(call: Call) -> Any:
    """``DELETE listenKey``."""
    call.listen_keys.close(
        call.require_api_key(), call.kind, call.optional("listenKey"), call.wall_ms / 1000
    )
    return {}


def income(call: Call) -> Any:
    """``GET /fapi/v1/income``: funding fees, realised PnL and commissions (limit 100..1000).

    Other income types (TRANSFER, ...) never occur here: asking for them lists nothing.
    """
    spec = call.optional_symbol()
    income_type = call.optional("incomeType")
    records = call.venue.income.query(
        None if spec is None else spec.symbol_id,
        income_type,
        call.integer("startTime"),
        call.integer("endTime"),
        call.limit(100, 1000),
    )
    return [r.to_json() for r in records]
