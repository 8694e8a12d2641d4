"""Joining JSON-RPC blocks, receipts, traces and logs into canonical transactions."""

import json
import random

import pytest

from fundtrace.chains.eth import rpc
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, TransferKind
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

RPC = FIXTURES / "eth" / "rpc"


def _records(*names):
    out = []
    for n in names:
        out.extend(rpc.load_json_records(RPC / n))
    return out


def _result(name):
    ((_, obj),) = rpc.load_json_records(RPC / name)
    return obj


B483920 = [
    "eth_getBlockByNumber_483920_full.json",
    "eth_getTransactionReceipt_483920_tx0_0x04cbcb23.json",
    "eth_getTransactionReceipt_483920_tx1_0xcea6f897.json",
    "eth_getTransactionReceipt_483920_tx2_0x463d53f0.json",
    "eth_getTransactionReceipt_483920_tx3_0x05287a56.json",
]


def test_block_483920_with_receipts():
    batch = rpc.assemble_records(_records(*B483920))
    (block,) = batch.blocks
    assert block.hash.startswith("0x246edb4b") and block.tx_count == 4
    txs = batch.transactions
    assert [t.hash[:10] for t in txs] == ["0x04cbcb23", "0xcea6f897", "0x463d53f0", "0x05287a56"]
    gas_price = 50000000000  # tx gasPrice; pre-London receipts carry no effectiveGasPrice
    assert [t.fee for t in txs] == [
        50853 * gas_price,
        50853 * gas_price,
        21000 * gas_price,
        21000 * gas_price,
    ]
    assert all(t.fee_payer == t.transfers[0].from_address for t in txs)
    t0, t1, t2, t3 = txs
    (tok,) = t0.transfers
    assert (tok.kind, tok.index, tok.asset, tok.amount) == (
        TransferKind.TOKEN,
        0,
        "0xf4eced2f682ce333f96f2d8966c613ded8fc95dd",
        100000,
    )
    assert tok.from_address == "0x1b63142628311395ceafeea5667e7c9026c862ca"
    assert tok.to_address == "0xac4df82fe37ea2187bc8c011a23d743b4f39019a"
    assert (t1.transfers[0].index, t1.transfers[0].amount) == (1, 200000)
    assert t0.value == 0 and t1.value == 0
    assert [(x.kind, x.index, x.asset, x.amount) for x in t2.transfers] == [
        (TransferKind.NATIVE, 0, NATIVE, 11000440000000000)
    ]
    assert t3.transfers[0].amount == 1530219620000000000
    assert sum(t.fee for t in txs) == 143706 * gas_price  # cumulativeGasUsed of the last receipt
    assert any("no traces" in w for w in batch.warnings)
    for t in txs:
        t.validate()


def test_join_is_order_independent():
    recs = _records(*B483920, "eth_getFilterLogs_483920_transfer_topic.json")
    a = rpc.assemble_records(recs)
    random.Random(4).shuffle(recs)
    b = rpc.assemble_records(recs)
    assert a.transactions == b.transactions and a.blocks == b.blocks
    # the filter logs are the receipts' logs: nothing is counted twice
    assert a.transactions == rpc.assemble_records(_records(*B483920)).transactions


def test_block_without_receipts_is_an_error_naming_the_block():
    with pytest.raises(ParseError) as exc:
        rpc.assemble_records(_records("eth_getBlockByNumber_47218_full.json"))
    assert exc.value.record == "block 47218"
    assert exc.value.field == "receipts"
    with pytest.raises(ParseError) as exc:
        rpc.assemble_records(_records(*B483920[:-1]))
    assert "0x05287a56" in str(exc.value)


def test_block_with_hashes_only_asks_for_full_transactions():
    with pytest.raises(ParseError, match="full transactions") as exc:
        rpc.assemble_records(_records("eth_getBlockByNumber_508110_hashes.json"))
    assert exc.value.field == "transactions"


def test_genesis_and_empty_blocks():
    batch = rpc.assemble_records(
        _records(
            "eth_getBlockByNumber_0_full.json",
            "trace_block_0.json",
            "eth_getBlockByNumber_1755634_full.json",
        )
    )
    assert [b.number for b in batch.blocks] == [0, 1755634]
    g = batch.blocks[0]
    assert g.hash == "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
    assert g.timestamp == 0 and g.tx_count == 0
    assert batch.transactions == []


def test_block_1755635_geth_style_receipts():
    batch = rpc.assemble_records(
        _records(
            "eth_getBlockByNumber_1755634_full.json",
            "eth_getBlockByNumber_1755635_full.json",
            "eth_getTransactionReceipt_1755635_tx0_0x2e3dcd05.json",
            "eth_getTransactionReceipt_1755635_tx1_0x9a5437ec.json",
        )
    )
    b34, b35 = batch.blocks
    assert b35.parent_hash == b34.hash
    t0, t1 = batch.transactions
    assert [(x.kind, x.index, x.asset, x.amount) for x in t0.transfers] == [
        (TransferKind.TOKEN, 0, "0xbb9bc244d798123fde783fcc1c72d3bb8c189413", 5000000000000000000)
    ]
    assert t1.transfers[0].amount == 405738107000000000
    assert t1.fee == 21000 * 20000000000
    assert sum(t.fee for t in batch.transactions) == 57418 * 20000000000


def test_standalone_tx_and_receipt_join_by_hash():
    batch = rpc.assemble_records(
        _records(
            "eth_getTransactionByHash_16500000_0x45102190.json",
            "eth_getTransactionReceipt_16500000_0x45102190.json",
        )
    )
    (t,) = batch.transactions
    receipt = _result("eth_getTransactionReceipt_16500000_0x45102190.json")
    assert t.success and t.value == 41663925952394484
    assert t.fee == 21000 * int(receipt["effectiveGasPrice"], 16)
    assert t.fee_payer.startswith("0xdafea492")
    assert t.transfers[0].amount == 41663925952394484


def test_tx_without_receipt_is_an_error():
    with pytest.raises(ParseError, match="without its receipt"):
        rpc.assemble_records(_records("eth_getTransactionByHash_3000000_0x7c03009d.json"))


def test_contract_creation_tx_has_no_to():
    tx = _result("eth_getTransactionByHash_3000000_0x7c03009d.json")
    receipt = {
        "transactionHash": tx["hash"],
        "gasUsed": "0x5208",
        "status": "0x1",
        "contractAddress": "0x" + "ab" * 20,
        "logs": [],
        "blockHash": tx["blockHash"],
    }
    batch = rpc.assemble([], [receipt], [], transactions=[tx])
    (t,) = batch.transactions
    assert t.to_address is None
    assert t.transfers[0].kind is TransferKind.NATIVE
    assert t.transfers[0].to_address == "0x" + "ab" * 20


def test_failed_receipt_moves_nothing_but_fee():
    batch = rpc.assemble_records(_records("eth_getTransactionReceipt_19000000_0x5e8969e7.json"))
    (t,) = batch.transactions
    assert not t.success and t.transfers == []
    assert t.fee == 42977 * 0x9026EC63C
    assert t.fee_payer == "0x4f52b520ce7b75ce0f39247f4da5342bcf2a3214"
    assert any("without the transaction object" in w for w in batch.warnings)


def test_modern_receipts_token_transfers():
    batch = rpc.assemble_records(
        _records(
            "eth_getTransactionReceipt_19000000_0xc9ab90a1.json",
            "eth_getTransactionReceipt_20000000_0xa2267f11.json",
            "eth_getTransactionReceipt_16500000_0x4b17cb89.json",
        )
    )
    by = {t.hash[:10]: t for t in batch.transactions}
    assert [x.index for x in by["0xc9ab90a1"].transfers] == [0, 1, 4, 5]
    weth = [x for x in by["0xc9ab90a1"].transfers if x.asset.startswith("0xc02aaa39")]
    assert len(weth) == 2
    (uni,) = by["0xa2267f11"].transfers
    assert uni.asset.startswith("0x1f9840a8") and uni.amount == 105607100000000000000
    assert uni.index == 220
    assert (
        by["0xa2267f11"].fee
        == int(_result("eth_getTransactionReceipt_20000000_0xa2267f11.json")["gasUsed"], 16)
        * 5000000000
    )
    (x,) = by["0x4b17cb89"].transfers
    assert (x.index, x.amount) == (339, 1000000000) and x.asset.startswith("0x15d4c048")


def test_unknown_hash_null_receipt_is_ignored_with_warning():
    batch = rpc.assemble_records(_records("eth_getTransactionReceipt_unknown_hash.json"))
    assert batch.transactions == [] and any("null" in w for w in batch.warnings)


def test_traces_only_import_gives_partial_transactions():
    batch = rpc.assemble_records(_records("trace_block_1000895.json"))
    assert batch.skipped == {"reward_trace": 1}
    by = {t.hash[:10]: t for t in batch.transactions}
    assert not by["0xa2f08948"].success and by["0xa2f08948"].transfers == []
    assert by["0xc7fec96b"].transfers[0].amount == 1100000000000000000


def test_positional_geth_traces_need_their_block():
    obj = _result("debug_traceBlockByNumber_callTracer_1000000.json")
    with pytest.raises(ParseError, match="block number"):
        rpc.assemble([], [], [obj])
    with pytest.raises(ParseError, match="not in this import"):
        rpc.assemble([], [], [{"blockNumber": 1000000, "result": obj}])


def test_positional_geth_traces_join_by_transaction_index():
    # a minimal full block of two transactions matching the two callTracer entries of 1000000
    obj = _result("debug_traceBlockByNumber_callTracer_1000000.json")
    hashes = ["0x" + "01" * 32, "0x" + "02" * 32]
    txs = [
        {
            "hash": h,
            "from": e["result"]["from"],
            "to": e["result"]["to"],
            "value": e["result"]["value"],
            "nonce": "0x0",
            "input": "0x",
            "gasPrice": "0x1",
            "transactionIndex": hex(i),
        }
        for i, (h, e) in enumerate(zip(hashes, obj, strict=True))
    ]
    block = {
        "number": hex(1000000),
        "hash": "0x" + "ee" * 32,
        "timestamp": "0x1",
        "transactions": txs,
    }
    receipts = [
        {"transactionHash": h, "gasUsed": "0x5208", "status": "0x1", "logs": []} for h in hashes
    ]
    batch = rpc.assemble([block], [receipts], [{"blockNumber": 1000000, "result": obj}])
    assert not batch.warnings
    assert [[x.amount for x in t.transfers] for t in batch.transactions] == [
        [100 * 10**18],  # the CALLCODE child moves nothing
        [437194980000000000],
    ]


def test_classify_shapes():
    assert rpc.classify(_result("eth_getBlockByNumber_483920_full.json")) == rpc.BLOCK
    assert (
        rpc.classify(_result("eth_getTransactionReceipt_483920_tx0_0x04cbcb23.json")) == rpc.RECEIPT
    )
    assert (
        rpc.classify([_result("eth_getTransactionReceipt_483920_tx0_0x04cbcb23.json")])
        == rpc.RECEIPTS
    )
    assert rpc.classify(_result("trace_block_1000000.json")) == rpc.PARITY_TRACES
    assert rpc.classify(_result("eth_getLogs_transfer_16000000_16000003.json")) == rpc.LOGS
    assert rpc.classify(_result("eth_getTransactionByHash_3000000_0x7c03009d.json")) == rpc.TX
    assert (
        rpc.classify(_result("debug_traceTransaction_callTracer_0xbeb3d09a.json")["result"])
        == rpc.GETH_CALL
    )
    assert (
        rpc.classify(_result("debug_traceBlockByNumber_callTracer_24299787.json"))
        == rpc.GETH_BLOCK_TRACES
    )
    assert rpc.classify({"foo": 1}) is None


def test_block_24299787_geth_traces_keyed_by_txhash():
    batch = rpc.assemble_records(_records("debug_traceBlockByNumber_callTracer_24299787.json"))
    assert len(batch.transactions) == 361
    failed = sorted(t.hash[:10] for t in batch.transactions if not t.success)
    assert failed == ["0xc74d1666", "0xf082fb09"]


def test_bad_hex_names_source_record_and_field(tmp_path):
    block = json.loads((RPC / "eth_getBlockByNumber_47218_full.json").read_text())
    block["result"]["transactions"][1]["value"] = "0xnothex"
    path = tmp_path / "block.json"
    path.write_text(json.dumps(block))
    with pytest.raises(ParseError) as exc:
        rpc.parse_rpc_files([path])
    e = exc.value
    assert e.source == str(path) and e.record == "block 47218 tx 1"
    assert e.field == "transactions[1].value"


def test_jsonrpc_error_response_is_an_error():
    with pytest.raises(ParseError, match="error response"):
        rpc.records_from_json(
            {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "x"}}
        )


def test_two_different_blocks_at_one_height_is_an_error():
    a = _result("eth_getBlockByNumber_47218_full.json")
    b = dict(a, hash="0x" + "12" * 32, transactions=[])
    with pytest.raises(ParseError, match="two different blocks"):
        rpc.assemble([a, b], [])
