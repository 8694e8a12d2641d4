"""Exact integer helpers shared by the compiled kernels and their pure-Python twins.

Every kernel in this package is written once and runs two ways: compiled by numba over ``int64``
arrays (the fast path, used whenever every balance and sum provably fits in 63 bits), and as
plain Python over ``object`` arrays of Python ints (the exact path for wei/token amounts that do
not fit). A helper called from a kernel must therefore exist in both worlds: ``dual`` registers a
plain function as its own numba overload, and ``muldiv`` gets a 128-bit compiled implementation
because ``amount * taint`` overflows 64 bits long before the quotient does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit
from numba.extending import overload

INT64_SAFE = 2**62
"""Amounts whose grand total stays below this run on the compiled int64 path."""


def dual(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``fn`` callable from compiled kernels (numba compiles it) and from Python unchanged."""
    # numba wants the typing function's parameters to match the implementation's exactly
    sig = inspect.signature(fn)
    ns: dict[str, Any] = {"fn": fn}
    exec(f"def typer{sig}:\n    return fn", ns)
    overload(fn)(ns["typer"])
    return fn


def muldivmod(a: int, b: int, d: int) -> tuple[int, int]:
    """``divmod(a * b, d)`` exactly; callers guarantee ``a * b // d`` fits the money type."""
    return divmod(a * b, d)


@njit(cache=True)
def _muldivmod_u128(a: int, b: int, d: int) -> tuple[int, int]:
    # 64x64 -> 128-bit product from 32-bit halves, then shift-subtract division. Callers keep
    # a, b, d in [0, 2**62] and a * b // d <= max(a, b), so hi < d and the quotient fits.
    ua = np.uint64(a)
    ub = np.uint64(b)
    ud = np.uint64(d)
    m32 = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    a0 = ua & m32
    a1 = ua >> s32
    b0 = ub & m32
    b1 = ub >> s32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> s32) + (p01 & m32) + (p10 & m32)
    lo = (p00 & m32) | ((mid & m32) << s32)
    hi = p11 + (p01 >> s32) + (p10 >> s32) + (mid >> s32)
    if hi == 0:
        return np.int64(lo // ud), np.int64(lo % ud)
    r = hi
    q = np.uint64(0)
    one = np.uint64(1)
    for i in range(63, -1, -1):
        carry = r >> np.uint64(63)
        r = (r << one) | ((lo >> np.uint64(i)) & one)
        q = q << one
        if carry != 0 or r >= ud:
            r = r - ud
            q = q | one
    return np.int64(q), np.int64(r)


@overload(muldivmod)
def _muldivmod_ol(a, b, d):  # type: ignore[no-untyped-def]
    def impl(a, b, d):  # type: ignore[no-untyped-def]
        if a == 0 or b == 0:
            return 0, 0
        return _muldivmod_u128(a, b, d)

    return impl


def muldiv(a: int, b: int, d: int) -> int:
    """``a * b // d`` exactly (floor)."""
    return a * b // d


@overload(muldiv)
def _muldiv_ol(a, b, d):  # type: ignore[no-untyped-def]
    def impl(a, b, d):  # type: ignore[no-untyped-def]
        if a == 0 or b == 0:
            return 0
        return _muldivmod_u128(a, b, d)[0]

    return impl


@dual
def apportion(total, weights, denom, out, rem):  # type: ignore[no-untyped-def]
    """Split ``total`` over ``weights`` (summing to ``denom``) into ``out`` by largest remainder.

    Each share is ``floor(total * w / denom)``; the units lost to flooring go one each to the
    largest remainders, ties to the lower index, so the shares sum to ``total`` exactly and each
    differs from the real-valued share by less than one base unit. ``rem`` is scratch space of
    the same length, so a sweep calling this per transaction allocates nothing; for the usual
    handful of outputs the few spare units are placed by scanning instead of sorting.
    """
    k = weights.shape[0]
    given = total - total
    for i in range(k):
        q, r = muldivmod(total, weights[i], denom)
        out[i] = q
        rem[i] = r
        given += q
    left = total - given  # < k, as every remainder is < denom
    if left == 0:
        return
    if k <= 16:
        for _ in range(left):
            best = 0
            for i in range(1, k):
                if rem[i] > rem[best]:  # strict: ties keep the lower index
                    best = i
            out[best] += 1
            rem[best] = -1  # remainders are >= 0: taken
        return
    order = np.argsort(-rem, kind="mergesort")  # stable: equal remainders keep lower index first
    for j in range(left):
        out[order[j]] += 1
