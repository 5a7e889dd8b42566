"""Binance request authentication: X-MBX-APIKEY, HMAC-SHA256 signature, timestamp window."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import Enum
from urllib.parse import parse_qsl

from aegis.venues.emulator import errors

_MAX_RECV_WINDOW_MS = 60_000
_DEFAULT_RECV_WINDOW_MS = 5_000
# Binance accepts a timestamp at most 1 s ahead of its own clock.
_AHEAD_TOLERANCE_MS = 1_000


class Security(Enum):
    """What an endpoint requires: nothing, the API key, or key + signature."""

    NONE = "none"
    API_KEY = "api_key"
    SIGNED = "signed"


def parse_params(raw_query: str, raw_body: str) -> dict[str, str]:
    """Merge query and form body parameters (the body wins, as on Binance)."""
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    params.update(parse_qsl(raw_body, keep_blank_values=True))
    return params


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 of ``payload`` with ``secret``, hex (what ccxt sends as ``signature``)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_payload(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """Split the signed text from its signature (Binance signs query + body before it)."""
    total = raw_query + raw_body
    head, sep, signature = total.rpartition("signature=")
    if not sep:
        return total, None
    # the signature is the last parameter; anything after it is not covered
    signature = signature.split("&", 1)[0]
    return head.rstrip("&"), signature


def authenticate(
    security: Security,
    headers: Mapping[str, str],
    raw_query: str,
    raw_body: str,
    secrets_by_key: Mapping[str, str],
    server_time_ms: int,
) -> str | None:
    """Check a request as Binance does; return the API key (None for public endpoints).

    Raises BinanceError -2014/-2015 (key), -1102 (missing timestamp/signature), -1022
    (signature), -1021 (timestamp outside recvWindow).
    """
    if security is Security.NONE:
        return None
    key = headers.get("X-MBX-APIKEY", "")
    if not key:
        raise errors.api_key_format_invalid()
    secret = secrets_by_key.get(key)
    if secret is None:
        raise errors.invalid_api_key()
    if security is Security.API_KEY:
        return key
    params = parse_params(raw_query, raw_body)
    payload, signature = signed_payload(raw_query, raw_body)
    if "timestamp" not in params:
        raise errors.mandatory_parameter("timestamp")
    if signature is None:
        raise errors.mandatory_parameter("signature")
    if not hmac.compare_digest(sign(secret, payload), signature):
        raise errors.bad_signature()
    _check_timestamp(params, server_time_ms)
    return key


def _check_timestamp(params: Mapping[str, str], server_time_ms: int) -> None:
    try:
        timestamp = int(params["timestamp"])
        recv_window = int(params.get("recvWindow", _DEFAULT_RECV_WINDOW_MS))
    except ValueError as exc:
        raise errors.illegal_parameter("timestamp", params["timestamp"]) from exc
    if not 0 < recv_window <= _MAX_RECV_WINDOW_MS:
        raise errors.BinanceError(-1131, "recvWindow must be less than 60000")
    if timestamp >= server_time_ms + _AHEAD_TOLERANCE_MS or (
        server_time_ms - timestamp > recv_window
    ):
        raise errors.timestamp_outside_window()
