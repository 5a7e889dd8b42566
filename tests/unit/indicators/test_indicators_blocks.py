"""`recursive_filter` solves in blocks: the result must equal one LAPACK system, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg.lapack import dgtsv

from aegis.indicators import _common
from aegis.indicators._common import FloatArray, nan_array, recursive_filter


def _one_system(
    values: FloatArray, decay: float, gain: float, start: int, seed: float
) -> FloatArray:
    """The unblocked form: the whole history as one bidiagonal system (the previous code)."""
    out = nan_array(len(values))
    if start >= len(values):
        return out
    out[start] = seed
    tail = values[start + 1 :]
    if len(tail):
        rhs = gain * tail
        rhs[0] += decay * seed
        if len(tail) == 1:
            out[start + 1] = rhs[0]
            return out
        count = len(tail)
        *_, solved, info = dgtsv(
            np.full(count - 1, -decay), np.ones(count), np.zeros(count - 1), rhs, overwrite_b=True
        )
        assert info == 0
        out[start + 1 :] = solved
    return out


@pytest.mark.parametrize("block", [1, 2, 7, 64, 65_536])
@pytest.mark.parametrize("length", [0, 1, 2, 3, 64, 65, 1_000, 130_001])
def test_blocks_equal_one_system_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, block: int, length: int
) -> None:
    rng = np.random.default_rng(length * 31 + block)
    values = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, length)))
    monkeypatch.setattr(_common, "FILTER_BLOCK", block)
    for decay, gain, start in ((1 - 2 / 13, 2 / 13, 11), (25 / 26, 1.0, 25), (0.5, 0.5, 0)):
        seed = float(values[: start + 1].mean()) if length > start else 0.0
        expected = _one_system(values, decay, gain, start, seed)
        got = recursive_filter(values, decay, gain, start, seed)
        assert np.array_equal(got, expected, equal_nan=True), (block, length, decay)


def test_blocks_follow_a_real_recurrence_across_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    # a plain Python loop: the recurrence itself, carried over every block boundary
    monkeypatch.setattr(_common, "FILTER_BLOCK", 3)
    values = np.arange(1.0, 12.0)
    got = recursive_filter(values, 0.5, 2.0, 1, 4.0)
    expected = [np.nan, 4.0]
    for x in values[2:]:
        expected.append(0.5 * expected[-1] + 2.0 * x)
    assert np.array_equal(got, np.array(expected), equal_nan=True)


def test_numpy_lapack_and_scipy_lapack_give_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    from aegis.indicators import _lapack

    assert _lapack._numpy_solver() is not None, "numpy's OpenBLAS dgtsv was not found"
    values = 30_000.0 * np.exp(np.cumsum(np.random.default_rng(7).normal(0.0, 0.001, 200_000)))
    fast = recursive_filter(values, 1 - 2 / 27, 2 / 27, 25, float(values[:26].mean()))
    monkeypatch.setattr(_lapack, "tridiagonal_solver", _lapack.scipy_tridiagonal_solver)
    fallback = recursive_filter(values, 1 - 2 / 27, 2 / 27, 25, float(values[:26].mean()))
    assert np.array_equal(fast, fallback, equal_nan=True)
    assert np.array_equal(
        fast, _one_system(values, 1 - 2 / 27, 2 / 27, 25, float(values[:26].mean())), equal_nan=True
    )


@pytest.mark.parametrize("block", [1, 2, 3, 64])
@pytest.mark.parametrize("length", [2, 3, 4, 65, 1_000])
def test_scipy_fallback_equals_numpy_lapack_on_every_block_size(
    monkeypatch: pytest.MonkeyPatch, block: int, length: int
) -> None:
    # small blocks reach the 2-row systems scipy's dgttrs wrapper refuses (handled apart)
    from aegis.indicators import _lapack

    values = 30_000.0 * np.exp(
        np.cumsum(np.random.default_rng(block * 7 + length).normal(0.0, 0.001, length))
    )
    monkeypatch.setattr(_common, "FILTER_BLOCK", block)
    fast = recursive_filter(values, 1 - 2 / 13, 2 / 13, 0, float(values[0]))
    monkeypatch.setattr(_lapack, "tridiagonal_solver", _lapack.scipy_tridiagonal_solver)
    fallback = recursive_filter(values, 1 - 2 / 13, 2 / 13, 0, float(values[0]))
    assert np.array_equal(fast, fallback, equal_nan=True)
    assert np.array_equal(
        fast, _one_system(values, 1 - 2 / 13, 2 / 13, 0, float(values[0])), equal_nan=True
    )
