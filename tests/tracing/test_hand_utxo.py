"""Hand-computed multi-hop Bitcoin cases, one per model, plus limits, labels and explain.

History (satoshi): coinbases c:0 = 100 to A and d:0 = 50 to B.
t1 spends c:0, d:0 -> X 60, Y 80 (fee 10); t2 spends t1:1 (Y) -> Z 30, EX 45 (fee 5).
EX is an exchange. Source: c:0 (100).
"""

from __future__ import annotations

import json

import pytest

from fundtrace.core.model import Chain, Transaction, TxInput, TxOutput
from fundtrace.tracing import AddressSource, build_utxo_graph, explain, format_table, trace


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


GRAPH = build_utxo_graph(
    [
        _tx("t2", 3, [("t1", 1)], [("Z", 30), ("EX", 45)]),
        _tx("c", 1, [], [("A", 100)], cb=True),
        _tx("d", 2, [], [("B", 50)], cb=True),
        _tx("t1", 2, [("c", 0), ("d", 0)], [("X", 60), ("Y", 80)]),
    ]
)
LABELS = {"EX": ("Binance", "exchange")}


def _ends(r):
    return {(e.address, e.kind): e.amount for e in r.endpoints}


# expected endpoints per model, worked out by hand:
EXPECTED = {
    # every output of a tainted spend is wholly tainted, and the fees (10 + 5)
    "poison": {
        ("X", "holding"): 60,
        ("Z", "holding"): 30,
        ("EX", "labeled"): 45,
        (None, "fee"): 15,
    },
    # t1: T=100 of I=150: X 60*100/150=40, Y 53.33, fee 6.67 -> floors 40,53,6, the spare unit
    # to the largest remainder (fee 100/150 > Y 50/150): Y 53, fee 7.
    # t2: T=53 of 80: Z 19.875, EX 29.8125, fee 3.3125 -> 19,29,3 + 2 units to Z(70) and EX(65)
    "haircut": {
        ("X", "holding"): 40,
        ("Z", "holding"): 20,
        ("EX", "labeled"): 30,
        (None, "fee"): 10,
    },
    # inputs A[0,100) B[100,150); X [0,60) all tainted, Y [60,140) tainted 40 = Y[0,40);
    # t2: Z = Y[0,30) -> 30, EX = Y[30,75) -> 10, fee Y[75,80) -> 0
    "fifo": {("X", "holding"): 60, ("Z", "holding"): 30, ("EX", "labeled"): 10},
    # reversed inputs B[0,50) A[50,150): X [0,60) -> 10, Y [60,140) -> 80 (all), fee 10;
    # t2: Y wholly tainted: Z 30, EX 45, fee 5
    "lifo": {("X", "holding"): 10, ("Z", "holding"): 30, ("EX", "labeled"): 45, (None, "fee"): 15},
    # t1: 100 fills Y 80 then X 20; t2: 80 fills EX 45, Z 30, fee 5
    "tiho": {("X", "holding"): 20, ("Z", "holding"): 30, ("EX", "labeled"): 45, (None, "fee"): 5},
}


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_forward_models_by_hand(model):
    r = trace(GRAPH, [("c", 0)], model=model, attribution=LABELS)
    assert _ends(r) == EXPECTED[model]
    assert r.source_amount == 100
    if model != "poison":
        assert sum(e.amount for e in r.endpoints) == 100
    assert {(f.tx, f.index): f.hop for f in r.flows}.get(("t2", 1)) == 2


def test_fifo_exact_ranges():
    r = trace(GRAPH, ["c:0"], model="fifo")
    assert r.tainted_ranges("t1", 1) == [(0, 40)]
    assert r.tainted_ranges("t2", 1) == [(0, 10)]  # EX = Y[30,75) ∩ Y[0,40) = Y[30,40)
    r = trace(GRAPH, ["c:0"], model="lifo")
    assert r.tainted_ranges("t1", 0) == [(50, 60)]


def test_backward_fifo_and_haircut():
    # EX's 45 = Y[30,75) = t1 input space [90,135): A gives [90,100) = 10, B gives 35
    r = trace(GRAPH, ["t2:1"], model="fifo", direction="backward")
    assert _ends(r) == {("A", "holding"): 10, ("B", "holding"): 35}
    # haircut: 45 * 100/150 = 30 from A, 15 from B
    r = trace(GRAPH, ["t2:1"], model="haircut", direction="backward")
    assert _ends(r) == {("A", "holding"): 30, ("B", "holding"): 15}
    # tiho backward: drawn from the biggest input first (A 100)
    r = trace(
        GRAPH,
        [AddressSource("EX")],
        model="tiho",
        direction="backward",
        attribution={"A": ("Miner", "mining")},
    )
    assert _ends(r) == {("A", "labeled"): 45}


def test_max_hops_and_min_amount_make_limit_endpoints():
    r = trace(GRAPH, ["c:0"], model="fifo", max_hops=1)
    # Y (hop 1) would be spent at hop 2: its 40 stop there
    assert _ends(r) == {("X", "holding"): 60, ("Y", "limit"): 40}
    r = trace(GRAPH, ["c:0"], model="fifo", min_amount=50)
    assert _ends(r) == {("X", "holding"): 60, ("Y", "limit"): 40}
    assert json.loads(r.to_json())["summary"]["limit"] == "40"


def test_through_category_continues():
    labels = {"Y": ("Wormhole", "bridge"), "EX": ("Binance", "exchange")}
    r = trace(GRAPH, ["c:0"], model="tiho", attribution=labels)
    assert _ends(r)[("Y", "labeled")] == 80
    r = trace(GRAPH, ["c:0"], model="tiho", attribution=labels, through={"bridge"})
    assert _ends(r)[("EX", "labeled")] == 45 and ("Y", "labeled") not in _ends(r)
    assert r.parameters["through"] == ["bridge"]


def test_json_shape_and_explain():
    r = trace(GRAPH, ["c:0"], model="haircut", attribution=LABELS)
    d = json.loads(r.to_json())
    assert list(d) == [
        "chain",
        "asset",
        "decimals",
        "model",
        "direction",
        "sources",
        "source_amount",
        "endpoints",
        "summary",
        "flows",
        "warnings",
        "parameters",
    ]
    assert d["source_amount"] == "100" and d["decimals"] == 8
    assert d["summary"] == {
        "by_entity": {"Binance": "30"},
        "holding": "60",
        "fee": "10",
        "limit": "0",
    }
    assert d["endpoints"][0] == {
        "address": "X",
        "entity": None,
        "category": None,
        "amount": "40",
        "kind": "holding",
    }
    assert {"tx": "t2", "index": 1, "from": "Y", "to": "EX", "amount": "30", "hop": 2} in d["flows"]
    paths = explain(r, "EX")
    assert [[(s.tx, s.index) for s in p] for p in paths] == [[("c", 0), ("t1", 1), ("t2", 1)]]
    assert paths[0][-1].amount == 30
    assert "Binance" in format_table(r)


def test_bad_sources_are_clear_errors():
    with pytest.raises(ValueError, match="not in the loaded data"):
        trace(GRAPH, ["nope:0"], model="fifo")
    with pytest.raises(ValueError, match="unknown model"):
        trace(GRAPH, ["c:0"], model="fofi")
