"""The fifo/lifo pools: Bitcoin satoshi ranges (dropped once read, compaction, growth, double
spends) and account lots (growth between events).

The UTXO sweep keeps only the ranges of outputs the taint has not moved on from and compacts
its pool when full; the account sweep stops before an event that might not fit its lot pool,
grows it and resumes. Tiny initial pools (``POOL_CAP`` = 1, ``LOTS_CAP`` = 0) make this happen
all the time, so these properties check that nothing is lost or mixed up when data moves.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrace.core.model import NATIVE, Chain, Transaction, TxInput, TxOutput
from fundtrace.tracing import account_kernels as ak
from fundtrace.tracing import build_account_ledger, build_utxo_graph, trace
from fundtrace.tracing import utxo_kernels as uk
from tests.tracing.histories import (
    account_unit_sim,
    random_account_history,
    random_utxo_history,
    utxo_unit_sim,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def pool_cap(n: int):
    old = uk.POOL_CAP
    uk.POOL_CAP = n
    try:
        yield
    finally:
        uk.POOL_CAP = old


def _case(rnd: random.Random):
    txs = random_utxo_history(rnd, n_tx=rnd.randint(5, 30))
    outs = [(t.hash, o.index) for t in txs for o in t.outputs]
    sources = rnd.sample(outs, rnd.randint(1, 2))
    return txs, build_utxo_graph(txs), sources, outs


def _kernel(g, rows, backward, lifo, keep_all, cap):
    """Run the compiled kernel directly; returns (pool, ivp, ivn, taint, status)."""
    n = g.n_outputs
    is_src = np.zeros(n, dtype=np.bool_)
    is_src[rows] = True
    taint = np.zeros(n, dtype=np.int64)
    taint[rows] = g.out_value[rows]
    hop = np.full(n, uk.BIG_HOP, dtype=np.int64)
    hop[rows] = 0
    status = np.zeros(n, dtype=np.int8)
    ivp = np.zeros(n, dtype=np.int64)
    ivn = np.zeros(n, dtype=np.int64)
    pool = uk.utxo_intervals_jit(
        backward,
        lifo,
        g.tx_in_ptr,
        g.tx_out_ptr,
        g.tx_coinbase,
        g.in_spent,
        g.in_value,
        g.in_addr,
        g.out_value,
        np.zeros(n, dtype=np.bool_),
        is_src,
        uk.BIG_HOP,
        np.int64(0),
        taint,
        hop,
        status,
        np.zeros(3, dtype=np.int64),
        np.zeros(len(g.addresses), dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        ivp,
        ivn,
        keep_all,
        cap,
    )
    return pool, ivp, ivn, taint, status


def _runs(pool, ivp, ivn, o):
    p, n = int(ivp[o]), int(ivn[o])
    return [(int(pool[2 * q]), int(pool[2 * q + 1])) for q in range(p, p + n)]


@SETTINGS
@given(st.randoms(use_true_random=False), st.booleans())
def test_tiny_pool_ranges_match_per_satoshi_simulation(rnd, lifo):
    txs, g, sources, outs = _case(rnd)
    units, fee = utxo_unit_sim(txs, set(sources), lifo)
    with pool_cap(1):
        r = trace(g, sources, model="lifo" if lifo else "fifo")
        for txid, vout in outs:
            expect = [i for i, f in enumerate(units[(txid, vout)]) if f]
            got = [i for s, e in r.tainted_ranges(txid, vout) for i in range(s, e)]
            assert got == expect, (txid, vout)
    assert r.summary()["fee"] == fee


@SETTINGS
@given(
    st.randoms(use_true_random=False),
    st.booleans(),
    st.sampled_from(["forward", "backward"]),
)
def test_tiny_pool_gives_the_same_trace(rnd, lifo, direction):
    _, g, sources, outs = _case(rnd)
    model = "lifo" if lifo else "fifo"
    big = trace(g, sources, model=model, direction=direction)
    with pool_cap(1):
        small = trace(g, sources, model=model, direction=direction)
        small_ranges = {o: small.tainted_ranges(*o) for o in outs}
    assert small.to_dict() == big.to_dict()
    assert small_ranges == {o: big.tainted_ranges(*o) for o in outs}


@SETTINGS
@given(
    st.randoms(use_true_random=False),
    st.booleans(),
    st.booleans(),
    st.sampled_from([1, 2, 5]),
)
def test_dropping_keeps_exactly_what_the_taint_has_not_left(rnd, lifo, backward, cap):
    _, g, sources, _ = _case(rnd)
    rows = sorted({g.output_row(t, v) for t, v in sources})
    pool, ivp, ivn, taint, status = _kernel(g, rows, backward, lifo, False, cap)
    fpool, fivp, fivn, ftaint, fstatus = _kernel(g, rows, backward, lifo, True, cap)
    assert np.array_equal(taint, ftaint) and np.array_equal(status, fstatus)
    assert (fivp >= 0).all()  # keep_all never drops
    for o in range(g.n_outputs):
        if taint[o] == 0:
            continue
        if status[o] == 1:  # the taint moved on: dropped
            assert ivp[o] == -1
        else:  # still here (unspent, labeled or limited): its ranges survived compaction
            assert _runs(pool, ivp, ivn, o) == _runs(fpool, fivp, fivn, o)
            assert sum(e - s for s, e in _runs(pool, ivp, ivn, o)) == taint[o]
    live = sum(int(ivn[o]) for o in range(g.n_outputs) if ivp[o] >= 0 and taint[o] > 0)
    assert live <= pool.shape[0] // 2 <= fpool.shape[0] // 2


def _tx(h, blk, ins, outs, cb=False):
    return Transaction(
        Chain.BTC,
        h,
        blk,
        tx_index=0,
        is_coinbase=cb,
        inputs=[TxInput(i, a, b) for i, (a, b) in enumerate(ins)] or [TxInput(0, None, None)],
        outputs=[TxOutput(i, v, "pubkeyhash", a) for i, (a, v) in enumerate(outs)],
    )


def test_double_spent_output_taints_both_spenders():
    # conflicting transactions in the data: t1 and t2 both spend c:0 (100 sat)
    g = build_utxo_graph(
        [
            _tx("c", 1, [], [("A", 100)], cb=True),
            _tx("t1", 2, [("c", 0)], [("X", 60), ("Y", 40)]),
            _tx("t2", 3, [("c", 0)], [("Z", 30), ("W", 65)]),
        ]
    )
    assert g.has_double_spends()
    for model in ("fifo", "lifo"):
        r = trace(g, ["c:0"], model=model)
        assert r.tainted_ranges("t1", 1) == [(0, 40)]
        assert r.tainted_ranges("t2", 0) == [(0, 30)]
        assert r.tainted_ranges("t2", 1) == [(0, 65)]
        ends = {(e.address, e.kind): e.amount for e in r.endpoints}
        assert ends == {
            ("X", "holding"): 60,
            ("Y", "holding"): 40,
            ("Z", "holding"): 30,
            ("W", "holding"): 65,
            (None, "fee"): 5,
        }


def test_no_double_spends_in_a_plain_history():
    txs = random_utxo_history(random.Random(5), n_tx=20)
    assert not build_utxo_graph(txs).has_double_spends()


# ----------------------------------------------------------------------- account lot pool


@contextmanager
def lots_cap(n: int):
    old = ak.LOTS_CAP
    ak.LOTS_CAP = n
    try:
        yield
    finally:
        ak.LOTS_CAP = old


def _account_case(rnd: random.Random):
    txs = random_account_history(rnd, n_tx=rnd.randint(5, 40))
    cands = [(t.hash, tr.index) for t in txs if t.success for tr in t.transfers if tr.amount]
    sources = rnd.sample(cands, min(len(cands), rnd.randint(1, 3)))
    return txs, build_account_ledger(txs, NATIVE), sources


@SETTINGS
@given(
    st.randoms(use_true_random=False),
    st.booleans(),
    st.sampled_from(["forward", "backward"]),
)
def test_tiny_lot_pool_gives_the_same_trace(rnd, lifo, direction):
    # the compiled sweep stops before an event that might not fit, grows and resumes there
    _, led, sources = _account_case(rnd)
    if not sources:
        return
    model = "lifo" if lifo else "fifo"
    big = trace(led, sources, model=model, direction=direction).to_dict()
    with lots_cap(0):
        small = trace(led, sources, model=model, direction=direction).to_dict()
        led.ev_amount = np.array([int(v) for v in led.ev_amount], dtype=object)
        exact = trace(led, sources, model=model, direction=direction).to_dict()
    assert small == big == exact


@SETTINGS
@given(st.randoms(use_true_random=False), st.booleans())
def test_tiny_lot_pool_matches_per_unit_simulation(rnd, lifo):
    txs, led, sources = _account_case(rnd)
    if not sources:
        return
    held, _, fee = account_unit_sim(txs, set(sources), lifo)
    with lots_cap(0):
        r = trace(led, sources, model="lifo" if lifo else "fifo")
    got = {e.address: e.amount for e in r.endpoints if e.kind == "holding" and e.address}
    assert got == {a: sum(u) for a, u in held.items() if sum(u)}
    assert r.summary()["fee"] == fee
