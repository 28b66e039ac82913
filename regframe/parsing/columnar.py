"""Numpy helpers for columns of version text: split, digits to int64, order codes.

Shared by the tag grammar (:mod:`regframe.parsing.grammar`) and the version order
(:mod:`regframe.parsing.order`); pure functions of numpy arrays.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "MAX_DIGITS",
    "SATURATED",
    "STRING",
    "BoolArray",
    "IntArray",
    "StrArray",
    "digits_to_int",
    "partition",
    "string_codes",
    "to_str_array",
]

# int64 holds every 18-digit number; longer version numbers are NA in
# major/minor/patch and saturate in sort keys instead of overflowing.
MAX_DIGITS: Final = 18
SATURATED: Final = 10**18

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def partition(a: StrArray, sep: str) -> tuple[StrArray, StrArray]:
    """Vectorised ``str.partition``: (head, tail) for every element."""
    if a.size == 0:  # numpy's partition fails on empty input
        return a, a
    strings = getattr(np, "strings", None)  # numpy >= 2: a ufunc, no re-stacking
    if strings is not None:
        head, _, tail = strings.partition(a, sep)
        return head, tail
    parts = np.char.partition(a, sep)
    return parts[..., 0], parts[..., 2]


def to_str_array(s: pd.Series) -> StrArray:
    """A string Series as a numpy unicode array, NA as ``""``."""
    if len(s) == 0:
        return np.array([], dtype=str)
    return s.to_numpy(dtype=str, na_value="")


def digits_to_int(digits: StrArray, saturate: bool) -> tuple[IntArray, BoolArray]:
    """ASCII digit strings → (int64 values, valid mask); ``""`` is invalid.

    Longer than 18 digits: invalid, or ``10**18`` when ``saturate``.
    """
    # Horner's rule over the UCS-4 code points, column by column: an order of
    # magnitude faster than numpy's str -> int cast, which goes through Python
    # int objects.  Callers only pass what the ASCII regex matched as digits.
    n = len(digits)
    width = digits.dtype.itemsize // 4
    values = np.zeros(n, dtype=np.int64)
    if n == 0 or width == 0:
        return values, np.zeros(n, dtype=bool)
    u4 = np.dtype(np.uint32).newbyteorder(digits.dtype.byteorder)
    codes = np.ascontiguousarray(digits).view(u4).reshape(n, width)
    lens = np.count_nonzero(codes, axis=1)
    for j in range(min(width, MAX_DIGITS)):
        col = codes[:, j].astype(np.int64)
        values = np.where(col != 0, values * 10 + (col - 48), values)
    valid = (lens > 0) & (lens <= MAX_DIGITS)
    if saturate:
        huge = lens > MAX_DIGITS
        values[huge] = SATURATED
        valid |= huge
    values[~valid] = 0
    return values, valid


def string_codes(a: StrArray) -> IntArray:
    """Codes whose order is the strings' order (hash first, sort only the distinct)."""
    codes, uniques = pd.factorize(a)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(np.asarray(uniques, dtype=str), kind="stable")] = np.arange(len(uniques))
    return rank[codes]


# Python-backed strings everywhere: the regexes use look-behind, which the
# pyarrow (RE2) kernels of string[pyarrow] cannot run, and results then do not
# depend on whether pyarrow happens to be installed.
STRING: Final = pd.StringDtype("python")
