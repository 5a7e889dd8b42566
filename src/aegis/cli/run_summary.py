"""The summary of an ``aegis run``, with the keys of ``aegis backtest --json`` (parity, BT1).

Lives in the CLI layer because ``aegis.backtest`` (metrics, equity curve, round trips) sits
above ``aegis.engine``. Built from what the runtime recorded: the candles it processed, its
fills and the candle each fill was applied on, exactly like the backtester's own result.
Perpetual funding the run booked counts as in a backtest with a funding series (OR3): each
payment moves the equity from the candle it settled on, counts in the round trip open then
(round trips are net of fees and funding) and ``funding_paid`` / ``funding_payments`` say the
totals; ``run.funding`` lists every payment with the venue's id.

A run that starts with a position (restored at a restart, or a hand's order adopted before the
first candle) carries it in: the summary starts from the portfolio's equity at the run's first
candle (``initial_cash``) and books the position as a fill at that candle's close, so its round
trip is what the position made during this run, and the return is this run's.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from aegis.backtest import BacktestResult, build_round_trips, compute_metrics, equity_curve
from aegis.model.enums import LiquidityRole, OrderSide
from aegis.model.events import Fill, FundingPayment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aegis.engine.record import SymbolRecord
    from aegis.engine.session import SessionResult
    from aegis.model.order import Order

#: client order id prefix and trade id of the position a run starts with (not an order)
CARRIED_ID: Final = "carried"

#: Statistics the table shows, in order (``--json`` prints every key, unformatted).
TABLE_STATISTICS: Final = (
    "candles", "trades", "round_trips", "initial_cash", "final_equity", "total_return",
    "max_drawdown", "fees_paid", "funding_paid",
)  # fmt: skip
# Ratios shown as percentages, as in the ``aegis backtest`` table.
_PERCENT_KEYS: Final = frozenset({"total_return", "max_drawdown", "exposure", "win_rate"})


def format_statistic(key: str, value: object) -> str:
    """Return ``value`` as the ``aegis backtest`` table shows it: ratios as percentages with
    4 decimals, money and other floats with thousands separators and 4 decimals, ``n/a`` for
    a statistic that could not be computed."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | Decimal):
        return f"{value:.4%}" if key in _PERCENT_KEYS else f"{value:,.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the ``(label, text)`` rows of the run's summary table."""
    rows = [
        (key.replace("_", " "), format_statistic(key, summary.get(key))) for key in TABLE_STATISTICS
    ]
    run = summary["run"]
    rows.append(("stopped", str(run["stop_reason"])))
    rows.append(
        ("open orders left", format_statistic("open_orders_left", len(run["open_orders_left"])))
    )
    rows.append(("log file", str(run.get("log_file", "-"))))
    return rows


def build_summary(result: SessionResult, started: float) -> dict[str, Any]:
    """Return the run's summary dict (``aegis backtest --json`` keys plus ``run`` details)."""
    runtime = result.runtime
    record = runtime.record
    manager = runtime.pipeline.order_manager
    symbol = runtime.options.symbols[0]
    symbol_record = record.symbols[symbol]
    instrument = manager.instruments[symbol]
    portfolio = manager.portfolio
    initial_cash = record.initial_cash
    close = np.asarray(symbol_record.close, dtype=np.float64)
    ts_ms = np.asarray(symbol_record.ts_ms, dtype=np.int64)
    fills, fill_bars = list(symbol_record.fills), list(symbol_record.fill_bars)
    if symbol_record.opening_equity is not None:
        initial_cash = symbol_record.opening_equity
    carried = _carried_fill(symbol_record, instrument.quote)
    if carried is not None:
        fills.insert(0, carried)
        fill_bars.insert(0, 0)
    if len(close):
        equity, exposure_bars = equity_curve(fills, fill_bars, instrument, initial_cash, close)
        last_close = Decimal(repr(float(close[-1])))
    else:
        equity, exposure_bars = np.full(0, float(initial_cash)), 0
        last_close = runtime.last_close.get(symbol, Decimal(0))
    funding = _funding_of(result, symbol)
    if funding and len(close):
        equity = equity + _funding_flows(funding, ts_ms, len(close))
    round_trips = build_round_trips(
        fills, {symbol: last_close}, {symbol: instrument.contract_size}, funding
    )
    metrics = compute_metrics(
        equity=equity,
        ts_ms=ts_ms,
        bar_interval_ms=runtime.timeframe_ms,
        initial_equity=float(initial_cash),
        round_trip_pnls=[float(t.pnl) for t in round_trips if not t.is_open],
        exposure_bars=exposure_bars,
        fees_paid=float(portfolio.fees_paid),
    )
    strategy = runtime.strategies[symbol]
    warnings = []
    if len(runtime.options.symbols) > 1:
        warnings.append(f"statistics cover {symbol} only; other symbols are in run.symbols")
    summary = BacktestResult(
        strategy=strategy.name,
        params=dict(strategy.params),
        symbol=symbol,
        timeframe_ms=runtime.timeframe_ms,
        candles=len(close),
        fills=fills,
        round_trips=round_trips,
        decisions=list(runtime.pipeline.decisions),
        equity=equity,
        ts_ms=ts_ms,
        close=close,
        initial_cash=initial_cash,
        final_equity=portfolio.equity({symbol: last_close}),
        fees_paid=portfolio.fees_paid,
        metrics=metrics,
        warnings=warnings,
        engine_seconds=time.perf_counter() - started,
        entry_fills=sum(1 for f in fills if _tag(manager.orders, f.client_order_id) == "entry"),
        funding_paid=portfolio.funding_paid,
        funding_payments=len(funding),
    ).to_json()
    summary["funding_payments"] = len(funding)
    summary["run"] = {
        "mode": result.info.mode,
        "venue": result.info.venue,
        "stop_reason": result.stop_reason,
        "symbols": {
            s: {"candles": len(r.ts_ms), "fills": len(r.fills)} for s, r in record.symbols.items()
        },
        "orders": len(manager.orders),
        "open_orders_left": [o.client_order_id for o in result.unsettled],
        "task_failures": result.task_failures,
        "fills": [
            {
                "client_order_id": f.client_order_id,
                "side": str(f.side),
                "price": str(f.price),
                "quantity": str(f.quantity),
                "fee": str(f.fee),
                "ts_ns": f.ts_ns,
            }
            for f in runtime.pipeline.fills
        ],
        "funding": _funding_rows(result),
    }
    return summary


def _carried_fill(symbol_record: SymbolRecord, quote: str) -> Fill | None:
    """The position the run started with, as a fill at its first candle's close (or None)."""
    net = symbol_record.opening_net
    if not net or not symbol_record.ts_ms:
        return None
    return Fill(
        client_order_id=f"{CARRIED_ID}:{symbol_record.symbol}",
        symbol=symbol_record.symbol,
        side=OrderSide.BUY if net > 0 else OrderSide.SELL,
        price=Decimal(repr(symbol_record.close[0])),
        quantity=abs(net),
        fee=Decimal(0),
        fee_currency=quote,
        liquidity=LiquidityRole.TAKER,
        ts_ns=symbol_record.ts_ms[0] * 1_000_000,
        trade_id=CARRIED_ID,
    )


def _tag(orders: Mapping[str, Order], client_order_id: str) -> str | None:
    order = orders.get(client_order_id)
    return None if order is None else order.tag


def _funding_of(result: SessionResult, symbol: str) -> list[FundingPayment]:
    """Return the payments of ``symbol`` the run booked (restored ones included), in order."""
    book = result.funding
    if book is None:
        return []
    return [p for p in book.payments if p.symbol == symbol]


def _funding_flows(
    funding: list[FundingPayment], ts_ms: np.ndarray[Any, Any], count: int
) -> np.ndarray[Any, Any]:
    """Return the cumulative funding cash flow at each candle's close.

    A payment moves the cash from the candle it settled on: the first candle opening at or
    after its funding time (whole second), as in the backtest; one before the run's first
    candle (booked before a restart) is in the cash already.
    """
    flows = np.zeros(count, dtype=np.float64)
    for payment in funding:
        settle_ms = payment.ts_ns // 1_000_000
        settle_ms -= settle_ms % 1000
        if settle_ms < int(ts_ms[0]):
            continue
        index = int(np.searchsorted(ts_ms, settle_ms, side="left"))
        flows[min(index, count - 1)] += float(payment.amount)
    return np.cumsum(flows)


def _funding_rows(result: SessionResult) -> list[dict[str, Any]]:
    book = result.funding
    if book is None:
        return []
    return [
        {
            "payment_id": item.payment_id,
            "symbol": item.payment.symbol,
            "amount": str(item.payment.amount),
            "asset": item.asset,
            "rate": str(item.payment.rate) if item.has_rate else None,
            "ts_ns": item.payment.ts_ns,
        }
        for item in sorted(book.booked, key=lambda b: (b.payment.ts_ns, b.payment_id))
    ]
