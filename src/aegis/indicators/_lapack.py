"""LAPACK's tridiagonal solve ``dgttrs`` for `recursive_filter`, without importing scipy.linalg.

numpy's wheels link OpenBLAS, LAPACK included, and have it loaded as soon as numpy is imported.
Calling its ``dgttrs`` through ctypes costs nothing more; ``scipy.linalg.lapack`` would load a
second OpenBLAS and the scipy.linalg package: ~28 MB of RSS and ~0.15 s, for one routine. Both
libraries are the same reference LAPACK code (scipy-openblas builds), so the results are the
same bits; where numpy's library cannot be found (another numpy build), scipy's is used.

``dgttrs`` solves from an LU factorisation given by the caller. For the filter's bidiagonal
systems that factorisation is the matrix itself (no pivoting), so the work ``dgtsv`` does to
factor it (a division per row, and refilling the diagonals it overwrites) is skipped; the
solve runs the same two substitutions as ``dgtsv``'s, operation for operation: the same bits.
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
PivotArray = npt.NDArray[np.signedinteger[Any]]
#: ``solve(dl, d, du, du2, ipiv, b) -> info``: ``dgttrs`` ("N", one right-hand side), in place
Solve = Callable[[FloatArray, FloatArray, FloatArray, FloatArray, PivotArray, FloatArray], int]

# (symbol, Fortran integer type) in the scipy-openblas builds numpy ships: ILP64, then LP64
_SYMBOLS = (("scipy_dgttrs_64_", ctypes.c_int64), ("scipy_dgttrs_", ctypes.c_int32))
_LIBRARY_DIRS = ("numpy.libs", "numpy/.dylibs")
_NO_TRANSPOSE = ctypes.c_char_p(b"N")


class FactoredSolver:
    """LAPACK ``dgttrs``: solve a tridiagonal system from its LU factors, in place.

    Call it as ``solve(dl, d, du, du2, ipiv, b) -> info`` on contiguous arrays: ``dl`` the
    multipliers, ``d`` and ``du`` the diagonal and superdiagonal of U, ``du2`` its second
    superdiagonal, ``ipiv`` the 1-based pivot rows (``pivot_dtype``); ``b`` receives the
    solution and the factors are left as they are (reusable for the next right-hand side).
    """

    __slots__ = ("_solve", "pivot_dtype")

    def __init__(self, solve: Solve, pivot_dtype: type[np.signedinteger[Any]]) -> None:
        self._solve = solve
        self.pivot_dtype = pivot_dtype

    def __call__(
        self,
        dl: FloatArray,
        d: FloatArray,
        du: FloatArray,
        du2: FloatArray,
        ipiv: PivotArray,
        b: FloatArray,
    ) -> int:
        """Solve in place; return LAPACK's ``info`` (0 on success)."""
        return self._solve(dl, d, du, du2, ipiv, b)


def _numpy_solver() -> FactoredSolver | None:
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


def _ctypes_solver(
    function: Any, integer: type[ctypes.c_int64] | type[ctypes.c_int32]
) -> FactoredSolver:
    function.restype = None
    pointer = ctypes.POINTER(ctypes.c_double)
    pivot_pointer = ctypes.POINTER(integer)
    pivot_dtype = np.int64 if integer is ctypes.c_int64 else np.int32

    def solve(
        dl: FloatArray,
        d: FloatArray,
        du: FloatArray,
        du2: FloatArray,
        ipiv: PivotArray,
        b: FloatArray,
    ) -> int:
        n = integer(len(d))
        info = integer(0)
        # the trailing size_t is the length of the character argument (gfortran's convention)
        function(
            _NO_TRANSPOSE, ctypes.byref(n), ctypes.byref(integer(1)),
            dl.ctypes.data_as(pointer), d.ctypes.data_as(pointer), du.ctypes.data_as(pointer),
            du2.ctypes.data_as(pointer), ipiv.ctypes.data_as(pivot_pointer),
            b.ctypes.data_as(pointer), ctypes.byref(n), ctypes.byref(info), ctypes.c_size_t(1),
        )  # fmt: skip
        return int(info.value)

    return FactoredSolver(solve, pivot_dtype)


def _scipy_solver() -> FactoredSolver:
    from scipy.linalg.lapack import dgttrs

    def solve(
        dl: FloatArray,
        d: FloatArray,
        du: FloatArray,
        du2: FloatArray,
        ipiv: PivotArray,
        b: FloatArray,
    ) -> int:
        if len(d) == 2:
            # scipy's wrapper refuses n = 2 (it sizes du2 wrongly): dgtts2's steps for it in
            # the same IEEE double operations, for the only factors used here (ipiv = [1, 2])
            first = float(b[0])
            second = (float(b[1]) - float(dl[0]) * first) / float(d[1])
            b[0] = (first - float(du[0]) * second) / float(d[0])
            b[1] = second
            return 0
        solved, info = dgttrs(dl, d, du, du2, ipiv, b, trans="N")
        b[:] = solved.reshape(-1)
        return int(info)

    return FactoredSolver(solve, np.int32)


@functools.cache
def tridiagonal_solver() -> FactoredSolver:
    """LAPACK ``dgttrs`` on contiguous float64 arrays: numpy's OpenBLAS, else scipy's."""
    return _numpy_solver() or _scipy_solver()


def scipy_tridiagonal_solver() -> FactoredSolver:
    """The same solver through ``scipy.linalg.lapack`` (the fallback; tests compare the two)."""
    return _scipy_solver()
