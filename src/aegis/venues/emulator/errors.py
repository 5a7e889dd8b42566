"""Binance error answers with the real codes, HTTP statuses and messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BinanceError(Exception):
    """An error answer: HTTP ``status`` with body ``{"code": code, "msg": msg}``."""

    code: int
    msg: str
    status: int = 400
    retry_after_s: int | None = None

    def body(self) -> dict[str, Any]:
        """Return the JSON body Binance sends for this error."""
        return {"code": self.code, "msg": self.msg}


def bad_signature() -> BinanceError:
    """Answer -1022: the HMAC does not match the payload."""
    return BinanceError(-1022, "Signature for this request is not valid.")


def timestamp_outside_window() -> BinanceError:
    """Answer -1021: ``timestamp`` is outside ``recvWindow``."""
    return BinanceError(
        -1021, "Timestamp for this request is outside of the recvWindow.", status=400
    )


def api_key_format_invalid() -> BinanceError:
    """Answer -2014: no or malformed ``X-MBX-APIKEY``."""
    return BinanceError(-2014, "API-key format invalid.", status=401)


def invalid_api_key() -> BinanceError:
    """Answer -2015: the key is unknown."""
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def mandatory_parameter(name: str) -> BinanceError:
    """Answer -1102 for a missing parameter."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def parameter_not_required(name: str) -> BinanceError:
    """Answer -1106: a parameter sent where Binance does not take it (reduceOnly in hedge mode)."""
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")


def illegal_parameter(name: str, value: str) -> BinanceError:
    """Answer -1100 (illegal characters / value) naming the parameter and its value."""
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; value: {value}.")


def invalid_symbol() -> BinanceError:
    """Answer -1121: unknown symbol."""
    return BinanceError(-1121, "Invalid symbol.")


def invalid_interval() -> BinanceError:
    """Answer -1120: unknown kline interval."""
    return BinanceError(-1120, "Invalid interval.")


def invalid_order_type() -> BinanceError:
    """Answer -1116: unsupported order type."""
    return BinanceError(-1116, "Invalid orderType.")


def precision_over_maximum() -> BinanceError:
    """Answer -1111: more decimals than the asset allows."""
    return BinanceError(-1111, "Precision is over the maximum defined for this asset.")


def price_not_multiple_of_tick() -> BinanceError:
    """Answer -4014: futures price not on the tick grid."""
    return BinanceError(-4014, "Price not increased by tick size.")


def quantity_not_positive() -> BinanceError:
    """Answer -4003: quantity <= 0."""
    return BinanceError(-4003, "Quantity less than or equal to zero.")


def quantity_below_min() -> BinanceError:
    """Answer -4004: quantity below LOT_SIZE minQty."""
    return BinanceError(-4004, "Quantity less than min quantity.")


def quantity_above_max() -> BinanceError:
    """Answer -4005: quantity above LOT_SIZE maxQty."""
    return BinanceError(-4005, "Quantity greater than max quantity.")


def quantity_not_multiple_of_step() -> BinanceError:
    """Answer -4023: futures quantity not on the step grid."""
    return BinanceError(-4023, "Qty not increased by step size.")


def price_out_of_range(kind: str) -> BinanceError:
    """Answer -4013/-4002 for a price below minPrice / above maxPrice."""
    if kind == "min":
        return BinanceError(-4013, "Price less than min price.")
    return BinanceError(-4002, "Price greater than max price.")


def price_above_multiplier_cap(cap: str) -> BinanceError:
    """Answer -4016 for a buy limit above mark price x PERCENT_PRICE.multiplierUp (USD-M)."""
    return BinanceError(-4016, f"Limit price can't be higher than {cap}.")


def price_below_multiplier_floor(floor: str) -> BinanceError:
    """Answer -4024 for a sell limit below mark price x PERCENT_PRICE.multiplierDown (USD-M)."""
    return BinanceError(-4024, f"Limit price can't be lower than {floor}.")


def max_open_orders_reached() -> BinanceError:
    """Answer -2025 when MAX_NUM_ORDERS orders are already open on the symbol (USD-M)."""
    return BinanceError(-2025, "Reach max open order limit.")


def max_stop_orders_reached() -> BinanceError:
    """Answer -4045 when MAX_NUM_ALGO_ORDERS conditional orders are already open (USD-M)."""
    return BinanceError(-4045, "Reach max stop order limit.")


def min_notional(notional: str) -> BinanceError:
    """Answer -4164: futures notional below MIN_NOTIONAL."""
    return BinanceError(
        -4164,
        f"Order's notional must be no smaller than {notional} (unless you choose reduce only).",
    )


def spot_filter_failure(filter_name: str) -> BinanceError:
    """Answer -1013 with Binance spot's ``Filter failure: NAME`` message."""
    return BinanceError(-1013, f"Filter failure: {filter_name}")


def order_does_not_exist() -> BinanceError:
    """Answer -2013 for a query of an unknown order."""
    return BinanceError(-2013, "Order does not exist.")


def unknown_order_cancel() -> BinanceError:
    """Answer -2011 for a cancel of an unknown (or already closed) order."""
    return BinanceError(-2011, "Unknown order sent.")


def margin_insufficient() -> BinanceError:
    """Answer -2019: not enough available margin."""
    return BinanceError(-2019, "Margin is insufficient.")


def spot_insufficient_balance() -> BinanceError:
    """Answer -2010 with spot's insufficient-balance message."""
    return BinanceError(-2010, "Account has insufficient balance for requested action.")


def duplicate_client_order_id_futures() -> BinanceError:
    """Answer -4116: the client order id is already used (futures)."""
    return BinanceError(-4116, "ClientOrderId is duplicated.")


def duplicate_client_order_id_spot() -> BinanceError:
    """Answer -2010 'Duplicate order sent.' (spot)."""
    return BinanceError(-2010, "Duplicate order sent.")


def reduce_only_rejected() -> BinanceError:
    """Answer -2022: a reduce-only order would not reduce the position."""
    return BinanceError(-2022, "ReduceOnly Order is rejected.")


def would_immediately_trigger() -> BinanceError:
    """Answer -2021: a stop order whose trigger is already crossed."""
    return BinanceError(-2021, "Order would immediately trigger.")


def post_only_would_take() -> BinanceError:
    """Answer -5022: a post-only order that would take liquidity."""
    return BinanceError(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )


def listen_key_does_not_exist() -> BinanceError:
    """Answer -1125: unknown or expired listenKey."""
    return BinanceError(-1125, "This listenKey does not exist.")


def no_need_to_change_margin_type() -> BinanceError:
    """Answer -4046: the margin type is already the requested one."""
    return BinanceError(-4046, "No need to change margin type.")


def no_need_to_change_position_side() -> BinanceError:
    """Answer -4059: the position mode is already the requested one."""
    return BinanceError(-4059, "No need to change position side.")


def position_side_mismatch() -> BinanceError:
    """Answer -4061: positionSide does not match the account's position mode."""
    return BinanceError(-4061, "Order's position side does not match user's setting.")


def invalid_leverage(value: str) -> BinanceError:
    """Answer -4028: leverage outside 1..125."""
    return BinanceError(-4028, f"Leverage {value} is not valid")


def too_many_requests(retry_after_s: int) -> BinanceError:
    """Answer HTTP 429 / -1003 with ``Retry-After``."""
    return BinanceError(
        -1003,
        "Too many requests; current limit is 2400 requests per minute. Please use the "
        "websocket for live updates to avoid polling the API.",
        status=429,
        retry_after_s=retry_after_s,
    )


def ip_banned(retry_after_s: int, until_ms: int) -> BinanceError:
    """Answer HTTP 418 / -1003: the IP is banned for a while."""
    return BinanceError(
        -1003,
        f"Way too many requests; IP(127.0.0.1) banned until {until_ms}. Please use the "
        "websocket for live updates to avoid bans.",
        status=418,
        retry_after_s=retry_after_s,
    )


def internal_error() -> BinanceError:
    """Answer HTTP 500 / -1001 (the injected 5xx fault)."""
    return BinanceError(
        -1001, "Internal error; unable to process your request. Please try again.", status=500
    )


def unknown_path(method: str, path: str) -> BinanceError:
    """Answer 404 for a path the emulator does not serve."""
    return BinanceError(-1000, f"UNHANDLED {method} {path}", status=404)
