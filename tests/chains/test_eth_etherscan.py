"""Etherscan account API results, against the figures PROVENANCE.md fixes."""

import json

import pytest

from fundtrace.chains.eth import etherscan, rpc
from fundtrace.core.errors import ParseError
from fundtrace.core.model import TransferKind
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

ES = FIXTURES / "eth" / "etherscan"
ADDR = "0xb8553d9ee35dd23bb96fbd679e651b929821969b"
PROXIES = sorted(ES.glob("proxy_eth_getTransactionReceipt_*.json"))


def _parse(*names):
    return etherscan.parse_etherscan_files([ES / n if isinstance(n, str) else n for n in names])


def test_txlist_figures():
    batch = _parse("txlist_0xb8553d9e_0_16295684.json")
    txs = batch.transactions
    assert len(txs) == 19 and all(t.success for t in txs)
    assert (txs[0].block_number, txs[-1].block_number) == (16258082, 16295521)
    incoming = [t for t in txs if t.to_address == ADDR]
    outgoing = [t for t in txs if t.fee_payer == ADDR]
    assert len(incoming) == 4 and len(outgoing) == 15
    assert sum(t.value for t in incoming) == 432577330000000000
    assert sum(t.value for t in outgoing) == 200970707420331726
    assert sum(t.fee for t in outgoing) == 23491651312526622
    for t in txs:
        native = [x for x in t.transfers if x.kind is TransferKind.NATIVE]
        assert [x.amount for x in native] == ([t.value] if t.value else [])


def test_txlistinternal_figures_and_keys():
    batch = _parse("txlistinternal_0xb8553d9e_0_16295684.json")
    internal = [x for t in batch.transactions for x in t.transfers]
    assert len(internal) == 5
    assert all(x.kind is TransferKind.INTERNAL and x.to_address == ADDR for x in internal)
    assert sum(x.amount for x in internal) == 32084334317636346
    assert {x.trace_address for x in internal} == {
        "etherscan:0_1",
        "etherscan:0_1_1_1",
        "etherscan:0_1_1_1_1",
    }
    assert all(etherscan.ETHERSCAN_INDEX_BASE <= x.index < 2**63 for x in internal)
    # stable across runs and independent of the other files imported
    again = _parse("txlistinternal_0xb8553d9e_0_16295684.json", "txlist_0xb8553d9e_0_16295684.json")
    assert sorted(
        x.index for t in again.transactions for x in t.transfers if x.kind == "internal"
    ) == sorted(x.index for x in internal)


def test_tokentx_without_receipts_gets_etherscan_keys():
    batch = _parse("tokentx_0xb8553d9e_0_16295684.json")
    rows = [x for t in batch.transactions for x in t.transfers]
    assert len(rows) == 5
    assert all(x.asset == "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48" for x in rows)
    assert sorted(x.amount for x in rows if x.to_address == ADDR) == [49673249, 118668875]
    assert sorted(x.amount for x in rows if x.from_address == ADDR) == [
        4000000,
        45000000,
        110000000,
    ]
    assert all(x.index >= etherscan.ETHERSCAN_INDEX_BASE for x in rows)
    (usdc,) = batch.assets
    assert (usdc.symbol, usdc.decimals) == ("USDC", 6)


def test_tokentx_with_proxy_receipts_gets_log_indexes():
    batch = _parse(
        "txlist_0xb8553d9e_0_16295684.json", "tokentx_0xb8553d9e_0_16295684.json", *PROXIES
    )
    by = {t.hash: t for t in batch.transactions}
    tokentx = json.loads((ES / "tokentx_0xb8553d9e_0_16295684.json").read_text())["result"]
    for row in tokentx:
        t = by[row["hash"]]
        receipt = rpc.load_json_records(
            ES / f"proxy_eth_getTransactionReceipt_{row['hash'][:10]}.json"
        )[0][1]
        matches = [
            x
            for x in t.transfers
            if x.kind is TransferKind.TOKEN
            and x.asset == row["contractAddress"]
            and x.amount == int(row["value"])
            and (x.from_address, x.to_address) == (row["from"], row["to"])
        ]
        assert len(matches) == 1
        log_indexes = {int(lg["logIndex"], 16) for lg in receipt["logs"]}
        assert matches[0].index in log_indexes
        # PROVENANCE: txlist gasUsed x gasPrice equals the receipt's gasUsed x effectiveGasPrice
        assert t.fee == int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)


def test_same_tx_from_node_receipt_and_etherscan_has_equal_token_keys():
    node = rpc.parse_rpc_files([PROXIES[0]])
    es = _parse("tokentx_0xb8553d9e_0_16295684.json", PROXIES[0])
    (n,) = node.transactions
    e = next(t for t in es.transactions if t.hash == n.hash)
    key = lambda t: {(x.kind, x.index) for x in t.transfers if x.kind is TransferKind.TOKEN}  # noqa: E731
    assert key(n) == key(e)


def test_genesis_pseudo_rows_are_skipped_and_counted():
    for name, amount, sent in [
        ("txlist_0xc951900c_0_778482.json", 327600000000000000000, 327400000000000000000),
        ("txlist_0xddbd2b93_genesis_2022.json", 10000000000000000000000, 5000000000000000000),
    ]:
        raw = json.loads((ES / name).read_text())["result"]
        assert int(raw[0]["value"]) == amount and raw[0]["from"] == "GENESIS"
        batch = _parse(name)
        assert batch.skipped == {etherscan.SKIP_GENESIS: 1}
        (t,) = batch.transactions
        assert t.value == sent and t.to_address == "0x2910543af39aba0cd09dbb2d50200b3e800a63d2"
        assert t.fee == int(raw[1]["gasUsed"]) * int(raw[1]["gasPrice"])


def test_no_transactions_found_is_empty_not_an_error():
    batch = _parse("txlistinternal_0xc951900c_0_778482.json", "tokentx_0xc951900c_0_778482.json")
    assert batch.transactions == [] and batch.skipped == {}


def test_error_body_and_bad_field():
    with pytest.raises(ParseError, match="NOTOK"):
        etherscan.parse_etherscan(
            [("x", {"status": "0", "message": "NOTOK", "result": "Invalid API Key"})]
        )
    body = json.loads((ES / "txlist_0xb8553d9e_0_16295684.json").read_text())
    body["result"][3]["value"] = "12x"
    with pytest.raises(ParseError) as exc:
        etherscan.parse_etherscan([("f.json", body)])
    assert (exc.value.source, exc.value.record, exc.value.field) == ("f.json", 3, "value")


def test_failed_rows():
    body = json.loads((ES / "txlist_0xb8553d9e_0_16295684.json").read_text())
    body["result"] = body["result"][:1]
    body["result"][0]["isError"] = "1"
    (t,) = etherscan.parse_etherscan([("f", body)]).transactions
    assert not t.success and t.transfers == [] and t.fee > 0
