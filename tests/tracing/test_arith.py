"""``apportion`` (largest remainder, ties to the lower index) on both paths, both branches
(scan for up to 16 weights, sort beyond), against a plain reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from fundtrace.tracing.arith import apportion


@njit(cache=False)
def _compiled(total, weights, denom):  # type: ignore[no-untyped-def]
    out = np.zeros_like(weights)
    rem = np.zeros_like(weights)
    apportion(total, weights, denom, out, rem)
    return out


def _reference(total: int, weights: list[int]) -> list[int]:
    denom = sum(weights)
    shares = [total * w // denom for w in weights]
    rems = [total * w % denom for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-rems[i], i))[: total - sum(shares)]:
        shares[i] += 1
    return shares


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=40).filter(lambda w: sum(w) > 0),
    st.data(),
)
def test_apportion_matches_reference(weights, data):
    denom = sum(weights)
    total = data.draw(st.integers(0, denom))
    expect = _reference(total, weights)
    got = _compiled(np.int64(total), np.array(weights, dtype=np.int64), np.int64(denom))
    assert got.tolist() == expect
    out = np.zeros(len(weights), dtype=object)
    rem = np.zeros(len(weights), dtype=object)
    apportion(total, np.array(weights, dtype=object), denom, out, rem)
    assert out.tolist() == expect and sum(expect) == total


def test_apportion_ties_go_to_the_lower_index():
    # 7 over three equal weights: 2 each, the spare unit to index 0
    assert _compiled(np.int64(7), np.array([1, 1, 1], dtype=np.int64), np.int64(3)).tolist() == [
        3,
        2,
        2,
    ]
    # the same beyond the scan branch (20 equal weights, 25 units: 5 spares to 0..4)
    got = _compiled(np.int64(25), np.ones(20, dtype=np.int64), np.int64(20)).tolist()
    assert got == [2] * 5 + [1] * 15
