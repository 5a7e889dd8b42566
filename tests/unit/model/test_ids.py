"""Deterministic client order ids (OR2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.model import CLIENT_ORDER_ID_PATTERN, client_order_id, parse_client_order_id


@settings(max_examples=200, deadline=None)
@given(bot_id=st.text(min_size=1, max_size=80), sequence=st.integers(0, 36**12 - 1))
def test_ids_match_binance_pattern_and_round_trip(bot_id: str, sequence: int) -> None:
    made = client_order_id(bot_id, sequence)
    assert CLIENT_ORDER_ID_PATTERN.match(made)
    assert len(made) <= 36
    assert made == client_order_id(bot_id, sequence)
    assert parse_client_order_id(made).sequence == sequence


def test_ids_are_stable_across_processes() -> None:
    # fixed expectations: a change here would duplicate orders after an upgrade + restart
    assert client_order_id("bot-1", 0) == "bot-1.0"
    assert client_order_id("bot-1", 36) == "bot-1.10"
    assert client_order_id("tenant/ünïcode bot", 7) == "bc23e41a33219ec02b1b:7"


def test_ids_are_unique_over_many_bots_and_sequences() -> None:
    bots = [f"bot{i}" for i in range(50)] + [f"tenant/{i}/bot with spaces" for i in range(50)]
    bots += ["a" * 21, "a" * 22, "A", "a", "bot.1", "bot:1"]
    made = {client_order_id(bot, seq) for bot in bots for seq in range(400)}
    assert len(made) == len(bots) * 400


def test_readable_and_hashed_forms_cannot_collide() -> None:
    hashed = client_order_id("x" * 30, 5)
    key = hashed.split(":")[0]
    assert client_order_id(key, 5) != hashed


def test_negative_sequence_is_an_error() -> None:
    with pytest.raises(ValueError, match="sequence -1"):
        client_order_id("bot", -1)
    with pytest.raises(ValueError, match="bot_id '' must not be empty"):
        client_order_id("", 1)


def test_foreign_id_does_not_parse() -> None:
    with pytest.raises(ValueError, match="was not made by client_order_id"):
        parse_client_order_id("web_8f7Aq")


@pytest.mark.parametrize("bot_id", ["0\n", "bot\n", "a\r\n"])
def test_bot_ids_with_a_trailing_newline_still_give_valid_ids(bot_id: str) -> None:
    # `$` also matches before a final newline: found by hypothesis, an id "0\n.0" slipped out
    made = client_order_id(bot_id, 1)
    assert CLIENT_ORDER_ID_PATTERN.fullmatch(made)
    assert "\n" not in made


def test_pattern_refuses_a_trailing_newline() -> None:
    assert CLIENT_ORDER_ID_PATTERN.match("bot.1\n") is None


@pytest.mark.parametrize(
    ("sequence", "digits"),
    [(0, "0"), (35, "z"), (1295, "zz"), (1296, "100"), (36**4 - 1, "zzzz"), (36**4, "10000")],
)
def test_ids_are_the_same_before_and_after_the_prefix_is_remembered(
    sequence: int, digits: str
) -> None:
    # the first call of a bot id fills the prefix memo, the second takes the fast path
    bot_id = f"memo-{sequence}"
    assert client_order_id(bot_id, sequence) == f"{bot_id}.{digits}"
    assert client_order_id(bot_id, sequence) == f"{bot_id}.{digits}"
    assert parse_client_order_id(client_order_id(bot_id, sequence)).sequence == sequence


def test_a_remembered_bot_id_still_refuses_bad_sequences() -> None:
    client_order_id("memo-bad", 1)
    with pytest.raises(TypeError, match="sequence True must be an int"):
        client_order_id("memo-bad", True)
    with pytest.raises(ValueError, match="outside 0"):
        client_order_id("memo-bad", 36**12)
