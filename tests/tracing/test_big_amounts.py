"""Wei/token amounts whose ledger total passes 2**62 stay on the compiled int64 path as long as
every sum a sweep can form fits (per address: received + sent; the fee/burn sinks), and give
exactly what the exact Python-int path gives."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrace.core.model import NATIVE, Chain, Transaction, Transfer, TransferKind
from fundtrace.tracing import ACCOUNT_MODELS, build_account_ledger, trace
from fundtrace.tracing.arith import INT64_SAFE
from tests.tracing.histories import random_account_history

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tx(h, blk, transfers, fee=0, payer=None):
    trs = [
        Transfer(i, TransferKind.NATIVE, NATIVE, f, t, a) for i, (f, t, a) in enumerate(transfers)
    ]
    return Transaction(Chain.ETH, h, blk, tx_index=0, fee=fee, fee_payer=payer, transfers=trs)


def _exact_copy(led):
    slow = dataclasses.replace(led)
    slow.ev_amount = np.array([int(v) for v in led.ev_amount], dtype=object)
    return slow


def _chain_history(n: int, unit: int) -> list[Transaction]:
    """``n`` mints of ``unit`` to m_i, each passed on to p_i, then half of it to the sink X."""
    txs = []
    for i in range(n):
        txs.append(_tx(f"m{i}", 3 * i, [(None, f"m{i}", unit)]))
        txs.append(_tx(f"p{i}", 3 * i + 1, [(f"m{i}", f"p{i}", unit)]))
    return txs


def test_grand_total_past_2_62_stays_compiled_and_exact():
    unit = 2**61 - 12345
    txs = _chain_history(8, unit)  # grand total 16 * unit > 2**62; per address 2 * unit < 2**62
    led = build_account_ledger(txs, NATIVE)
    assert int(sum(int(v) for v in led.ev_amount)) >= INT64_SAFE
    assert led.ev_amount.dtype == np.int64
    for model in ACCOUNT_MODELS:
        r = trace(led, ["m3:0"], model=model)
        assert {(e.address, e.kind): e.amount for e in r.endpoints} == {("p3", "holding"): unit}
        assert r.to_dict() == trace(_exact_copy(led), ["m3:0"], model=model).to_dict()


def test_an_address_past_the_bound_uses_exact_ints():
    unit = 2**61
    txs = [  # H receives 2 * 2**61 = 2**62: its balance would not fit the compiled path's bound
        _tx("a", 1, [(None, "H", unit)]),
        _tx("b", 2, [(None, "H", unit)]),
        _tx("c", 3, [("H", "Y", unit + 7)]),
    ]
    led = build_account_ledger(txs, NATIVE)
    assert led.ev_amount.dtype == object
    r = trace(led, ["b:0"], model="fifo")
    assert {(e.address, e.kind): e.amount for e in r.endpoints} == {
        ("Y", "holding"): 7,
        ("H", "holding"): unit - 7,
    }


def test_huge_sources_together_trace_on_exact_ints():
    unit = 2**61 + 1
    txs = [_tx(f"s{i}", i, [(None, f"a{i}", unit)]) for i in range(3)]
    led = build_account_ledger(txs, NATIVE)
    assert led.ev_amount.dtype == np.int64
    r = trace(led, ["s0:0", "s1:0", "s2:0"], model="haircut")
    assert r.source_amount == 3 * unit
    assert sum(e.amount for e in r.endpoints) == 3 * unit


def _scaled(txs: list[Transaction], k: int) -> list[Transaction]:
    out = []
    for tx in txs:
        trs = [dataclasses.replace(t, amount=t.amount * k) for t in tx.transfers]
        out.append(dataclasses.replace(tx, fee=(tx.fee or 0) * k, transfers=trs))
    return out


def _fits(txs: list[Transaction]) -> bool:
    """The bound ``ledger_money`` promises, computed the slow way."""
    per: dict[str, int] = {}
    sink = 0
    for tx in txs:
        moves = [(tx.fee_payer, None, tx.fee)] if tx.fee and tx.fee_payer else []
        if tx.success:
            moves += [(t.from_address, t.to_address, t.amount) for t in tx.transfers]
        for f, t, a in moves:
            for addr in {f, t} - {None}:
                per[addr] = per.get(addr, 0) + (2 * a if f == t else a)
            sink += a if t is None and f is not None else 0
    return max(per.values(), default=0) < INT64_SAFE and sink < INT64_SAFE


@SETTINGS
@given(
    st.randoms(use_true_random=False),
    st.integers(40, 58),
    st.sampled_from(ACCOUNT_MODELS),
    st.sampled_from(["forward", "backward"]),
)
def test_scaled_histories_compiled_equals_exact(rnd, shift, model, direction):
    txs = _scaled(random_account_history(random.Random(rnd.random())), 2**shift + 3)
    led = build_account_ledger(txs, NATIVE)
    assert (led.ev_amount.dtype == np.int64) == _fits(txs)
    cands = [(t.hash, tr.index) for t in txs if t.success for tr in t.transfers if tr.amount]
    if not cands:
        return
    sources = rnd.sample(cands, min(len(cands), 2))
    fast = trace(led, sources, model=model, direction=direction).to_dict()
    assert fast == trace(_exact_copy(led), sources, model=model, direction=direction).to_dict()
