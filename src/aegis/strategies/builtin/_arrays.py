"""Array helpers shared by the vectorised built-ins."""

from __future__ import annotations

import numpy as np

from aegis.model.signals import Action

from ..base import BoolArray, FloatArray


def shift(values: FloatArray, by: int = 1) -> FloatArray:
    """``values`` delayed by ``by`` bars, NaN-padded at the start (value of bar i - by)."""
    out = np.full(len(values), np.nan)
    if by < len(values):
        out[by:] = values[: len(values) - by]
    return out


def shift_bool(values: BoolArray) -> BoolArray:
    """``values`` delayed by one bar, False at the start."""
    out = np.zeros(len(values), dtype=bool)
    out[1:] = values[:-1]
    return out


def layer_actions(
    enter_long: BoolArray,
    exit_long: BoolArray,
    long_strength: FloatArray,
    short: tuple[BoolArray, BoolArray, FloatArray] | None = None,
) -> tuple[np.ndarray, FloatArray]:
    """Return ``(action codes, strengths)`` from entry and exit masks, later rules winning.

    Precedence, as in the streaming ``if`` chains: ENTER_LONG, then ENTER_SHORT, then EXIT_LONG,
    then EXIT_SHORT; an entry on an exit bar wins (it reverses). Exits have strength 1, entries
    take theirs from ``long_strength`` or the third item of ``short`` = ``(enter, exit,
    strength)``, which is given only when shorts are allowed.
    """
    action = np.zeros(len(enter_long), dtype=np.int8)
    if short is not None:
        action[short[1]] = int(Action.EXIT_SHORT)
    action[exit_long] = int(Action.EXIT_LONG)
    strength = np.where(action != 0, 1.0, 0.0)
    if short is not None:
        enter_short, _, short_strength = short
        action[enter_short] = int(Action.ENTER_SHORT)
        strength[enter_short] = short_strength[enter_short]
    action[enter_long] = int(Action.ENTER_LONG)
    strength[enter_long] = long_strength[enter_long]
    return action, strength
