"""Hand-computed multi-hop account cases (native ETH, fees) per model, plus edge cases.

Ledger (wei, fee first in each tx): m mints 100 to A; n mints 50 to A;
s: A pays fee 10, A -> B 120; u: B pays fee 5, B -> EX 60 (native 0), B -> C 40 (internal 1).
Source: m (100). EX is an exchange.
"""

from __future__ import annotations

import pytest

from fundtrace.core.model import NATIVE, Chain, Transaction, Transfer, TransferKind
from fundtrace.tracing import AddressSource, build_account_ledger, explain, trace


def _tx(h, blk, transfers, fee=0, payer=None, ok=True, kind=None, asset=NATIVE):
    trs = []
    for i, (f, t, a) in enumerate(transfers):
        k = kind or (TransferKind.NATIVE if i == 0 else TransferKind.INTERNAL)
        trs.append(Transfer(i, k, asset, f, t, a))
    return Transaction(
        Chain.ETH, h, blk, tx_index=0, fee=fee, fee_payer=payer, success=ok, transfers=trs
    )


TXS = [
    _tx("u", 4, [("B", "EX", 60), ("B", "C", 40)], fee=5, payer="B"),
    _tx("m", 1, [(None, "A", 100)]),
    _tx("n", 2, [(None, "A", 50)]),
    _tx("s", 3, [("A", "B", 120)], fee=10, payer="A"),
]
LEDGER = build_account_ledger(TXS, NATIVE)
LABELS = {"EX": ("Binance", "exchange")}

EXPECTED = {
    # every outflow of A and B after taint is wholly tainted; holdings are whole balances
    "poison": {
        ("EX", "labeled"): 60,
        ("C", "holding"): 40,
        ("A", "holding"): 20,
        ("B", "holding"): 15,
        (None, "fee"): 15,
    },
    # A 100/150: fee 10*100/150=6 (T 94, B 140); s 120*94/140=80 (A keeps 14 of 20)
    # B 80/120: fee 5*80/120=3 (77/115); EX 60*77/115=40 (37/55); C 40*37/55=26 (B keeps 11)
    "haircut": {
        ("EX", "labeled"): 40,
        ("C", "holding"): 26,
        ("A", "holding"): 14,
        ("B", "holding"): 11,
        (None, "fee"): 9,
    },
    # A lots [T100, U50]: fee T10, s takes T90 U30 -> B [T90, U30], A keeps U20
    # B: fee T5, EX T60, C T25 + U15
    "fifo": {("EX", "labeled"): 60, ("C", "holding"): 25, (None, "fee"): 15},
    # A: fee U10, s takes U40 + T80 -> B [T80, U40], A keeps T20
    # B: fee U5, EX U35 + T25, C T40, B keeps T15
    "lifo": {
        ("EX", "labeled"): 25,
        ("C", "holding"): 40,
        ("A", "holding"): 20,
        ("B", "holding"): 15,
    },
}


def _ends(r):
    return {(e.address, e.kind): e.amount for e in r.endpoints}


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_forward_models_by_hand(model):
    r = trace(LEDGER, [("m", "native", 0)], model=model, attribution=LABELS)
    assert _ends(r) == EXPECTED[model]
    if model != "poison":
        assert sum(e.amount for e in r.endpoints) == r.source_amount == 100
    hops = {(f.tx, f.index): f.hop for f in r.flows}
    assert hops[("m", 0)] == 0 and hops[("s", 0)] == 1 and hops[("u", 0)] == 2


def test_backward_fifo_lifo():
    # fifo: C's 40 = B's inflow units [65,105) = A's outflow units [75,115) = m 25 + n 15
    r = trace(LEDGER, ["u:1"], model="fifo", direction="backward")
    assert sorted((f.tx, f.amount) for f in r.flows if f.tx in "mn") == [("m", 25), ("n", 15)]
    assert _ends(r) == {(None, "holding"): 40}  # minted: origin before any address held it
    r = trace(LEDGER, ["u:1"], model="lifo", direction="backward")
    assert sorted((f.tx, f.amount) for f in r.flows if f.tx in "mn") == [("m", 40)]
    # what A still holds (20) came, under fifo, from n (the newest lot)
    r = trace(LEDGER, [AddressSource("A")], model="fifo", direction="backward")
    assert {(f.tx, f.amount) for f in r.flows} == {("n", 20)}


def test_limits_and_through():
    r = trace(LEDGER, ["m:0"], model="fifo", max_hops=1, attribution=LABELS)
    # B got taint at hop 1; its outflows would be hop 2: fee 5 + EX 60 + C 25 stop at B
    assert _ends(r) == {("B", "limit"): 90, (None, "fee"): 10}
    r = trace(LEDGER, ["m:0"], model="haircut", min_amount=30, attribution=LABELS)
    # A's fee taint 6 < 30 stops at A (limit); B's fee 3 and C's 26 stop at B
    assert _ends(r) == {
        ("A", "limit"): 6,
        ("A", "holding"): 14,
        ("B", "limit"): 29,
        ("B", "holding"): 11,
        ("EX", "labeled"): 40,
    }
    labels = {"B": ("Hop", "bridge"), **LABELS}
    assert _ends(trace(LEDGER, ["m:0"], model="fifo", attribution=labels)) == {
        ("B", "labeled"): 90,
        (None, "fee"): 10,
    }
    r = trace(LEDGER, ["m:0"], model="fifo", attribution=labels, through={"bridge"})
    assert _ends(r) == EXPECTED["fifo"]


def test_failed_tx_moves_only_fee_and_incomplete_history_warns():
    txs = [
        _tx("m", 1, [(None, "A", 100)]),
        _tx("f", 2, [("A", "B", 100)], fee=7, payer="A", ok=False),
        _tx("o", 3, [("A", "C", 130)], fee=3, payer="A"),  # A only has 93 left: 37 unknown
    ]
    led = build_account_ledger(txs, NATIVE)
    r = trace(led, ["m:0"], model="fifo")
    assert _ends(r) == {("C", "holding"): 90, (None, "fee"): 10}
    assert any("incomplete history" in w for w in r.warnings)
    assert not any(f.tx == "f" and f.index == 0 for f in r.flows)


def test_token_ledger_ignores_native_and_explain_sums():
    tok = "0xdac17f958d2ee523a2206206994597c13d831ec7"
    txs = [
        _tx("a", 1, [(None, "A", 10**30)], kind=TransferKind.TOKEN, asset=tok),
        _tx(
            "b",
            2,
            [("A", "B", 4 * 10**29), ("A", "EX", 6 * 10**29)],
            fee=3,
            payer="A",
            kind=TransferKind.TOKEN,
            asset=tok,
        ),
        _tx("c", 3, [("A", "B", 5)]),  # native, not part of the token ledger
    ]
    led = build_account_ledger(txs, tok, decimals=6)
    assert led.ev_amount.dtype == object  # beyond int64: the exact Python path
    r = trace(led, [("a", "token", 0)], model="haircut", attribution=LABELS)
    assert _ends(r) == {("B", "holding"): 4 * 10**29, ("EX", "labeled"): 6 * 10**29}
    assert r.to_dict()["decimals"] == 6
    paths = explain(r, "EX")
    assert [[s.tx for s in p] for p in paths] == [["a", "b"]]
    assert paths[0][-1].amount == 6 * 10**29
