"""Parameter declaration, coercion from CLI strings and error messages."""

from __future__ import annotations

import pytest

from aegis.model.errors import ConfigError
from aegis.strategies import EmaCross, Momentum, create_strategy


def test_defaults_apply_when_no_parameter_is_given() -> None:
    strategy = EmaCross()
    assert (strategy.fast, strategy.slow) == (12, 26)
    assert strategy.params == {"fast": 12, "slow": 26}


def test_cli_strings_are_coerced_to_the_declared_type() -> None:
    strategy = create_strategy("ema_cross", {"fast": "5", "slow": " 20 "})
    assert (strategy.params["fast"], strategy.params["slow"]) == (5, 20)
    momentum = create_strategy(
        "momentum", {"bars": "4.0", "allow_short": "yes", "full_strength_pct": "2.5"}
    )
    assert momentum.params["bars"] == 4
    assert momentum.params["allow_short"] is True
    assert momentum.params["full_strength_pct"] == 2.5


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"fast": "abc"}, "fast='abc' is not an integer"),
        ({"fast": "2.5"}, "fast='2.5' is not an integer"),
        ({"fast": 0}, "fast=0 is below its minimum 1"),
        ({"fast": True}, "fast=True is not an integer"),
        ({"fast": 30, "slow": 26}, "fast=30 must be below slow=26"),
        ({"speed": 3}, "unknown parameter(s) speed; known parameters: fast, slow"),
    ],
)
def test_bad_parameters_name_the_parameter_and_the_value(
    params: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        EmaCross(**params)
    assert fragment in str(caught.value)
    assert "ema_cross" in str(caught.value)


def test_bool_float_and_choice_parameters_reject_nonsense() -> None:
    with pytest.raises(ConfigError, match="allow_short='maybe' is not a boolean"):
        Momentum(allow_short="maybe")
    with pytest.raises(ConfigError, match=r"full_strength_pct=nan must be finite"):
        Momentum(full_strength_pct=float("nan"))
    with pytest.raises(ConfigError, match="tie_rule='coin' is not one of hold, long, short"):
        create_strategy("confluence", {"tie_rule": "coin"})
    with pytest.raises(ConfigError, match=r"oversold=80\.0 and overbought=70\.0"):
        create_strategy("mean_reversion", {"oversold": "80"})
