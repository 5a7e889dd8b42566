"""The model floor times real order lifecycles, and they end where the engine's orders end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from benchmarks import model_floor


def test_floor_runs_the_real_lifecycle_and_returns_a_duration() -> None:
    seconds = model_floor.lifecycles_seconds(50)
    assert 0.0 < seconds < 5.0


def test_floor_orders_end_filled_and_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    # an even count alternates buy and sell: every order fills, the portfolio ends flat
    seen: list[object] = []
    original = model_floor.Portfolio.apply_fill

    def spy(self: model_floor.Portfolio, fill: model_floor.Fill, instrument: object) -> Decimal:
        seen.append(fill.side)
        return original(self, fill, instrument)  # type: ignore[arg-type]

    monkeypatch.setattr(model_floor.Portfolio, "apply_fill", spy)
    model_floor.lifecycles_seconds(4)
    assert [str(side) for side in seen] == ["buy", "sell", "buy", "sell"]


def test_floor_keeps_the_best_of_its_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter([0.3, 0.1, 0.2])
    monkeypatch.setattr(model_floor, "lifecycles_seconds", lambda orders: next(times))
    assert model_floor.floor_seconds(10, repeat=3) == 0.1


def test_order_objects_take_decimals_or_integer_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    # the objects alone, no portfolio: the fills carry the values given, in either form
    prices: list[object] = []
    real_fill = model_floor.Fill

    def spy(*args: object) -> object:
        prices.append(args[3])
        return real_fill(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(model_floor, "Fill", spy)
    assert model_floor.order_objects_seconds(3, 1, 3_000_050, 300_005) > 0.0
    assert model_floor.order_objects_seconds(1, Decimal("0.001"), Decimal("30000.50"), 0) > 0.0
    assert prices == [3_000_050, 3_000_050, 3_000_050, Decimal("30000.50")]


def test_main_prints_the_floor_and_both_object_timings(capsys: pytest.CaptureFixture[str]) -> None:
    assert model_floor.main(["--orders", "20", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "model floor, 20 lifecycles with the portfolio",
        "order, update and fill objects alone, Decimal values",
        "order, update and fill objects alone, integer ticks",
    ]
