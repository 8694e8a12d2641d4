"""Filling unknown input values from the batch and a (dict-backed) store lookup."""

from __future__ import annotations

import pytest

from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getrawtransaction
from fundtrace.chains.btc.resolve import resolve_input_values
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Chain, Transaction, TxInput, TxOutput
from tests.chains.test_btc_support import (
    BLOCK_279671,
    RPC,
    getrawtransaction_files,
    load_json,
)
from tests.paths import needs_shared

pytestmark = needs_shared


class DictLookup:
    """Stands in for the database: answers from a dict and records what it was asked."""

    def __init__(self, known: dict) -> None:
        self.known = known
        self.calls: list[list] = []

    def __call__(self, keys):
        self.calls.append(list(keys))
        return {k: self.known[k] for k in keys if k in self.known}


def prevout_store() -> DictLookup:
    known = {}
    for path in getrawtransaction_files()[:3]:
        tx = parse_getrawtransaction(load_json(path))
        for o in tx.outputs:
            known[(tx.hash, o.index)] = (o.value, o.address, o.script_type)
    return DictLookup(known)


def block_50001() -> Batch:
    (path,) = (RPC / "bitcoin-etl" / "block_with_transactions").glob("*getblock_000000001c92*")
    return parse_getblock(load_json(path))


def test_block_50001_resolves_from_the_store() -> None:
    batch = block_50001()
    lookup = prevout_store()
    assert resolve_input_values(batch, lookup) == []
    assert len(lookup.calls) == 1 and len(lookup.calls[0]) == 3
    cb, t1, t2 = batch.transactions
    assert [(i.value, i.address, i.script_type) for i in t1.inputs] == [
        (5_000_000_000, "1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae", "pubkey"),
        (5_000_000_000, "1PZMgkF2x161qvfP7dhoWSEEU3SjnQE1m9", "pubkey"),
    ]
    assert (t1.fee, t2.fee) == (0, 0)
    # PROVENANCE: block fees are 0, so the coinbase is exactly the 50 BTC subsidy
    assert cb.output_total() == 5_000_000_000 + t1.fee + t2.fee


def test_the_gap_is_reported_in_input_order() -> None:
    batch = block_50001()
    lookup = DictLookup({})
    gap = resolve_input_values(batch, lookup)
    assert [(txid[:8], vout) for txid, vout in gap] == [
        ("76a8d70a", 0),
        ("0dd0394c", 0),
        ("0d37522b", 0),
    ]
    assert all(t.fee is None for t in batch.transactions[1:])
    partial = block_50001()
    known = prevout_store().known
    only_one = {k: v for k, v in known.items() if k[0].startswith("0d37522b")}
    gap = resolve_input_values(partial, DictLookup(only_one))
    assert [txid[:8] for txid, _ in gap] == ["76a8d70a", "0dd0394c"]
    assert partial.transactions[1].fee is None and partial.transactions[2].fee == 0


def test_batch_outputs_answer_before_the_lookup() -> None:
    data = load_json(BLOCK_279671)
    for tx in data["result"]["tx"]:
        for vin in tx["vin"]:
            vin.pop("prevout", None)
        tx.pop("fee", None)
    batch = parse_getblock(data)
    full = parse_getblock(load_json(BLOCK_279671))
    store = {
        (i.spent_txid, i.spent_vout): (i.value, i.address, i.script_type)
        for t in full.transactions
        for i in t.inputs
        if not i.is_coinbase
    }
    lookup = DictLookup(store)
    assert resolve_input_values(batch, lookup) == []
    assert len(lookup.calls[0]) == 1053 - 36  # the 36 same-block spends never reach the store
    assert [t.fee for t in batch.transactions] == [t.fee for t in full.transactions]
    assert batch.transactions == full.transactions


def _tx(txid: str, inputs: list[TxInput], outputs: list[int]) -> Transaction:
    return Transaction(
        Chain.BTC,
        txid,
        None,
        inputs=inputs,
        outputs=[TxOutput(n, v, "pubkeyhash", f"addr{n}") for n, v in enumerate(outputs)],
    )


def test_hand_made_chain_across_transactions_in_any_order() -> None:
    a = "aa" * 32
    b = "bb" * 32
    c = "cc" * 32
    # b spends a:1, c spends b:0 and an outside output; the batch lists c first
    tx_b = _tx(b, [TxInput(0, a, 1)], [700])
    tx_c = _tx(c, [TxInput(0, b, 0), TxInput(1, "dd" * 32, 5)], [1_000])
    tx_a = _tx(a, [TxInput(0, "ee" * 32, 0)], [100, 800])
    batch = Batch(Chain.BTC, transactions=[tx_c, tx_b, tx_a])
    gap = resolve_input_values(batch, DictLookup({("dd" * 32, 5): (350, "x", "pubkey")}))
    assert gap == [("ee" * 32, 0)]
    assert (tx_b.fee, tx_c.fee, tx_a.fee) == (100, 50, None)
    assert tx_c.inputs[0].address == "addr0"


def test_a_lookup_that_makes_outputs_exceed_inputs_is_an_error() -> None:
    tx = _tx("aa" * 32, [TxInput(0, "bb" * 32, 0)], [1_000])
    with pytest.raises(ParseError, match="outputs exceed inputs"):
        resolve_input_values(
            Batch(Chain.BTC, transactions=[tx]), DictLookup({("bb" * 32, 0): (999, None, None)})
        )


def test_a_stated_fee_is_checked_once_inputs_are_known() -> None:
    tx = _tx("aa" * 32, [TxInput(0, "bb" * 32, 0)], [1_000])
    tx.fee = 10  # as Core's verbosity-2 "fee" would state it
    with pytest.raises(ParseError, match="stated fee 10"):
        resolve_input_values(
            Batch(Chain.BTC, transactions=[tx]), DictLookup({("bb" * 32, 0): (1_011, None, None)})
        )
    tx.inputs[0].value = None
    resolve_input_values(
        Batch(Chain.BTC, transactions=[tx]), DictLookup({("bb" * 32, 0): (1_010, None, None)})
    )
    assert tx.fee == 10


def test_no_lookup_means_batch_only() -> None:
    batch = block_50001()
    assert len(resolve_input_values(batch)) == 3
