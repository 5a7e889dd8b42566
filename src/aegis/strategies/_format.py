"""Cheap, scale-free number formatting shared by the streaming and vectorised thoughts."""

from __future__ import annotations


def num(value: float) -> str:
    """Six significant digits: readable for BTC at 90 000 and for NXT at 0.0000273."""
    return f"{value:.6g}"


def relation(left: float, right: float) -> str:
    """'above', 'below' or 'equal to' (NaN compares as 'not comparable with')."""
    if left > right:
        return "above"
    if left < right:
        return "below"
    if left == right:
        return "equal to"
    return "not comparable with"
