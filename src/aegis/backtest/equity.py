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

# Bars per block while the curve is filled in: the scratch stays ~1 MB, not two curves' worth.
_BLOCK = 65_536


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
    count = len(fills)
    # state after each fill, in arrays (a list of floats costs 32 bytes an entry, not 8)
    cash = np.empty(count)
    quantity = np.empty(count)
    is_open = np.empty(count, dtype=bool)
    # a unit contract (spot, most linear perpetuals): "* contract_size" changes no value (at
    # most a Decimal's exponent, which no float below sees), so the loop leaves it out
    unit = contract_size == 1
    for index, fill in enumerate(fills):
        size = fill.quantity
        signed = size if fill.side is buy else -size
        # Exact Decimal running totals: float cumsums would leave 1e-19 "positions" behind.
        if unit:
            cash_total -= signed * fill.price
        else:
            cash_total -= signed * fill.price * contract_size
        fee = fill.fee
        if fee:
            fee_currency = fill.fee_currency
            if fee_currency == quote:
                cash_total -= fee
            elif fee_currency == base and signed > 0:
                signed -= fee
        net += signed
        cash[index] = float(cash_total)
        quantity[index] = float(net) if unit else float(net * contract_size)
        is_open[index] = net != 0
    bars = np.asarray(fill_bars, dtype=np.int64)
    # Several fills on one bar: only the state after the last one is seen at the close.
    last = np.flatnonzero(np.append(bars[1:] != bars[:-1], True))
    # segment k holds bars [starts[k], ends[k]) at one state; segment 0 is before any fill
    starts = np.concatenate(([0], bars[last]))
    ends = np.append(starts[1:], n)
    cash_by_bar = np.concatenate(([initial], cash[last]))
    quantity_by_bar = np.concatenate(([0.0], quantity[last]))
    open_by_bar = np.concatenate(([False], is_open[last]))
    del cash, quantity, is_open
    equity = np.empty(n, dtype=np.float64)
    for first in range(0, n, _BLOCK):
        stop = min(first + _BLOCK, n)
        # the segments that cover this block (an empty segment 0 is skipped by "right")
        low = int(np.searchsorted(starts, first, side="right")) - 1
        high = int(np.searchsorted(starts, stop - 1, side="right"))
        counts = np.minimum(ends[low:high], stop) - np.maximum(starts[low:high], first)
        block = equity[first:stop]
        # quantity * close + cash, in that order, as one candle-length expression would
        block[:] = np.repeat(quantity_by_bar[low:high], counts)
        block *= close[first:stop]
        block += np.repeat(cash_by_bar[low:high], counts)
    lengths = ends - starts
    return equity, int(lengths[open_by_bar].sum())
