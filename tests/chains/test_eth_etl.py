"""ethereum-etl exports: conformance with their logs, with RPC of the same blocks, and traces."""

import json

import pytest

from fundtrace.chains.eth import erc20, etl, rpc, traces
from fundtrace.core.errors import ParseError
from fundtrace.core.model import TransferKind
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

ETL = FIXTURES / "eth" / "etl"
RPC = FIXTURES / "eth" / "rpc"


def _rpc(*names):
    recs = []
    for n in names:
        recs.extend(rpc.load_json_records(RPC / n))
    return rpc.assemble_records(recs)


def test_every_etl_directory_parses():
    for d in sorted(p for p in ETL.iterdir() if p.is_dir()):
        batch = etl.parse_etl_dir(d)
        for t in batch.transactions:
            t.validate()


def test_token_transfer_rows_equal_their_logs():
    for d in [
        "block_483920",
        "block_1452581",
        "blocks_1755634_1755635",
        "blocks_17173049_17173050",
    ]:
        logs_file = next(p for p in (ETL / d).iterdir() if etl.file_kind(p) == "logs")
        tt_file = next(p for p in (ETL / d).iterdir() if etl.file_kind(p) == "token_transfers")
        logs = {(x.tx_hash, x.log_index): x for x in etl.parse_logs_file(logs_file)}
        rows = etl.parse_token_transfers_file(tt_file)
        erc721 = 0
        for h, _, row in rows:
            decoded = erc20.decode_log(logs[(h, row.index)])
            if decoded == erc20.SKIP_ERC721:
                erc721 += 1
                continue
            assert decoded == row
        # and every ERC-20 Transfer log has its row
        decoded_logs = [(k, erc20.decode_transfer_log(x)) for k, x in logs.items()]
        assert {k for k, t in decoded_logs if t} == {(h, r.index) for h, _, r in rows} - {
            (h, r.index)
            for h, _, r in rows
            if erc20.decode_log(logs[(h, r.index)]) == erc20.SKIP_ERC721
        }
        assert erc721 == (9 if d == "blocks_17173049_17173050" else 0)


def test_block_17173049_figures():
    batch = etl.parse_etl_dir(ETL / "blocks_17173049_17173050")
    b49, b50 = batch.blocks
    assert (b49.number, b49.tx_count, b50.tx_count) == (17173049, 116, 182)
    assert b49.hash.startswith("0xaa5ab9bb") and b50.hash.startswith("0x5699ffb9")
    assert len(batch.transactions) == 298
    failed = [t for t in batch.transactions if not t.success]
    assert len(failed) == 9 and all(t.transfers == [] for t in failed)
    assert batch.skipped == {erc20.SKIP_ERC721: 9}
    tokens = [x for t in batch.transactions for x in t.transfers if x.kind is TransferKind.TOKEN]
    assert len(tokens) == 291 - 9
    # fee = receipt gas used x effective price, checked against the raw JSON rows
    rows = [
        json.loads(line) for line in (ETL / "blocks_17173049_17173050" / "transactions.json").open()
    ]
    fees = {r["hash"]: r["receipt_gas_used"] * r["receipt_effective_gas_price"] for r in rows}
    assert {t.hash: t.fee for t in batch.transactions} == fees
    gas = {}
    for r in rows:
        gas[r["block_number"]] = gas.get(r["block_number"], 0) + r["receipt_gas_used"]
    assert gas == {17173049: 9755040, 17173050: 15491478}


def test_csv_and_json_exports_of_17173049_agree():
    d = ETL / "blocks_17173049_17173050"
    csv_txs = {t.hash: t for t, _ in etl.parse_transactions_file(d / "transactions.csv")}
    json_txs = {t.hash: t for t, _ in etl.parse_transactions_file(d / "transactions.json")}
    assert len(csv_txs) == 298 and csv_txs == json_txs
    assert sum(t.tx_type == 2 for t in csv_txs.values()) == 250
    assert etl.parse_blocks_file(d / "blocks.csv") == etl.parse_blocks_file(d / "blocks.json")


@pytest.mark.parametrize(
    ("etl_dir", "rpc_files"),
    [
        (
            "block_483920",
            [
                "eth_getBlockByNumber_483920_full.json",
                "eth_getTransactionReceipt_483920_tx0_0x04cbcb23.json",
                "eth_getTransactionReceipt_483920_tx1_0xcea6f897.json",
                "eth_getTransactionReceipt_483920_tx2_0x463d53f0.json",
                "eth_getTransactionReceipt_483920_tx3_0x05287a56.json",
            ],
        ),
        (
            "blocks_1755634_1755635",
            [
                "eth_getBlockByNumber_1755634_full.json",
                "eth_getBlockByNumber_1755635_full.json",
                "eth_getTransactionReceipt_1755635_tx0_0x2e3dcd05.json",
                "eth_getTransactionReceipt_1755635_tx1_0x9a5437ec.json",
            ],
        ),
    ],
)
def test_same_block_from_rpc_and_etl_is_equal(etl_dir, rpc_files):
    a = etl.parse_etl_dir(ETL / etl_dir)
    b = _rpc(*rpc_files)
    assert a.blocks == b.blocks
    assert a.transactions == b.transactions
    assert len(a.transactions) > 0


def test_blocks_and_transactions_equal_rpc_where_receipts_are_absent():
    for etl_dir, blocks in [("block_0", [0]), ("blocks_47218_47219", [47218, 47219])]:
        d = ETL / etl_dir
        etl_blocks = etl.parse_blocks_file(d / "blocks.csv")
        etl_txs = [t for t, _ in etl.parse_transactions_file(d / "transactions.csv")]
        rpc_blocks, rpc_txs = [], []
        for n in blocks:
            ((_, obj),) = rpc.load_json_records(RPC / f"eth_getBlockByNumber_{n}_full.json")
            from fundtrace.chains.eth.rpc_records import parse_block

            blk, txs = parse_block(obj)
            rpc_blocks.append(blk)
            rpc_txs.extend(txs)
        assert etl_blocks == rpc_blocks
        assert etl_txs == rpc_txs
    batch = etl.parse_etl_dir(ETL / "blocks_47218_47219")
    assert batch.transactions[0].transfers[0].amount == 110 * 10**18
    assert all(t.fee is None for t in batch.transactions)
    assert any("without receipts" in w for w in batch.warnings)


def _transfers(batch):
    return {
        t.hash: [(x.kind, x.index, x.from_address, x.to_address, x.amount) for x in t.transfers]
        for t in batch.transactions
    }


@pytest.mark.parametrize("block", [1000000, 1000690, 1000895, 1011973])
def test_etl_traces_equal_rpc_traces(block):
    d = ETL / f"block_{block}"
    parity_csv = etl.parse_etl_files([d / "traces.csv"])
    node = _rpc(f"trace_block_{block}.json")
    assert _transfers(parity_csv) == _transfers(node)
    assert parity_csv.skipped == {"reward_trace": 1}
    # the geth-derived CSV has no tx hashes: joined by (block, tx index) through the Parity rows
    both = etl.parse_etl_files([d / "traces_from_geth.csv", d / "traces.csv"])
    if block == 1011973:
        assert both.skipped[traces.SKIP_SELFDESTRUCT_NO_VALUE] == 1
        assert _transfers(both) == {
            h: [m for m in v if m[1] == 0] for h, v in _transfers(node).items()
        }
    else:
        assert _transfers(both) == _transfers(node)
    geth_only = etl.parse_etl_files([d / "traces_from_geth.csv"])
    assert geth_only.transactions == [] and geth_only.skipped[etl.SKIP_TRACE_WITHOUT_TX] > 0


def test_failed_trace_rows_move_nothing():
    rows = etl.parse_traces_file(ETL / "block_1000895" / "traces.csv")
    assert any(f is not None and f.error == "Out of gas" for f in rows)
    batch = etl.parse_etl_files([ETL / "block_1000895" / "traces.csv"])
    by = {t.hash[:10]: t for t in batch.transactions}
    assert not by["0xa2f08948"].success and by["0xa2f08948"].transfers == []


@pytest.mark.parametrize("block", [508110, 2112234])
def test_stream_traces_json_equal_trace_block(block):
    a = etl.parse_etl_dir(ETL / f"block_{block}")
    b = _rpc(f"trace_block_{block}.json")
    assert _transfers(a) == _transfers(b)
    assert a.skipped == b.skipped
    # the creation is kept with its new contract
    created = [x.to_address for t in a.transactions for x in t.transfers]
    expected = {
        508110: "0xaec3266ebd18361ab1378646e91f0c5c373038da",
        2112234: "0xdbdacfc9eb9d42559ac1efbdb40460c728139e6a",
    }
    assert expected[block] in created


def test_block_508110_total_value():
    items = [json.loads(line) for line in (ETL / "block_508110" / "traces.json").open()]
    assert sum(i["value"] or 0 for i in items) == 13856239500000000000
    rewards = sum(i["value"] for i in items if i["trace_type"] == "reward")
    batch = etl.parse_etl_dir(ETL / "block_508110")
    moved = sum(x.amount for t in batch.transactions for x in t.transfers)
    assert moved + rewards == 13856239500000000000


def test_tokens_csv():
    (eos,) = etl.parse_etl_dir(ETL / "tokens_0x86fa0498").assets
    assert (eos.asset_id, eos.symbol, eos.name, eos.decimals) == (
        "0x86fa049857e0209aa7d9e616f7eb3b3b78ecfdb0",
        "EOS",
        None,
        18,
    )
    (eth,) = etl.parse_etl_dir(ETL / "tokens_0xf763be8b").assets
    assert (eth.symbol, eth.name, eth.decimals) == ("ETH", "ETH", 18)


def test_receipt_status_null_and_effective_price_from_gas_price():
    receipts = sorted(
        etl.parse_receipts_file(ETL / "block_483920" / "receipts.csv"), key=lambda r: r.tx_index
    )
    assert [r.gas_used for r in receipts] == [50853, 50853, 21000, 21000]
    assert all(r.status is None and r.effective_gas_price == 50000000000 for r in receipts)
    as_json = etl.parse_receipts_file(ETL / "block_483920" / "receipts.json")
    assert receipts == sorted(as_json, key=lambda r: r.tx_index)


def test_token_rows_without_logs_are_used(tmp_path):
    src = ETL / "block_1452581" / "token_transfers.csv"
    (tmp_path / "token_transfers.csv").write_text(src.read_text())
    batch = etl.parse_etl_dir(tmp_path)
    amounts = sorted(x.amount for t in batch.transactions for x in t.transfers)
    assert amounts == [40000000000, 109000000000000000000]


def test_row_disagreeing_with_its_log_is_an_error(tmp_path):
    d = ETL / "block_483920"
    (tmp_path / "logs.csv").write_text((d / "logs.csv").read_text())
    (tmp_path / "token_transfers.csv").write_text(
        (d / "token_transfers.csv").read_text().replace(",100000,", ",100001,")
    )
    with pytest.raises(ParseError, match="disagrees"):
        etl.parse_etl_dir(tmp_path)


def test_bad_cell_names_file_line_and_field(tmp_path):
    text = (ETL / "blocks_47218_47219" / "transactions.csv").read_text().splitlines()
    text[2] = text[2].replace("0x95844e6c", "0xZZ844e6c")
    path = tmp_path / "transactions.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ParseError) as exc:
        etl.parse_etl_dir(tmp_path)
    assert exc.value.source == str(path) and exc.value.record == 3 and exc.value.field == "hash"
