"""The equity curve, computed vectorised after the run from the state after each fill.

Between fills the position is constant, so ``equity = cash + quantity * close`` on every bar.
Spot and linear contracts share the formula once the cash is "virtual": the notional paid or
received (times the contract size) and the fees leave it, and the position is marked at the close.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from aegis.model.enums import OrderSide
from aegis.model.events import Fill
from aegis.model.instrument import Instrument

FloatArray = npt.NDArray[np.float64]


def equity_curve(
    fills: Sequence[Fill],
    fill_bars: Sequence[int],
    instrument: Instrument,
    initial_cash: Decimal,
    close: FloatArray,
) -> tuple[FloatArray, int]:
    """Return (equity at each close, number of bars that ended with a position open).

    ``fill_bars[i]`` is the index of the candle on which ``fills[i]`` happened (in time order).
    Fees in the quote currency leave the cash; a base-currency fee shrinks what a buy delivers.
    """
    n = int(close.shape[0])
    initial = float(initial_cash)
    if not fills:
        return np.full(n, initial, dtype=np.float64), 0
    contract_size, base, quote = instrument.contract_size, instrument.base, instrument.quote
    buy = OrderSide.BUY
    cash_total, net = initial_cash, Decimal(0)
    cash: list[float] = []
    quantity: list[float] = []
    is_open: list[bool] = []
    for fill in fills:
        signed = fill.quantity if fill.side is buy else -fill.quantity
        # Exact Decimal running totals: float cumsums would leave 1e-19 "positions" behind.
        cash_total -= signed * fill.price * contract_size
        fee = fill.fee
        if fee:
            if fill.fee_currency == quote:
                cash_total -= fee
            elif fill.fee_currency == base and signed > 0:
                signed -= fee
        net += signed
        cash.append(float(cash_total))
        quantity.append(float(net * contract_size))
        is_open.append(net != 0)
    bars = np.asarray(fill_bars, dtype=np.int64)
    # Several fills on one bar: only the state after the last one is seen at the close.
    last = np.flatnonzero(np.append(bars[1:] != bars[:-1], True))
    lengths = np.diff(np.concatenate(([0], bars[last], [n])))
    cash_by_bar = np.concatenate(([initial], np.asarray(cash)[last]))
    quantity_by_bar = np.concatenate(([0.0], np.asarray(quantity)[last]))
    open_by_bar = np.concatenate(([False], np.asarray(is_open, dtype=bool)[last]))
    # in place, two candle-length arrays alive at a time instead of three; x + y == y + x
    equity = np.repeat(quantity_by_bar, lengths)
    equity *= close
    equity += np.repeat(cash_by_bar, lengths)
    return equity, int(lengths[open_by_bar].sum())
