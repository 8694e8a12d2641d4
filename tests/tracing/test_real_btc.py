"""A real peel chain from mainnet block 279,671 (shared/fixtures/btc/rpc/ordhook/279671.json).

PROVENANCE.md: 36 inputs spend outputs of the same block; one chain is b55c6c50 -> cfe599c4 ->
3c40c057 -> 5de8d57b, the last spending 3c40c057:1 (631,006,419 sat). Each hop spends a single
input, peels one output off and pays a 50,000 sat fee. The records are built here with a
minimal reader (amounts via Decimal and btc_to_sat) so this test does not depend on the
Bitcoin adapter.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fundtrace.core.amounts import btc_to_sat
from fundtrace.core.model import Chain, Transaction, TxInput, TxOutput
from fundtrace.tracing import UTXO_MODELS, build_utxo_graph, explain, trace
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

B55 = "b55c6c50454696478866228b1f3e689524910408cfc901cb16af13a10367382a"
CFE = "cfe599c434836c089a8e7af3db551ab6dc02daae47dc4ca3160e4b4e9a8634bc"
C3C = "3c40c057807c958796fe4d031530db54ea80afc14409f4ef3617640fd773bdcc"
D5D = "5de8d57b9c6a8dd08f26de8bfa9a84e53d8071e1d1c9c16ab6e789ce043a69d6"


@pytest.fixture(scope="module")
def graph():
    path = FIXTURES / "btc" / "rpc" / "ordhook" / "279671.json"
    block = json.loads(path.read_text(), parse_float=Decimal)["result"]
    txs = []
    for pos, t in enumerate(block["tx"]):
        ins = [
            TxInput(
                i,
                v.get("txid"),
                v.get("vout"),
                btc_to_sat(v["prevout"]["value"]) if "prevout" in v else None,
                v.get("prevout", {}).get("scriptPubKey", {}).get("address"),
            )
            if "coinbase" not in v
            else TxInput(i, None, None)
            for i, v in enumerate(t["vin"])
        ]
        outs = [
            TxOutput(
                o["n"],
                btc_to_sat(o["value"]),
                o["scriptPubKey"]["type"],
                o["scriptPubKey"].get("address"),
            )
            for o in t["vout"]
        ]
        txs.append(
            Transaction(
                Chain.BTC,
                t["txid"],
                block["height"],
                tx_index=pos,
                is_coinbase=pos == 0,
                inputs=ins,
                outputs=outs,
            )
        )
    return build_utxo_graph(txs)


@pytest.mark.parametrize("model", UTXO_MODELS)
def test_peel_chain_forward(graph, model):
    r = trace(graph, [(B55, 0)], model=model)
    assert r.source_amount == 682_756_149
    hops = {(f.tx, f.index): (f.amount, f.hop) for f in r.flows}
    assert hops[(C3C, 1)] == (631_006_419, 2)  # the figure PROVENANCE.md gives
    assert hops[(D5D, 1)] == (156_300_000, 3)
    ends = {e.address: e.amount for e in r.endpoints}
    # single-input hops, so every model agrees: the peels stay where they were paid, and the
    # chain goes on inside the block, paying a fee at every hop (50,000 sat on these four)
    assert ends["1JG8JVpMNQULyP6MjYcih2HfRco2Un83E1"] == 12_500_000
    assert ends["1Dtw7RaLSBCrq9nfD6cv6bNBXhNVb4Bz7R"] == 156_300_000
    assert ends[None] >= 150_000
    assert sum(ends.values()) == 682_756_149


def test_peel_chain_backward_and_explain(graph):
    r = trace(graph, [(D5D, 2)], model="fifo", direction="backward")
    # 4,700,000 sat of the last peel came, through three hops, from b55c6c50's input
    # d1120d87...:2 which is not in this block: the origin is that input's address
    assert sum(e.amount for e in r.endpoints) == 4_700_000
    assert [e.kind for e in r.endpoints] == ["holding"]
    f = trace(
        graph,
        [(B55, 0)],
        model="haircut",
        attribution={"1Dtw7RaLSBCrq9nfD6cv6bNBXhNVb4Bz7R": ("Some exchange", "exchange")},
    )
    paths = explain(f, "1Dtw7RaLSBCrq9nfD6cv6bNBXhNVb4Bz7R")
    assert [[s.tx for s in p] for p in paths] == [[B55, CFE, C3C, D5D]]
    assert paths[0][-1].amount == 156_300_000
