"""Hypothesis properties over random UTXO and account histories."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrace.core.model import NATIVE
from fundtrace.tracing import (
    ACCOUNT_MODELS,
    UTXO_MODELS,
    build_account_ledger,
    build_utxo_graph,
    explain,
    trace,
)
from tests.tracing.histories import (
    account_unit_sim,
    random_account_history,
    random_utxo_history,
    utxo_unit_sim,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _utxo_case(rnd: random.Random):
    txs = random_utxo_history(rnd)
    outs = [(t.hash, o.index) for t in txs for o in t.outputs]
    sources = rnd.sample(outs, rnd.randint(1, 2))
    labels = {a: ("Ex", "exchange") for a in rnd.sample([f"a{i}" for i in range(6)], 1)}
    return txs, build_utxo_graph(txs), sources, labels


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(["forward", "backward"]))
def test_utxo_conservation_bounds_and_poison_superset(rnd, direction):
    txs, g, sources, labels = _utxo_case(rnd)
    values = {(t.hash, o.index): o.value for t in txs for o in t.outputs}
    reached = {}
    for model in UTXO_MODELS:
        r = trace(g, sources, model=model, direction=direction, attribution=labels)
        for f in r.flows:
            assert 0 < f.amount <= values[(f.tx, f.index)]  # taint never exceeds value
        if model != "poison":
            assert sum(e.amount for e in r.endpoints) == r.source_amount
        reached[model] = {(f.tx, f.index) for f in r.flows}
    for model in UTXO_MODELS:
        assert reached[model] <= reached["poison"]


@SETTINGS
@given(st.randoms(use_true_random=False), st.booleans())
def test_utxo_fifo_lifo_ranges_match_per_satoshi_simulation(rnd, lifo):
    txs, g, sources, _ = _utxo_case(rnd)
    units, fee = utxo_unit_sim(txs, set(sources), lifo)
    r = trace(g, sources, model="lifo" if lifo else "fifo")
    for (txid, vout), flags in units.items():
        expect = [i for i, f in enumerate(flags) if f]
        got = [i for s, e in r.tainted_ranges(txid, vout) for i in range(s, e)]
        assert got == expect, (txid, vout)
    assert r.summary()["fee"] == fee


def _account_case(rnd: random.Random):
    txs = random_account_history(rnd)
    cands = [(t.hash, tr.index) for t in txs if t.success for tr in t.transfers if tr.amount]
    sources = rnd.sample(cands, min(len(cands), rnd.randint(1, 2)))
    return txs, build_account_ledger(txs, NATIVE), sources


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(["forward", "backward"]))
def test_account_conservation_bounds_and_poison_superset(rnd, direction):
    txs, led, sources = _account_case(rnd)
    if not sources:
        return
    amounts = {(t.hash, tr.index): tr.amount for t in txs for tr in t.transfers}
    amounts.update({(t.hash, -1): t.fee for t in txs})
    labels = {"0x01": ("Ex", "exchange")}
    reached = {}
    for model in ACCOUNT_MODELS:
        r = trace(led, sources, model=model, direction=direction, attribution=labels)
        for f in r.flows:
            assert 0 < f.amount <= amounts[(f.tx, f.index)]
        if model != "poison":
            assert sum(e.amount for e in r.endpoints) == r.source_amount
        reached[model] = {(f.tx, f.index) for f in r.flows}
    for model in ACCOUNT_MODELS:
        assert reached[model] <= reached["poison"]


@SETTINGS
@given(st.randoms(use_true_random=False), st.booleans())
def test_account_fifo_lifo_match_per_unit_simulation(rnd, lifo):
    txs, led, sources = _account_case(rnd)
    if not sources:
        return
    held, _, fee = account_unit_sim(txs, set(sources), lifo)
    r = trace(led, sources, model="lifo" if lifo else "fifo")
    got = {e.address: e.amount for e in r.endpoints if e.kind == "holding" and e.address}
    expect = {a: sum(u) for a, u in held.items() if sum(u)}
    assert got == expect
    assert r.summary()["fee"] == fee


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(ACCOUNT_MODELS))
def test_account_taint_never_exceeds_final_balance(rnd, model):
    txs, led, sources = _account_case(rnd)
    if not sources:
        return
    held, _, _ = account_unit_sim(txs, set(), False)  # balances (deficits counted as held)
    r = trace(led, sources, model=model)
    for e in r.endpoints:
        if e.kind == "holding" and e.address:
            assert e.amount <= len(held[e.address])


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(ACCOUNT_MODELS))
def test_account_exact_python_path_equals_compiled_path(rnd, model):
    _txs, led, sources = _account_case(rnd)
    if not sources:
        return
    fast = trace(led, sources, model=model).to_dict()
    led.ev_amount = np.array([int(v) for v in led.ev_amount], dtype=object)
    slow = trace(led, sources, model=model).to_dict()
    assert fast == slow


@SETTINGS
@given(
    st.randoms(use_true_random=False),
    st.sampled_from(UTXO_MODELS),
    st.sampled_from(["forward", "backward"]),
)
def test_utxo_exact_python_path_equals_compiled_path(rnd, model, direction):
    _, g, sources, labels = _utxo_case(rnd)
    fast = trace(g, sources, model=model, direction=direction, attribution=labels).to_dict()
    g.out_value = np.array([int(v) for v in g.out_value], dtype=object)
    g.in_value = np.array([int(v) for v in g.in_value], dtype=object)
    slow = trace(g, sources, model=model, direction=direction, attribution=labels).to_dict()
    assert fast == slow


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(UTXO_MODELS))
def test_utxo_explain_paths_sum_to_endpoint(rnd, model):
    _, g, sources, labels = _utxo_case(rnd)
    r = trace(g, sources, model=model, attribution=labels)
    src_txs = {s[0] for s in sources}
    for addr in {e.address for e in r.endpoints if e.address}:
        paths = explain(r, addr)
        assert sum(p[-1].amount for p in paths) == sum(
            e.amount for e in r.endpoints if e.address == addr
        )
        for p in paths:
            assert p[0].tx in src_txs and p[-1].to_address == addr


@SETTINGS
@given(st.randoms(use_true_random=False), st.sampled_from(ACCOUNT_MODELS))
def test_account_explain_paths_sum_to_endpoint(rnd, model):
    _txs, led, sources = _account_case(rnd)
    if not sources:
        return
    r = trace(led, sources, model=model, attribution={"0x01": ("Ex", "exchange")})
    for addr in {e.address for e in r.endpoints if e.address}:
        paths = explain(r, addr)
        assert sum(p[-1].amount for p in paths) == sum(
            e.amount for e in r.endpoints if e.address == addr
        )
        for p in paths:
            assert (p[0].tx, p[0].index) in set(sources)
