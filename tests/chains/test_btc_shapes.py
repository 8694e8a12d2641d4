"""Every fixture record is recognized by shape alone and parses through ``parse_record``."""

from __future__ import annotations

import pytest

from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getrawtransaction
from fundtrace.chains.btc.esplora import parse_esplora_tx
from fundtrace.chains.btc.etl import parse_etl_block, parse_etl_tx
from fundtrace.chains.btc.shapes import (
    ESPLORA_TX,
    ETL_BLOCK,
    ETL_TX,
    GETBLOCK,
    TX_VERBOSE,
    classify,
    parse_record,
)
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Chain
from tests.chains.test_btc_support import (
    BLOCK_279671,
    ESPLORA_ADDRESS_STATS,
    esplora_files,
    etl_files,
    getblock_files,
    getblockhash_files,
    getrawtransaction_files,
    load_json,
    load_lines,
)
from tests.paths import needs_shared

pytestmark = needs_shared


def all_records() -> list[tuple[str, object]]:
    """(expected kind, record) for every record of every fixture file."""
    out: list[tuple[str, object]] = []
    out += [(GETBLOCK, load_json(p)) for p in getblock_files()]
    out += [(TX_VERBOSE, load_json(p)) for p in getrawtransaction_files()]
    for p in esplora_files():
        data = load_json(p)
        out += [(ESPLORA_TX, t) for t in (data if isinstance(data, list) else [data])]
    for p in etl_files():
        kind = ETL_BLOCK if "blocks" in p.name else ETL_TX
        out += [(kind, r) for r in load_lines(p)]
    return out


def test_every_record_classifies_as_its_format() -> None:
    records = all_records()
    assert len(records) == 6 + 4 + 65 + 18
    for kind, record in records:
        assert classify(record) == kind


def test_non_transaction_responses_are_not_claimed() -> None:
    assert classify(load_json(ESPLORA_ADDRESS_STATS)) is None
    for path in getblockhash_files():
        assert classify(load_json(path)) is None
    # ethereum-etl items share keys like hash/number but are not Bitcoin
    assert classify({"type": "block", "number": 1, "hash": "0x00", "parent_hash": "0x00"}) is None
    assert classify({"hash": "0x00", "block_number": 1, "from_address": "0x", "value": 0}) is None
    assert classify([]) is None


def test_parse_record_yields_what_the_direct_parsers_yield() -> None:
    for n, (kind, record) in enumerate(all_records()):
        batch = parse_record(kind, record, source="mixed.jsonl", record=n)
        assert batch.chain is Chain.BTC
        if kind == GETBLOCK:
            assert batch == parse_getblock(record)
        elif kind == TX_VERBOSE:
            assert batch.transactions == [parse_getrawtransaction(record)]
        elif kind == ESPLORA_TX:
            assert batch.transactions == [parse_esplora_tx(record)]
            assert len(batch.blocks) == (batch.transactions[0].block_number is not None)
        elif kind == ETL_TX:
            assert batch.transactions == [parse_etl_tx(record)] and not batch.blocks
        else:
            assert batch.blocks == [parse_etl_block(record)] and not batch.transactions


def test_a_mixed_file_merges_into_one_batch() -> None:
    merged = Batch(Chain.BTC)
    for n, (_, record) in enumerate(all_records(), start=1):
        merged.extend(parse_record(classify(record), record, record=n))
    # getblock 217 + 7, getrawtransaction 4, Esplora 65, bitcoin-etl 11
    assert len(merged.transactions) == 224 + 4 + 65 + 11
    assert 279671 in {b.number for b in merged.blocks}


def test_rpc_envelope_is_looked_through() -> None:
    wrapped = load_json(BLOCK_279671)
    assert set(wrapped) == {"result", "error", "id"}
    assert classify(wrapped) == GETBLOCK
    tx = load_json(getrawtransaction_files()[0])
    envelope = {"jsonrpc": "2.0", "id": 3, "result": tx}
    assert classify(envelope) == TX_VERBOSE
    assert parse_record(TX_VERBOSE, envelope).transactions == [parse_getrawtransaction(tx)]


def test_unknown_kind_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unknown Bitcoin record kind"):
        parse_record("eth.block", {}, source="f", record=1)
