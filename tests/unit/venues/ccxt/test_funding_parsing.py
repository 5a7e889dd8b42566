"""ccxt funding structures -> Aegis types: exact amounts, and bad payloads named (OR3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aegis.model.errors import VenueError
from aegis.venues.ccxt.funding import funding_payment, funding_rate

SYMBOL = "XRP/USDT:USDT"


def income(**overrides: Any) -> dict[str, Any]:
    """What ccxt's binanceusdm ``fetch_funding_history`` returns for one income record."""
    raw: dict[str, Any] = {
        "info": {"symbol": "XRPUSDT", "incomeType": "FUNDING_FEE", "income": "-0.01095800",
                 "asset": "USDT", "time": 1637193600017, "tranId": 4480321991774044580},
        "symbol": SYMBOL, "code": "USDT", "timestamp": 1637193600017,
        "datetime": "2021-11-18T00:00:00.017Z", "id": "4480321991774044580",
        "amount": -0.010958,
    }  # fmt: skip
    raw.update(overrides)
    return raw


def test_payment_takes_the_exchange_text_not_the_float() -> None:
    parsed = funding_payment(income(amount=-0.010957999999999999))
    assert parsed.payment_id == "4480321991774044580"
    assert parsed.amount == Decimal("-0.01095800")
    assert (parsed.symbol, parsed.asset, parsed.ts_ms) == (SYMBOL, "USDT", 1637193600017)
    assert parsed.rate is None


def test_payment_without_exchange_text_uses_the_float_repr() -> None:
    assert funding_payment(income(info={})).amount == Decimal("-0.010958")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": None}, "without an id"),
        ({"symbol": None}, "symbol None is missing"),
        ({"timestamp": "soon"}, "timestamp 'soon' is not an integer"),
        ({"info": {"income": "lots"}}, "income 'lots' is not a number"),
        ({"info": {}, "amount": None}, "amount is missing"),
        ({"code": ""}, "currency code '' is missing"),
    ],
)
def test_bad_payment_payload_is_refused_naming_the_field(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(VenueError, match=message):
        funding_payment(income(**overrides))


def test_a_payload_that_is_not_a_record_is_refused() -> None:
    with pytest.raises(VenueError, match="is not a record"):
        funding_payment(["not", "a", "record"])  # type: ignore[arg-type]


def test_rate_reads_rate_next_funding_time_and_mark() -> None:
    raw = {"fundingRate": 0.0001, "fundingTimestamp": 1637222400000, "timestamp": 1637193600500,
           "markPrice": "1.0945"}  # fmt: skip
    rate = funding_rate(raw, SYMBOL)
    assert (rate.rate, rate.next_funding_ms, rate.mark_price) == (
        Decimal("0.0001"),
        1637222400000,
        Decimal("1.0945"),
    )


def test_rate_without_a_rate_is_refused_naming_the_symbol() -> None:
    with pytest.raises(VenueError, match=r"funding rate of XRP/USDT:USDT: fundingRate is missing"):
        funding_rate({"fundingTimestamp": 1}, SYMBOL)
