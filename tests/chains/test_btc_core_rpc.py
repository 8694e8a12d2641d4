"""Bitcoin Core RPC results -> canonical records, checked against PROVENANCE.md's figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getrawtransaction
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Transaction
from tests.chains.test_btc_support import (
    BLOCK_279671,
    GRAPHSENSE_TX,
    RPC,
    getblock_files,
    getblockhash_files,
    getrawtransaction_files,
    load_json,
)
from tests.paths import needs_shared

pytestmark = needs_shared

SUBSIDY_279671 = 2_500_000_000  # 25 BTC, second halving era
SUBSIDY_50 = 5_000_000_000


@pytest.fixture(scope="module")
def block_279671() -> Batch:
    return parse_getblock(load_json(BLOCK_279671), source=BLOCK_279671.name)


def _tx(batch: Batch, prefix: str) -> Transaction:
    (tx,) = [t for t in batch.transactions if t.hash.startswith(prefix)]
    return tx


def test_block_279671_header_and_counts(block_279671: Batch) -> None:
    (block,) = block_279671.blocks
    assert block.number == 279671
    assert block.hash == "0000000000000002fa7d943a10651794a50447c262216df7695da5d624761cbf"
    assert block.timestamp == 1389346531
    assert block.tx_count == 217 == len(block_279671.transactions)
    txs = block_279671.transactions
    assert sum(len(t.inputs) for t in txs) == 1054
    assert sum(len(t.outputs) for t in txs) == 725
    assert [t.tx_index for t in txs] == list(range(217))
    assert all(t.block_number == 279671 and t.timestamp == 1389346531 for t in txs)
    scripts = {o.script_type for t in txs for o in t.outputs}
    scripts |= {i.script_type for t in txs[1:] for i in t.inputs}
    assert scripts == {"pubkeyhash"}


def test_block_279671_coinbase_is_subsidy_plus_fees(block_279671: Batch) -> None:
    coinbase, *rest = block_279671.transactions
    assert coinbase.is_coinbase and coinbase.hash.startswith("b71b2ba6")
    assert len(coinbase.outputs) == 132
    fees = sum(t.fee for t in rest)
    assert fees == 5_047_000
    assert coinbase.output_total() == 2_505_047_000 == SUBSIDY_279671 + fees
    assert coinbase.fee == 0


def test_block_279671_every_tx_balances_and_matches_the_stated_fee(block_279671: Batch) -> None:
    raw = {t["txid"]: t for t in load_json(BLOCK_279671)["result"]["tx"]}
    for tx in block_279671.transactions[1:]:
        tx.validate()
        assert tx.input_total() == tx.output_total() + tx.fee
        assert tx.fee == int(raw[tx.hash]["fee"] * 100_000_000)


def test_block_279671_named_transactions(block_279671: Batch) -> None:
    t = _tx(block_279671, "1fb84fb6")
    assert [(i.value, i.spent_vout) for i in t.inputs] == [(150_000_000, 0)]
    assert [(o.value, o.address) for o in t.outputs] == [
        (30_000_000, "1CKMi4rzpcCZZ8QMitMGVMe9tY7vAgcUUF"),
        (119_900_000, "1PxP8JgfkeSHT9FgYCuEtUVabgG88SysZt"),
    ]
    assert t.fee == 100_000
    t = _tx(block_279671, "663949f0")
    assert (len(t.inputs), len(t.outputs), t.fee) == (402, 2, 730_000)
    assert t.fee == max(x.fee for x in block_279671.transactions)
    t = _tx(block_279671, "e02f4e64")
    assert (len(t.inputs), len(t.outputs), t.fee) == (1, 150, 300_000)
    t = _tx(block_279671, "6ae5c939")
    assert (len(t.inputs), t.fee) == (3, 50_000)


def test_block_279671_same_block_spends(block_279671: Batch) -> None:
    outputs = {(t.hash, o.index): o for t in block_279671.transactions for o in t.outputs}
    same_block = [
        (i, outputs[(i.spent_txid, i.spent_vout)])
        for t in block_279671.transactions
        for i in t.inputs
        if (i.spent_txid, i.spent_vout) in outputs
    ]
    assert len(same_block) == 36
    for inp, out in same_block:
        assert (inp.value, inp.address, inp.script_type) == (
            out.value,
            out.address,
            out.script_type,
        )
    last = _tx(block_279671, "5de8d57b")
    spend = [i for i in last.inputs if i.spent_txid.startswith("3c40c057")]
    assert [(i.spent_vout, i.value) for i in spend] == [(1, 631_006_419)]


def test_verbosity_2_gets_same_block_values_without_prevouts() -> None:
    """Strip the prevouts (verbosity 2): same-block spends still get values, the rest not."""
    data = load_json(BLOCK_279671)
    for tx in data["result"]["tx"]:
        for vin in tx["vin"]:
            vin.pop("prevout", None)
        tx.pop("fee", None)
    batch = parse_getblock(data)
    known = [i for t in batch.transactions[1:] for i in t.inputs if i.value is not None]
    assert len(known) == 36
    full = parse_getblock(load_json(BLOCK_279671))
    for a, b in zip(batch.transactions, full.transactions, strict=True):
        assert a.outputs == b.outputs
        if a.input_total() is not None:
            assert a.fee == b.fee
        else:
            assert a.fee is None


@pytest.mark.parametrize(
    ("height", "coinbase", "address"),
    [
        (
            0,
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        ),
        (
            1,
            "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098",
            "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX",
        ),
        (
            50000,
            "27f1d66f8a1ee5280f4e92508dcb647e954d53004905d08a75574daee4988360",
            "1ND5TQ2AnQatxqmHrdMT8utb3aWgLKsc9w",
        ),
        (
            50001,
            "e1882d41800d96d0fddc196cd8d3f0b45d65b030c652d97eaba79a1174e64d58",
            "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ",
        ),
        (
            50002,
            "5164dc2785549f9efe14eb1c54522ec1874a02b7eda164fde370c05412f037ad",
            "1CvMvWyKJvfg6wQSGdHraoJ7NFu8KaTL1u",
        ),
    ],
)
def test_early_blocks_pay_50_btc_p2pk(height: int, coinbase: str, address: str) -> None:
    (batch,) = [
        b
        for b in (parse_getblock(load_json(p)) for p in getblock_files())
        if b.blocks[0].number == height
    ]
    cb = batch.transactions[0]
    assert (cb.hash, cb.is_coinbase, cb.fee) == (coinbase, True, 0)
    assert [(o.value, o.script_type, o.address) for o in cb.outputs] == [
        (SUBSIDY_50, "pubkey", address)
    ]
    assert cb.inputs[0].is_coinbase and len(cb.inputs) == 1


def test_genesis_has_no_parent_and_getblockhash_files_match() -> None:
    by_height = {
        b.blocks[0].number: b.blocks[0]
        for b in map(parse_getblock, map(load_json, getblock_files()))
    }
    assert by_height[0].parent_hash is None
    assert by_height[1].parent_hash == by_height[0].hash
    for path in getblockhash_files():
        height = int(path.stem.rsplit("_", 1)[1])
        assert load_json(path) == by_height[height].hash


def test_block_50001_spends_are_unknown_until_resolved() -> None:
    path = RPC / "bitcoin-etl" / "block_with_transactions"
    (f,) = path.glob("*getblock_000000001c92*")
    batch = parse_getblock(load_json(f))
    t1, t2 = batch.transactions[1:]
    assert [(i.spent_txid[:8], i.spent_vout, i.value) for i in t1.inputs] == [
        ("76a8d70a", 0, None),
        ("0dd0394c", 0, None),
    ]
    assert t1.fee is None and t2.fee is None
    assert [(o.value, o.script_type, o.address) for o in t1.outputs] == [
        (10_000_000_000, "pubkeyhash", "1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ")
    ]


def test_getrawtransaction_prevouts_of_block_50001() -> None:
    expected = {
        "0d37522b": "18dxbN6m8zxieN8F9BchXmhbeXUdFLr8fD",
        "0dd0394c": "1PZMgkF2x161qvfP7dhoWSEEU3SjnQE1m9",
        "76a8d70a": "1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae",
    }
    for path in getrawtransaction_files()[:3]:
        tx = parse_getrawtransaction(load_json(path))
        assert tx.is_coinbase and tx.fee == 0 and tx.tx_index == 0
        assert tx.block_number is None and tx.block_hash is not None
        assert [(o.value, o.script_type, o.address) for o in tx.outputs] == [
            (SUBSIDY_50, "pubkey", expected[tx.hash[:8]])
        ]
    tx = parse_getrawtransaction(load_json(getrawtransaction_files()[0]), block_number=123)
    assert tx.block_number == 123 and tx.timestamp == 1270857545


def test_graphsense_omni_transaction() -> None:
    tx = parse_getrawtransaction(load_json(GRAPHSENSE_TX))
    assert tx.hash == "ab188e2ae90a6e54dad6200f0d2ef188b723d2b393bbd01e65d753058afcba62"
    assert (tx.block_number, tx.block_hash, tx.timestamp, tx.fee) == (None, None, None, None)
    assert [(i.spent_txid[:8], i.spent_vout, i.value) for i in tx.inputs] == [
        ("4b9a54cf", 1, None),
        ("4b9a54cf", 2, None),
    ]
    assert [(o.value, o.script_type, o.address) for o in tx.outputs] == [
        (0, "nulldata", None),
        (600, "pubkeyhash", "1EFabZzqMDZALgJmZ7DMHdLj9SPRSuXAvU"),
        (5_248_496, "pubkeyhash", "12JYmnfYU2ghzjwUAspzJsSnmJtK9bZPYR"),
        (600, "pubkeyhash", "1BSGxxxZu3GXzoG7BSSN1zegZTS2zNwTNf"),
    ]
    assert tx.output_total() == 5_249_696
    assert tx.outputs[0].script_hex.startswith("6a146f6d6e69")


def test_decimal_amounts_are_exact() -> None:
    """0.1 + 0.2 style amounts: 8-decimal values must not drift through binary floats."""
    data = load_json(GRAPHSENSE_TX)
    data["vout"][1]["value"] = Decimal("0.29999999")
    data["vout"][2]["value"] = Decimal("20999999.97690000")
    tx = parse_getrawtransaction(data)
    assert tx.outputs[1].value == 29_999_999
    assert tx.outputs[2].value == 2_099_999_997_690_000


def test_float_amounts_are_refused_with_the_field() -> None:
    data = load_json(GRAPHSENSE_TX)
    data["vout"][2]["value"] = 0.05248496
    with pytest.raises(ParseError) as err:
        parse_getrawtransaction(data, source="x.json", record=7)
    assert err.value.field == "vout[2].value"
    assert (err.value.source, err.value.record) == ("x.json", 7)
    assert "parse_float=Decimal" in str(err.value)


def test_verbosity_1_is_refused_with_advice() -> None:
    data = load_json(BLOCK_279671)
    data["result"]["tx"] = [t["txid"] for t in data["result"]["tx"]]
    with pytest.raises(ParseError, match="verbosity 2 or 3") as err:
        parse_getblock(data)
    assert err.value.field == "tx"


def test_rpc_error_envelope_is_refused() -> None:
    with pytest.raises(ParseError, match="Block not found"):
        parse_getblock(
            {"result": None, "error": {"code": -5, "message": "Block not found"}, "id": 1}
        )
