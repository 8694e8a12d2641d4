"""The same chain data from Core RPC and bitcoin-etl must become the same canonical records."""

from __future__ import annotations

import pytest

from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getrawtransaction
from fundtrace.chains.btc.etl import parse_etl_records
from fundtrace.chains.btc.resolve import resolve_input_values
from fundtrace.core.model import Batch, Chain
from tests.chains.test_btc_support import (
    ETL,
    RPC,
    getblock_files,
    getrawtransaction_files,
    load_json,
    load_lines,
)
from tests.paths import needs_shared

pytestmark = needs_shared


def store_lookup():
    known = {}
    for path in getrawtransaction_files()[:3]:
        tx = parse_getrawtransaction(load_json(path))
        for o in tx.outputs:
            known[(tx.hash, o.index)] = (o.value, o.address, o.script_type)
    return lambda keys: {k: known[k] for k in keys if k in known}


def core_blocks() -> Batch:
    batch = Batch(Chain.BTC)
    for path in getblock_files():
        if "bitcoin-etl" in str(path):
            batch.extend(parse_getblock(load_json(path)))
    return batch


def etl_case(name: str) -> Batch:
    records = load_lines(ETL / name / "expected_blocks.json")
    records += load_lines(ETL / name / "expected_transactions.json")
    return parse_etl_records(records)


@pytest.mark.parametrize(
    "name", ["block_0", "block_1", "block_without_transactions", "block_with_transactions"]
)
def test_core_and_etl_agree_before_resolution(name: str) -> None:
    core = {t.hash: t for t in core_blocks().transactions}
    etl = etl_case(name)
    assert etl.transactions
    for tx in etl.transactions:
        assert tx == core[tx.hash]


def test_core_resolved_equals_enriched_etl_and_resolved_plain_etl() -> None:
    core = core_blocks()
    assert resolve_input_values(core, store_lookup()) == []
    core_txs = {t.hash: t for t in core.transactions}
    enriched = etl_case("stream_50001_50002")
    plain = etl_case("block_with_transactions")
    assert resolve_input_values(plain, store_lookup()) == []
    assert len(enriched.transactions) == len(plain.transactions) == 4
    for a, b in zip(enriched.transactions, plain.transactions, strict=True):
        assert a == b == core_txs[a.hash]
    assert sum(1 for t in enriched.transactions for i in t.inputs if i.value) == 3


def test_blocks_agree_except_the_parent_etl_does_not_export() -> None:
    core = {b.number: b for b in core_blocks().blocks}
    for name in ["block_0", "block_1", "block_without_transactions", "stream_50001_50002"]:
        for block in etl_case(name).blocks:
            other = core[block.number]
            assert (block.hash, block.timestamp, block.tx_count) == (
                other.hash,
                other.timestamp,
                other.tx_count,
            )
            assert block.parent_hash is None


def test_getrawtransaction_coinbase_matches_its_block_form() -> None:
    """A tx read alone keeps what it knows; its outputs equal the in-block ones."""
    (path,) = (RPC / "bitcoin-etl" / "block_with_transactions").glob("*getblock_000000001c92*")
    block = parse_getblock(load_json(path))
    raw = load_json(path)["tx"]
    alone = parse_getrawtransaction(raw[0])
    assert alone.outputs == block.transactions[0].outputs
    assert alone.inputs == block.transactions[0].inputs
