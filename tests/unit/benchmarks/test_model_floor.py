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
