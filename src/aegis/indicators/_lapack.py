"""LAPACK's tridiagonal solver ``dgtsv`` for `recursive_filter`, without importing scipy.linalg.

numpy's wheels link OpenBLAS, LAPACK included, and have it loaded as soon as numpy is imported.
Calling its ``dgtsv`` through ctypes costs nothing more; ``scipy.linalg.lapack`` would load a
second OpenBLAS and the scipy.linalg package: ~28 MB of RSS and ~0.15 s, for one routine. Both
libraries are the same reference LAPACK code (scipy-openblas builds), so the results are the
same bits; where numpy's library cannot be found (another numpy build), scipy's is used.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Solver = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], int]

# (symbol, Fortran integer type) in the scipy-openblas builds numpy ships: ILP64, then LP64
_SYMBOLS = (("scipy_dgtsv_64_", ctypes.c_int64), ("scipy_dgtsv_", ctypes.c_int32))
_LIBRARY_DIRS = ("numpy.libs", "numpy/.dylibs")


def _numpy_solver() -> Solver | None:
    site = Path(np.__file__).resolve().parent.parent
    for directory in _LIBRARY_DIRS:
        for library in sorted((site / directory).glob("*openblas*")):
            try:
                handle = ctypes.CDLL(str(library))
            except OSError:
                continue
            for symbol, integer in _SYMBOLS:
                function = getattr(handle, symbol, None)
                if function is not None:
                    return _ctypes_solver(function, integer)
    return None


def _ctypes_solver(function: Any, integer: type[ctypes.c_int64] | type[ctypes.c_int32]) -> Solver:
    function.restype = None
    pointer = ctypes.POINTER(ctypes.c_double)

    def solve(dl: FloatArray, d: FloatArray, du: FloatArray, b: FloatArray) -> int:
        n = integer(len(d))
        info = integer(0)
        function(
            ctypes.byref(n), ctypes.byref(integer(1)),
            dl.ctypes.data_as(pointer), d.ctypes.data_as(pointer), du.ctypes.data_as(pointer),
            b.ctypes.data_as(pointer), ctypes.byref(n), ctypes.byref(info),
        )  # fmt: skip
        return int(info.value)

    return solve


def _scipy_solver() -> Solver:
    from scipy.linalg.lapack import dgtsv

    def solve(dl: FloatArray, d: FloatArray, du: FloatArray, b: FloatArray) -> int:
        *_, solved, info = dgtsv(dl, d, du, b, overwrite_dl=1, overwrite_d=1, overwrite_du=1)
        b[:] = solved.reshape(-1)
        return int(info)

    return solve


@functools.cache
def tridiagonal_solver() -> Solver:
    """``solve(dl, d, du, b) -> info``: LAPACK ``dgtsv`` on contiguous float64 arrays, in place.

    ``b`` receives the solution; ``dl``, ``d`` and ``du`` are overwritten by the factorisation.
    """
    return _numpy_solver() or _scipy_solver()


def scipy_tridiagonal_solver() -> Solver:
    """The same solver through ``scipy.linalg.lapack`` (the fallback; tests compare the two)."""
    return _scipy_solver()
