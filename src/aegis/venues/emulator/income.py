"""USD-M income history (``GET /fapi/v1/income``): funding fees, realised PnL, commissions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aegis.venues.emulator.records import fmt


@dataclass(frozen=True, slots=True)
class IncomeRecord:
    """One cash flow of a USD-M wallet, as Binance lists it."""

    tran_id: int
    symbol_id: str
    income_type: str
    amount: Decimal  # signed: what the wallet received
    asset: str
    time_ms: int
    trade_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The REST shape of ``/fapi/v1/income``."""
        return {
            "symbol": self.symbol_id,
            "incomeType": self.income_type,
            "income": fmt(self.amount),
            "asset": self.asset,
            "info": self.income_type,
            "time": self.time_ms,
            "tranId": self.tran_id,
            "tradeId": self.trade_id,
        }


@dataclass(slots=True)
class IncomeLog:
    """Every income record of one account, oldest first; ids come from the account's counter."""

    ids: Iterator[int]
    records: list[IncomeRecord] = field(default_factory=list)

    def book(
        self,
        symbol_id: str,
        income_type: str,
        amount: Decimal,
        asset: str,
        time_ms: int,
        trade_id: str = "",
    ) -> IncomeRecord | None:
        """Append one record (a zero amount is not booked: Binance lists none); return it."""
        if amount == 0:
            return None
        record = IncomeRecord(
            next(self.ids), symbol_id, income_type, amount, asset, time_ms, trade_id
        )
        self.records.append(record)
        return record

    def query(
        self,
        symbol_id: str | None,
        income_type: str | None,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
    ) -> list[IncomeRecord]:
        """Filter as Binance does; with a start time the page runs forward from it, otherwise
        the newest ``limit`` records come back (oldest first in both cases)."""
        found = [
            r
            for r in self.records
            if symbol_id in (None, r.symbol_id)
            and income_type in (None, r.income_type)
            and (start_ms is None or r.time_ms >= start_ms)
            and (end_ms is None or r.time_ms <= end_ms)
        ]
        return found[:limit] if start_ms is not None else found[-limit:]
