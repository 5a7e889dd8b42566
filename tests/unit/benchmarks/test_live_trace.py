"""The live bench's stage breakdown: stamps of two processes paired per order."""

from __future__ import annotations

import pytest
from benchmarks._live_trace import SEGMENTS, breakdown, summarise


def _stages(offset: float) -> dict[str, list[tuple[str, float]]]:
    key = "BN0/USDT:USDT:60000"
    return {
        "kline": [("BN0USDT:60000", offset + 0.0003)],
        "candle": [(key, offset + 0.0006)],
        "intent_begin": [(key, offset + 0.0007)],
        "intent_end": [(key, offset + 0.0017)],
        "prepared": [(key, offset + 0.0018)],
        "fetch": [("https://x/fapi/v1/order", offset + 0.0022)],
    }


def test_each_order_is_cut_into_its_stages_in_milliseconds() -> None:
    rows = breakdown(
        {"BN0USDT": [10.0]}, {"BN0USDT": [60000]}, [("BN0USDT", 10.003)], _stages(10.0),
        {"BN0USDT": "BN0/USDT:USDT"},
    )  # fmt: skip
    [row] = rows
    assert row["deliver"] == pytest.approx(0.3)
    assert row["risk_and_intent"] == pytest.approx(1.0)
    assert row["send_and_parse"] == pytest.approx(0.8)
    assert sum(row[s] for s in SEGMENTS) == pytest.approx(row["total"]) == pytest.approx(3.0)


def test_an_order_without_a_complete_trace_is_left_out() -> None:
    stages = _stages(10.0)
    stages["intent_end"] = []
    rows = breakdown({"BN0USDT": [10.0]}, {"BN0USDT": [60000]}, [("BN0USDT", 10.003)], stages,
                     {"BN0USDT": "BN0/USDT:USDT"})  # fmt: skip
    assert rows == []
    assert summarise(rows) == {"orders": 0}


def test_summary_lists_the_worst_orders_first() -> None:
    rows = [dict.fromkeys(SEGMENTS, 0.1) | {"total": t} for t in (2.0, 9.0, 3.0)]
    summary = summarise(rows, worst=2)
    assert [r["total"] for r in summary["worst_ms"]] == [9.0, 3.0]
    assert summary["median_ms"]["total"] == 3.0
