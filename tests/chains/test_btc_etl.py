"""bitcoin-etl JSON lines -> canonical records, per PROVENANCE.md."""

from __future__ import annotations

import pytest

from fundtrace.chains.btc.etl import parse_etl_records, parse_etl_tx
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch
from tests.chains.test_btc_support import ETL, etl_files, load_lines
from tests.paths import needs_shared

pytestmark = needs_shared


def case(name: str) -> Batch:
    records = load_lines(ETL / name / "expected_blocks.json")
    records += load_lines(ETL / name / "expected_transactions.json")
    return parse_etl_records(records, source=name)


def test_every_etl_file_parses() -> None:
    total = 0
    for path in etl_files():
        records = load_lines(path)
        batch = parse_etl_records(records, source=path.name)
        assert len(batch.blocks) + len(batch.transactions) == len(records)
        for tx in batch.transactions:
            tx.validate()
        total += len(records)
    assert total == 18


def test_genesis_block_and_coinbase() -> None:
    batch = case("block_0")
    (block,) = batch.blocks
    assert (block.number, block.tx_count, block.timestamp) == (0, 1, 1231006505)
    (tx,) = batch.transactions
    assert tx.is_coinbase and tx.fee == 0 and tx.tx_index == 0
    assert [i.is_coinbase for i in tx.inputs] == [True]
    assert [(o.value, o.script_type, o.address) for o in tx.outputs] == [
        (5_000_000_000, "pubkey", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    ]


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("block_1", "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX"),
        ("block_without_transactions", "1ND5TQ2AnQatxqmHrdMT8utb3aWgLKsc9w"),
    ],
)
def test_single_coinbase_blocks(name: str, address: str) -> None:
    (tx,) = case(name).transactions
    assert [(o.value, o.address) for o in tx.outputs] == [(5_000_000_000, address)]


def test_unenriched_export_leaves_inputs_unknown_and_ignores_its_fee() -> None:
    batch = case("block_with_transactions")
    assert [b.number for b in batch.blocks] == [50001, 50002]
    by_hash = {t.hash[:8]: t for t in batch.transactions}
    t1, t2 = by_hash["7940cdde"], by_hash["f8476145"]
    for t in (t1, t2):
        assert all(
            i.value is None and i.address is None and i.script_type is None for i in t.inputs
        )
        assert t.fee is None  # the export's fee (-output_value) is not a fee
    assert [(i.spent_txid[:8], i.spent_vout, i.sequence) for i in t1.inputs] == [
        ("76a8d70a", 0, 4294967295),
        ("0dd0394c", 0, 4294967295),
    ]


def test_enriched_stream_export_has_values_and_fees() -> None:
    batch = case("stream_50001_50002")
    by_hash = {t.hash[:8]: t for t in batch.transactions}
    t1, t2 = by_hash["7940cdde"], by_hash["f8476145"]
    assert [(i.value, i.script_type, i.address) for i in t1.inputs] == [
        (5_000_000_000, "pubkey", "1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae"),
        (5_000_000_000, "pubkey", "1PZMgkF2x161qvfP7dhoWSEEU3SjnQE1m9"),
    ]
    assert (t1.input_total(), t1.output_total(), t1.fee) == (10_000_000_000, 10_000_000_000, 0)
    assert [(i.value, i.address) for i in t2.inputs] == [
        (5_000_000_000, "18dxbN6m8zxieN8F9BchXmhbeXUdFLr8fD")
    ]
    assert t2.fee == 0
    # coinbase = 50 BTC subsidy + 0 fees
    cb = by_hash["e1882d41"]
    assert cb.output_total() == 5_000_000_000 + t1.fee + t2.fee


def test_nonstandard_pseudo_addresses_are_dropped() -> None:
    (tx_line,) = load_lines(ETL / "block_1" / "expected_transactions.json")
    tx_line["outputs"][0]["script_hex"] = "6a0568656c6c6f"
    tx_line["outputs"][0]["type"] = "nonstandard"
    tx_line["outputs"][0]["addresses"] = ["nonstandard4f1c2b"]
    tx = parse_etl_tx(tx_line)
    assert (tx.outputs[0].script_type, tx.outputs[0].address) == ("nulldata", None)


def test_bigquery_style_strings_are_accepted() -> None:
    (line,) = load_lines(ETL / "block_0" / "expected_transactions.json")
    line["outputs"][0]["value"] = "5000000000"
    line["block_timestamp"] = "2009-01-03 18:15:05 UTC"
    tx = parse_etl_tx(line)
    assert tx.outputs[0].value == 5_000_000_000
    assert tx.timestamp == 1231006505


def test_enriched_fee_must_match() -> None:
    lines = load_lines(ETL / "stream_50001_50002" / "expected_transactions.json")
    line = next(x for x in lines if x["hash"].startswith("f8476145"))
    line["inputs"][0]["value"] = 5_000_000_001
    with pytest.raises(ParseError, match="stated fee 0") as err:
        parse_etl_records([line], source="t.json", first_record=9)
    assert (err.value.record, err.value.field) == (9, "fee")


def test_errors_name_the_line_and_field() -> None:
    lines = load_lines(ETL / "stream_50001_50002" / "expected_transactions.json")
    lines[1]["inputs"][1]["spent_output_index"] = "zero"
    with pytest.raises(ParseError) as err:
        parse_etl_records(lines, source="transactions.json")
    assert (err.value.source, err.value.record) == ("transactions.json", 2)
    assert err.value.field == "inputs[1].spent_output_index"
    with pytest.raises(ParseError, match="neither"):
        parse_etl_records([{"foo": 1}])
